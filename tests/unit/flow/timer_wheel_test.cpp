// TimerWheel: when timers fire (only after their deadline's tick), cancel and
// move, re-arm from the callback, jumps over more than one revolution, lazy
// re-arm of deadlines beyond the span, that an advance touches only the
// timers that are due, and that first_scheduled() names a timer of the slot
// that fires first (checked by firing a copy of the wheel tick by tick).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "flow/timer_wheel.hpp"

namespace sf {
namespace {

// Advances and returns the indices fired, in call order.
std::vector<std::uint32_t> advance(TimerWheel& w, std::uint64_t now) {
  std::vector<std::uint32_t> fired;
  const std::uint32_t n = w.advance(now, [&](std::uint32_t idx) {
    EXPECT_FALSE(w.scheduled(idx)) << "fn must see its timer already unscheduled";
    fired.push_back(idx);
  });
  EXPECT_EQ(n, fired.size());
  return fired;
}

using Ids = std::vector<std::uint32_t>;

TEST(TimerWheel, FiresOnlyAfterTheDeadlinesTick) {
  TimerWheel w(8, 16, 10);
  w.start(0);
  w.schedule(0, 25);  // deadline in tick 2: fires when tick 3 starts
  w.schedule(1, 40);  // deadline exactly on tick 4's start: not passed until tick 5
  EXPECT_TRUE(w.scheduled(0));
  EXPECT_EQ(w.size(), 2U);
  EXPECT_EQ(advance(w, 25), Ids{});
  EXPECT_EQ(advance(w, 29), Ids{});
  EXPECT_EQ(advance(w, 30), Ids{0});
  EXPECT_FALSE(w.scheduled(0));
  EXPECT_EQ(advance(w, 40), Ids{});
  EXPECT_EQ(advance(w, 49), Ids{});
  EXPECT_EQ(advance(w, 50), Ids{1});
  EXPECT_EQ(w.size(), 0U);
  EXPECT_EQ(advance(w, 500), Ids{});
}

TEST(TimerWheel, ClockThatDoesNotMoveFiresNothing) {
  TimerWheel w(4, 8, 10);
  w.start(100);
  w.schedule(0, 100);
  EXPECT_EQ(advance(w, 100), Ids{});
  EXPECT_EQ(advance(w, 50), Ids{});  // going back is ignored
  EXPECT_EQ(advance(w, 110), Ids{0});
}

TEST(TimerWheel, DeadlineInThePastFiresAtTheNextTick) {
  TimerWheel w(4, 8, 10);
  w.start(1000);
  w.schedule(2, 5);
  EXPECT_EQ(advance(w, 1009), Ids{});
  EXPECT_EQ(advance(w, 1010), Ids{2});
}

TEST(TimerWheel, StartSetsNowWithoutFiring) {
  TimerWheel w(4, 8, 1);
  w.schedule(0, 3);  // before start: the wheel's now is 0
  w.start(2);
  EXPECT_EQ(advance(w, 3), Ids{});
  EXPECT_EQ(advance(w, 4), Ids{0});
}

TEST(TimerWheel, CancelAndReschedule) {
  TimerWheel w(8, 16, 10);
  w.start(0);
  w.schedule(0, 25);
  w.schedule(1, 25);
  w.schedule(2, 25);
  w.cancel(1);
  w.cancel(1);  // twice: harmless
  w.cancel(5);  // never scheduled: harmless
  EXPECT_FALSE(w.scheduled(1));
  EXPECT_EQ(w.size(), 2U);
  w.schedule(2, 75);  // moves, does not duplicate
  EXPECT_EQ(w.size(), 2U);
  EXPECT_EQ(advance(w, 30), Ids{0});
  EXPECT_EQ(advance(w, 79), Ids{});
  EXPECT_EQ(advance(w, 80), Ids{2});
  EXPECT_EQ(w.size(), 0U);
  // Moving a timer earlier works too.
  w.schedule(3, 150);
  w.schedule(3, 95);
  EXPECT_EQ(advance(w, 100), Ids{3});
  EXPECT_EQ(advance(w, 200), Ids{});
}

TEST(TimerWheel, CancelledHeadAndMiddleOfASlot) {
  TimerWheel w(8, 16, 10);
  w.start(0);
  for (std::uint32_t i = 0; i < 5; ++i) w.schedule(i, 25);  // one slot, one list
  w.cancel(4);  // head (pushed last)
  w.cancel(2);  // middle
  w.cancel(0);  // tail
  std::vector<std::uint32_t> fired = advance(w, 30);
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, (Ids{1, 3}));
}

TEST(TimerWheel, ReArmFromTheCallback) {
  TimerWheel w(4, 64, 10);
  w.start(0);
  w.schedule(0, 15);
  std::vector<std::uint64_t> fired_at;
  std::uint64_t now = 0;
  const auto periodic = [&](std::uint32_t idx) {
    fired_at.push_back(now);
    w.schedule(idx, now + 25);  // re-arm: must not fire again in this advance
  };
  for (now = 0; now <= 200; now += 10) EXPECT_LE(w.advance(now, periodic), 1U);
  // 15 → fires at 20; then deadline 45 → 50; 75 → 80; ...
  EXPECT_EQ(fired_at, (std::vector<std::uint64_t>{20, 50, 80, 110, 140, 170, 200}));
  EXPECT_TRUE(w.scheduled(0));
}

TEST(TimerWheel, CallbackMayCancelAnotherDueTimer) {
  TimerWheel w(4, 16, 1);
  w.start(0);
  w.schedule(0, 5);
  w.schedule(1, 5);
  std::vector<std::uint32_t> fired;
  w.advance(6, [&](std::uint32_t idx) {
    fired.push_back(idx);
    w.cancel(idx ^ 1U);
  });
  EXPECT_EQ(fired.size(), 1U);
  EXPECT_EQ(w.size(), 0U);
}

TEST(TimerWheel, JumpOverMoreThanOneRevolutionFiresEveryTimerOnce) {
  for (std::uint64_t jump : {7ULL, 8ULL, 9ULL, 16ULL, 1000ULL}) {
    TimerWheel w(16, 8, 1);  // 8 slots: a revolution is 8 ticks
    w.start(0);
    for (std::uint32_t i = 0; i < 7; ++i) w.schedule(i, i);  // ticks 1..7
    std::vector<std::uint32_t> fired = advance(w, jump);
    std::sort(fired.begin(), fired.end());
    EXPECT_EQ(fired, (Ids{0, 1, 2, 3, 4, 5, 6})) << "jump " << jump;
    EXPECT_EQ(w.size(), 0U);
    // After the jump, new timers are placed from the new now.
    w.schedule(9, jump + 3);
    EXPECT_EQ(advance(w, jump + 3), Ids{}) << "jump " << jump;
    EXPECT_EQ(advance(w, jump + 4), Ids{9}) << "jump " << jump;
  }
}

TEST(TimerWheel, JumpFiresDueTimersButNotTheOnesAheadOfIt) {
  TimerWheel w(16, 16, 1);
  w.start(0);
  w.schedule(0, 2);   // tick 3
  w.schedule(1, 10);  // tick 11
  EXPECT_EQ(advance(w, 10), Ids{0});
  EXPECT_EQ(advance(w, 11), Ids{1});
}

// A deadline beyond the span lands in the span's last slot; an owner that
// re-arms until the real deadline has passed sees it fire at the right tick.
TEST(TimerWheel, DeadlineBeyondTheSpanIsReArmedUntilDue) {
  for (std::uint64_t step : {1ULL, 3ULL, 50ULL}) {
    TimerWheel w(4, 5, 1);  // 5 slots round up to 8: span 7 ticks
    w.start(0);
    const std::uint64_t deadline = 100;
    w.schedule(0, deadline);
    std::uint64_t now = 0;
    std::uint64_t done_at = 0;
    unsigned wakeups = 0;
    const auto lazy = [&](std::uint32_t idx) {
      ++wakeups;
      if (now > deadline) {
        done_at = now;
      } else {
        w.schedule(idx, deadline);
      }
    };
    while (done_at == 0 && now < 1000) {
      now += step;
      w.advance(now, lazy);
    }
    // Due in tick 101 (the first tick after the deadline), or at the first
    // advance at or after it when stepping coarsely.
    EXPECT_EQ(done_at, (101 + step - 1) / step * step) << "step " << step;
    if (step == 1) {
      EXPECT_EQ(wakeups, 15U) << "one wake-up per revolution of 7 ticks, then the real one";
    }
  }
}

// Many timers far in the future: advancing tick by tick calls back only the
// few that are due (the work is proportional to due timers, not to all).
TEST(TimerWheel, AdvanceTouchesOnlyDueTimers) {
  constexpr std::uint32_t kFar = 100000;
  constexpr std::uint32_t kNear = 10;
  TimerWheel w(kFar + kNear, 2048, 1000);
  w.start(0);
  std::mt19937 rng(3);
  for (std::uint32_t i = 0; i < kFar; ++i) w.schedule(i, 500000 + rng() % 1000000);  // ticks 501..1500
  for (std::uint32_t i = 0; i < kNear; ++i) w.schedule(kFar + i, i * 10000 + 5);     // ticks 1..91
  std::uint64_t calls = 0;
  for (std::uint64_t now = 1000; now <= 400000; now += 1000) {
    const std::uint32_t fired = w.advance(now, [&](std::uint32_t idx) {
      ++calls;
      EXPECT_GE(idx, kFar);
      EXPECT_EQ((idx - kFar) * 10 + 1, now / 1000) << "fired at its tick";
    });
    EXPECT_LE(fired, 1U);
  }
  EXPECT_EQ(calls, kNear);
  EXPECT_EQ(w.size(), kFar);
  // The far ones then fire each at its own tick, in one pass over the rest.
  std::uint64_t far_calls = 0;
  w.advance(1500000, [&](std::uint32_t) { ++far_calls; });
  EXPECT_EQ(far_calls, kFar);
}

// Random schedule/cancel/advance against a model. Deadlines within the span
// fire exactly at tick deadline/tick + 1 (or the next tick when already past);
// ones beyond it are clamped to the last slot of the span.
TEST(TimerWheel, RandomOperationsMatchAModel) {
  constexpr std::uint32_t kCap = 256;
  constexpr std::uint64_t kTick = 10;
  constexpr std::uint64_t kMask = 63;
  TimerWheel w(kCap, 64, kTick);
  std::mt19937_64 rng(99);
  std::uint64_t now = 12345;
  std::uint64_t cur = now / kTick;
  w.start(now);
  std::map<std::uint32_t, std::uint64_t> due_tick;  // the model
  for (int round = 0; round < 20000; ++round) {
    const unsigned op = rng() % 10;
    if (op < 5) {
      const auto idx = static_cast<std::uint32_t>(rng() % kCap);
      std::uint64_t deadline;
      if (rng() % 10 == 0) {
        deadline = now - std::min<std::uint64_t>(now, rng() % 100);  // already past
      } else {
        deadline = now + rng() % (kTick * (kMask + 10));  // some beyond the span
      }
      w.schedule(idx, deadline);
      std::uint64_t t = deadline / kTick + 1;
      t = std::clamp(t, cur + 1, cur + kMask);
      due_tick[idx] = t;
    } else if (op < 7) {
      const auto idx = static_cast<std::uint32_t>(rng() % kCap);
      w.cancel(idx);
      due_tick.erase(idx);
    } else {
      now += rng() % 20 == 0 ? kTick * (rng() % 300) : rng() % (kTick * 8);
      const std::uint64_t now_tick = now / kTick;
      std::set<std::uint32_t> expected;
      for (auto it = due_tick.begin(); it != due_tick.end();) {
        if (it->second <= now_tick) {
          expected.insert(it->first);
          it = due_tick.erase(it);
        } else {
          ++it;
        }
      }
      std::set<std::uint32_t> fired;
      w.advance(now, [&](std::uint32_t idx) { EXPECT_TRUE(fired.insert(idx).second) << "fired twice"; });
      ASSERT_EQ(fired, expected) << "round " << round << " now " << now;
      if (now_tick > cur) cur = now_tick;
    }
    ASSERT_EQ(w.size(), due_tick.size());
    for (std::uint32_t i = 0; i < kCap; i += 37) ASSERT_EQ(w.scheduled(i), due_tick.count(i) == 1);
  }
}

// The earliest slot, found through the bitmap, against the independent answer:
// advance a copy one tick at a time until something fires.
void check_first_scheduled(const TimerWheel& w, std::uint64_t now, std::uint64_t tick) {
  const std::uint32_t first = w.first_scheduled();
  if (w.size() == 0) {
    EXPECT_EQ(first, TimerWheel::kNil);
    return;
  }
  ASSERT_NE(first, TimerWheel::kNil);
  TimerWheel copy = w;
  for (std::uint64_t t = now + tick;; t += tick) {
    const Ids fired = advance(copy, t);
    if (fired.empty()) continue;
    EXPECT_NE(std::find(fired.begin(), fired.end(), first), fired.end())
        << "first_scheduled() = " << first << " is not in the first slot to fire";
    return;
  }
}

TEST(TimerWheel, FirstScheduledIsInTheSlotThatFiresFirst) {
  for (const std::uint32_t slots : {4U, 16U, 64U, 256U, 4096U}) {
    SCOPED_TRACE(slots);
    constexpr std::uint64_t kTick = 10;
    constexpr std::uint32_t kCapacity = 64;
    TimerWheel w(kCapacity, slots, kTick);
    std::mt19937 rng(slots);
    std::uint64_t now = 1000;
    w.start(now);
    EXPECT_EQ(w.first_scheduled(), TimerWheel::kNil);
    for (int step = 0; step < 3000; ++step) {
      const std::uint32_t idx = rng() % kCapacity;
      switch (rng() % 4) {
        case 0:
        case 1: w.schedule(idx, now + rng() % (slots * kTick * 2)); break;
        case 2: w.cancel(idx); break;
        default:
          now += rng() % (kTick * 8);
          advance(w, now);
      }
      check_first_scheduled(w, now, kTick);
    }
  }
}

TEST(TimerWheel, FirstScheduledAfterWrappingTheWheel) {
  TimerWheel w(8, 128, 1);
  w.start(120);               // current slot near the end of the wheel
  w.schedule(1, 130);         // wraps to slot 3
  w.schedule(2, 200);         // slot 73, later
  EXPECT_EQ(w.first_scheduled(), 1U);
  w.cancel(1);
  EXPECT_EQ(w.first_scheduled(), 2U);
  w.cancel(2);
  EXPECT_EQ(w.first_scheduled(), TimerWheel::kNil);
}

}  // namespace
}  // namespace sf
