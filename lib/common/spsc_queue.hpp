// SpscQueue<T>: a bounded single-producer single-consumer queue of small
// trivially copyable values (pointers), on std::atomic only: no EAL, no
// locks, no allocation after construction, wait-free push and pop.
//
// For hand-offs that must work without EAL (unit tests, tools) or that carry
// a handful of pointers (block hand-off between a worker and an I/O thread),
// where an rte_ring's memzone and its TSan suppression buy nothing. The
// packet path (RX → workers) stays on rte_ring.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "common/compiler.hpp"

namespace sf {

template <typename T>
class SpscQueue {
  static_assert(std::is_trivially_copyable_v<T>, "slots are copied without constructors");

 public:
  // Holds at least `min_capacity` values (rounded up to a power of two).
  explicit SpscQueue(std::uint32_t min_capacity)
      : mask_(std::bit_ceil(min_capacity < 2 ? 2U : min_capacity) - 1), slots_(new T[mask_ + 1]) {}
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  std::uint32_t capacity() const noexcept { return mask_ + 1; }

  // Producer only. False when full.
  bool push(T v) noexcept {
    const std::uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = v;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer only. False when empty.
  bool pop(T& out) noexcept {
    const std::uint32_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either side; exact only when the other side is idle.
  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  const std::uint32_t mask_;
  const std::unique_ptr<T[]> slots_;
  // Producer's line: its index and its view of the consumer's.
  alignas(kCacheLine) std::atomic<std::uint32_t> tail_{0};
  std::uint32_t head_cache_ = 0;
  // Consumer's line.
  alignas(kCacheLine) std::atomic<std::uint32_t> head_{0};
  std::uint32_t tail_cache_ = 0;
};

}  // namespace sf
