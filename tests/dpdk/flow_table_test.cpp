// FlowTable (rte_hash + record array): insert-if-absent, lookups single and
// bulk with precomputed hashes, exact capacity, removal.
#include <gtest/gtest.h>

#include <cerrno>
#include <random>
#include <set>
#include <vector>

#include "dpdk_test_util.hpp"

namespace sf::test {
namespace {

FlowKey key_n(std::uint32_t n) {
  ParsedPacket p;
  p.ip_version = 4;
  p.proto = ipproto::kUdp;
  p.src_addr = {10, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                static_cast<std::uint8_t>(n)};
  p.dst_addr = {192, 168, 0, 1};
  p.src_port = static_cast<std::uint16_t>(1024 + n % 50000);
  p.dst_port = 53;
  return normalize_flow_key(p, true).key;
}

TEST(FlowTable, CreateReportsItsParameters) {
  auto t = make_table(1024, 77);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->capacity(), 1024U);
  EXPECT_EQ(t->seed(), 77U);
  EXPECT_EQ(t->size(), 0U);
}

TEST(FlowTable, InsertThenLookup) {
  auto t = make_table(1024);
  ASSERT_NE(t, nullptr);
  const FlowKey k = key_n(1);
  const std::uint32_t h = flow_hash(k, t->seed());
  EXPECT_LT(t->lookup(k, h), 0);
  const std::int32_t pos = t->insert(k, h);
  ASSERT_GE(pos, 0);
  EXPECT_LT(static_cast<std::uint32_t>(pos), t->capacity());
  EXPECT_EQ(t->size(), 1U);
  EXPECT_EQ(t->lookup(k, h), pos);
  EXPECT_LT(t->lookup(key_n(2), flow_hash(key_n(2), t->seed())), 0);
}

TEST(FlowTable, SecondInsertOfTheSameKeyIsEexistAndLeavesTheRecordAlone) {
  auto t = make_table(1024);
  ASSERT_NE(t, nullptr);
  const FlowKey k = key_n(5);
  const std::uint32_t h = flow_hash(k, t->seed());
  const std::int32_t pos = t->insert(k, h);
  ASSERT_GE(pos, 0);
  FlowRecord& r = t->record(static_cast<std::uint32_t>(pos));
  r.key = k;
  r.flow_id = 1234;
  r.packets[0] = 7;
  r.in_use = 1;
  EXPECT_EQ(t->insert(k, h), -EEXIST);
  EXPECT_EQ(t->size(), 1U);
  EXPECT_EQ(t->lookup(k, h), pos);
  EXPECT_EQ(t->record(static_cast<std::uint32_t>(pos)).flow_id, 1234U);
  EXPECT_EQ(t->record(static_cast<std::uint32_t>(pos)).packets[0], 7U);
  EXPECT_TRUE(t->record(static_cast<std::uint32_t>(pos)).key == k);
}

TEST(FlowTable, BulkLookupWithPrecomputedHashes) {
  auto t = make_table(4096);
  ASSERT_NE(t, nullptr);
  std::vector<std::int32_t> pos_of(300, -1);
  for (std::uint32_t i = 0; i < 300; i += 2) {  // even keys present
    const FlowKey k = key_n(i);
    pos_of[i] = t->insert(k, flow_hash(k, t->seed()));
    ASSERT_GE(pos_of[i], 0);
  }
  std::vector<FlowKey> keys(300);
  std::vector<std::uint32_t> hashes(300);
  for (std::uint32_t i = 0; i < 300; ++i) {
    keys[i] = key_n(i);
    hashes[i] = flow_hash(keys[i], t->seed());
  }
  for (std::uint32_t n : {1U, 7U, 32U, FlowTable::kLookupBulkMax}) {
    for (std::uint32_t base = 0; base + n <= 300; base += n) {
      const FlowKey* kp[FlowTable::kLookupBulkMax];
      std::int32_t positions[FlowTable::kLookupBulkMax];
      for (std::uint32_t i = 0; i < n; ++i) kp[i] = &keys[base + i];
      t->lookup_bulk(kp, &hashes[base], n, positions);
      for (std::uint32_t i = 0; i < n; ++i) {
        if ((base + i) % 2 == 0) {
          ASSERT_EQ(positions[i], pos_of[base + i]) << "key " << base + i << " n " << n;
        } else {
          ASSERT_LT(positions[i], 0) << "key " << base + i << " n " << n;
        }
      }
    }
  }
}

// The extendable bucket table must hold exactly `capacity` keys, whatever the
// keys and seed; the next is -ENOSPC; a removal makes room for one more.
void fill_to_capacity(std::uint32_t capacity, std::uint32_t seed, std::uint32_t key_base) {
  auto t = make_table(capacity, seed);
  ASSERT_NE(t, nullptr);
  std::set<std::int32_t> positions;
  std::vector<std::int32_t> pos_of(capacity);
  for (std::uint32_t i = 0; i < capacity; ++i) {
    const FlowKey k = key_n(key_base + i);
    const std::int32_t pos = t->insert(k, flow_hash(k, seed));
    ASSERT_GE(pos, 0) << "key " << i << " of " << capacity << " did not fit";
    ASSERT_LT(static_cast<std::uint32_t>(pos), capacity);
    ASSERT_TRUE(positions.insert(pos).second) << "position given twice";
    t->record(static_cast<std::uint32_t>(pos)).key = k;
    t->record(static_cast<std::uint32_t>(pos)).in_use = 1;
    pos_of[i] = pos;
  }
  EXPECT_EQ(t->size(), capacity);
  const FlowKey extra = key_n(key_base + capacity);
  EXPECT_EQ(t->insert(extra, flow_hash(extra, seed)), -ENOSPC);
  const FlowKey extra2 = key_n(key_base + capacity + 1);
  EXPECT_EQ(t->insert(extra2, flow_hash(extra2, seed)), -ENOSPC);
  EXPECT_EQ(t->size(), capacity);
  // A present key is still -EEXIST, not -ENOSPC.
  const FlowKey first = key_n(key_base);
  EXPECT_EQ(t->insert(first, flow_hash(first, seed)), -EEXIST);
  // Every key is still found where it was put.
  for (std::uint32_t i = 0; i < capacity; ++i) {
    const FlowKey k = key_n(key_base + i);
    ASSERT_EQ(t->lookup(k, flow_hash(k, seed)), pos_of[i]);
  }
  // Remove one: exactly one more fits, the removed key is gone.
  const std::uint32_t victim = capacity / 2;
  t->remove(static_cast<std::uint32_t>(pos_of[victim]));
  EXPECT_EQ(t->record(static_cast<std::uint32_t>(pos_of[victim])).in_use, 0);
  EXPECT_EQ(t->size(), capacity - 1);
  const FlowKey vk = key_n(key_base + victim);
  EXPECT_LT(t->lookup(vk, flow_hash(vk, seed)), 0);
  const std::int32_t pos = t->insert(extra, flow_hash(extra, seed));
  ASSERT_GE(pos, 0);
  EXPECT_LT(static_cast<std::uint32_t>(pos), capacity);
  EXPECT_EQ(t->insert(extra2, flow_hash(extra2, seed)), -ENOSPC);
  EXPECT_EQ(t->size(), capacity);
}

TEST(FlowTable, HoldsExactlyItsCapacity) {
  fill_to_capacity(1024, 1, 0);
  fill_to_capacity(1024, 0xdeadbeef, 50000);
  fill_to_capacity(1000, 2, 7);   // not a power of two
  fill_to_capacity(16, 3, 99);    // tiny
  fill_to_capacity(65536, 4, 0);  // large enough for long cuckoo paths
}

TEST(FlowTable, RemoveAndReinsertManyTimes) {
  auto t = make_table(64);
  ASSERT_NE(t, nullptr);
  std::mt19937 rng(4);
  std::vector<std::int32_t> pos_of(200, -1);
  std::uint32_t present = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::uint32_t i = rng() % 200;
    const FlowKey k = key_n(i);
    const std::uint32_t h = flow_hash(k, t->seed());
    if (pos_of[i] >= 0) {
      ASSERT_EQ(t->lookup(k, h), pos_of[i]);
      t->remove(static_cast<std::uint32_t>(pos_of[i]));
      pos_of[i] = -1;
      --present;
    } else {
      const std::int32_t pos = t->insert(k, h);
      if (present == 64) {
        ASSERT_EQ(pos, -ENOSPC);
        continue;
      }
      ASSERT_GE(pos, 0) << "round " << round << " with " << present << " present";
      t->record(static_cast<std::uint32_t>(pos)).key = k;
      pos_of[i] = pos;
      ++present;
    }
    ASSERT_EQ(t->size(), present);
  }
}

}  // namespace
}  // namespace sf::test
