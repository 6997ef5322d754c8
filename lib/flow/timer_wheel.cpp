#include "flow/timer_wheel.hpp"

#include <bit>

namespace sf {

TimerWheel::TimerWheel(std::uint32_t capacity, std::uint32_t slots, std::uint64_t tick_ns)
    : tick_ns_(tick_ns == 0 ? 1 : tick_ns),
      mask_(std::bit_ceil(slots < 2 ? 2U : slots) - 1),
      head_(static_cast<std::size_t>(mask_) + 1, kNil),
      next_(capacity, kNil),
      prev_(capacity, kNil),
      slot_of_(capacity, kNil) {}

void TimerWheel::link(std::uint32_t idx, std::uint32_t slot) noexcept {
  const std::uint32_t head = head_[slot];
  next_[idx] = head;
  prev_[idx] = kNil;
  if (head != kNil) prev_[head] = idx;
  head_[slot] = idx;
  slot_of_[idx] = slot;
  ++size_;
}

void TimerWheel::schedule(std::uint32_t idx, std::uint64_t deadline_ns) noexcept {
  if (slot_of_[idx] != kNil) cancel(idx);
  // Fire in the first tick that starts after the deadline, at least one tick
  // ahead and at most one revolution minus one ahead.
  std::uint64_t tick = deadline_ns / tick_ns_ + 1;
  if (tick <= current_tick_) tick = current_tick_ + 1;
  if (tick > current_tick_ + mask_) tick = current_tick_ + mask_;
  link(idx, static_cast<std::uint32_t>(tick) & mask_);
}

void TimerWheel::cancel(std::uint32_t idx) noexcept {
  const std::uint32_t slot = slot_of_[idx];
  if (slot == kNil) return;
  const std::uint32_t n = next_[idx];
  const std::uint32_t p = prev_[idx];
  if (p != kNil) {
    next_[p] = n;
  } else {
    head_[slot] = n;
  }
  if (n != kNil) prev_[n] = p;
  slot_of_[idx] = kNil;
  --size_;
}

}  // namespace sf
