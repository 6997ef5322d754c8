// The shared DNS cache's structure, chosen by this measurement: DnsCache (the
// set-associative seqlock table) against tbb::concurrent_hash_map and a
// std::shared_mutex + std::unordered_map, under identical workloads:
//   - kKeys resident keys (half the 65536-entry capacity), names ~20 bytes;
//   - readers look up resident keys drawn from one precomputed random stream;
//   - writers overwrite resident keys with new names as fast as they can (the
//     worst case; a real DNS answer rate is far lower);
//   - insert cost: one thread, updates of resident keys.
// The alternatives get no capacity bound or eviction (their key set is fixed),
// which only flatters them. Values are fixed-size (no heap per update).
//
// BM_DnsCache_Lookup<Impl>/readers/writers: the benchmark thread is reader 0,
// the other readers and the writers are std::threads running while it is
// timed. Counters: Mlookups_per_s = all readers together, Minserts_per_s =
// all writers, hit_ratio. On a 2-vCPU machine 2 readers + 1 writer share 2 CPUs.
#include <benchmark/benchmark.h>

#include <tbb/concurrent_hash_map.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dnscache/dns_cache.hpp"

namespace sf::bench {
namespace {

constexpr std::uint32_t kCapacity = 65536;
constexpr std::uint32_t kKeys = 32768;
constexpr std::size_t kStream = std::size_t{1} << 20;
constexpr std::uint64_t kT0 = 1700000000ULL * 1000000000ULL;
// Lookups ask as of a second after the first inserts: the newest version of each key.
constexpr std::uint64_t kLookupAfterNs = 1000000000ULL;
constexpr std::uint32_t kTtl = 3600;

struct Key {
  std::uint8_t version;
  std::array<std::uint8_t, 16> client;
  std::array<std::uint8_t, 16> server;
  friend bool operator==(const Key& a, const Key& b) noexcept {
    return a.version == b.version && a.client == b.client && a.server == b.server;
  }
};

std::size_t hash_of(const Key& k) noexcept {
  std::uint64_t w[4];
  std::memcpy(w, k.client.data(), 16);
  std::memcpy(w + 2, k.server.data(), 16);
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ k.version;
  for (std::uint64_t x : w) {
    h ^= x;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  return static_cast<std::size_t>(h);
}

struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept { return hash_of(k); }
};
struct KeyHashCompare {
  static std::size_t hash(const Key& k) { return hash_of(k); }
  static bool equal(const Key& a, const Key& b) { return a == b; }
};

struct Name {
  std::uint64_t expires_ns = 0;
  std::uint8_t len = 0;
  char text[255];
  void set(std::string_view n, std::uint64_t exp) noexcept {
    len = static_cast<std::uint8_t>(n.size());
    std::memcpy(text, n.data(), n.size());
    expires_ns = exp;
  }
  std::size_t copy_to(std::uint64_t at, char* out, std::size_t cap) const noexcept {
    if (at >= expires_ns) return 0;
    const std::size_t n = std::min<std::size_t>(len, cap - 1);
    std::memcpy(out, text, n);
    out[n] = '\0';
    return n;
  }
};

// The workload: keys (clients in 10/8, servers in 93/8), two names per key so
// writers alternate, and one shared random stream of key indices.
struct Workload {
  std::vector<Key> keys;
  std::vector<std::string> names[2];
  std::vector<std::uint32_t> stream;
  Workload() {
    std::mt19937_64 rng(7);
    keys.resize(kKeys);
    for (std::uint32_t i = 0; i < kKeys; ++i) {
      Key& k = keys[i];
      k = Key{4, {}, {}};
      const std::uint32_t c = i % 512;
      const auto s = static_cast<std::uint32_t>(rng());
      k.client = {10, 1, static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
      k.server = {93, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(s)};
      names[0].push_back("host" + std::to_string(i) + ".example.com");
      names[1].push_back("cdn" + std::to_string(i) + ".example.net");
    }
    stream.resize(kStream);
    for (auto& s : stream) s = static_cast<std::uint32_t>(rng() % kKeys);
  }
};

const Workload& workload() {
  static const Workload w;
  return w;
}

class SeqlockImpl {
 public:
  static constexpr const char* kName = "seqlock";
  SeqlockImpl() {
    DnsCacheConfig c;
    c.capacity = kCapacity;
    c.min_ttl_s = 1;
    cache_ = std::move(DnsCache::create(c).value());
  }
  void insert(const Key& k, std::string_view name, std::uint64_t now, DnsCacheWriterCounters& w) noexcept {
    cache_->insert(k.version, k.client.data(), k.server.data(), name, kTtl, now, w);
  }
  std::size_t lookup(const Key& k, std::uint64_t at, char* out, std::size_t cap, DnsCacheReaderCounters& r) const noexcept {
    return cache_->lookup(k.version, k.client.data(), k.server.data(), at, out, cap, r);
  }

 private:
  std::unique_ptr<DnsCache> cache_;
};

class TbbImpl {
 public:
  static constexpr const char* kName = "tbb_chm";
  void insert(const Key& k, std::string_view name, std::uint64_t now, DnsCacheWriterCounters& w) {
    Map::accessor a;  // write lock on the element while the name is copied
    (map_.insert(a, k) ? w.inserts : w.updates).inc();
    a->second.set(name, now + kTtl * 1000000000ULL);
  }
  std::size_t lookup(const Key& k, std::uint64_t at, char* out, std::size_t cap, DnsCacheReaderCounters& r) const {
    Map::const_accessor a;  // read lock on the element: waits for a writer holding it
    const std::size_t n = map_.find(a, k) ? a->second.copy_to(at, out, cap) : 0;
    (n != 0 ? r.hits : r.misses).inc();
    return n;
  }

 private:
  using Map = tbb::concurrent_hash_map<Key, Name, KeyHashCompare>;
  Map map_{kCapacity};
};

class SharedMutexImpl {
 public:
  static constexpr const char* kName = "shared_mutex";
  SharedMutexImpl() { map_.reserve(kCapacity); }
  void insert(const Key& k, std::string_view name, std::uint64_t now, DnsCacheWriterCounters& w) {
    std::unique_lock lock(mu_);
    auto [it, fresh] = map_.try_emplace(k);
    (fresh ? w.inserts : w.updates).inc();
    it->second.set(name, now + kTtl * 1000000000ULL);
  }
  std::size_t lookup(const Key& k, std::uint64_t at, char* out, std::size_t cap, DnsCacheReaderCounters& r) const {
    std::shared_lock lock(mu_);
    const auto it = map_.find(k);
    const std::size_t n = it != map_.end() ? it->second.copy_to(at, out, cap) : 0;
    (n != 0 ? r.hits : r.misses).inc();
    return n;
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<Key, Name, KeyHash> map_;
};

template <typename Impl>
void populate(Impl& impl) {
  const Workload& wl = workload();
  DnsCacheWriterCounters w;
  for (std::uint32_t i = 0; i < kKeys; ++i) impl.insert(wl.keys[i], wl.names[0][i], kT0, w);
}

template <typename Impl>
std::uint64_t run_writer(Impl& impl, std::uint32_t id, const std::atomic<bool>& stop, DnsCacheWriterCounters& w) {
  const Workload& wl = workload();
  std::size_t pos = (id + 1) * 7919;
  std::uint64_t n = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const std::uint32_t k = wl.stream[pos++ & (kStream - 1)];
    impl.insert(wl.keys[k], wl.names[n & 1][k], kT0 + n, w);
    ++n;
  }
  return n;
}

template <typename Impl>
std::uint64_t run_reader_bg(const Impl& impl, std::uint32_t id, const std::atomic<bool>& stop,
                            DnsCacheReaderCounters& r) {
  const Workload& wl = workload();
  std::size_t pos = (id + 1) * 104729;
  std::uint64_t n = 0;
  char out[256];
  while (!stop.load(std::memory_order_relaxed)) {
    benchmark::DoNotOptimize(impl.lookup(wl.keys[wl.stream[pos++ & (kStream - 1)]], kT0 + kLookupAfterNs, out, sizeof out, r));
    ++n;
  }
  return n;
}

template <typename Impl>
void BM_DnsCache_Lookup(benchmark::State& state) {
  const auto readers = static_cast<std::uint32_t>(state.range(0));
  const auto writers = static_cast<std::uint32_t>(state.range(1));
  auto impl = std::make_unique<Impl>();
  populate(*impl);
  const Workload& wl = workload();

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::vector<std::uint64_t> done(readers + writers, 0);
  std::vector<DnsCacheReaderCounters> rc(readers);
  std::vector<DnsCacheWriterCounters> wc(writers);
  for (std::uint32_t i = 1; i < readers; ++i) {
    threads.emplace_back([&, i] { done[i] = run_reader_bg(*impl, i, stop, rc[i]); });
  }
  for (std::uint32_t i = 0; i < writers; ++i) {
    threads.emplace_back([&, i] { done[readers + i] = run_writer(*impl, i, stop, wc[i]); });
  }

  char out[256];
  std::size_t pos = 0;
  std::uint64_t n0 = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(impl->lookup(wl.keys[wl.stream[pos++ & (kStream - 1)]], kT0 + kLookupAfterNs, out, sizeof out, rc[0]));
    ++n0;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop.store(true);
  for (auto& t : threads) t.join();

  std::uint64_t lookups = n0, inserts = 0, hits = 0, contended = 0, exhausted = 0;
  for (std::uint32_t i = 1; i < readers; ++i) lookups += done[i];
  for (std::uint32_t i = 0; i < writers; ++i) {
    inserts += done[readers + i];
    contended += wc[i].insert_contended.get();
  }
  for (const auto& r : rc) {
    hits += r.hits.get();
    exhausted += r.read_retries_exhausted.get();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n0));
  state.counters["Mlookups_per_s"] = static_cast<double>(lookups) / secs / 1e6;
  state.counters["Minserts_per_s"] = static_cast<double>(inserts) / secs / 1e6;
  state.counters["hit_ratio"] = lookups != 0 ? static_cast<double>(hits) / static_cast<double>(lookups) : 0;
  state.counters["retries_exhausted"] = static_cast<double>(exhausted);
  state.counters["contended"] = static_cast<double>(contended);
  state.SetLabel(Impl::kName);
}

template <typename Impl>
void BM_DnsCache_Insert(benchmark::State& state) {
  auto impl = std::make_unique<Impl>();
  populate(*impl);
  const Workload& wl = workload();
  DnsCacheWriterCounters w;
  std::size_t pos = 0;
  std::uint64_t n = 0;
  for (auto _ : state) {
    const std::uint32_t k = wl.stream[pos++ & (kStream - 1)];
    impl->insert(wl.keys[k], wl.names[n & 1][k], kT0 + n, w);
    ++n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  state.SetLabel(Impl::kName);
}

void lookup_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"readers", "writers"});
  for (int writers : {0, 1}) {
    for (int readers : {1, 2}) b->Args({readers, writers});
  }
  b->UseRealTime()->MinTime(0.5);
}

BENCHMARK_TEMPLATE(BM_DnsCache_Lookup, SeqlockImpl)->Apply(lookup_args);
BENCHMARK_TEMPLATE(BM_DnsCache_Lookup, TbbImpl)->Apply(lookup_args);
BENCHMARK_TEMPLATE(BM_DnsCache_Lookup, SharedMutexImpl)->Apply(lookup_args);
BENCHMARK_TEMPLATE(BM_DnsCache_Insert, SeqlockImpl);
BENCHMARK_TEMPLATE(BM_DnsCache_Insert, TbbImpl);
BENCHMARK_TEMPLATE(BM_DnsCache_Insert, SharedMutexImpl);

}  // namespace
}  // namespace sf::bench
