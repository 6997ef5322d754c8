// The DNS cache shared by all workers: (client, answer address) -> queried name.
//
// A DNS response is parsed on the worker that owns the DNS flow, but the name
// belongs to flows on any worker, so all workers insert into this one table and
// the exporter threads read it when a finished flow's record is written.
//
// Structure: a fixed-capacity, 8-way set-associative table, preallocated at
// create(). Each bucket has a sequence counter that is a seqlock for readers and
// a try-lock for writers:
//   - insert() takes the bucket with one CAS; if another writer holds it, the
//     insert is dropped and counted (insert_contended): the datapath never
//     spins, allocates, blocks or makes a syscall here.
//   - lookup() takes no lock: it copies the entry and re-checks the sequence,
//     retrying at most kReadAttempts times, then counts a miss
//     (read_retries_exhausted). A writer preempted inside a bucket can thus
//     cost a reader a miss, never a wait.
//   - bucket words are std::atomic<uint64_t> written with release stores and
//     read with acquire loads (plain MOVs on x86), so the seqlock is correct in
//     the C++ memory model and visible to ThreadSanitizer without fences
//     (GCC's TSan does not model atomic_thread_fence).
// Versions: the same name again for a key refreshes its newest entry's
// expiry (updates); a different name is a new entry beside the old one, and
// lookup(at) returns the newest entry seen at or before `at` that has not
// expired at `at`. So a record is named by the answer current when its flow
// started, whether the exporter reads the cache before or after a later
// answer arrives: names do not depend on thread timing.
// Replacement within a bucket for a new entry: an empty slot; else the first
// slot expired at now_ns (expired); else the slot that expires soonest
// (evicted).
//
// Why this structure: measured with tests/bench/dns_cache_bench.cpp (release
// build, `micro_bench --benchmark_filter=DnsCache`), on a VM with 2 vCPUs
// shared with other builds (load average ~2): 2 readers + 1 writer are 3
// threads on 2 CPUs, and the spread between two runs is shown. 32768 resident
// keys, 65536 entries of capacity, lookups of resident keys, writers updating
// as fast as they can. Million lookups/s, all readers together; insert: one
// thread, ns per update.
//
//   readers/writers       set-assoc seqlock   tbb::concurrent_hash_map   shared_mutex+unordered_map
//   1 reader, 0 writers       4.4 - 4.8            6.3 - 10.1                5.3 - 10.3
//   2 readers, 0 writers     10.2 - 10.5          12.1 - 15.6                5.3 - 11.6
//   1 reader, 1 writer        3.1 - 4.6            3.0 - 9.0                 0.07 - 2.5 (convoys)
//   2 readers, 1 writer       3.1 - 6.1            4.0 - 11.4                5.0 - 9.0 (writer starved:
//                                                                            0.0006 - 0.4 M inserts/s)
//   insert, ns               266 - 290            129 - 190                 156 - 264
//
// Decision: the seqlock table, although TBB's raw figures are better (about
// 1.5x on lookups and inserts, and it lost no key, where 8-way buckets at half
// load evicted 0.8% of them). What the figures do not show decides it: TBB
// allocates a node per new key on the inserting (datapath) thread, has no
// capacity bound or eviction (one would need a global LRU under its own lock),
// and its accessors wait for element locks - a writer lcore preempted on a
// shared CPU while holding one stalls every reader and writer of that key.
// shared_mutex collapses as soon as a writer runs. The seqlock table never
// allocates, never blocks either side, is bounded by construction, and its
// slowest figure (3M lookups/s with a writer at full speed) is far above the
// need: one lookup per exported flow record. Follow-up if lookups ever matter:
// the table is 2.5 KB per bucket (20 MB at 65536 entries, names stored
// inline); putting a slot's key, expiry and first name bytes in one line would
// cut the lines a lookup touches from ~4 to ~2.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/result.hpp"
#include "metrics/counter.hpp"

namespace sf {

struct DnsCacheConfig {
  std::uint32_t capacity = 65536;  // entries (rounded up to a power of two, at least one bucket of 8)
  std::uint32_t min_ttl_s = 60;    // TTLs are clamped to [min_ttl_s, max_ttl_s]
  std::uint32_t max_ttl_s = 86400;
  std::uint64_t hash_seed = 0x6a09e667f3bcc908ULL;  // bucket choice; a random seed makes collisions unplannable
};

// One block per writer thread (single writer, relaxed). Every insert() call
// ends in exactly one of: inserts, updates, insert_contended, names_too_long,
// empty_names. evicted and expired count the inserts that replaced a live or an
// expired entry.
struct alignas(64) DnsCacheWriterCounters {
  Counter inserts;           // new key written
  Counter updates;           // same key, same name as its newest entry: the expiry moved
  Counter evicted;           // of inserts: replaced the live entry expiring soonest
  Counter expired;           // of inserts: reused an entry already expired at now_ns
  Counter insert_contended;  // dropped: another writer held the bucket
  Counter names_too_long;    // refused: name longer than kMaxNameLength
  Counter empty_names;       // refused: empty name (lookup could not tell it from "none")
};
static_assert(sizeof(DnsCacheWriterCounters) == 64, "one cache line per writer");

// One block per reader thread. Every lookup() call ends in hits or misses;
// read_retries_exhausted counts the misses caused by writers changing the
// bucket on every attempt.
struct alignas(64) DnsCacheReaderCounters {
  Counter hits;
  Counter misses;
  Counter read_retries_exhausted;
};
static_assert(sizeof(DnsCacheReaderCounters) == 64, "one cache line per reader");

class DnsCache {
 public:
  static constexpr std::size_t kMaxNameLength = 255;  // longer names are refused, not truncated
  static constexpr std::uint32_t kWays = 8;           // entries per bucket
  static constexpr unsigned kReadAttempts = 4;        // seqlock attempts before a lookup gives up
  static constexpr std::uint32_t kMaxCapacity = 1U << 24;

  // Error if capacity is 0 or above kMaxCapacity, min_ttl_s > max_ttl_s, or allocation fails.
  static Result<std::unique_ptr<DnsCache>> create(const DnsCacheConfig& c);
  ~DnsCache();
  DnsCache(const DnsCache&) = delete;
  DnsCache& operator=(const DnsCache&) = delete;

  // client/server: 16 bytes each; IPv4 in the first 4 bytes (the other 12 are
  // ignored for ip_version 4), as FlowKey stores addresses. The entry expires at
  // now_ns + clamp(ttl_s) seconds. Datapath: wait-free, no allocation.
  void insert(std::uint8_t ip_version, const std::uint8_t* client, const std::uint8_t* server, std::string_view name,
              std::uint32_t ttl_s, std::uint64_t now_ns, DnsCacheWriterCounters& c) noexcept;

  // The name valid at at_ns (at_ns < expires_ns) -> copied to out, NUL-terminated
  // and truncated to cap - 1 bytes; returns the number of bytes copied (without
  // the NUL); 0 = none (also when cap < 2: nothing could be copied, a miss).
  std::size_t lookup(std::uint8_t ip_version, const std::uint8_t* client, const std::uint8_t* server,
                     std::uint64_t at_ns, char* out, std::size_t cap, DnsCacheReaderCounters& c) const noexcept;

  std::uint32_t capacity() const noexcept;

  // Entries valid at at_ns. Walks the whole table: tests and control plane only
  // (racing writers make it approximate, never unsafe).
  std::size_t live_entries(std::uint64_t at_ns) const noexcept;

  struct Bucket;  // defined in dns_cache.cpp

 private:
  DnsCache(const DnsCacheConfig& c, std::uint32_t capacity, Bucket* buckets) noexcept;

  Bucket* buckets_;
  std::uint64_t mask_;  // buckets - 1
  std::uint64_t seed_;
  std::uint64_t min_ttl_ns_;
  std::uint64_t max_ttl_ns_;
  std::uint32_t capacity_;
};

}  // namespace sf
