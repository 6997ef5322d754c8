// What the parser extracts from one frame: enough to key the flow and account
// for it, as offsets into the frame (no copies of payload).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sf {

enum class ParseStatus : std::uint8_t {
  Ok,         // an IP packet; ParsedPacket is filled
  NonIp,      // a well-formed frame that carries no IP (ARP, LLDP, PPPoE discovery, ...)
  Malformed,  // see MalformedReason
};

// Why a frame could not be parsed. X-macro so counters and names stay in sync.
#define SF_MALFORMED_REASONS(X)                                                        \
  X(empty_frame)         /* caplen 0, or wire length shorter than captured bytes */  \
  X(truncated_link)      /* Ethernet/SLL/SLL2/loopback header cut short */            \
  X(truncated_vlan)      /* 802.1Q/802.1ad tag cut short, or too many tags */         \
  X(truncated_mpls)      /* label stack cut short or deeper than the parser's bound */\
  X(truncated_pppoe)     /* PPPoE session header or PPP protocol cut short */         \
  X(truncated_ipv4)      /* fewer than 20 bytes, or options cut short */              \
  X(bad_ipv4_header)     /* version != 4 or IHL < 5 */                                \
  X(bad_ip_length)       /* IP total/payload length impossible for the frame */       \
  X(truncated_ipv6)      /* fewer than 40 bytes */                                    \
  X(bad_ipv6_ext)        /* extension header chain cut short or longer than bound */  \
  X(truncated_l4)        /* TCP/UDP/SCTP/ICMP header cut short */                     \
  X(bad_tcp_offset)      /* TCP data offset < 5 or beyond the segment */              \
  X(bad_udp_length)      /* UDP length < 8 or beyond the IP payload */                \
  X(bad_ipv6_header)     /* IPv6 by ethertype/PPP/MPLS but version != 6 */

enum class MalformedReason : std::uint8_t {
#define SF_X(name) name,
  SF_MALFORMED_REASONS(SF_X)
#undef SF_X
  kCount
};
inline constexpr unsigned kMalformedReasonCount = static_cast<unsigned>(MalformedReason::kCount);
std::string_view malformed_reason_name(MalformedReason r) noexcept;

namespace ipproto {
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
inline constexpr std::uint8_t kUdp = 17;
inline constexpr std::uint8_t kIcmpv6 = 58;
inline constexpr std::uint8_t kSctp = 132;
}  // namespace ipproto

// ICMP echo request/reply (ICMPv6 for proto kIcmpv6): keyed by the identifier.
inline bool is_icmp_echo(std::uint8_t proto, std::uint8_t type) noexcept {
  if (proto == ipproto::kIcmp) return type == 8 || type == 0;
  return type == 128 || type == 129;
}

namespace tcpflag {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcpflag

struct ParsedPacket {
  // Addresses in network order; IPv4 uses the first 4 bytes, the rest are zero.
  std::array<std::uint8_t, 16> src_addr{};
  std::array<std::uint8_t, 16> dst_addr{};
  // Ports for TCP/UDP/SCTP. ICMP/ICMPv6 echo request/reply: both are the
  // identifier. Other ICMP types: src_port = type, dst_port = code. Zero for
  // other protocols and for non-first fragments.
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint8_t ip_version = 0;  // 4 or 6 (of the outermost IP header)
  std::uint8_t proto = 0;       // final upper-layer protocol after IPv6 extension headers
  std::uint8_t vlan_count = 0;  // tags seen (outermost first); at most 2 recorded
  std::uint8_t tcp_flags = 0;
  std::array<std::uint16_t, 2> vlan{};  // 12-bit VLAN ids, outer then inner
  std::uint32_t ip_bytes = 0;  // IPv4 total length; IPv6 payload length + 40
  std::uint32_t tcp_seq = 0;
  std::uint32_t tcp_ack = 0;
  std::uint16_t tcp_window = 0;  // raw, unscaled
  std::uint16_t l3_offset = 0;       // start of the IP header in the frame
  std::uint16_t l4_offset = 0;       // start of the transport header (0 for non-first fragments)
  std::uint16_t payload_offset = 0;  // start of the transport payload
  std::uint16_t payload_len = 0;     // transport payload bytes per the IP header (may exceed capture)
  std::uint8_t icmp_type = 0;
  std::uint8_t icmp_code = 0;
  // Fragments: is_fragment for any fragment that is not atomic (offset 0 and no
  // more-fragments). first_fragment when offset == 0 (its L4 header is parsed).
  bool is_fragment = false;
  bool first_fragment = false;
  std::uint32_t frag_id = 0;  // IPv4 identification or IPv6 fragment identification
};

}  // namespace sf
