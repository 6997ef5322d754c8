#include "flow/community_id.hpp"

#include <cstring>
#include <span>
#include <utility>

#include "common/sha1.hpp"
#include "packet/parsed_packet.hpp"

namespace sf {

namespace {

constexpr int kOneWay = -1;

// The type that answers (or is answered by) this one, per the spec (taken from
// Zeek's ICMP analyzer); kOneWay for every other type.
int icmp_counterpart(std::uint8_t proto, std::uint16_t type) noexcept {
  if (proto == ipproto::kIcmp) {
    switch (type) {
      case 8: return 0;     // echo request -> echo reply
      case 0: return 8;
      case 13: return 14;   // timestamp
      case 14: return 13;
      case 15: return 16;   // information
      case 16: return 15;
      case 10: return 9;    // router solicitation -> advertisement
      case 9: return 10;
      case 17: return 18;   // address mask
      case 18: return 17;
      default: return kOneWay;
    }
  }
  switch (type) {
    case 128: return 129;  // echo request -> echo reply
    case 129: return 128;
    case 130: return 131;  // multicast listener query -> report
    case 131: return 130;
    case 133: return 134;  // router solicitation -> advertisement
    case 134: return 133;
    case 135: return 136;  // neighbor solicitation -> advertisement
    case 136: return 135;
    case 139: return 140;  // node information query -> reply
    case 140: return 139;
    case 144: return 145;  // home agent address discovery request -> reply
    case 145: return 144;
    default: return kOneWay;
  }
}

void base64(const Sha1Digest& d, char* out) noexcept {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= d.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{d[i]} << 16 | std::uint32_t{d[i + 1]} << 8 | d[i + 2];
    *out++ = kAlphabet[v >> 18];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = kAlphabet[v & 63];
  }
  static_assert(kSha1DigestSize % 3 == 2, "one final group of two bytes, one '='");
  const std::uint32_t v = std::uint32_t{d[i]} << 16 | std::uint32_t{d[i + 1]} << 8;
  *out++ = kAlphabet[v >> 18];
  *out++ = kAlphabet[(v >> 12) & 63];
  *out++ = kAlphabet[(v >> 6) & 63];
  *out = '=';
}

void put_be16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

}  // namespace

void community_id(const CommunityIdTuple& t, std::uint16_t seed, CommunityIdText& out) noexcept {
  const std::size_t alen = t.ip_version == 6 ? 16 : 4;
  const std::uint8_t* src = t.src_addr.data();
  const std::uint8_t* dst = t.dst_addr.data();
  std::uint16_t sport = t.src_port;
  std::uint16_t dport = t.dst_port;
  bool has_ports = false;
  bool one_way = false;
  switch (t.proto) {
    case ipproto::kTcp:
    case ipproto::kUdp:
    case ipproto::kSctp:
      has_ports = true;
      break;
    case ipproto::kIcmp:
    case ipproto::kIcmpv6: {
      has_ports = true;
      const int counterpart = icmp_counterpart(t.proto, sport);
      one_way = counterpart == kOneWay;
      if (!one_way) dport = static_cast<std::uint16_t>(counterpart);
      break;
    }
    default:
      break;
  }
  // Smaller (address, port) first; addresses compare as big-endian numbers.
  const int order = std::memcmp(src, dst, alen);
  if (!(one_way || order < 0 || (order == 0 && has_ports && sport < dport))) {
    std::swap(src, dst);
    std::swap(sport, dport);
  }

  std::byte in[2 + 16 + 16 + 2 + 4];
  std::size_t n = 0;
  put_be16(in, seed);
  n += 2;
  std::memcpy(in + n, src, alen);
  n += alen;
  std::memcpy(in + n, dst, alen);
  n += alen;
  in[n++] = static_cast<std::byte>(t.proto);
  in[n++] = std::byte{0};  // padding
  if (has_ports) {
    put_be16(in + n, sport);
    put_be16(in + n + 2, dport);
    n += 4;
  }
  out[0] = '1';
  out[1] = ':';
  base64(sha1(std::span<const std::byte>(in, n)), out.data() + 2);
  out[kCommunityIdLen] = '\0';
}

CommunityIdTuple first_packet_tuple(const FlowKey& key, std::uint8_t initiator_dir,
                                    std::uint8_t first_icmp_type) noexcept {
  const bool src_is_lo = initiator_dir == kDirLoToHi;
  CommunityIdTuple t;
  t.src_addr = src_is_lo ? key.addr_lo : key.addr_hi;
  t.dst_addr = src_is_lo ? key.addr_hi : key.addr_lo;
  t.src_port = src_is_lo ? key.port_lo : key.port_hi;
  t.dst_port = src_is_lo ? key.port_hi : key.port_lo;
  t.proto = key.proto;
  t.ip_version = key.ip_version;
  // An echo key holds the identifier twice: the type comes from the first
  // packet, and the code does not count (echo types map to their counterpart).
  // A type the key contradicts (ports that differ) leaves the key's ports.
  if ((key.proto == ipproto::kIcmp || key.proto == ipproto::kIcmpv6) &&
      is_icmp_echo(key.proto, first_icmp_type) && key.port_lo == key.port_hi) {
    t.src_port = first_icmp_type;
    t.dst_port = 0;
  }
  return t;
}

}  // namespace sf
