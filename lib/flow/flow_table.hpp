// One worker's shard of the flow table: an rte_hash of keys whose positions
// index a preallocated array of FlowRecords. Single writer, single reader (the
// owning worker), so no locks and no RW-concurrency flags.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "flow/flow_key.hpp"
#include "flow/flow_record.hpp"
#include "tcp/stream_state.hpp"

struct rte_hash;

namespace sf {

class FlowTable {
 public:
  static constexpr std::uint32_t kLookupBulkMax = 64;  // RTE_HASH_LOOKUP_BULK_MAX

  // capacity flows; name must be unique in the process (rte_hash names are global).
  static Result<FlowTable*> create(const std::string& name, std::uint32_t capacity, std::uint32_t seed,
                                   int socket_id);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // positions[i] = record index, or negative when absent. n <= kLookupBulkMax.
  void lookup_bulk(const FlowKey* const* keys, const std::uint32_t* hashes, std::uint32_t n,
                   std::int32_t* positions) const noexcept;
  std::int32_t lookup(const FlowKey& key, std::uint32_t hash) const noexcept;

  // Insert-if-absent: the position of a new key; -EEXIST if it is present (its
  // record is untouched, unlike rte_hash_add_key_data which overwrites);
  // -ENOSPC when full.
  std::int32_t insert(const FlowKey& key, std::uint32_t hash) noexcept;
  // insert() for a key the caller just looked up and did not find (no
  // change since): skips the duplicate check.
  std::int32_t insert_absent(const FlowKey& key, std::uint32_t hash) noexcept;
  // Removes the record at pos; hash is flow_hash of its key.
  void remove(std::uint32_t pos, std::uint32_t hash) noexcept;
  void remove(std::uint32_t pos) noexcept { remove(pos, flow_hash(records_[pos].key, seed_)); }

  FlowRecord& record(std::uint32_t pos) noexcept { return records_[pos]; }
  // The TCP connection state of the flow at pos (meaningful for TCP flows only).
  TcpConn& tcp(std::uint32_t pos) noexcept { return tcp_[pos]; }
  const TcpConn& tcp(std::uint32_t pos) const noexcept { return tcp_[pos]; }
  // The flow's two reassembly streams, by sender direction (TCP flows only).
  StreamState* streams(std::uint32_t pos) noexcept { return tcp_[pos].streams; }
  const FlowRecord& record(std::uint32_t pos) const noexcept { return records_[pos]; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint32_t size() const noexcept { return size_; }
  std::uint32_t seed() const noexcept { return seed_; }

 private:
  FlowTable(rte_hash* h, FlowRecord* records, TcpConn* tcp, std::uint32_t capacity, std::uint32_t seed)
      : hash_(h), records_(records), tcp_(tcp), capacity_(capacity), seed_(seed) {}

  rte_hash* hash_;
  FlowRecord* records_;
  TcpConn* tcp_;  // parallel to records_: a packet of a UDP flow never touches it
  std::uint32_t capacity_;
  std::uint32_t seed_;
  std::uint32_t size_ = 0;
};

}  // namespace sf
