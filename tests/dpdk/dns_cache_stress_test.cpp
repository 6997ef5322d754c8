// DnsCache under concurrency: 2 writer lcores insert into a tiny table (8
// buckets) from one shared key space while 3 readers (a worker lcore, the
// main lcore, and a plain thread as the exporters are) look keys up. Every
// name is a function of (key, version) with a version-dependent length, so a
// reader can check that each name it gets belongs to the key it asked for and
// is whole: a torn read (words of two versions, a length of one and text of
// another) fails the check. Run under TSan by tools/tsan-stress.sh.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "dnscache/dns_cache.hpp"
#include "mbuf_util.hpp"

namespace sf::test {
namespace {

constexpr std::uint32_t kKeys = 512;
constexpr std::uint32_t kCapacity = 64;  // 8 buckets: constant eviction and bucket contention
constexpr std::uint64_t kInsertsPerWriter = 200000;
constexpr std::uint64_t kMinLookupsPerReader = 100000;
constexpr std::uint64_t kMs = 1000000;

using Addr = std::array<std::uint8_t, 16>;

// Odd keys are IPv6, even keys IPv4: both key shapes share the buckets.
std::uint8_t version_of(std::uint32_t k) { return (k & 1) != 0 ? 6 : 4; }
Addr client_of(std::uint32_t k) {
  if (version_of(k) == 4) return Addr{10, 0, static_cast<std::uint8_t>(k >> 8), static_cast<std::uint8_t>(k)};
  return Addr{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(k >> 8),
              static_cast<std::uint8_t>(k)};
}
Addr server_of(std::uint32_t k) {
  if (version_of(k) == 4) return Addr{93, 184, 0, static_cast<std::uint8_t>(k % 7)};
  return Addr{0x26, 0x06, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(k % 7)};
}

// "k<key>-v<ver>.<pad>.example.com", pad = 0..199 copies of one letter, both
// from (key, ver): the length changes with the version, across word boundaries.
std::size_t name_of(std::uint32_t k, std::uint64_t ver, char* out, std::size_t cap) {
  const std::size_t pad = (ver * 7 + k) % 200;
  const int n = std::snprintf(out, cap, "k%u-v%llu.", k, static_cast<unsigned long long>(ver));
  std::size_t len = static_cast<std::size_t>(n);
  std::memset(out + len, 'a' + static_cast<int>(ver % 26), pad);
  len += pad;
  std::memcpy(out + len, ".example.com", 12);
  len += 12;
  out[len] = '\0';
  return len;
}

// Does `name` (len bytes) belong to key k and equal name_of(k, its version)?
bool well_formed_for(std::uint32_t k, const char* name, std::size_t len) {
  unsigned key = 0;
  unsigned long long ver = 0;
  int used = 0;
  if (std::sscanf(name, "k%u-v%llu.%n", &key, &ver, &used) != 2 || used == 0 || key != k) return false;
  char expect[300];
  const std::size_t n = name_of(k, ver, expect, sizeof expect);
  return n == len && std::memcmp(expect, name, len) == 0 && name[len] == '\0';
}

struct Shared {
  DnsCache* cache;
  std::atomic<unsigned> writers_running{0};
  // The writers' clock (the newest insert time): lookups ask as of it, so
  // they see what was inserted and has not expired yet.
  std::atomic<std::uint64_t> now_ns{0};
};

struct Writer {
  Shared* sh;
  std::uint32_t id;
  DnsCacheWriterCounters c;
  std::atomic<bool> finished{false};

  static int main(void* self) {
    static_cast<Writer*>(self)->run();
    return 0;
  }
  void run() {
    std::mt19937 rng(1000 + id);
    char name[300];
    for (std::uint64_t i = 0; i < kInsertsPerWriter; ++i) {
      const std::uint32_t k = rng() % kKeys;
      const std::uint64_t ver = i * 2 + id;  // each version written by one writer only
      const std::size_t len = name_of(k, ver, name, sizeof name);
      const Addr cl = client_of(k), sv = server_of(k);
      // 1 ms per insert and TTLs of 1..5 s: entries expire while the test runs.
      sh->cache->insert(version_of(k), cl.data(), sv.data(), std::string_view(name, len),
                        static_cast<std::uint32_t>(1 + i % 5), i * kMs, c);
      if (i * kMs > sh->now_ns.load(std::memory_order_relaxed)) sh->now_ns.store(i * kMs, std::memory_order_relaxed);
    }
    sh->writers_running.fetch_sub(1);
    finished.store(true, std::memory_order_release);
  }
};

struct Reader {
  Shared* sh;
  std::uint32_t id;
  DnsCacheReaderCounters c;
  std::uint64_t lookups = 0;
  std::uint64_t found = 0;
  std::uint64_t malformed = 0;
  std::uint64_t short_returns = 0;  // returned length disagreeing with the copied string
  std::atomic<bool> finished{false};

  static int main(void* self) {
    static_cast<Reader*>(self)->run();
    return 0;
  }
  void run() {
    std::mt19937 rng(2000 + id);
    char out[256];
    while (sh->writers_running.load() != 0 || lookups < kMinLookupsPerReader) {
      const std::uint32_t k = rng() % kKeys;
      const Addr cl = client_of(k), sv = server_of(k);
      // As of the writers' clock: this test is about torn reads, not about times.
      const std::size_t n = sh->cache->lookup(version_of(k), cl.data(), sv.data(),
                                              sh->now_ns.load(std::memory_order_relaxed), out, sizeof out, c);
      ++lookups;
      if (n == 0) continue;
      ++found;
      if (std::strlen(out) != n) ++short_returns;
      if (!well_formed_for(k, out, n)) {
        if (malformed == 0) ADD_FAILURE() << "reader " << id << ", key " << k << ": got '" << out << "'";
        ++malformed;
      }
    }
    finished.store(true, std::memory_order_release);
  }
};

TEST(DnsCacheStress, WritersAndReadersOnLcoresSeeOnlyWholeNames) {
  const std::vector<unsigned> lcores = worker_lcores();
  ASSERT_GE(lcores.size(), 3U) << "the EAL main sets up 4 lcores";
  DnsCacheConfig cfg;
  cfg.capacity = kCapacity;
  cfg.min_ttl_s = 1;
  cfg.max_ttl_s = 5;
  auto created = DnsCache::create(cfg);
  ASSERT_TRUE(created) << created.error();
  std::unique_ptr<DnsCache> cache = std::move(created.value());

  Shared sh{cache.get()};
  sh.writers_running.store(2);
  auto writers = std::make_unique<Writer[]>(2);
  auto readers = std::make_unique<Reader[]>(3);
  for (std::uint32_t i = 0; i < 2; ++i) {
    writers[i].sh = &sh;
    writers[i].id = i;
  }
  for (std::uint32_t i = 0; i < 3; ++i) {
    readers[i].sh = &sh;
    readers[i].id = i;
  }

  ASSERT_EQ(rte_eal_remote_launch(Reader::main, &readers[0], lcores[2]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Writer::main, &writers[0], lcores[0]), 0);
  ASSERT_EQ(rte_eal_remote_launch(Writer::main, &writers[1], lcores[1]), 0);
  std::thread exporter_like([&] { readers[1].run(); });  // a non-EAL thread, as exporters are
  readers[2].run();                                      // the main lcore reads too
  exporter_like.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (!(writers[0].finished.load() && writers[1].finished.load() && readers[0].finished.load()) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(writers[0].finished.load() && writers[1].finished.load() && readers[0].finished.load())
      << "stress lcores did not finish";
  for (unsigned i = 0; i < 3; ++i) rte_eal_wait_lcore(lcores[i]);

  std::uint64_t found = 0, exhausted = 0;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const Reader& r = readers[i];
    EXPECT_EQ(r.malformed, 0U) << "reader " << i << " saw torn or foreign names";
    EXPECT_EQ(r.short_returns, 0U) << "reader " << i;
    EXPECT_GE(r.lookups, kMinLookupsPerReader);
    EXPECT_EQ(r.c.hits.get() + r.c.misses.get(), r.lookups) << "reader " << i;
    EXPECT_EQ(r.c.hits.get(), r.found) << "reader " << i;
    EXPECT_LE(r.c.read_retries_exhausted.get(), r.c.misses.get());
    found += r.found;
    exhausted += r.c.read_retries_exhausted.get();
  }
  EXPECT_GT(found, 0U) << "readers never found a name: the test checked nothing";

  std::uint64_t inserts = 0, evicted = 0, expired = 0, contended = 0;
  for (std::uint32_t i = 0; i < 2; ++i) {
    const DnsCacheWriterCounters& c = writers[i].c;
    EXPECT_EQ(c.inserts.get() + c.updates.get() + c.insert_contended.get(), kInsertsPerWriter) << "writer " << i;
    EXPECT_EQ(c.names_too_long.get(), 0U);
    EXPECT_EQ(c.empty_names.get(), 0U);
    EXPECT_LE(c.evicted.get() + c.expired.get(), c.inserts.get());
    inserts += c.inserts.get();
    evicted += c.evicted.get();
    expired += c.expired.get();
    contended += c.insert_contended.get();
  }
  EXPECT_GT(evicted, 0U) << "512 keys into 64 entries must evict";
  EXPECT_GT(expired, 0U) << "TTLs of 1..5 s at 1 ms per insert must expire entries";
  std::printf("[ stress ] inserts %llu evicted %llu expired %llu contended %llu; found %llu, retries exhausted %llu\n",
              static_cast<unsigned long long>(inserts), static_cast<unsigned long long>(evicted),
              static_cast<unsigned long long>(expired), static_cast<unsigned long long>(contended),
              static_cast<unsigned long long>(found), static_cast<unsigned long long>(exhausted));

  // Quiescent: the table holds at most its capacity and only whole names.
  const std::uint64_t end_ns = sh.now_ns.load();
  EXPECT_LE(cache->live_entries(end_ns), kCapacity);
  DnsCacheReaderCounters rc;
  char out[256];
  std::uint64_t left = 0;
  for (std::uint32_t k = 0; k < kKeys; ++k) {
    const Addr cl = client_of(k), sv = server_of(k);
    const std::size_t n = cache->lookup(version_of(k), cl.data(), sv.data(), end_ns, out, sizeof out, rc);
    if (n == 0) continue;
    ++left;
    EXPECT_TRUE(well_formed_for(k, out, n)) << "key " << k << ": '" << out << "'";
  }
  EXPECT_EQ(rc.read_retries_exhausted.get(), 0U) << "no writer left: every read must succeed first time";
  // One name per key with a live entry (a key may hold several versions).
  EXPECT_GT(left, 0U);
  EXPECT_LE(left, cache->live_entries(end_ns));
}

}  // namespace
}  // namespace sf::test
