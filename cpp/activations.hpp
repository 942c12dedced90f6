// The activations as one table, indexed by the code fastmlp.backends.tables.ACTIVATIONS gives each row
// (the bindings export the names and codes as _cpp.activation_codes; a test holds them equal).
// A new activation is one row here, next to its kernel pair in kernels.hpp.
#pragma once

#include <cstddef>
#include <string_view>

#include "kernels.hpp"

namespace fastmlp {

// One activation: its kernels over `size` elements (nullptr for identity: a = z, dz = dout) and what
// the backward reads besides dout: the forward output a (true) or its input z (false).
template <typename T>
struct ActivationKernels {
    std::string_view name;
    void (*forward)(const T* z, T* a, index_t size);
    void (*backward)(const T* dout, const T* z_or_a, T* dz, index_t size);
    bool backward_reads_output;
};

template <typename T>
inline constexpr ActivationKernels<T> activation_table[] = {
    {"identity", nullptr, nullptr, false},
    {"relu", &relu_forward<T>, &relu_backward<T>, false},
    {"sigmoid", &sigmoid_forward<T>, &sigmoid_backward<T>, true},
    {"tanh", &tanh_forward<T>, &tanh_backward<T>, true},
};

constexpr int activation_count = static_cast<int>(std::size(activation_table<float>));
constexpr int identity_code = 0;  // activation_table's first row

// The code of the row called `name` (-1 if none).
inline int activation_code(std::string_view name) {
    for (int code = 0; code < activation_count; ++code) {
        if (activation_table<float>[code].name == name) return code;
    }
    return -1;
}

}  // namespace fastmlp
