#include "flow/flow_table.hpp"

#include <cerrno>
#include <new>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

namespace sf {

Result<FlowTable*> FlowTable::create(const std::string& name, std::uint32_t capacity, std::uint32_t seed,
                                     int socket_id) {
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity;
  params.key_len = sizeof(FlowKey);
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = seed;
  params.socket_id = socket_id;
  // The extendable bucket table guarantees room for exactly `capacity` keys,
  // so "table full" means full, not an unlucky cuckoo path.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&params);
  if (h == nullptr) {
    return make_error("flow table " + name + ": rte_hash_create(" + std::to_string(capacity) +
                      " entries) failed: " + rte_strerror(rte_errno) +
                      " (raise eal.memory_mb or lower flow_table.capacity_per_worker)");
  }
  auto* records = static_cast<FlowRecord*>(
      rte_zmalloc_socket(name.c_str(), sizeof(FlowRecord) * static_cast<std::size_t>(capacity),
                         alignof(FlowRecord), socket_id));
  if (records == nullptr) {
    rte_hash_free(h);
    return make_error("flow table " + name + ": cannot allocate " + std::to_string(capacity) +
                      " flow records (raise eal.memory_mb or lower flow_table.capacity_per_worker)");
  }
  // Zeroed, like the records, though a flow's first TCP packet writes its
  // TcpConn before anything reads it: rte_zmalloc touches every page now, at
  // start-up, instead of one page fault per 10 new connections in the run.
  auto* tcp = static_cast<TcpConn*>(rte_zmalloc_socket((name + "_tcp").c_str(),
                                                      sizeof(TcpConn) * static_cast<std::size_t>(capacity),
                                                      alignof(TcpConn), socket_id));
  if (tcp == nullptr) {
    rte_free(records);
    rte_hash_free(h);
    return make_error("flow table " + name + ": cannot allocate " + std::to_string(capacity) +
                      " TCP connection states (raise eal.memory_mb or lower flow_table.capacity_per_worker)");
  }
  return new FlowTable(h, records, tcp, capacity, seed);
}

FlowTable::~FlowTable() {
  rte_hash_free(hash_);
  rte_free(records_);
  rte_free(tcp_);
}

void FlowTable::lookup_bulk(const FlowKey* const* keys, const std::uint32_t* hashes, std::uint32_t n,
                            std::int32_t* positions) const noexcept {
  // rte_hash takes non-const signature arrays; it does not write them.
  rte_hash_lookup_with_hash_bulk(hash_, reinterpret_cast<const void**>(const_cast<const FlowKey**>(keys)),
                                 const_cast<hash_sig_t*>(hashes), n, positions);
}

std::int32_t FlowTable::lookup(const FlowKey& key, std::uint32_t hash) const noexcept {
  return rte_hash_lookup_with_hash(hash_, &key, hash);
}

std::int32_t FlowTable::insert(const FlowKey& key, std::uint32_t hash) noexcept {
  if (rte_hash_lookup_with_hash(hash_, &key, hash) >= 0) return -EEXIST;
  return insert_absent(key, hash);
}

std::int32_t FlowTable::insert_absent(const FlowKey& key, std::uint32_t hash) noexcept {
  const std::int32_t pos = rte_hash_add_key_with_hash(hash_, &key, hash);
  if (pos < 0) return pos;
  if (static_cast<std::uint32_t>(pos) >= capacity_) {
    // Never expected without multi-writer caches; refuse rather than overrun.
    rte_hash_del_key_with_hash(hash_, &key, hash);
    return -ENOSPC;
  }
  ++size_;
  return pos;
}

void FlowTable::remove(std::uint32_t pos, std::uint32_t hash) noexcept {
  FlowRecord& r = records_[pos];
  rte_hash_del_key_with_hash(hash_, &r.key, hash);
  r.in_use = 0;
  --size_;
}

}  // namespace sf
