// FragmentTable: which flow a later fragment belongs to.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <vector>

#include "flow/fragment_table.hpp"

namespace sf {
namespace {

ParsedPacket fragment(std::uint8_t version, std::uint8_t src_last, std::uint8_t dst_last, std::uint32_t id,
                      std::uint8_t proto = ipproto::kUdp, bool first = true) {
  ParsedPacket p;
  p.ip_version = version;
  p.proto = proto;
  p.src_addr = {10, 0, 0, src_last};
  p.dst_addr = {10, 0, 1, dst_last};
  if (version == 6) {
    p.src_addr = {0x20, 0x01, 0x0d, 0xb8};
    p.src_addr[15] = src_last;
    p.dst_addr = {0x20, 0x01, 0x0d, 0xb8};
    p.dst_addr[15] = dst_last;
  }
  p.is_fragment = true;
  p.first_fragment = first;
  p.frag_id = id;
  if (first) {
    p.src_port = 5000;
    p.dst_port = 53;
  }
  return p;
}

constexpr std::uint64_t kTimeout = 1000;

TEST(FragmentTable, LaterFragmentFindsItsFirstFragmentsFlow) {
  FragmentTable t(64, kTimeout);
  const ParsedPacket first = fragment(4, 1, 2, 777);
  const NormalizedKey nk = normalize_flow_key(first, true);
  t.remember(first, nk, 0xABCD, 100);
  const ParsedPacket later = fragment(4, 1, 2, 777, ipproto::kUdp, false);
  const FragmentTable::Hit hit = t.lookup(later, 150);
  ASSERT_NE(hit.key, nullptr);
  EXPECT_TRUE(hit.key->key == nk.key);
  EXPECT_EQ(hit.key->dir, nk.dir);
  EXPECT_EQ(hit.hash, 0xABCDU);
  EXPECT_EQ(t.replaced(), 0U);
  // Looked up again (a third fragment): still there.
  EXPECT_NE(t.lookup(later, 160).key, nullptr);
}

TEST(FragmentTable, LaterFragmentGetsTheFirstFragmentsIcmpType) {
  // A later fragment that starts a flow (its first fragment's flow had ended)
  // needs the ICMP type for the record's Community ID.
  FragmentTable t(64, kTimeout);
  ParsedPacket first = fragment(4, 1, 2, 99, ipproto::kIcmp);
  first.icmp_type = 0;  // echo reply
  first.src_port = first.dst_port = 0x0102;
  t.remember(first, normalize_flow_key(first, true), 1, 100);
  ParsedPacket later = fragment(4, 1, 2, 99, ipproto::kIcmp, false);
  later.icmp_type = 8;  // not the datagram's: the answer must come from the first fragment
  const FragmentTable::Hit hit = t.lookup(later, 110);
  ASSERT_NE(hit.key, nullptr);
  EXPECT_EQ(hit.icmp_type, 0);
}

TEST(FragmentTable, OtherDatagramsMiss) {
  FragmentTable t(64, kTimeout);
  const ParsedPacket first = fragment(4, 1, 2, 777);
  t.remember(first, normalize_flow_key(first, true), 1, 100);
  EXPECT_EQ(t.lookup(fragment(4, 1, 2, 778, ipproto::kUdp, false), 100).key, nullptr) << "other id";
  EXPECT_EQ(t.lookup(fragment(4, 1, 2, 777, ipproto::kTcp, false), 100).key, nullptr) << "other proto";
  EXPECT_EQ(t.lookup(fragment(4, 2, 1, 777, ipproto::kUdp, false), 100).key, nullptr) << "reversed addresses";
  EXPECT_EQ(t.lookup(fragment(4, 1, 3, 777, ipproto::kUdp, false), 100).key, nullptr) << "other dst";
  EXPECT_EQ(t.lookup(fragment(6, 1, 2, 777, ipproto::kUdp, false), 100).key, nullptr) << "IPv6";
  FragmentTable empty(64, kTimeout);
  EXPECT_EQ(empty.lookup(fragment(4, 1, 2, 777, ipproto::kUdp, false), 100).key, nullptr);
}

TEST(FragmentTable, Ipv6FragmentsUseTheirIdentification) {
  FragmentTable t(64, kTimeout);
  const ParsedPacket first = fragment(6, 1, 2, 0xDEADBEEF);
  const NormalizedKey nk = normalize_flow_key(first, true);
  t.remember(first, nk, 9, 0);
  const FragmentTable::Hit hit = t.lookup(fragment(6, 1, 2, 0xDEADBEEF, ipproto::kUdp, false), 10);
  ASSERT_NE(hit.key, nullptr);
  EXPECT_TRUE(hit.key->key == nk.key);
  EXPECT_EQ(t.lookup(fragment(6, 1, 2, 0xDEADBEEE, ipproto::kUdp, false), 10).key, nullptr);
}

TEST(FragmentTable, EntriesExpireAfterTheTimeoutStrictly) {
  FragmentTable t(64, kTimeout);
  const ParsedPacket first = fragment(4, 1, 2, 5);
  t.remember(first, normalize_flow_key(first, true), 1, 1000);
  const ParsedPacket later = fragment(4, 1, 2, 5, ipproto::kUdp, false);
  EXPECT_NE(t.lookup(later, 1000 + kTimeout).key, nullptr) << "exactly the timeout: still known";
  EXPECT_EQ(t.lookup(later, 1000 + kTimeout + 1).key, nullptr) << "older than the timeout: forgotten";
  // A capture that goes back in time a little does not expire it.
  EXPECT_NE(t.lookup(later, 900).key, nullptr);
  // Remembering again refreshes it.
  t.remember(first, normalize_flow_key(first, true), 1, 5000);
  EXPECT_NE(t.lookup(later, 5000 + kTimeout).key, nullptr);
}

// With two slots, datagrams soon collide: the newer replaces the older, and
// a replacement of a live entry is counted.
TEST(FragmentTable, CollisionReplacesTheOlderDatagramAndCounts) {
  FragmentTable t(2, kTimeout);
  const ParsedPacket a = fragment(4, 1, 2, 100);
  t.remember(a, normalize_flow_key(a, true), 1, 0);
  // Find a datagram that lands on a's slot: the one that makes a forgettable.
  std::uint32_t id = 101;
  for (;; ++id) {
    ASSERT_LT(id, 1000U) << "no colliding id found";
    FragmentTable probe(2, kTimeout);
    probe.remember(a, normalize_flow_key(a, true), 1, 0);
    const ParsedPacket b = fragment(4, 1, 2, id);
    probe.remember(b, normalize_flow_key(b, true), 2, 0);
    if (probe.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 0).key == nullptr) break;
  }
  const ParsedPacket b = fragment(4, 1, 2, id);
  t.remember(b, normalize_flow_key(b, true), 2, 10);
  EXPECT_EQ(t.replaced(), 1U);
  EXPECT_EQ(t.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 10).key, nullptr);
  const FragmentTable::Hit hit = t.lookup(fragment(4, 1, 2, id, ipproto::kUdp, false), 10);
  ASSERT_NE(hit.key, nullptr);
  EXPECT_EQ(hit.hash, 2U);
  // The same datagram again: not a replacement.
  t.remember(b, normalize_flow_key(b, true), 2, 20);
  EXPECT_EQ(t.replaced(), 1U);
  // Replacing an expired entry is not counted either.
  t.remember(a, normalize_flow_key(a, true), 1, 20 + kTimeout + 1);
  EXPECT_EQ(t.replaced(), 1U);
  // Replacing a live one is.
  t.remember(b, normalize_flow_key(b, true), 2, 30 + kTimeout);
  EXPECT_EQ(t.replaced(), 2U);
}

// lookup() keeps an entry alive when the capture's clock goes back a little;
// replacing such a live entry loses it just the same and must be counted.
TEST(FragmentTable, ReplacingALiveEntryIsCountedWhenTheClockGoesBack) {
  FragmentTable t(2, kTimeout);
  const ParsedPacket a = fragment(4, 1, 2, 100);
  std::uint32_t id = 101;
  for (;; ++id) {  // a datagram on a's slot (see CollisionReplacesTheOlderDatagramAndCounts)
    ASSERT_LT(id, 1000U);
    FragmentTable probe(2, kTimeout);
    probe.remember(a, normalize_flow_key(a, true), 1, 0);
    const ParsedPacket b = fragment(4, 1, 2, id);
    probe.remember(b, normalize_flow_key(b, true), 2, 0);
    if (probe.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 0).key == nullptr) break;
  }
  t.remember(a, normalize_flow_key(a, true), 1, 5000);
  ASSERT_NE(t.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 4990).key, nullptr) << "live at 4990";
  const ParsedPacket b = fragment(4, 1, 2, id);
  t.remember(b, normalize_flow_key(b, true), 2, 4990);  // 10 ns earlier than a
  EXPECT_EQ(t.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 4990).key, nullptr);
  EXPECT_EQ(t.replaced(), 1U) << "a live entry was replaced";
}

TEST(FragmentTable, TinySizesStillWork) {
  for (std::uint32_t size : {0U, 1U, 3U}) {
    FragmentTable t(size, kTimeout);
    const ParsedPacket a = fragment(4, 1, 2, 100);
    t.remember(a, normalize_flow_key(a, true), 1, 0);
    EXPECT_NE(t.lookup(fragment(4, 1, 2, 100, ipproto::kUdp, false), 0).key, nullptr) << "size " << size;
  }
}

TEST(FragmentTable, ManyDatagramsInALargeTable) {
  FragmentTable t(8192, kTimeout);
  int found = 0;
  for (std::uint32_t id = 0; id < 1000; ++id) {
    const ParsedPacket f = fragment(4, static_cast<std::uint8_t>(id), 2, id);
    t.remember(f, normalize_flow_key(f, true), id, 0);
  }
  for (std::uint32_t id = 0; id < 1000; ++id) {
    const FragmentTable::Hit hit =
        t.lookup(fragment(4, static_cast<std::uint8_t>(id), 2, id, ipproto::kUdp, false), 0);
    if (hit.key != nullptr) {
      ++found;
      EXPECT_EQ(hit.hash, id);
    }
  }
  // Direct-mapped: a few collide; every lost one is counted as replaced.
  EXPECT_EQ(static_cast<std::uint64_t>(1000 - found), t.replaced());
  EXPECT_GT(found, 900);
}

}  // namespace
}  // namespace sf
