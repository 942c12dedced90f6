"""Bad arguments raise ValueError or TypeError naming the argument, with the same message from
every backend, before any compiled code runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fastmlp.errors import FastmlpError

f32 = np.float32
X = np.ones((4, 3), f32)
W = np.ones((3, 2), f32)
B = np.ones(2, f32)
S = np.ones((4, 5), f32)
Y = np.array([0, 1, 2, 3])

# (kernel, args, kwargs, exception, words the message must contain)
BAD_CALLS = [
    ("affine_forward", (X[0], W), {}, ValueError, ["x", "2-D"]),
    ("affine_forward", (X, W.T), {}, ValueError, ["w", "shape"]),
    ("affine_forward", (X, W, np.ones(3, f32)), {}, ValueError, ["b", "shape"]),
    ("affine_forward", (X, W.astype(np.float64)), {}, TypeError, ["w", "dtype"]),
    ("affine_forward", (X.astype(np.int32), W), {}, TypeError, ["x", "int32"]),
    ("affine_forward", (X.astype(np.float16), W), {}, TypeError, ["x", "float16"]),
    ("affine_forward", (X.astype(object), W), {}, TypeError, ["x", "object"]),
    ("affine_forward", ([[1.0]], W), {}, TypeError, ["x", "list"]),
    ("affine_forward", (np.ones((0, 3), f32), W), {}, ValueError, ["x", "empty"]),
    ("affine_forward", (X, W), {"out": np.ones((4, 3), f32)}, ValueError, ["out", "shape"]),
    ("affine_forward", (X, W), {"out": np.ones((4, 2), np.float64)}, TypeError, ["out", "dtype"]),
    ("affine_forward", (X, W), {"out": np.ones((2, 4), f32).T}, ValueError, ["out", "contiguous"]),
    ("affine_backward", (np.ones((4, 3), f32), X, W), {}, ValueError, ["dout", "shape"]),
    ("affine_backward", (np.ones((4, 2), f32), X, W, "yes"), {}, TypeError, ["need_dx", "bool"]),
    ("relu_backward", (S, X), {}, ValueError, ["z", "shape"]),
    ("sigmoid_backward", (S, S.astype(np.float64)), {}, TypeError, ["a", "dtype"]),
    ("softmax_backward", (S[None], S), {}, ValueError, ["dprobs", "2-D"]),
    ("cross_entropy_forward", (S, np.array([0, 1, 2, 5])), {}, ValueError, ["y", "[0, 5)", "5"]),
    ("cross_entropy_forward", (S, np.array([0, 1, -1, 2])), {}, ValueError, ["y", "-1"]),
    ("softmax_cross_entropy", (S, Y.astype(np.float32)), {}, TypeError, ["y", "integer"]),
    ("softmax_cross_entropy", (S, Y[:3]), {}, ValueError, ["y", "length 4"]),
    ("softmax_cross_entropy_backward", (S, Y.reshape(2, 2)), {}, ValueError, ["y", "1-D"]),
    ("accuracy", (S, list(Y)), {}, TypeError, ["y", "list"]),
    ("sgd_update", (np.ones(3, f32), np.ones(4, f32), 0.1), {}, ValueError, ["grad", "shape"]),
    ("sgd_update", (np.ones(3, f32), np.ones(3, f32), -0.1), {}, ValueError, ["lr", "> 0"]),
    ("sgd_update", (np.ones(3, f32), np.ones(3, f32), "0.1"), {}, TypeError, ["lr", "str"]),
    ("sgd_update", (np.ones(3, f32), np.ones(3, f32), 0.1), {"momentum": 0.9}, ValueError, ["velocity"]),
    (
        "sgd_update",
        (np.ones(3, f32), np.ones(3, f32), 0.1),
        {"reg": float("nan")},
        ValueError,
        ["reg", "finite"],
    ),
    ("sgd_update", (np.ones(3, np.int64), np.ones(3, np.int64), 0.1), {}, TypeError, ["param"]),
    ("sgd_update", (np.ones(6, f32)[::2], np.ones(3, f32), 0.1), {}, ValueError, ["param", "contiguous"]),
]


def _read_only():
    param = np.ones(3, f32)
    param.flags.writeable = False
    return param


BAD_CALLS.append(("sgd_update", (_read_only(), np.ones(3, f32), 0.1), {}, ValueError, ["param", "writable"]))


def _error(module, kernel, args, kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        getattr(module, kernel)(*args, **kwargs)
    return info


@pytest.mark.parametrize(
    ("kernel", "args", "kwargs", "exception", "words"),
    BAD_CALLS,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_arguments_are_named(backend, reference, kernel, args, kwargs, exception, words):
    info = _error(backend, kernel, args, kwargs)
    # fastmlp's own error type (so the CLI can tell a user's mistake from a bug), also a ValueError/TypeError
    assert issubclass(info.type, exception) and issubclass(info.type, FastmlpError)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    # The argument's name opens the message, and every backend says exactly the same thing.
    assert re.match(r"^\w+ ", message)
    assert message == str(_error(reference, kernel, args, kwargs).value)
