// Layer model and wire encoding behind PacketBuilder (see packet_builder.hpp).
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sf::test {

using Bytes = std::vector<std::byte>;
using IpAddr = std::array<std::uint8_t, 16>;  // same layout as ParsedPacket addresses

// "10.0.0.1" -> 4 bytes then zeros; "2001:db8::1" -> 16 bytes.
inline IpAddr ip_addr(const std::string& text) {
  IpAddr a{};
  const int af = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(af, text.c_str(), a.data()) != 1) {
    throw std::invalid_argument("bad address " + text);
  }
  return a;
}

enum class LayerKind : std::uint8_t {
  Eth, Sll, Sll2, Null, Loop,      // link layers
  Vlan, Mpls, Pppoe, PppoeDisc,    // between link and IP
  Ipv4, Ipv6,                      // network
  Hop, Routing, Dest, Frag6, Ah,   // IPv6 extension headers
  Tcp, Udp, Sctp, Icmp, Icmpv6,    // transport
  Data,                            // raw bytes (payload or anything)
};

struct LayerSpan {
  LayerKind kind;
  std::size_t begin;
  std::size_t end;  // exclusive
};

struct Layer {
  LayerKind kind;
  IpAddr src{}, dst{};
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t flags = 0;  // TCP flags
  std::uint32_t seq = 0, ack = 0;
  std::uint32_t id = 0;  // VLAN id, MPLS label, IPv4/IPv6 frag id, ICMP identifier, PPPoE session
  std::uint16_t tpid = 0x8100;
  std::uint8_t pcp = 0;
  std::uint8_t ttl = 64;
  std::uint16_t frag_offset = 0;  // 8-byte units
  bool more_fragments = false;
  bool dont_fragment = false;
  std::uint8_t units = 0;  // IPv6 ext header length field
  std::uint8_t icmp_type = 0, icmp_code = 0;
  std::uint16_t icmp_seq = 0;
  bool big_endian = false;  // Null link: writer's byte order
  Bytes data;               // IPv4/TCP options, Data bytes
  std::optional<std::uint32_t> type_override;    // ethertype/proto/next header/family/PPP proto
  std::optional<std::uint32_t> length_override;  // total/payload/UDP/PPPoE length
  std::optional<std::uint8_t> hlen_override;     // IPv4 IHL, TCP data offset (4-byte units)
  std::optional<std::uint8_t> version_override;  // IP version nibble
  std::optional<bool> bos_override;              // MPLS bottom of stack
};

namespace detail {

inline void put8(Bytes& b, std::uint32_t v) { b.push_back(static_cast<std::byte>(v & 0xFF)); }
inline void put16(Bytes& b, std::uint32_t v) {
  put8(b, v >> 8);
  put8(b, v);
}
inline void put32(Bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v);
}
inline void put_zeros(Bytes& b, std::size_t n) { b.insert(b.end(), n, std::byte{0}); }
inline void put_addr(Bytes& b, const IpAddr& a, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) put8(b, a[i]);
}
inline void put_mac(Bytes& b, std::uint8_t last_octet) {
  const std::uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, last_octet};
  for (std::uint8_t o : mac) put8(b, o);
}

inline std::uint16_t ethertype_for(const Layer* next) {
  if (next == nullptr) return 0x88B5;  // IEEE local experimental
  switch (next->kind) {
    case LayerKind::Vlan: return next->tpid;
    case LayerKind::Mpls: return 0x8847;
    case LayerKind::Pppoe: return 0x8864;
    case LayerKind::PppoeDisc: return 0x8863;
    case LayerKind::Ipv4: return 0x0800;
    case LayerKind::Ipv6: return 0x86DD;
    default: return 0x88B5;
  }
}
inline std::uint8_t proto_for(const Layer* next, bool v6) {
  if (next == nullptr) return v6 ? 59 : 253;  // no next header / experimental
  switch (next->kind) {
    case LayerKind::Tcp: return 6;
    case LayerKind::Udp: return 17;
    case LayerKind::Sctp: return 132;
    case LayerKind::Icmp: return 1;
    case LayerKind::Icmpv6: return 58;
    case LayerKind::Ipv4: return 4;
    case LayerKind::Ipv6: return 41;
    case LayerKind::Hop: return 0;
    case LayerKind::Routing: return 43;
    case LayerKind::Frag6: return 44;
    case LayerKind::Ah: return 51;
    case LayerKind::Dest: return 60;
    default: return 253;
  }
}
inline std::uint32_t family_for(const Layer* next) {
  if (next != nullptr && next->kind == LayerKind::Ipv4) return 2;
  if (next != nullptr && next->kind == LayerKind::Ipv6) return 30;
  return 0xFFFF;
}

inline Bytes emit(const Layer& l, const Layer* next, std::size_t inner) {
  Bytes b;
  const auto type_or = [&](std::uint32_t derived) { return l.type_override.value_or(derived); };
  const auto len_or = [&](std::size_t derived) {
    return l.length_override.value_or(static_cast<std::uint32_t>(derived));
  };
  switch (l.kind) {
    case LayerKind::Eth:
      put_mac(b, 2);
      put_mac(b, 1);
      put16(b, type_or(ethertype_for(next)));
      break;
    case LayerKind::Sll:
      put16(b, 0);  // packet type: to us
      put16(b, 1);  // ARPHRD_ETHER
      put16(b, 6);
      put_mac(b, 1);
      put_zeros(b, 2);
      put16(b, type_or(ethertype_for(next)));
      break;
    case LayerKind::Sll2:
      put16(b, type_or(ethertype_for(next)));
      put16(b, 0);  // reserved
      put32(b, 1);  // interface index
      put16(b, 1);  // ARPHRD_ETHER
      put8(b, 0);   // packet type
      put8(b, 6);
      put_mac(b, 1);
      put_zeros(b, 2);
      break;
    case LayerKind::Null: {
      const std::uint32_t fam = type_or(family_for(next));
      if (l.big_endian) {
        put32(b, fam);
      } else {
        for (int i = 0; i < 4; ++i) put8(b, fam >> (8 * i));
      }
      break;
    }
    case LayerKind::Loop:
      put32(b, type_or(family_for(next)));
      break;
    case LayerKind::Vlan:
      put16(b, (std::uint32_t{l.pcp} << 13) | (l.id & 0x0FFF));
      put16(b, type_or(ethertype_for(next)));
      break;
    case LayerKind::Mpls: {
      const bool bos = l.bos_override.value_or(next == nullptr || next->kind != LayerKind::Mpls);
      put32(b, (l.id << 12) | (bos ? 0x100u : 0u) | 64u);
      break;
    }
    case LayerKind::Pppoe: {
      put8(b, 0x11);  // version 1, type 1
      put8(b, 0);     // code: session data
      put16(b, l.id);
      put16(b, len_or(inner + 2));
      std::uint16_t ppp = 0xC021;  // LCP
      if (next != nullptr && next->kind == LayerKind::Ipv4) ppp = 0x0021;
      if (next != nullptr && next->kind == LayerKind::Ipv6) ppp = 0x0057;
      put16(b, type_or(ppp));
      break;
    }
    case LayerKind::PppoeDisc:
      put8(b, 0x11);
      put8(b, 0x09);  // PADI
      put16(b, 0);
      put16(b, static_cast<std::uint32_t>(inner));
      break;
    case LayerKind::Ipv4: {
      const std::size_t hlen = 20 + l.data.size();
      put8(b, (std::uint32_t{l.version_override.value_or(4)} << 4) |
                  (l.hlen_override.value_or(static_cast<std::uint8_t>(hlen / 4)) & 0x0F));
      put8(b, 0);
      put16(b, len_or(hlen + inner));
      put16(b, l.id);
      put16(b, (l.dont_fragment ? 0x4000u : 0u) | (l.more_fragments ? 0x2000u : 0u) |
                   (l.frag_offset & 0x1FFFu));
      put8(b, l.ttl);
      put8(b, type_or(proto_for(next, false)));
      put16(b, 0);  // checksum, filled below
      put_addr(b, l.src, 4);
      put_addr(b, l.dst, 4);
      b.insert(b.end(), l.data.begin(), l.data.end());
      std::uint32_t sum = 0;
      for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
        sum += (std::to_integer<std::uint32_t>(b[i]) << 8) |
               std::to_integer<std::uint32_t>(b[i + 1]);
      }
      while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
      b[10] = static_cast<std::byte>((~sum >> 8) & 0xFF);
      b[11] = static_cast<std::byte>(~sum & 0xFF);
      break;
    }
    case LayerKind::Ipv6:
      put32(b, std::uint32_t{l.version_override.value_or(6)} << 28);
      put16(b, len_or(inner));
      put8(b, type_or(proto_for(next, true)));
      put8(b, l.ttl);
      put_addr(b, l.src, 16);
      put_addr(b, l.dst, 16);
      break;
    case LayerKind::Hop:
    case LayerKind::Dest:
    case LayerKind::Routing: {
      put8(b, type_or(proto_for(next, true)));
      put8(b, l.units);
      const std::size_t rest = (std::size_t{l.units} + 1) * 8 - 2;
      if (l.kind == LayerKind::Routing) {
        put8(b, 0);  // routing type
        put8(b, 0);  // segments left
        put_zeros(b, rest - 2);
      } else {
        put8(b, 1);  // PadN option covering the rest
        put8(b, static_cast<std::uint32_t>(rest - 2));
        put_zeros(b, rest - 2);
      }
      break;
    }
    case LayerKind::Frag6:
      put8(b, type_or(proto_for(next, true)));
      put8(b, 0);
      put16(b, (std::uint32_t{l.frag_offset} << 3) | (l.more_fragments ? 1u : 0u));
      put32(b, l.id);
      break;
    case LayerKind::Ah:
      put8(b, type_or(proto_for(next, true)));
      put8(b, l.units);
      put16(b, 0);
      put32(b, 0x1000);  // SPI
      put32(b, 1);       // sequence
      b.resize((std::size_t{l.units} + 2) * 4);  // ICV zeros (or cut, for units < 1)
      break;
    case LayerKind::Tcp: {
      const std::size_t hlen = 20 + l.data.size();
      put16(b, l.sport);
      put16(b, l.dport);
      put32(b, l.seq);
      put32(b, l.ack);
      put8(b, std::uint32_t{l.hlen_override.value_or(static_cast<std::uint8_t>(hlen / 4))} << 4);
      put8(b, l.flags);
      put16(b, 65535);  // window
      put32(b, 0);      // checksum, urgent pointer
      b.insert(b.end(), l.data.begin(), l.data.end());
      break;
    }
    case LayerKind::Udp:
      put16(b, l.sport);
      put16(b, l.dport);
      put16(b, len_or(8 + inner));
      put16(b, 0);  // no checksum
      break;
    case LayerKind::Sctp:
      put16(b, l.sport);
      put16(b, l.dport);
      put32(b, 0x01020304);  // verification tag
      put32(b, 0);           // checksum
      break;
    case LayerKind::Icmp:
    case LayerKind::Icmpv6:
      put8(b, l.icmp_type);
      put8(b, l.icmp_code);
      put16(b, 0);
      put16(b, l.id);  // identifier (echo) / unused
      put16(b, l.icmp_seq);
      break;
    case LayerKind::Data:
      b = l.data;
      break;
  }
  return b;
}

}  // namespace detail
}  // namespace sf::test
