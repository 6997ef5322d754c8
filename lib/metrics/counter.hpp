// A per-lcore counter: one writer (the owning lcore) and any number of readers
// (the stats core). Relaxed load + store, never a locked read-modify-write:
// on x86 this compiles to a plain add, yet readers see whole values and
// ThreadSanitizer sees no race.
#pragma once

#include <atomic>
#include <cstdint>

namespace sf {

class Counter {
 public:
  void add(std::uint64_t n) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace sf
