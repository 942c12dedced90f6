// The native epoch's runtime: its OpenMP team, the team's waits (spin briefly, then sleep), the
// schedule that runs each batch on the whole team or on its leader alone, whichever is measured
// faster, the floating-point mode and the fixed partition of work between threads. Header-only;
// without OpenMP every helper describes a team of one.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "kernels.hpp"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define FASTMLP_HAS_FUTEX 1
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define FASTMLP_HAS_MXCSR 1
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace fastmlp {

// Flush-to-zero and denormals-are-zero for this thread while in scope. A weight decaying towards
// zero (reg = 1) otherwise makes every multiply take a microcode assist on subnormal operands.
class FlushSubnormals {
  public:
#ifdef FASTMLP_HAS_MXCSR
    FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)
    ~FlushSubnormals() { _mm_setcsr(saved_); }
#else
    FlushSubnormals() = default;
#endif
    FlushSubnormals(const FlushSubnormals&) = delete;
    FlushSubnormals& operator=(const FlushSubnormals&) = delete;
    FlushSubnormals(FlushSubnormals&&) = delete;
    FlushSubnormals& operator=(FlushSubnormals&&) = delete;

  private:
#ifdef FASTMLP_HAS_MXCSR
    unsigned int saved_;
#endif
};

// The team a native call starts: the threads it was given (fastmlp.threads' budget), at least 1.
inline int team_size(int wanted) {
#ifdef _OPENMP
    return std::max(1, wanted);
#else
    static_cast<void>(wanted);
    return 1;
#endif
}

// Inside the team: this thread's number and the team's size.
inline int thread_id() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
inline int thread_count() {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

// Part p of `parts` near-equal contiguous ranges of [0, n): for work whose every element is
// computed the same way whoever computes it (columns of a bias gradient, elementwise steps).
inline std::pair<index_t, index_t> part(index_t n, int parts, int p) {
    const index_t base = n / parts, extra = n % parts;
    const index_t begin = p * base + std::min<index_t>(p, extra);
    return {begin, begin + base + (p < extra ? 1 : 0)};
}

// Part p of `parts` ranges of [0, n) that start at multiples of gemm_row_block: for the rows of a
// GEMM's output (a batch's rows, a weight gradient's rows). Eigen's GEMM computes rows in whole
// vector packets with one order of operations, but the rows left over after the last whole packet
// of a call with another (for a few rows a scalar loop). Ranges cut at multiples of 16 (the
// widest packet: 16 floats of AVX-512) leave every row where it is in the one-thread call, so
// the bits do not depend on the thread count (tests/test_threads.py: 1 to 4 threads).
constexpr index_t gemm_row_block = 16;
inline std::pair<index_t, index_t> gemm_rows_part(index_t n, int parts, int p) {
    const auto [b0, b1] = part((n + gemm_row_block - 1) / gemm_row_block, parts, p);
    return {std::min(n, b0 * gemm_row_block), std::min(n, b1 * gemm_row_block)};
}

// ---- Waiting for the other threads --------------------------------------------------------------
//
// OpenMP's barrier (libgomp) spins for 300,000 iterations (its GOMP_SPINCOUNT default) before it
// sleeps. When another process takes one of the team's cores for a time slice, the other thread
// spins out its own slice waiting for it, and the epoch ran 3-15x slower than on one thread
// (docs/performance.md, round 3). Here a waiting thread spins for spin_before_sleep (longer than
// the usual imbalance between threads inside a batch, far shorter than a time slice), then sleeps
// in the kernel until woken, which leaves its core to whoever can use it, often the late thread.

constexpr std::chrono::microseconds spin_before_sleep{30};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

// Sleep while word == expected (it may return early: callers re-check their condition).
inline void sleep_while_equal(std::atomic<int>& word, int expected) {
#ifdef FASTMLP_HAS_FUTEX
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): the futex system call has no wrapper
    syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
#else
    if (word.load() == expected) std::this_thread::yield();
#endif
}

inline void wake_all(std::atomic<int>& word) {
#ifdef FASTMLP_HAS_FUTEX
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): the futex system call has no wrapper
    syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAKE_PRIVATE, std::numeric_limits<int>::max(),
            nullptr, nullptr, 0);
#else
    (void)word;
#endif
}

// A counter that threads wait on to change: the waiting side of every sync of the Team. After
// advance() (by any thread), waiters in wait_past(seen) return. Sleepers are counted so
// that advance() makes the wake-up system call only when somebody sleeps; the sequentially
// consistent increments of sleepers_ (waiter) and value_ (writer) make sure one of them sees the other.
class Signal {
  public:
    int value() const { return value_.load(std::memory_order_acquire); }

    void advance() {
        value_.fetch_add(1, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) > 0) wake_all(value_);
    }

    // Return once value() != seen: spin for spin_before_sleep, then sleep.
    void wait_past(int seen) {
        if (value() != seen) return;
        const auto give_up = std::chrono::steady_clock::now() + spin_before_sleep;
        for (int spins = 1; value() == seen; ++spins) {
            cpu_relax();
            if (spins % 64 == 0 && std::chrono::steady_clock::now() > give_up) {
                sleepers_.fetch_add(1, std::memory_order_seq_cst);
                while (value_.load(std::memory_order_seq_cst) == seen) sleep_while_equal(value_, seen);
                sleepers_.fetch_sub(1, std::memory_order_seq_cst);
                return;
            }
        }
    }

  private:
    alignas(64) std::atomic<int> value_{0};
    std::atomic<int> sleepers_{0};
};

// The threads of one native call, 0 (the leader) to size - 1. The leader hands out batches one at
// a time (command); the others (followers) run each one with it and report back (report); inside
// a batch the first `members` threads meet at barrier(members).
class Team {
  public:
    explicit Team(int size) : size_(size) {}
    int size() const { return size_; }

    // Every one of the first `members` threads (members <= size) returns once all have called it.
    void barrier(int members) {
        if (members <= 1) return;
        const int generation = released_.value();
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) == members - 1) {
            arrived_.store(0, std::memory_order_relaxed);
            released_.advance();
        } else {
            released_.wait_past(generation);
        }
    }

    // Leader: give every follower `order` (a batch index, or done), once all have reported back.
    void command(std::int64_t order) {
        order_.store(order, std::memory_order_relaxed);
        commanded_.advance();
    }
    // Follower: the leader's next order after the one numbered `*seen` (which it updates).
    std::int64_t next_order(int* seen) {
        commanded_.wait_past(*seen);
        *seen = commanded_.value();
        return order_.load(std::memory_order_relaxed);
    }
    // Follower: this batch is done. Leader: wait until every follower has said so.
    void report() {
        reports_.fetch_add(1, std::memory_order_acq_rel);
        reported_.advance();
    }
    void collect() {
        for (;;) {
            const int seen = reported_.value();
            if (reports_.load(std::memory_order_acquire) == size_ - 1) break;
            reported_.wait_past(seen);
        }
        reports_.store(0, std::memory_order_relaxed);
    }

    static constexpr std::int64_t done = -1;

  private:
    int size_;
    std::atomic<int> arrived_{0};
    Signal released_;
    alignas(64) std::atomic<std::int64_t> order_{0};
    Signal commanded_;
    alignas(64) std::atomic<int> reports_{0};
    Signal reported_;
};

// The threads working on one batch: this one is number t of size; sync() is their barrier.
struct Crew {
    int t = 0;
    int size = 1;
    Team* team = nullptr;
    void sync() const {
        if (size > 1) team->barrier(size);
    }
};

// ---- Whole team or leader alone ----------------------------------------------------------------
//
// Whether a batch runs faster on the whole team or on the leader alone depends on the work per
// batch (a small layer cannot pay for the syncs) and on what else the machine runs (a busy
// process beside the team makes syncs wait for a preempted thread). So the leader measures both,
// in windows of a few batches, and runs the faster. It measures the slower way again after
// `backoff` seconds (doubling from min_backoff to max_backoff each time that way loses again,
// back to min_backoff when it wins), so it comes back when conditions change; a window on the
// team that falls a leader-alone batch behind ends early, so a lost trial costs about one batch.
// What was learnt carries over to the next call with the same work (ScheduleMemory) only to
// save those trials. Results cannot change: a batch's numbers do not depend on how many threads
// computed them (the partitions only say who writes what, and every sum keeps its order).
class TeamSchedule {
  public:
    enum class Policy : std::uint8_t { measured = 0, whole_team = 1, alternate = 2 };
    static constexpr int window_batches = 8;
    static constexpr double min_backoff = 0.002, max_backoff = 0.25;  // seconds

    explicit TeamSchedule(Policy policy) : policy_(policy), team_(policy != Policy::measured) {}

    // Should the next batch run on the whole team?
    bool team_next() const { return team_; }

    // The batch just run (on the team or not) took `seconds`.
    void record(double seconds) {
        if (policy_ == Policy::whole_team) return;
        if (policy_ == Policy::alternate) {  // tests: switch after every batch
            team_ = !team_;
            return;
        }
        elapsed_ += seconds;
        window_[batches_++] = seconds;
        const int mode = team_ ? 1 : 0, other = 1 - mode;
        const bool behind = team_ && known_[0] && elapsed_ > (batches_ + 1) * per_batch_[0];
        if (batches_ < window_batches && !behind) return;
        // The team's cost is its mean: the waits for a preempted thread are what it costs. The
        // leader alone does the same work every batch, so a batch it lost to a preemption (which
        // would hit the team's leader as well) is noise: its cost is the window's median.
        if (team_) {
            per_batch_[1] = elapsed_ / batches_;
        } else {
            std::nth_element(window_, window_ + batches_ / 2, window_ + batches_);
            per_batch_[0] = window_[batches_ / 2];
        }
        known_[mode] = true;
        const double window = elapsed_;
        elapsed_ = 0.0;
        batches_ = 0;
        if (!known_[other]) {  // measure both ways first
            team_ = !team_;
            return;
        }
        if (per_batch_[mode] > per_batch_[other]) {
            // This way is the slower one now: a trial of it lost, or conditions changed under it.
            backoff_ = trial_ ? std::min(2 * backoff_, max_backoff) : min_backoff;
            until_trial_ = backoff_;
            team_ = !team_;
            trial_ = false;
            return;
        }
        if (trial_) backoff_ = min_backoff;  // the trial won: this way stays
        trial_ = false;
        until_trial_ -= window;
        if (until_trial_ <= 0) {  // time to measure the other way again
            team_ = !team_;
            trial_ = true;
        }
    }

    // Start a new call: keep what was measured, begin a fresh window.
    void restart() {
        elapsed_ = 0.0;
        batches_ = 0;
    }

  private:
    Policy policy_;
    bool team_;           // measured starts alone: a lost first trial of the team then costs one batch
    bool trial_ = false;  // the current way is being measured again after losing
    double elapsed_ = 0.0;
    int batches_ = 0;
    double window_[window_batches] = {};  // seconds of each batch of the current window
    double per_batch_[2] = {0.0, 0.0};    // seconds per batch: [0] the leader alone, [1] the team
    bool known_[2] = {false, false};
    double backoff_ = min_backoff;
    double until_trial_ = min_backoff;  // seconds of batches before the slower way is tried again
};

// The policy the native epochs use (tests force alternate: results must not change).
inline std::atomic<int>& team_policy() {
    static std::atomic<int> policy{static_cast<int>(TeamSchedule::Policy::measured)};
    return policy;
}

// What the last measured call learnt, for the next call with the same work (the same `work` key:
// sizes, batch and team). Speed only: a schedule never changes results.
class ScheduleMemory {
  public:
    TeamSchedule recall(std::uint64_t work, TeamSchedule::Policy policy) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (policy != TeamSchedule::Policy::measured || work != work_) return TeamSchedule(policy);
        TeamSchedule schedule = schedule_;
        schedule.restart();
        return schedule;
    }
    void keep(std::uint64_t work, const TeamSchedule& schedule) {
        const std::lock_guard<std::mutex> lock(mutex_);
        work_ = work;
        schedule_ = schedule;
    }
    static ScheduleMemory& instance() {
        static ScheduleMemory memory;
        return memory;
    }

  private:
    std::mutex mutex_;
    std::uint64_t work_ = 0;
    TeamSchedule schedule_{TeamSchedule::Policy::measured};
};

// Run body(k, crew) for every batch k in [0, batches), on the whole team or on the leader alone
// as its TeamSchedule decides; batch k + 1 starts after batch k has ended on every thread that
// ran it. `work` names the work per batch (see ScheduleMemory). Called by every thread of a
// parallel region of team.size() threads.
template <class Body>
void run_batches(Team& team, std::int64_t batches, std::uint64_t work, Body&& body) {
    const Crew alone{0, 1, &team};
    if (team.size() == 1) {
        for (std::int64_t k = 0; k < batches; ++k) body(k, alone);
        return;
    }
    const Crew whole{thread_id(), team.size(), &team};
    if (whole.t != 0) {
        int seen = 0;
        for (std::int64_t k = team.next_order(&seen); k != Team::done; k = team.next_order(&seen)) {
            body(k, whole);
            team.report();
        }
        return;
    }
    const auto policy = static_cast<TeamSchedule::Policy>(team_policy().load(std::memory_order_relaxed));
    TeamSchedule schedule = ScheduleMemory::instance().recall(work, policy);
    for (std::int64_t k = 0; k < batches; ++k) {
        const auto start = std::chrono::steady_clock::now();
        if (schedule.team_next()) {
            team.command(k);
            body(k, whole);
            team.collect();
        } else {
            body(k, alone);
        }
        schedule.record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    team.command(Team::done);
    if (policy == TeamSchedule::Policy::measured) ScheduleMemory::instance().keep(work, schedule);
}

}  // namespace fastmlp
