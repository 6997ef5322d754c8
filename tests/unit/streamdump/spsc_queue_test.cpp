// SpscQueue: capacity rounding, FIFO order, full/empty, and a two-thread
// hand-off of a million values in order.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "common/spsc_queue.hpp"

namespace sf {
namespace {

TEST(SpscQueue, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(SpscQueue<int>(0).capacity(), 2U);
  EXPECT_EQ(SpscQueue<int>(2).capacity(), 2U);
  EXPECT_EQ(SpscQueue<int>(3).capacity(), 4U);
  EXPECT_EQ(SpscQueue<int>(64).capacity(), 64U);
  EXPECT_EQ(SpscQueue<int>(65).capacity(), 128U);
}

TEST(SpscQueue, FifoFullAndEmpty) {
  SpscQueue<int> q(4);
  int v = -1;
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.pop(v));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(q.push(i));
  EXPECT_FALSE(q.push(99));
  for (int round = 0; round < 10; ++round) {  // wrap around many times
    EXPECT_TRUE(q.pop(v));
    EXPECT_EQ(v, round);
    EXPECT_TRUE(q.push(round + 4));
    EXPECT_FALSE(q.push(99));
  }
  for (int i = 10; i < 14; ++i) {
    EXPECT_TRUE(q.pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(q.pop(v));
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, TwoThreadsInOrder) {
  constexpr std::uint64_t kN = 1000000;
  SpscQueue<std::uint64_t> q(8);
  std::uint64_t bad = 0;
  std::thread consumer([&] {
    std::uint64_t expect = 0;
    while (expect < kN) {
      std::uint64_t v;
      if (!q.pop(v)) {
        std::this_thread::yield();
        continue;
      }
      if (v != expect) ++bad;
      expect = v + 1;
    }
  });
  for (std::uint64_t i = 0; i < kN;) {
    if (q.push(i)) {
      ++i;
    } else {
      std::this_thread::yield();
    }
  }
  consumer.join();
  EXPECT_EQ(bad, 0U);
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace sf
