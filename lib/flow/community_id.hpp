// Community ID v1 (github.com/corelight/community-id-spec): a flow's id as
// "1:" + base64(SHA-1(seed . addr . addr . proto . 0 . port . port)), with the
// smaller endpoint first, so Zeek, Suricata, Wireshark and shardflow name the
// same flow with the same string and their records can be joined on it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "flow/flow_key.hpp"

namespace sf {

// "1:" and the 28 base64 characters of a 20-byte digest.
inline constexpr std::size_t kCommunityIdLen = 30;
using CommunityIdText = std::array<char, kCommunityIdLen + 1>;  // NUL-terminated

// One packet's tuple, in the form the spec's community_id_v1() takes it.
struct CommunityIdTuple {
  std::array<std::uint8_t, 16> src_addr{};  // network order; IPv4 in the first 4 bytes
  std::array<std::uint8_t, 16> dst_addr{};
  std::uint16_t src_port = 0;  // TCP/UDP/SCTP source port; ICMP/ICMPv6: the type
  std::uint16_t dst_port = 0;  // TCP/UDP/SCTP destination port; ICMP/ICMPv6: the code
  std::uint8_t proto = 0;
  std::uint8_t ip_version = 4;  // 4 or 6: hashes 4 or 16 address bytes
};

// The spec's id of one packet, with its ICMP rules: a request/reply type's
// counterpart type stands in for the code (so both directions match), and any
// other ICMP type is one-way (hashed as sent, never reordered). Protocols other
// than TCP/UDP/SCTP/ICMP/ICMPv6 hash without ports.
void community_id(const CommunityIdTuple& t, std::uint16_t seed, CommunityIdText& out) noexcept;

// The tuple of a flow's first packet, rebuilt from its key: the initiator is
// the source. ICMP: the key holds the type and code of non-echo messages
// (initiator's port = type, the other = code) but only the identifier of echo
// request/reply, so first_icmp_type (the type of the flow's first packet)
// tells an echo flow apart and says whether the initiator sent the request or
// the reply. Other protocols ignore first_icmp_type.
CommunityIdTuple first_packet_tuple(const FlowKey& key, std::uint8_t initiator_dir,
                                    std::uint8_t first_icmp_type) noexcept;

}  // namespace sf
