// The canonical, direction-free flow key and its symmetric hash.
//
// Both directions of a conversation normalize to the same key: the endpoint
// (address, port) that compares lower goes first, and a direction bit says
// whether this packet travelled lo→hi (0) or hi→lo (1). Hashing the normalized
// key makes the hash symmetric by construction (no symmetric Toeplitz needed).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "packet/parsed_packet.hpp"

namespace sf {

struct alignas(16) FlowKey {
  std::array<std::uint8_t, 16> addr_lo{};
  std::array<std::uint8_t, 16> addr_hi{};
  std::uint16_t port_lo = 0;
  std::uint16_t port_hi = 0;
  std::uint16_t vlan_outer = 0;  // 0 when untagged or when VLANs are not keyed
  std::uint16_t vlan_inner = 0;
  std::uint8_t proto = 0;
  std::uint8_t ip_version = 0;
  std::uint8_t vlan_count = 0;  // tags that went into the key (0..2)
  std::uint8_t pad_[5]{};       // zeroed: rte_hash compares all 48 bytes

  friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
    return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 48, "rte_hash has a fast compare for 48-byte keys");

// Direction of a packet relative to its normalized key.
enum : std::uint8_t { kDirLoToHi = 0, kDirHiToLo = 1 };

struct NormalizedKey {
  FlowKey key;
  std::uint8_t dir;  // kDirLoToHi or kDirHiToLo
};

NormalizedKey normalize_flow_key(const ParsedPacket& p, bool vlan_in_key) noexcept;

// Seeded symmetric hash of a normalized key (CRC32-C, the function rte_hash uses,
// so RX computes it once and workers reuse it for the bulk lookup).
std::uint32_t flow_hash(const FlowKey& key, std::uint32_t seed) noexcept;

// Worker for a hash. Mixes the hash first: rte_hash picks buckets from the low
// bits, so taking `hash % n` would leave each shard with a fraction of its buckets.
inline std::uint32_t worker_for_hash(std::uint32_t hash, std::uint32_t n_workers) noexcept {
  std::uint32_t h = hash;
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  h ^= h >> 16;
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(h) * n_workers) >> 32);
}

}  // namespace sf
