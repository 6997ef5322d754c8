#include "flow/timer_wheel.hpp"

#include <bit>

namespace sf {

TimerWheel::TimerWheel(std::uint32_t capacity, std::uint32_t slots, std::uint64_t tick_ns)
    : tick_ns_(tick_ns == 0 ? 1 : tick_ns),
      mask_(std::bit_ceil(slots < 2 ? 2U : slots) - 1),
      head_(static_cast<std::size_t>(mask_) + 1, kNil),
      tail_(static_cast<std::size_t>(mask_) + 1, kNil),
      links_(capacity),
      occupied_((static_cast<std::size_t>(mask_) + 64) / 64, 0) {}

// Appends: a slot keeps its timers in the order they were set, so the head
// is the earliest deadline of the slot (what eviction wants first).
void TimerWheel::link(std::uint32_t idx, std::uint32_t slot) noexcept {
  const std::uint32_t tail = tail_[slot];
  Link& l = links_[idx];
  l.prev = tail;
  l.next = kNil;
  l.slot = slot;
  if (tail != kNil) {
    links_[tail].next = idx;
  } else {
    head_[slot] = idx;
  }
  tail_[slot] = idx;
  occupied_[slot / 64] |= 1ULL << (slot % 64);
  ++size_;
}

std::uint32_t TimerWheel::slot_for(std::uint64_t deadline_ns) const noexcept {
  // Fire in the first tick that starts after the deadline, at least one tick
  // ahead and at most one revolution minus one ahead.
  std::uint64_t tick = deadline_ns / tick_ns_ + 1;
  if (tick <= current_tick_) tick = current_tick_ + 1;
  if (tick > current_tick_ + mask_) tick = current_tick_ + mask_;
  return static_cast<std::uint32_t>(tick) & mask_;
}

void TimerWheel::schedule(std::uint32_t idx, std::uint64_t deadline_ns) noexcept {
  if (links_[idx].slot != kNil) cancel(idx);
  link(idx, slot_for(deadline_ns));
}

std::uint32_t TimerWheel::first_scheduled() const noexcept {
  if (size_ == 0) return kNil;
  // Slots in firing order: current+1, current+2, ... around the wheel.
  const std::uint32_t n_slots = mask_ + 1;
  const std::uint32_t start = static_cast<std::uint32_t>(current_tick_ + 1) & mask_;
  std::uint32_t s = start;
  std::uint32_t seen = 0;
  while (seen < n_slots) {
    const std::uint64_t word = occupied_[s / 64] >> (s % 64);
    if (word != 0) {
      const auto skip = static_cast<std::uint32_t>(std::countr_zero(word));
      if (seen + skip >= n_slots) break;
      return head_[(s + skip) & mask_];
    }
    const std::uint32_t step = 64 - s % 64;  // to the next word (or the wheel's end)
    seen += step;
    s = (s + step) & mask_;
  }
  // Only slots before start are left in the last word visited: wrap once more.
  for (std::uint32_t i = 0; i < n_slots; ++i) {
    const std::uint32_t slot = (start + i) & mask_;
    if (head_[slot] != kNil) return head_[slot];
  }
  return kNil;
}

void TimerWheel::cancel(std::uint32_t idx) noexcept {
  Link& l = links_[idx];
  const std::uint32_t slot = l.slot;
  if (slot == kNil) return;
  const std::uint32_t n = l.next;
  const std::uint32_t p = l.prev;
  if (p != kNil) {
    links_[p].next = n;
  } else {
    head_[slot] = n;
    if (n == kNil) occupied_[slot / 64] &= ~(1ULL << (slot % 64));
  }
  if (n != kNil) {
    links_[n].prev = p;
  } else {
    tail_[slot] = p;
  }
  l.slot = kNil;
  --size_;
}

}  // namespace sf
