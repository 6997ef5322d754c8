// What a polling lcore does when it finds no work: spin briefly (latency), then
// give the CPU away when lcores share CPUs (lcores.idle_yield). Never per packet.
#pragma once

#include <sched.h>

#include <rte_pause.h>

namespace sf {

class IdlePolicy {
 public:
  explicit IdlePolicy(bool yield) : yield_(yield) {}
  void idle() noexcept {
    if (yield_ && ++empty_ >= kSpinsBeforeYield) {
      empty_ = 0;
      sched_yield();
    } else {
      rte_pause();
    }
  }
  void busy() noexcept { empty_ = 0; }

 private:
  static constexpr unsigned kSpinsBeforeYield = 64;
  bool yield_;
  unsigned empty_ = 0;
};

}  // namespace sf
