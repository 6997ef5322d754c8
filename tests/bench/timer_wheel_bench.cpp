// Expiry cost: TimerWheel::advance per fired timer, and the cost of a tick
// with nothing due while many timers wait far out (must not grow with them).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "flow/timer_wheel.hpp"

namespace sf::bench {
namespace {

constexpr std::uint64_t kTick = 1000000;  // 1 ms
constexpr std::uint64_t kT0 = 1700000000ULL * 1000000000ULL;

// Args: timers, range in ticks. Timers get random indices' deadlines spread
// uniformly over the range (as flows' idle deadlines are), then the wheel is
// advanced one tick at a time until all fired. Rescheduling is not timed.
void BM_ExpiryTick_Fire(benchmark::State& state) {
  const auto timers = static_cast<std::uint32_t>(state.range(0));
  const auto range = static_cast<std::uint32_t>(state.range(1));
  TimerWheel wheel(timers, range + 2, kTick);
  std::mt19937_64 rng(3);
  std::vector<std::uint32_t> offset(timers);
  for (auto& o : offset) o = static_cast<std::uint32_t>(rng() % range);

  std::uint64_t now = kT0;
  std::uint64_t fired = 0;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    state.PauseTiming();
    wheel.start(now);
    // Mid-tick deadlines: timer i fires in tick now/kTick + offset[i] + 1.
    for (std::uint32_t i = 0; i < timers; ++i) wheel.schedule(i, now + offset[i] * kTick + kTick / 2);
    state.ResumeTiming();
    for (std::uint32_t t = 1; t <= range + 1; ++t) {
      fired += wheel.advance(now + t * kTick, [&sum](std::uint32_t idx) { sum += idx; });
    }
    now += static_cast<std::uint64_t>(range + 2) * kTick;
  }
  benchmark::DoNotOptimize(sum);
  if (fired != static_cast<std::uint64_t>(state.iterations()) * timers || wheel.size() != 0) {
    state.SkipWithError("not every timer fired exactly once");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(fired));
  state.counters["per_timer"] =
      benchmark::Counter(static_cast<double>(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ExpiryTick_Fire)
    ->ArgNames({"timers", "ticks"})
    ->Args({1 << 16, 1 << 10})
    ->Args({1 << 20, 1 << 10})
    ->Args({1 << 20, 1 << 16})
    ->Unit(benchmark::kMicrosecond);

// Arg: timers pending. They sit one revolution away in a 2^20-slot wheel (the
// tracker's largest); each iteration advances one empty tick. Before they come
// due they are pushed out again, untimed.
void BM_ExpiryTick_Idle(benchmark::State& state) {
  constexpr std::uint32_t kSlots = 1U << 20;
  const auto pending = static_cast<std::uint32_t>(state.range(0));
  TimerWheel wheel(std::max(pending, 1U), kSlots, kTick);
  std::uint64_t now = kT0;
  wheel.start(now);
  const auto arm = [&] {
    for (std::uint32_t i = 0; i < pending; ++i) wheel.schedule(i, now + (std::uint64_t{1} << 50));
  };
  arm();
  std::uint32_t ticks_left = kSlots - 2;  // far timers fire after kSlots - 1 ticks
  std::uint64_t fired = 0;
  for (auto _ : state) {
    now += kTick;
    fired += wheel.advance(now, [](std::uint32_t) {});
    if (--ticks_left == 0) {
      state.PauseTiming();
      arm();
      ticks_left = kSlots - 2;
      state.ResumeTiming();
    }
  }
  if (fired != 0 || wheel.size() != pending) {
    state.SkipWithError("a far timer fired: the wheel span is wrong");
    return;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));  // items = ticks
}
BENCHMARK(BM_ExpiryTick_Idle)->ArgName("pending")->Arg(0)->Arg(1 << 20);

}  // namespace
}  // namespace sf::bench
