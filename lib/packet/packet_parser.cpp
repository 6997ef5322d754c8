#include "packet/packet_parser.hpp"

#include <algorithm>
#include <cstring>

#include "common/byte_order.hpp"
#include "common/compiler.hpp"

namespace sf {

std::string_view malformed_reason_name(MalformedReason r) noexcept {
  switch (r) {
#define SF_X(name)            \
  case MalformedReason::name: \
    return #name;
    SF_MALFORMED_REASONS(SF_X)
#undef SF_X
    case MalformedReason::kCount:
      break;
  }
  return "unknown";
}

namespace {

// Offsets in ParsedPacket are 16-bit: bytes past this point are treated as not
// captured, so any header reaching beyond it reads as truncated.
constexpr std::size_t kMaxOffset = 65535;
constexpr unsigned kMaxVlanTags = 8;
constexpr unsigned kMaxMplsLabels = 16;
constexpr unsigned kMaxIpv6ExtHeaders = 8;

namespace ethertype {
constexpr std::uint16_t kIpv4 = 0x0800;
constexpr std::uint16_t kIpv6 = 0x86DD;
constexpr std::uint16_t kVlan = 0x8100;
constexpr std::uint16_t kQinQ = 0x88A8;
constexpr std::uint16_t kQinQOld = 0x9100;
constexpr std::uint16_t kMplsUc = 0x8847;
constexpr std::uint16_t kMplsMc = 0x8848;
constexpr std::uint16_t kPppoeSession = 0x8864;
constexpr std::uint16_t kMinEthertype = 0x0600;  // below: 802.3 length field
}  // namespace ethertype

constexpr std::uint16_t kPppIpv4 = 0x0021;
constexpr std::uint16_t kPppIpv6 = 0x0057;

namespace ip6ext {
constexpr std::uint8_t kHopByHop = 0;
constexpr std::uint8_t kRouting = 43;
constexpr std::uint8_t kFragment = 44;
constexpr std::uint8_t kAuth = 51;
constexpr std::uint8_t kDestOpts = 60;
}  // namespace ip6ext

struct Frame {
  const std::byte* data;
  std::size_t cap;     // usable captured bytes (<= kMaxOffset)
  std::uint32_t wire;  // length on the wire (>= cap)

  bool has(std::size_t off, std::size_t n) const noexcept { return off <= cap && n <= cap - off; }
  std::uint8_t u8(std::size_t off) const noexcept { return load_u8(data + off); }
  std::uint16_t be16(std::size_t off) const noexcept { return load_be16(data + off); }
  std::uint32_t be32(std::size_t off) const noexcept { return load_be32(data + off); }
};

constexpr ParseResult ok() noexcept { return {ParseStatus::Ok, MalformedReason::empty_frame}; }
constexpr ParseResult non_ip() noexcept {
  return {ParseStatus::NonIp, MalformedReason::empty_frame};
}
constexpr ParseResult bad(MalformedReason r) noexcept { return {ParseStatus::Malformed, r}; }

// off: transport header start; len: transport bytes per the IP header.
ParseResult parse_l4(const Frame& f, std::uint8_t proto, std::size_t off, std::size_t len,
                     bool fragment, ParsedPacket& out) noexcept {
  std::size_t hdr = 0;
  switch (proto) {
    case ipproto::kTcp: {
      if (!f.has(off, 20)) return bad(MalformedReason::truncated_l4);
      const unsigned doff = f.u8(off + 12) >> 4;
      hdr = std::size_t{doff} * 4;
      if (doff < 5 || hdr > len) return bad(MalformedReason::bad_tcp_offset);
      if (!f.has(off, hdr)) return bad(MalformedReason::truncated_l4);
      out.src_port = f.be16(off);
      out.dst_port = f.be16(off + 2);
      out.tcp_seq = f.be32(off + 4);
      out.tcp_ack = f.be32(off + 8);
      out.tcp_flags = f.u8(off + 13);
      out.tcp_window = f.be16(off + 14);
      break;
    }
    case ipproto::kUdp: {
      if (!f.has(off, 8)) return bad(MalformedReason::truncated_l4);
      const std::uint16_t ulen = f.be16(off + 4);
      // A first fragment's UDP length covers the whole datagram, not this fragment.
      if (len < 8 || ulen < 8 || (!fragment && ulen > len)) {
        return bad(MalformedReason::bad_udp_length);
      }
      hdr = 8;
      out.src_port = f.be16(off);
      out.dst_port = f.be16(off + 2);
      break;
    }
    case ipproto::kSctp:
      hdr = 12;
      if (!f.has(off, hdr) || len < hdr) return bad(MalformedReason::truncated_l4);
      out.src_port = f.be16(off);
      out.dst_port = f.be16(off + 2);
      break;
    case ipproto::kIcmp:
    case ipproto::kIcmpv6: {
      if (!f.has(off, 4) || len < 4) return bad(MalformedReason::truncated_l4);
      const std::uint8_t type = f.u8(off);
      out.icmp_type = type;
      out.icmp_code = f.u8(off + 1);
      if (is_icmp_echo(proto, type)) {
        hdr = 8;
        if (!f.has(off, hdr) || len < hdr) return bad(MalformedReason::truncated_l4);
        out.src_port = out.dst_port = f.be16(off + 4);
      } else {
        hdr = 4;
        out.src_port = type;
        out.dst_port = out.icmp_code;
      }
      break;
    }
    default:
      break;  // no ports
  }
  out.l4_offset = static_cast<std::uint16_t>(off);
  out.payload_offset = static_cast<std::uint16_t>(off + hdr);
  out.payload_len = static_cast<std::uint16_t>(len - hdr);
  return ok();
}

ParseResult parse_ipv4(const Frame& f, std::size_t off, ParsedPacket& out) noexcept {
  if (!f.has(off, 20)) return bad(MalformedReason::truncated_ipv4);
  const std::uint8_t vihl = f.u8(off);
  const std::size_t hlen = std::size_t{vihl & 0x0Fu} * 4;
  if ((vihl >> 4) != 4 || hlen < 20) return bad(MalformedReason::bad_ipv4_header);
  if (!f.has(off, hlen)) return bad(MalformedReason::truncated_ipv4);
  const std::size_t total = f.be16(off + 2);
  if (total < hlen || total > f.wire - off) return bad(MalformedReason::bad_ip_length);

  out.ip_version = 4;
  out.l3_offset = static_cast<std::uint16_t>(off);
  out.ip_bytes = static_cast<std::uint32_t>(total);
  out.proto = f.u8(off + 9);
  out.frag_id = f.be16(off + 4);
  std::memcpy(out.src_addr.data(), f.data + off + 12, 4);
  std::memcpy(out.dst_addr.data(), f.data + off + 16, 4);

  const std::uint16_t frag = f.be16(off + 6);
  const bool more = (frag & 0x2000) != 0;
  const std::uint16_t frag_off = frag & 0x1FFF;
  if (more || frag_off != 0) {
    out.is_fragment = true;
    out.first_fragment = frag_off == 0;
  }
  if (frag_off != 0) {
    // Later fragment: its payload is the middle of a datagram, no L4 header.
    out.payload_offset = static_cast<std::uint16_t>(off + hlen);
    out.payload_len = static_cast<std::uint16_t>(total - hlen);
    return ok();
  }
  return parse_l4(f, out.proto, off + hlen, total - hlen, out.is_fragment, out);
}

ParseResult parse_ipv6(const Frame& f, std::size_t off, ParsedPacket& out) noexcept {
  if (!f.has(off, 40)) return bad(MalformedReason::truncated_ipv6);
  if ((f.u8(off) >> 4) != 6) return bad(MalformedReason::bad_ipv6_header);
  const std::size_t plen = f.be16(off + 4);
  std::uint8_t nh = f.u8(off + 6);
  // Payload length 0 with hop-by-hop means a jumbogram: not supported (rare).
  if (plen == 0 && nh == ip6ext::kHopByHop) return bad(MalformedReason::bad_ip_length);
  if (plen + 40 > f.wire - off) return bad(MalformedReason::bad_ip_length);

  out.ip_version = 6;
  out.l3_offset = static_cast<std::uint16_t>(off);
  out.ip_bytes = static_cast<std::uint32_t>(plen + 40);
  std::memcpy(out.src_addr.data(), f.data + off + 8, 16);
  std::memcpy(out.dst_addr.data(), f.data + off + 24, 16);

  const std::size_t end = off + 40 + plen;  // end of the IP payload (wire)
  std::size_t pos = off + 40;
  for (unsigned count = 0;; ++count) {
    if (nh != ip6ext::kHopByHop && nh != ip6ext::kRouting && nh != ip6ext::kFragment &&
        nh != ip6ext::kAuth && nh != ip6ext::kDestOpts) {
      break;
    }
    if (count >= kMaxIpv6ExtHeaders) return bad(MalformedReason::bad_ipv6_ext);
    if (nh == ip6ext::kFragment) {
      if (!f.has(pos, 8) || pos + 8 > end) return bad(MalformedReason::bad_ipv6_ext);
      nh = f.u8(pos);
      const std::uint16_t frag_off = f.be16(pos + 2) >> 3;
      const bool more = (f.u8(pos + 3) & 1) != 0;
      out.frag_id = f.be32(pos + 4);
      pos += 8;
      if (frag_off != 0 || more) {  // offset 0 without M is an atomic fragment
        out.is_fragment = true;
        out.first_fragment = frag_off == 0;
      }
      if (frag_off != 0) {
        out.proto = nh;
        out.payload_offset = static_cast<std::uint16_t>(pos);
        out.payload_len = static_cast<std::uint16_t>(end - pos);
        return ok();
      }
      continue;
    }
    if (!f.has(pos, 2)) return bad(MalformedReason::bad_ipv6_ext);
    const std::size_t units = f.u8(pos + 1);
    const std::size_t len = nh == ip6ext::kAuth ? (units + 2) * 4 : (units + 1) * 8;
    if (!f.has(pos, len) || pos + len > end) return bad(MalformedReason::bad_ipv6_ext);
    nh = f.u8(pos);
    pos += len;
  }
  out.proto = nh;
  return parse_l4(f, nh, pos, end - pos, out.is_fragment, out);
}

ParseResult parse_ip_by_version(const Frame& f, std::size_t off, ParsedPacket& out,
                                ParseResult other) noexcept {
  switch (f.u8(off) >> 4) {
    case 4:
      return parse_ipv4(f, off, out);
    case 6:
      return parse_ipv6(f, off, out);
    default:
      return other;
  }
}

ParseResult parse_mpls(const Frame& f, std::size_t off, ParsedPacket& out) noexcept {
  for (unsigned n = 0;; ++n) {
    if (n >= kMaxMplsLabels || !f.has(off, 4)) return bad(MalformedReason::truncated_mpls);
    const bool bottom = (f.u8(off + 2) & 1) != 0;
    off += 4;
    if (bottom) break;
  }
  // No payload type in MPLS: guess from the first nibble (pseudowires etc. are NonIp).
  if (!f.has(off, 1)) return bad(MalformedReason::truncated_mpls);
  return parse_ip_by_version(f, off, out, non_ip());
}

ParseResult parse_pppoe(const Frame& f, std::size_t off, ParsedPacket& out) noexcept {
  if (!f.has(off, 8)) return bad(MalformedReason::truncated_pppoe);
  switch (f.be16(off + 6)) {
    case kPppIpv4:
      return parse_ipv4(f, off + 8, out);
    case kPppIpv6:
      return parse_ipv6(f, off + 8, out);
    default:
      return non_ip();
  }
}

ParseResult parse_ethertype(const Frame& f, std::uint16_t type, std::size_t off,
                            ParsedPacket& out) noexcept {
  for (;;) {
    switch (type) {
      case ethertype::kIpv4:
        return parse_ipv4(f, off, out);
      case ethertype::kIpv6:
        return parse_ipv6(f, off, out);
      case ethertype::kVlan:
      case ethertype::kQinQ:
      case ethertype::kQinQOld: {
        if (out.vlan_count >= kMaxVlanTags || !f.has(off, 4)) {
          return bad(MalformedReason::truncated_vlan);
        }
        if (out.vlan_count < out.vlan.size()) out.vlan[out.vlan_count] = f.be16(off) & 0x0FFF;
        ++out.vlan_count;
        type = f.be16(off + 2);
        off += 4;
        break;
      }
      case ethertype::kMplsUc:
      case ethertype::kMplsMc:
        return parse_mpls(f, off, out);
      case ethertype::kPppoeSession:
        return parse_pppoe(f, off, out);
      default:
        return non_ip();  // ARP, LLDP, PPPoE discovery, 802.3 lengths, ...
    }
  }
}

bool is_ipv6_family(std::uint32_t fam) noexcept { return fam == 24 || fam == 28 || fam == 30; }

ParseResult parse_loopback(const Frame& f, bool either_order, ParsedPacket& out) noexcept {
  if (!f.has(0, 4)) return bad(MalformedReason::truncated_link);
  const std::uint32_t be = f.be32(0);
  // DLT_NULL stores the family in the writer's byte order, which we don't know.
  const std::uint32_t le = either_order ? load_le32(f.data) : be;
  if (be == 2 || le == 2) return parse_ipv4(f, 4, out);
  if (is_ipv6_family(be) || is_ipv6_family(le)) return parse_ipv6(f, 4, out);
  return non_ip();
}

}  // namespace

ParseResult parse_packet(std::span<const std::byte> frame, std::uint32_t wire_len, LinkType link,
                         ParsedPacket& out) noexcept {
  out = ParsedPacket{};
  if (SF_UNLIKELY(frame.empty() || wire_len < frame.size())) {
    return bad(MalformedReason::empty_frame);
  }
  const Frame f{frame.data(), std::min(frame.size(), kMaxOffset), wire_len};

  switch (link) {
    case LinkType::Ethernet: {
      if (!f.has(0, 14)) return bad(MalformedReason::truncated_link);
      const std::uint16_t type = f.be16(12);
      if (type < ethertype::kMinEthertype) return non_ip();
      return parse_ethertype(f, type, 14, out);
    }
    case LinkType::LinuxSll:
      if (!f.has(0, 16)) return bad(MalformedReason::truncated_link);
      return parse_ethertype(f, f.be16(14), 16, out);
    case LinkType::LinuxSll2:
      if (!f.has(0, 20)) return bad(MalformedReason::truncated_link);
      return parse_ethertype(f, f.be16(0), 20, out);
    case LinkType::Null:
      return parse_loopback(f, true, out);
    case LinkType::Loop:
      return parse_loopback(f, false, out);
    case LinkType::Raw:
    case LinkType::Ipv4:
    case LinkType::Ipv6:
      // The first nibble decides; anything else is not an IP header at all.
      return parse_ip_by_version(f, 0, out, bad(MalformedReason::bad_ipv4_header));
  }
  return non_ip();
}

}  // namespace sf
