#include "flow/flow_key.hpp"

#include <cstring>

#include <rte_hash_crc.h>

namespace sf {

namespace {

// An address's bytes as a big-endian 128-bit number: comparing those is
// comparing the bytes in order (memcmp), without a libc call per packet.
unsigned __int128 address_value(const std::array<std::uint8_t, 16>& a) noexcept {
  std::uint64_t hi, lo;
  std::memcpy(&hi, a.data(), 8);
  std::memcpy(&lo, a.data() + 8, 8);
  return static_cast<unsigned __int128>(__builtin_bswap64(hi)) << 64 | __builtin_bswap64(lo);
}

// True when endpoint a (address, then port) orders before or equal to b.
bool endpoint_not_after(const std::array<std::uint8_t, 16>& a_addr, std::uint16_t a_port,
                        const std::array<std::uint8_t, 16>& b_addr, std::uint16_t b_port) noexcept {
  const unsigned __int128 a = address_value(a_addr), b = address_value(b_addr);
  return a != b ? a < b : a_port <= b_port;
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
  if (endpoint_not_after(p.src_addr, p.src_port, p.dst_addr, p.dst_port)) {
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
