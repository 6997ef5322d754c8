// DnsCache semantics, one thread: TTL clamping, expiry, update, key identity,
// the capacity bound and its replacement policy, name limits, lookup buffers.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "dnscache/dns_cache.hpp"

namespace sf {
namespace {

using Addr = std::array<std::uint8_t, 16>;
constexpr std::uint64_t kS = 1000000000ULL;
constexpr std::uint64_t kT0 = 1700000000ULL * kS;

Addr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) { return Addr{a, b, c, d}; }
// Distinct IPv4 addresses 10.x.y.z for i < 2^24.
Addr v4_of(std::uint32_t i) {
  return v4(10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i));
}

class DnsCacheTest : public ::testing::Test {
 protected:
  void make(std::uint32_t capacity, std::uint32_t min_ttl = 60, std::uint32_t max_ttl = 86400) {
    DnsCacheConfig c;
    c.capacity = capacity;
    c.min_ttl_s = min_ttl;
    c.max_ttl_s = max_ttl;
    auto r = DnsCache::create(c);
    ASSERT_TRUE(r) << r.error();
    cache_ = std::move(r.value());
  }
  void put(const Addr& cl, const Addr& sv, std::string_view name, std::uint32_t ttl, std::uint64_t now,
           std::uint8_t ver = 4) {
    cache_->insert(ver, cl.data(), sv.data(), name, ttl, now, w_);
  }
  // The name found at `at`, "" when none.
  std::string get(const Addr& cl, const Addr& sv, std::uint64_t at, std::uint8_t ver = 4, std::size_t cap = 256) {
    char buf[300];
    std::memset(buf, 'X', sizeof buf);
    const std::size_t n = cache_->lookup(ver, cl.data(), sv.data(), at, buf, cap, r_);
    if (cap == 0) return std::string();
    EXPECT_EQ(buf[n], '\0') << "the copy is NUL-terminated right after its length";
    return std::string(buf, n);
  }

  std::unique_ptr<DnsCache> cache_;
  DnsCacheWriterCounters w_;
  DnsCacheReaderCounters r_;
  const Addr client_ = v4(192, 168, 1, 10);
  const Addr server_ = v4(93, 184, 216, 34);
};

TEST_F(DnsCacheTest, CreateRejectsBadConfigAndRoundsCapacity) {
  DnsCacheConfig c;
  c.capacity = 0;
  EXPECT_FALSE(DnsCache::create(c));
  c.capacity = DnsCache::kMaxCapacity + 1;
  EXPECT_FALSE(DnsCache::create(c));
  c.capacity = 100;
  c.min_ttl_s = 10;
  c.max_ttl_s = 9;
  EXPECT_FALSE(DnsCache::create(c));
  c.max_ttl_s = 10;  // min == max is a fixed TTL: allowed
  EXPECT_TRUE(DnsCache::create(c));
  const std::pair<std::uint32_t, std::uint32_t> cases[] = {{1, 8}, {8, 8}, {9, 16}, {100, 128}, {65536, 65536},
                                                          {65537, 131072}};
  for (auto [asked, got] : cases) {
    c.capacity = asked;
    auto r = DnsCache::create(c);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r.value()->capacity(), got) << "asked " << asked;
  }
}

TEST_F(DnsCacheTest, ExpiresExactlyAtNowPlusTtl) {
  make(64);
  put(client_, server_, "www.example.com", 300, kT0);
  EXPECT_EQ(get(client_, server_, kT0), "www.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 300 * kS - 1), "www.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 300 * kS), "") << "at_ns == expires_ns is expired";
  EXPECT_EQ(get(client_, server_, kT0 + 301 * kS), "");
  EXPECT_EQ(r_.hits.get(), 2U);
  EXPECT_EQ(r_.misses.get(), 2U);
  EXPECT_EQ(r_.read_retries_exhausted.get(), 0U);
  EXPECT_EQ(w_.inserts.get(), 1U);
}

TEST_F(DnsCacheTest, TtlBelowMinimumIsRaised) {
  make(64, 60, 3600);
  put(client_, server_, "a.example", 5, kT0);
  put(client_, v4(1, 1, 1, 1), "zero.example", 0, kT0);
  EXPECT_EQ(get(client_, server_, kT0 + 60 * kS - 1), "a.example") << "5 s raised to 60 s";
  EXPECT_EQ(get(client_, server_, kT0 + 60 * kS), "");
  EXPECT_EQ(get(client_, v4(1, 1, 1, 1), kT0 + 59 * kS), "zero.example") << "TTL 0 raised to 60 s";
  EXPECT_EQ(get(client_, v4(1, 1, 1, 1), kT0 + 60 * kS), "");
}

TEST_F(DnsCacheTest, TtlAboveMaximumIsLowered) {
  make(64, 60, 3600);
  put(client_, server_, "b.example", 604800, kT0);
  put(client_, v4(2, 2, 2, 2), "max.example", 0xffffffffU, kT0);
  EXPECT_EQ(get(client_, server_, kT0 + 3600 * kS - 1), "b.example") << "a week lowered to an hour";
  EXPECT_EQ(get(client_, server_, kT0 + 3600 * kS), "");
  EXPECT_EQ(get(client_, v4(2, 2, 2, 2), kT0 + 3600 * kS - 1), "max.example");
  EXPECT_EQ(get(client_, v4(2, 2, 2, 2), kT0 + 3600 * kS), "");
}

TEST_F(DnsCacheTest, SameNameRefreshesNotDuplicates) {
  make(8);  // one bucket: a duplicate would show as two live entries
  put(client_, server_, "same.example.com", 100, kT0);
  put(client_, server_, "same.example.com", 100, kT0 + 50 * kS);
  EXPECT_EQ(w_.inserts.get(), 1U);
  EXPECT_EQ(w_.updates.get(), 1U);
  EXPECT_EQ(cache_->live_entries(kT0 + 50 * kS), 1U);
  EXPECT_EQ(get(client_, server_, kT0 + 149 * kS), "same.example.com") << "the refresh moved the expiry";
  EXPECT_EQ(get(client_, server_, kT0 + 150 * kS), "");
}

// Another worker's later answer can be inserted first: the same name from an
// earlier answer arriving late makes the entry valid from that earlier time
// (zeek__var-services-std-ports.pcap: answers in frames 211 and 239 on two
// workers, the connection at frame 214 was named only when 211 came first).
TEST_F(DnsCacheTest, AnEarlierAnswerArrivingLateStillNamesFlowsAfterIt) {
  make(8);
  put(client_, server_, "late.example.com", 300, kT0 + 90 * kS);  // the later answer, inserted first
  EXPECT_EQ(get(client_, server_, kT0 + 10 * kS), "") << "before any answer that arrived so far";
  put(client_, server_, "late.example.com", 300, kT0);  // the earlier one
  EXPECT_EQ(w_.updates.get(), 1U);
  EXPECT_EQ(get(client_, server_, kT0 + 10 * kS), "late.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 389 * kS), "late.example.com") << "the later answer's expiry stays";
}

// A name that changes is a new version: flows that started before the second
// answer keep the first name, later ones get the second, whatever order the
// lookups come in (as in ndpi__alexa-app.pcap: alexa.amazon.com, then
// pitangui.amazon.com, for one client and address).
TEST_F(DnsCacheTest, ANewNameIsANewVersionAndLookupsTakeTheOneCurrentAtTheirTime) {
  make(8);
  put(client_, server_, "first.example.com", 100, kT0);
  put(client_, server_, "second.example.org", 100, kT0 + 50 * kS);
  EXPECT_EQ(w_.inserts.get(), 2U);
  EXPECT_EQ(w_.updates.get(), 0U);
  EXPECT_EQ(get(client_, server_, kT0 - 1), "") << "before any answer";
  EXPECT_EQ(get(client_, server_, kT0), "first.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 50 * kS - 1), "first.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 50 * kS), "second.example.org");
  EXPECT_EQ(get(client_, server_, kT0 + 149 * kS), "second.example.org");
  EXPECT_EQ(get(client_, server_, kT0 + 150 * kS), "");
  // A shorter name after a longer one: no tail of the old one; the first name back again is a third version.
  put(client_, server_, "x.io", 100, kT0 + 60 * kS);
  EXPECT_EQ(get(client_, server_, kT0 + 60 * kS), "x.io");
  put(client_, server_, "first.example.com", 100, kT0 + 70 * kS);
  EXPECT_EQ(get(client_, server_, kT0 + 70 * kS), "first.example.com");
  EXPECT_EQ(get(client_, server_, kT0 + 65 * kS), "x.io");
  EXPECT_EQ(w_.inserts.get(), 4U);
}

TEST_F(DnsCacheTest, Ipv4AndIpv6WithEqualBytesAreDistinct) {
  make(64);
  put(client_, server_, "four.example", 300, kT0, 4);
  EXPECT_EQ(get(client_, server_, kT0, 6), "") << "the v6 key with the same 16 bytes is another key";
  put(client_, server_, "six.example", 300, kT0, 6);
  EXPECT_EQ(get(client_, server_, kT0, 4), "four.example");
  EXPECT_EQ(get(client_, server_, kT0, 6), "six.example");
  EXPECT_EQ(w_.inserts.get(), 2U);
  EXPECT_EQ(w_.updates.get(), 0U);
}

TEST_F(DnsCacheTest, Ipv4IgnoresBytesAfterTheAddress) {
  make(64);
  Addr dirty_client = client_;
  Addr dirty_server = server_;
  dirty_client[4] = 0xaa;
  dirty_server[15] = 0x55;
  put(dirty_client, dirty_server, "v4.example", 300, kT0, 4);
  EXPECT_EQ(get(client_, server_, kT0, 4), "v4.example");
  // For IPv6 every byte counts.
  put(client_, server_, "v6.example", 300, kT0, 6);
  EXPECT_EQ(get(dirty_client, server_, kT0, 6), "");
}

TEST_F(DnsCacheTest, ClientAndServerAreNotInterchangeable) {
  make(64);
  put(client_, server_, "www.example.com", 300, kT0);
  EXPECT_EQ(get(server_, client_, kT0), "");
  EXPECT_EQ(get(client_, client_, kT0), "");
  EXPECT_EQ(get(client_, v4(93, 184, 216, 35), kT0), "");
  EXPECT_EQ(get(v4(192, 168, 1, 11), server_, kT0), "");
  EXPECT_EQ(get(client_, server_, kT0), "www.example.com");
  EXPECT_EQ(r_.misses.get(), 4U);
  EXPECT_EQ(r_.hits.get(), 1U);
}

// One bucket of 8: 80 distinct keys, each inserted 1 ns after the previous one
// with the same TTL, so the soonest-expiring entry is always the oldest. The
// first 8 fill empty slots; each of the other 72 evicts the oldest: the last 8
// keys are left.
TEST_F(DnsCacheTest, OneBucketEvictsTheSoonestExpiring) {
  make(8);
  for (std::uint32_t i = 0; i < 80; ++i) {
    put(client_, v4_of(i), "k" + std::to_string(i), 300, kT0 + i);
    ASSERT_LE(cache_->live_entries(kT0 + i), 8U);
  }
  EXPECT_EQ(w_.inserts.get(), 80U);
  EXPECT_EQ(w_.evicted.get(), 72U);
  EXPECT_EQ(w_.expired.get(), 0U);
  EXPECT_EQ(w_.updates.get(), 0U);
  EXPECT_EQ(cache_->live_entries(kT0 + 80), 8U);
  for (std::uint32_t i = 0; i < 80; ++i) {
    EXPECT_EQ(get(client_, v4_of(i), kT0 + 80), i >= 72 ? "k" + std::to_string(i) : "") << "key " << i;
  }
}

TEST_F(DnsCacheTest, EvictsTheShortestTtlNotTheOldest) {
  make(8);
  const std::uint32_t ttls[8] = {500, 700, 800, 100, 600, 200, 400, 300};  // key 3 expires first
  for (std::uint32_t i = 0; i < 8; ++i) put(client_, v4_of(i), "k" + std::to_string(i), ttls[i], kT0 + i);
  put(client_, v4_of(100), "newcomer", 1000, kT0 + 10);
  EXPECT_EQ(w_.evicted.get(), 1U);
  EXPECT_EQ(get(client_, v4_of(3), kT0 + 10), "");
  for (std::uint32_t i : {0U, 1U, 2U, 4U, 5U, 6U, 7U}) EXPECT_EQ(get(client_, v4_of(i), kT0 + 10), "k" + std::to_string(i));
  EXPECT_EQ(get(client_, v4_of(100), kT0 + 10), "newcomer");
  // Next victim: key 5 (200 s).
  put(client_, v4_of(101), "second", 1000, kT0 + 11);
  EXPECT_EQ(get(client_, v4_of(5), kT0 + 11), "");
  EXPECT_EQ(w_.evicted.get(), 2U);
}

TEST_F(DnsCacheTest, ExpiredEntriesAreReusedBeforeEvicting) {
  make(8);
  for (std::uint32_t i = 0; i < 4; ++i) put(client_, v4_of(i), "short", 60, kT0);       // expire at T0+60
  for (std::uint32_t i = 4; i < 8; ++i) put(client_, v4_of(i), "long", 3600, kT0);      // expire at T0+3600
  const std::uint64_t t = kT0 + 60 * kS;  // the short ones are expired exactly now
  for (std::uint32_t i = 10; i < 14; ++i) put(client_, v4_of(i), "fresh", 60, t);
  EXPECT_EQ(w_.expired.get(), 4U);
  EXPECT_EQ(w_.evicted.get(), 0U);
  for (std::uint32_t i = 4; i < 8; ++i) EXPECT_EQ(get(client_, v4_of(i), t), "long") << "live entries kept";
  // Bucket full of live entries now: the next one evicts (a "fresh", expiring at t+60 s).
  put(client_, v4_of(20), "evictor", 60, t + 1);
  EXPECT_EQ(w_.evicted.get(), 1U);
  EXPECT_EQ(w_.expired.get(), 4U);
  EXPECT_EQ(w_.inserts.get(), 13U);
  EXPECT_EQ(cache_->live_entries(t + 1), 8U);
}

// 10x capacity distinct keys over many buckets: never more than capacity
// live, every insert either filled a free slot or evicted (nothing expires).
TEST_F(DnsCacheTest, TenTimesCapacityStaysBounded) {
  make(1000);
  ASSERT_EQ(cache_->capacity(), 1024U);
  const std::uint32_t n = 10 * 1024;
  for (std::uint32_t i = 0; i < n; ++i) {
    put(v4_of(i), server_, "n", 300, kT0 + i);
    if (i % 64 == 0) {
      ASSERT_LE(cache_->live_entries(kT0 + i), 1024U);
    }
  }
  const std::size_t live = cache_->live_entries(kT0 + n);
  EXPECT_LE(live, 1024U);
  EXPECT_EQ(w_.inserts.get(), n);
  EXPECT_EQ(w_.expired.get(), 0U);
  EXPECT_EQ(w_.inserts.get() - w_.evicted.get(), live) << "each insert adds one entry unless it evicted one";
  EXPECT_GE(w_.evicted.get(), n - 1024U);
  // The 8 most recent keys of any bucket survive, so the very last key does.
  EXPECT_EQ(get(v4_of(n - 1), server_, kT0 + n), "n");
}

TEST_F(DnsCacheTest, NamesOf255BytesFitLongerAreRefused) {
  make(64);
  const std::string n255(255, 'a');
  const std::string n256(256, 'b');
  put(client_, server_, n255, 300, kT0);
  EXPECT_EQ(get(client_, server_, kT0), n255);
  put(client_, server_, n256, 300, kT0);
  EXPECT_EQ(w_.names_too_long.get(), 1U);
  EXPECT_EQ(get(client_, server_, kT0), n255) << "a refused name leaves the entry as it was";
  put(client_, v4(8, 8, 8, 8), std::string(4000, 'c'), 300, kT0);
  EXPECT_EQ(get(client_, v4(8, 8, 8, 8), kT0), "");
  EXPECT_EQ(w_.names_too_long.get(), 2U);
  put(client_, v4(9, 9, 9, 9), "", 300, kT0);
  EXPECT_EQ(w_.empty_names.get(), 1U);
  EXPECT_EQ(get(client_, v4(9, 9, 9, 9), kT0), "");
  EXPECT_EQ(w_.inserts.get(), 1U);
  EXPECT_EQ(w_.updates.get(), 0U);
}

TEST_F(DnsCacheTest, LookupTruncatesToTheBuffer) {
  make(64);
  put(client_, server_, "www.example.com", 300, kT0);  // 15 bytes
  EXPECT_EQ(get(client_, server_, kT0, 4, 16), "www.example.com");
  EXPECT_EQ(get(client_, server_, kT0, 4, 15), "www.example.co");
  EXPECT_EQ(get(client_, server_, kT0, 4, 9), "www.exam");
  EXPECT_EQ(get(client_, server_, kT0, 4, 4), "www");
  EXPECT_EQ(get(client_, server_, kT0, 4, 2), "w");
  EXPECT_EQ(r_.hits.get(), 5U);
  EXPECT_EQ(get(client_, server_, kT0, 4, 1), "") << "room for the NUL only";
  char untouched = 'Z';
  EXPECT_EQ(cache_->lookup(4, client_.data(), server_.data(), kT0, &untouched, 0, r_), 0U);
  EXPECT_EQ(untouched, 'Z') << "cap 0: nothing written";
  EXPECT_EQ(r_.misses.get(), 2U);
  // A 255-byte name through a 100-byte buffer: 99 bytes.
  const std::string n255(255, 'q');
  put(client_, v4(1, 2, 3, 4), n255, 300, kT0);
  EXPECT_EQ(get(client_, v4(1, 2, 3, 4), kT0, 4, 100), std::string(99, 'q'));
}

}  // namespace
}  // namespace sf
