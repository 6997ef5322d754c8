#include "flow/fragment_table.hpp"

#include <bit>
#include <cstring>

#include <rte_hash_crc.h>

namespace sf {

FragmentTable::FragmentTable(std::uint32_t size, std::uint64_t timeout_ns)
    : entries_(std::bit_ceil(size < 2 ? 2U : size)),
      mask_(static_cast<std::uint32_t>(entries_.size() - 1)),
      timeout_ns_(timeout_ns) {}

std::uint32_t FragmentTable::slot_of(const ParsedPacket& p) const noexcept {
  std::uint32_t h = rte_hash_crc(p.src_addr.data(), 16, p.frag_id);
  h = rte_hash_crc(p.dst_addr.data(), 16, h ^ p.proto);
  return h & mask_;
}

bool FragmentTable::matches(const Entry& e, const ParsedPacket& p) noexcept {
  return e.ip_version == p.ip_version && e.frag_id == p.frag_id && e.proto == p.proto &&
         e.src == p.src_addr && e.dst == p.dst_addr;
}

void FragmentTable::remember(const ParsedPacket& p, const NormalizedKey& nk, std::uint32_t hash,
                             std::uint64_t now_ns) noexcept {
  Entry& e = entries_[slot_of(p)];
  if (e.ip_version != 0 && !matches(e, p) && live(e, now_ns)) ++replaced_;
  e.src = p.src_addr;
  e.dst = p.dst_addr;
  e.frag_id = p.frag_id;
  e.proto = p.proto;
  e.ip_version = p.ip_version;
  e.icmp_type = p.icmp_type;
  e.hash = hash;
  e.seen_ns = now_ns;
  e.key = nk;
}

FragmentTable::Hit FragmentTable::lookup(const ParsedPacket& p, std::uint64_t now_ns) const noexcept {
  const Entry& e = entries_[slot_of(p)];
  if (e.ip_version == 0 || !matches(e, p)) return {nullptr, 0, 0};
  if (!live(e, now_ns)) return {nullptr, 0, 0};
  return {&e.key, e.hash, e.icmp_type};
}

}  // namespace sf
