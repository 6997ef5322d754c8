// A single-level hashed timer wheel over flow-array indices, with lazy re-arm
// (as VPP's flowprobe and Retina's conntrack do): packets never touch the
// wheel; when a slot comes due, the owner re-checks each flow's real deadline
// and either ends it or schedules it again. The work per tick is proportional
// to the timers in the due slots, never to the size of the table.
//
// Deadlines further out than the wheel's span land in the last slot of the
// span and are simply re-armed when they come up.
//
// A bitmap of non-empty slots lets a full table find the flow nearest its
// deadline (first_scheduled) in a few word scans instead of a walk over
// empty slots; eviction in deadline order needs no per-packet recency list.
#pragma once

#include <cstdint>
#include <vector>

namespace sf {

class TimerWheel {
 public:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  // capacity: indices [0, capacity). slots: rounded up to a power of two.
  TimerWheel(std::uint32_t capacity, std::uint32_t slots, std::uint64_t tick_ns);

  // Sets the wheel's notion of "now" without firing anything (first packet).
  void start(std::uint64_t now_ns) noexcept { current_tick_ = now_ns / tick_ns_; }

  // Schedules (or moves) idx to fire once the clock passes deadline_ns.
  void schedule(std::uint32_t idx, std::uint64_t deadline_ns) noexcept;
  void cancel(std::uint32_t idx) noexcept;
  bool scheduled(std::uint32_t idx) const noexcept { return links_[idx].slot != kNil; }
  // True when schedule(idx, deadline_ns) would leave idx in its slot.
  bool in_slot_for(std::uint32_t idx, std::uint64_t deadline_ns) const noexcept {
    return links_[idx].slot == slot_for(deadline_ns);
  }

  // A timer in the earliest non-empty slot after the current tick (the slot
  // fires first), or kNil when none is scheduled. With lazy re-arm its real
  // deadline may be later: the caller re-checks.
  std::uint32_t first_scheduled() const noexcept;

  // Fires every timer whose slot is due at now_ns: fn(idx) is called with idx
  // already unscheduled; fn may schedule it again. Returns timers fired.
  template <typename Fn>
  std::uint32_t advance(std::uint64_t now_ns, Fn&& fn);

  std::uint64_t tick_ns() const noexcept { return tick_ns_; }
  std::uint32_t size() const noexcept { return size_; }

 private:
  void link(std::uint32_t idx, std::uint32_t slot) noexcept;
  std::uint32_t slot_for(std::uint64_t deadline_ns) const noexcept;

  std::uint64_t tick_ns_;
  std::uint32_t mask_;
  std::uint64_t current_tick_ = 0;
  std::uint32_t size_ = 0;
  // An index's links in one place: firing or cancelling a timer touches one
  // cache line for it, not one per array.
  struct Link {
    std::uint32_t next = kNil;
    std::uint32_t prev = kNil;
    std::uint32_t slot = kNil;  // kNil when not scheduled
  };
  std::vector<std::uint32_t> head_;  // per slot
  std::vector<std::uint32_t> tail_;  // per slot
  std::vector<Link> links_;          // per index
  std::vector<std::uint64_t> occupied_;  // bit per slot: head_ != kNil
};

template <typename Fn>
std::uint32_t TimerWheel::advance(std::uint64_t now_ns, Fn&& fn) {
  const std::uint64_t now_tick = now_ns / tick_ns_;
  if (now_tick <= current_tick_) return 0;
  const std::uint64_t n_slots = static_cast<std::uint64_t>(mask_) + 1;
  // A jump longer than one revolution visits every slot once.
  std::uint64_t t = now_tick - current_tick_ > n_slots ? now_tick - n_slots : current_tick_;
  std::uint32_t fired = 0;
  while (t < now_tick) {
    ++t;
    current_tick_ = t;  // schedule() from fn places timers after t
    const std::uint32_t slot = static_cast<std::uint32_t>(t) & mask_;
    std::uint32_t idx;
    while ((idx = head_[slot]) != kNil) {
      cancel(idx);
      ++fired;
      fn(idx);
    }
  }
  current_tick_ = now_tick;
  return fired;
}

}  // namespace sf
