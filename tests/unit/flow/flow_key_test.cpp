// Properties of the normalized flow key and its symmetric hash, over many
// random tuples, and the spread of worker_for_hash.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/flow_key.hpp"

namespace sf {
namespace {

constexpr int kTuples = 100000;

std::string key_bytes(const FlowKey& k) {
  return std::string(reinterpret_cast<const char*>(&k), sizeof k);
}

ParsedPacket reversed(const ParsedPacket& p) {
  ParsedPacket r = p;
  std::swap(r.src_addr, r.dst_addr);
  std::swap(r.src_port, r.dst_port);
  return r;
}

// A random tuple. Addresses and ports come from small pools some of the time,
// so that tuples sharing an address, a port or both are common.
ParsedPacket random_tuple(std::mt19937_64& rng) {
  ParsedPacket p;
  const bool v6 = rng() % 3 == 0;
  p.ip_version = v6 ? 6 : 4;
  static constexpr std::uint8_t kProtos[] = {ipproto::kTcp, ipproto::kUdp, ipproto::kIcmp,
                                             ipproto::kIcmpv6, ipproto::kSctp, 47};
  p.proto = kProtos[rng() % std::size(kProtos)];
  const unsigned addr_len = v6 ? 16 : 4;
  for (auto* a : {&p.src_addr, &p.dst_addr}) {
    if (rng() % 4 == 0) {
      // A small pool: many tuples share this address.
      (*a)[0] = 10;
      (*a)[addr_len - 1] = static_cast<std::uint8_t>(rng() % 4);
    } else {
      for (unsigned i = 0; i < addr_len; ++i) (*a)[i] = static_cast<std::uint8_t>(rng());
    }
  }
  if (p.proto == ipproto::kIcmp || p.proto == ipproto::kIcmpv6) {
    if (rng() % 2 == 0) {
      p.src_port = p.dst_port = static_cast<std::uint16_t>(rng());  // echo: identifier both
    } else {
      p.src_port = static_cast<std::uint16_t>(rng() % 256);  // type / code
      p.dst_port = static_cast<std::uint16_t>(rng() % 16);
    }
  } else if (p.proto == 47) {
    p.src_port = p.dst_port = 0;
  } else {
    p.src_port = rng() % 3 == 0 ? 80 : static_cast<std::uint16_t>(rng());
    p.dst_port = rng() % 3 == 0 ? 80 : static_cast<std::uint16_t>(rng());
  }
  p.vlan_count = static_cast<std::uint8_t>(rng() % 4);  // 3: more tags than recorded
  if (p.vlan_count >= 1) p.vlan[0] = static_cast<std::uint16_t>(1 + rng() % 4094);
  if (p.vlan_count >= 2) p.vlan[1] = static_cast<std::uint16_t>(1 + rng() % 4094);
  p.tcp_flags = static_cast<std::uint8_t>(rng());  // must not matter
  p.ip_bytes = static_cast<std::uint32_t>(rng() % 1500);
  return p;
}

bool same_endpoint(const ParsedPacket& p) { return p.src_addr == p.dst_addr && p.src_port == p.dst_port; }

// The identity the key must capture: proto, version, unordered endpoint pair,
// and the VLAN ids when they are keyed.
std::string canonical(const ParsedPacket& p, bool vlan_in_key) {
  std::string a(reinterpret_cast<const char*>(p.src_addr.data()), 16);
  a += std::to_string(p.src_port);
  std::string b(reinterpret_cast<const char*>(p.dst_addr.data()), 16);
  b += std::to_string(p.dst_port);
  if (b < a) std::swap(a, b);
  std::string c = std::to_string(p.proto) + "/" + std::to_string(p.ip_version) + "/" + a + "|" + b;
  if (vlan_in_key && p.vlan_count > 0) {
    c += "/v" + std::to_string(p.vlan[0]);
    if (p.vlan_count >= 2) c += "." + std::to_string(p.vlan[1]);
  }
  return c;
}

void expect_padding_zero(const FlowKey& k) {
  for (std::uint8_t b : k.pad_) ASSERT_EQ(b, 0);
  if (k.ip_version == 4) {
    for (int i = 4; i < 16; ++i) {
      ASSERT_EQ(k.addr_lo[i], 0);
      ASSERT_EQ(k.addr_hi[i], 0);
    }
  }
}

class FlowKeyProperty : public ::testing::TestWithParam<bool> {};

TEST_P(FlowKeyProperty, BothDirectionsGiveOneKeyAndOppositeDirections) {
  const bool vlan_in_key = GetParam();
  std::mt19937_64 rng(vlan_in_key ? 11 : 12);
  int checked = 0;
  for (int i = 0; i < kTuples; ++i) {
    const ParsedPacket p = random_tuple(rng);
    if (same_endpoint(p)) continue;
    const NormalizedKey a = normalize_flow_key(p, vlan_in_key);
    const NormalizedKey b = normalize_flow_key(reversed(p), vlan_in_key);
    ASSERT_TRUE(a.key == b.key) << "tuple " << i;
    ASSERT_EQ(key_bytes(a.key), key_bytes(b.key));
    ASSERT_TRUE(a.dir == kDirLoToHi || a.dir == kDirHiToLo);
    ASSERT_EQ(a.dir ^ 1, b.dir) << "tuple " << i;
    ASSERT_EQ(a.key.proto, p.proto);
    ASSERT_EQ(a.key.ip_version, p.ip_version);
    // lo really is the lower endpoint, and dir says which one sent the packet.
    const int c = std::memcmp(a.key.addr_lo.data(), a.key.addr_hi.data(), 16);
    ASSERT_TRUE(c < 0 || (c == 0 && a.key.port_lo < a.key.port_hi));
    if (a.dir == kDirLoToHi) {
      ASSERT_EQ(a.key.addr_lo, p.src_addr);
      ASSERT_EQ(a.key.port_lo, p.src_port);
    } else {
      ASSERT_EQ(a.key.addr_hi, p.src_addr);
      ASSERT_EQ(a.key.port_hi, p.src_port);
    }
    expect_padding_zero(a.key);
    if (vlan_in_key && p.vlan_count > 0) {
      ASSERT_EQ(a.key.vlan_count, p.vlan_count >= 2 ? 2 : 1);
      ASSERT_EQ(a.key.vlan_outer, p.vlan[0]);
      ASSERT_EQ(a.key.vlan_inner, p.vlan_count >= 2 ? p.vlan[1] : 0);
    } else {
      ASSERT_EQ(a.key.vlan_count, 0);
      ASSERT_EQ(a.key.vlan_outer, 0);
      ASSERT_EQ(a.key.vlan_inner, 0);
    }
    ++checked;
  }
  EXPECT_GT(checked, kTuples * 9 / 10);
}

TEST_P(FlowKeyProperty, HashIsSymmetricAndSeeded) {
  const bool vlan_in_key = GetParam();
  std::mt19937_64 rng(vlan_in_key ? 21 : 22);
  int differ_by_seed = 0;
  int n = 0;
  for (int i = 0; i < kTuples; ++i) {
    const ParsedPacket p = random_tuple(rng);
    const NormalizedKey a = normalize_flow_key(p, vlan_in_key);
    const NormalizedKey b = normalize_flow_key(reversed(p), vlan_in_key);
    const auto seed = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(flow_hash(a.key, seed), flow_hash(b.key, seed));
    ASSERT_EQ(flow_hash(a.key, seed), flow_hash(a.key, seed));  // deterministic
    if (flow_hash(a.key, seed) != flow_hash(a.key, seed ^ 0x9e3779b9U)) ++differ_by_seed;
    ++n;
  }
  EXPECT_GT(differ_by_seed, n - n / 1000) << "another seed should move almost every key";
}

TEST_P(FlowKeyProperty, DistinctTuplesGiveDistinctKeys) {
  const bool vlan_in_key = GetParam();
  std::mt19937_64 rng(vlan_in_key ? 31 : 32);
  std::unordered_map<std::string, std::string> key_to_tuple;
  std::unordered_map<std::string, std::string> tuple_to_key;
  std::unordered_map<std::uint32_t, int> hashes;
  const auto check = [&](const ParsedPacket& p) {
    const NormalizedKey nk = normalize_flow_key(p, vlan_in_key);
    const std::string k = key_bytes(nk.key);
    const std::string t = canonical(p, vlan_in_key);
    const auto [it, fresh] = key_to_tuple.emplace(k, t);
    ASSERT_EQ(it->second, t) << "two different tuples share a key";
    const auto [it2, fresh2] = tuple_to_key.emplace(t, k);
    ASSERT_EQ(it2->second, k) << "one tuple gave two keys";
    if (fresh) ++hashes[flow_hash(nk.key, 7)];
  };
  for (int i = 0; i < kTuples; ++i) {
    ParsedPacket p = random_tuple(rng);
    check(p);
    check(reversed(p));
    // Near neighbours: one field changed at a time.
    ParsedPacket q = p;
    q.src_port = static_cast<std::uint16_t>(q.src_port + 1);
    check(q);
    q = p;
    q.dst_addr[q.ip_version == 6 ? 15 : 3] ^= 1;
    check(q);
    q = p;
    q.proto = q.proto == ipproto::kTcp ? ipproto::kUdp : ipproto::kTcp;
    check(q);
    q = p;
    q.vlan_count = q.vlan_count == 0 ? 1 : q.vlan_count;
    q.vlan[0] = static_cast<std::uint16_t>(q.vlan[0] % 4000 + 1);
    check(q);
    q.vlan_count = 2;
    check(q);
    q = p;
    q.tcp_flags ^= 0xFF;  // not part of the key
    q.ip_bytes += 1;
    check(q);
  }
  // A 32-bit hash over a few hundred thousand keys: collisions are rare.
  std::size_t colliding = 0;
  for (const auto& [h, n] : hashes) colliding += n > 1 ? n : 0;
  EXPECT_LT(colliding, key_to_tuple.size() / 1000);
}

INSTANTIATE_TEST_SUITE_P(VlanInKey, FlowKeyProperty, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "On" : "Off"; });

TEST(FlowKey, VlanIdsSeparateFlowsOnlyWhenKeyed) {
  ParsedPacket p;
  p.ip_version = 4;
  p.proto = ipproto::kUdp;
  p.src_addr = {10, 0, 0, 1};
  p.dst_addr = {10, 0, 0, 2};
  p.src_port = 1000;
  p.dst_port = 53;
  ParsedPacket v10 = p;
  v10.vlan_count = 1;
  v10.vlan[0] = 10;
  ParsedPacket v20 = v10;
  v20.vlan[0] = 20;
  EXPECT_FALSE(normalize_flow_key(v10, true).key == normalize_flow_key(v20, true).key);
  EXPECT_FALSE(normalize_flow_key(v10, true).key == normalize_flow_key(p, true).key);
  EXPECT_TRUE(normalize_flow_key(v10, false).key == normalize_flow_key(v20, false).key);
  EXPECT_TRUE(normalize_flow_key(v10, false).key == normalize_flow_key(p, false).key);
  ParsedPacket qinq = v10;
  qinq.vlan_count = 2;
  qinq.vlan[1] = 30;
  const FlowKey k = normalize_flow_key(qinq, true).key;
  EXPECT_EQ(k.vlan_count, 2);
  EXPECT_EQ(k.vlan_outer, 10);
  EXPECT_EQ(k.vlan_inner, 30);
  EXPECT_FALSE(k == normalize_flow_key(v10, true).key);
}

TEST(FlowKey, SameEndpointBothSidesIsOneKey) {
  ParsedPacket p;
  p.ip_version = 4;
  p.proto = ipproto::kTcp;
  p.src_addr = p.dst_addr = {127, 0, 0, 1};
  p.src_port = p.dst_port = 5000;
  const NormalizedKey a = normalize_flow_key(p, true);
  EXPECT_TRUE(a.key == normalize_flow_key(reversed(p), true).key);
  // Same address, ports decide the order.
  p.dst_port = 4000;
  const NormalizedKey b = normalize_flow_key(p, true);
  EXPECT_EQ(b.dir, kDirHiToLo);
  EXPECT_EQ(b.key.port_lo, 4000);
  EXPECT_EQ(b.key.port_hi, 5000);
  EXPECT_EQ(normalize_flow_key(reversed(p), true).dir, kDirLoToHi);
}

TEST(FlowKey, AddressesCompareAsBytesNotPortsFirst) {
  ParsedPacket p;
  p.ip_version = 4;
  p.proto = ipproto::kUdp;
  p.src_addr = {10, 0, 0, 2};
  p.dst_addr = {10, 0, 0, 1};
  p.src_port = 1;      // lower port on the higher address
  p.dst_port = 60000;
  const NormalizedKey n = normalize_flow_key(p, false);
  EXPECT_EQ(n.dir, kDirHiToLo);
  EXPECT_EQ(n.key.addr_lo[3], 1);
  EXPECT_EQ(n.key.port_lo, 60000);
  EXPECT_EQ(n.key.port_hi, 1);
}

// Each worker gets its share of hashes, within a few percent.
void expect_spread(const std::vector<std::uint32_t>& hashes, std::uint32_t n, const char* what) {
  std::vector<std::uint64_t> count(n, 0);
  for (std::uint32_t h : hashes) {
    const std::uint32_t w = worker_for_hash(h, n);
    ASSERT_LT(w, n);
    ++count[w];
  }
  const double expected = static_cast<double>(hashes.size()) / n;
  for (std::uint32_t w = 0; w < n; ++w) {
    EXPECT_NEAR(static_cast<double>(count[w]), expected, expected * 0.03)
        << what << ": worker " << w << " of " << n;
  }
}

TEST(WorkerForHash, RandomHashesSpreadEvenly) {
  std::mt19937 rng(5);
  std::vector<std::uint32_t> hashes(400000);
  for (auto& h : hashes) h = rng();
  for (std::uint32_t n : {2U, 3U, 4U, 7U}) expect_spread(hashes, n, "random");
}

TEST(WorkerForHash, StructuredHashesSpreadEvenly) {
  // Hashes that differ only in their high bits, or only in their low bits: the
  // mix must spread both (a plain `% n` or `>> 28` would not).
  std::vector<std::uint32_t> low(200000);
  std::vector<std::uint32_t> high(65536);
  for (std::uint32_t i = 0; i < low.size(); ++i) low[i] = i;
  for (std::uint32_t i = 0; i < high.size(); ++i) high[i] = i << 16;
  for (std::uint32_t n : {2U, 3U, 4U, 7U}) {
    expect_spread(low, n, "sequential");
    expect_spread(high, n, "high bits");
  }
}

TEST(WorkerForHash, FlowHashesOfSimilarTuplesSpreadEvenly) {
  // Realistic keys: one server, clients on consecutive addresses and ports.
  std::vector<std::uint32_t> hashes;
  for (std::uint32_t i = 0; i < 200000; ++i) {
    ParsedPacket p;
    p.ip_version = 4;
    p.proto = ipproto::kTcp;
    p.src_addr = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                  static_cast<std::uint8_t>(i)};
    p.dst_addr = {192, 168, 0, 1};
    p.src_port = static_cast<std::uint16_t>(32768 + i % 1000);
    p.dst_port = 443;
    hashes.push_back(flow_hash(normalize_flow_key(p, true).key, 0x1234));
  }
  for (std::uint32_t n : {2U, 3U, 4U, 7U}) expect_spread(hashes, n, "flow hashes");
}

TEST(WorkerForHash, OneWorkerTakesEverything) {
  for (std::uint32_t h : {0U, 1U, 0x80000000U, 0xFFFFFFFFU}) EXPECT_EQ(worker_for_hash(h, 1), 0U);
  EXPECT_LT(worker_for_hash(0xFFFFFFFFU, 7), 7U);
}

}  // namespace
}  // namespace sf
