#include "flow/flow_key.hpp"

#include <rte_hash_crc.h>

namespace sf {

namespace {

// Compares endpoint (addr, port) tuples: negative when a < b.
int compare_endpoints(const std::array<std::uint8_t, 16>& a_addr, std::uint16_t a_port,
                      const std::array<std::uint8_t, 16>& b_addr, std::uint16_t b_port) noexcept {
  const int c = std::memcmp(a_addr.data(), b_addr.data(), a_addr.size());
  if (c != 0) return c;
  return static_cast<int>(a_port) - static_cast<int>(b_port);
}

}  // namespace

NormalizedKey normalize_flow_key(const ParsedPacket& p, bool vlan_in_key) noexcept {
  NormalizedKey n{};
  FlowKey& k = n.key;
  k.proto = p.proto;
  k.ip_version = p.ip_version;
  if (vlan_in_key && p.vlan_count > 0) {
    k.vlan_count = p.vlan_count >= 2 ? 2 : 1;
    k.vlan_outer = p.vlan[0];
    k.vlan_inner = p.vlan_count >= 2 ? p.vlan[1] : 0;
  }
  if (compare_endpoints(p.src_addr, p.src_port, p.dst_addr, p.dst_port) <= 0) {
    k.addr_lo = p.src_addr;
    k.port_lo = p.src_port;
    k.addr_hi = p.dst_addr;
    k.port_hi = p.dst_port;
    n.dir = kDirLoToHi;
  } else {
    k.addr_lo = p.dst_addr;
    k.port_lo = p.dst_port;
    k.addr_hi = p.src_addr;
    k.port_hi = p.src_port;
    n.dir = kDirHiToLo;
  }
  return n;
}

std::uint32_t flow_hash(const FlowKey& key, std::uint32_t seed) noexcept {
  return rte_hash_crc(&key, sizeof key, seed);
}

}  // namespace sf
