// Fluent, header-only builder of test frames, layer by layer, outermost first:
//
//   auto pkt = PacketBuilder().eth().vlan(10).ipv4("10.0.0.1", "10.0.0.2")
//                  .tcp(1234, 80, tcpflag::kSyn).payload(100);
//   parse_packet(pkt.build(), pkt.wire_len(), pkt.link_type(), out);
//
// Type fields (ethertype, IP protocol, next header, PPP protocol, loopback
// family, MPLS bottom-of-stack) and length fields (IPv4 total length, IPv6
// payload length, UDP length, PPPoE length, IHL, TCP data offset) are derived
// from the layers; the override_* modifiers replace them on the most recent
// layer that has the field, to craft malformed frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "packet/link_type.hpp"
#include "support/packet_builder_layers.hpp"

namespace sf::test {

class PacketBuilder {
 public:
  // ---- link layers (none = raw IP) ----
  PacketBuilder& eth() { return link(LayerKind::Eth, LinkType::Ethernet); }
  PacketBuilder& sll() { return link(LayerKind::Sll, LinkType::LinuxSll); }
  PacketBuilder& sll2() { return link(LayerKind::Sll2, LinkType::LinuxSll2); }
  // family 0 = derived from the next layer (2 for IPv4, 30 for IPv6).
  PacketBuilder& null(bool big_endian = false, std::uint32_t family = 0) {
    link(LayerKind::Null, LinkType::Null);
    layers_.back().big_endian = big_endian;
    if (family != 0) layers_.back().type_override = family;
    return *this;
  }
  PacketBuilder& loop(std::uint32_t family = 0) {
    link(LayerKind::Loop, LinkType::Loop);
    if (family != 0) layers_.back().type_override = family;
    return *this;
  }
  // Raw IP links carry no header; this only picks the link type reported.
  PacketBuilder& raw(LinkType lt = LinkType::Raw) {
    link_ = lt;
    return *this;
  }

  // ---- between link and IP ----
  PacketBuilder& vlan(std::uint16_t vid, std::uint16_t tpid = 0x8100, std::uint8_t pcp = 0) {
    Layer& l = add(LayerKind::Vlan);
    l.id = vid;
    l.tpid = tpid;
    l.pcp = pcp;
    return *this;
  }
  PacketBuilder& qinq(std::uint16_t outer, std::uint16_t inner) {
    return vlan(outer, 0x88A8).vlan(inner);
  }
  // One layer per label; the last label before a non-MPLS layer gets bottom-of-stack.
  PacketBuilder& mpls(std::initializer_list<std::uint32_t> labels) {
    for (std::uint32_t label : labels) add(LayerKind::Mpls).id = label;
    return *this;
  }
  PacketBuilder& mpls(std::uint32_t label) { return mpls({label}); }
  PacketBuilder& pppoe(std::uint16_t session = 1) {
    add(LayerKind::Pppoe).id = session;
    return *this;
  }
  PacketBuilder& pppoe_discovery() {
    add(LayerKind::PppoeDisc);
    return *this;
  }

  // ---- IP ----
  PacketBuilder& ipv4(const std::string& src, const std::string& dst, std::uint16_t ident = 0) {
    Layer& l = add(LayerKind::Ipv4);
    l.src = ip_addr(src);
    l.dst = ip_addr(dst);
    l.id = ident;
    return *this;
  }
  // Fragment fields of the last IPv4 header (offset in 8-byte units).
  PacketBuilder& ipv4_frag(std::uint16_t ident, std::uint16_t offset_units, bool more) {
    Layer& l = last({LayerKind::Ipv4});
    l.id = ident;
    l.frag_offset = offset_units;
    l.more_fragments = more;
    return *this;
  }
  PacketBuilder& dont_fragment() {
    last({LayerKind::Ipv4}).dont_fragment = true;
    return *this;
  }
  // Raw option bytes, zero-padded (EOL) to a multiple of 4.
  PacketBuilder& ipv4_options(Bytes opts) {
    while (opts.size() % 4 != 0) opts.push_back(std::byte{0});
    last({LayerKind::Ipv4}).data = std::move(opts);
    return *this;
  }
  PacketBuilder& ttl(std::uint8_t t) {
    last({LayerKind::Ipv4, LayerKind::Ipv6}).ttl = t;
    return *this;
  }
  PacketBuilder& ipv6(const std::string& src, const std::string& dst) {
    Layer& l = add(LayerKind::Ipv6);
    l.src = ip_addr(src);
    l.dst = ip_addr(dst);
    return *this;
  }
  // Extension headers; units is the header's own length field.
  PacketBuilder& hop(std::uint8_t units = 0) { return ext(LayerKind::Hop, units); }
  PacketBuilder& routing(std::uint8_t units = 0) { return ext(LayerKind::Routing, units); }
  PacketBuilder& dest(std::uint8_t units = 0) { return ext(LayerKind::Dest, units); }
  PacketBuilder& ah(std::uint8_t units = 4) { return ext(LayerKind::Ah, units); }
  PacketBuilder& frag6(std::uint32_t ident, std::uint16_t offset_units, bool more) {
    Layer& l = add(LayerKind::Frag6);
    l.id = ident;
    l.frag_offset = offset_units;
    l.more_fragments = more;
    return *this;
  }

  // ---- transport ----
  PacketBuilder& tcp(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags = 0,
                     std::uint32_t seq = 0, std::uint32_t ack = 0) {
    Layer& l = add(LayerKind::Tcp);
    l.sport = sport;
    l.dport = dport;
    l.flags = flags;
    l.seq = seq;
    l.ack = ack;
    return *this;
  }
  PacketBuilder& tcp_options(Bytes opts) {  // zero-padded to a multiple of 4
    while (opts.size() % 4 != 0) opts.push_back(std::byte{0});
    last({LayerKind::Tcp}).data = std::move(opts);
    return *this;
  }
  PacketBuilder& udp(std::uint16_t sport, std::uint16_t dport) {
    Layer& l = add(LayerKind::Udp);
    l.sport = sport;
    l.dport = dport;
    return *this;
  }
  PacketBuilder& sctp(std::uint16_t sport, std::uint16_t dport) {
    Layer& l = add(LayerKind::Sctp);
    l.sport = sport;
    l.dport = dport;
    return *this;
  }
  PacketBuilder& icmp(std::uint8_t type, std::uint8_t code) {
    return icmp_layer(LayerKind::Icmp, type, code, 0, 0);
  }
  PacketBuilder& icmp_echo(std::uint16_t ident, std::uint16_t seq = 1, bool reply = false) {
    return icmp_layer(LayerKind::Icmp, reply ? 0 : 8, 0, ident, seq);
  }
  PacketBuilder& icmpv6(std::uint8_t type, std::uint8_t code) {
    return icmp_layer(LayerKind::Icmpv6, type, code, 0, 0);
  }
  PacketBuilder& icmpv6_echo(std::uint16_t ident, std::uint16_t seq = 1, bool reply = false) {
    return icmp_layer(LayerKind::Icmpv6, reply ? 129 : 128, 0, ident, seq);
  }

  // ---- bytes ----
  PacketBuilder& payload(std::size_t n, std::uint8_t fill = 0xAB) {
    add(LayerKind::Data).data.assign(n, std::byte{fill});
    return *this;
  }
  PacketBuilder& bytes(Bytes b) {
    add(LayerKind::Data).data = std::move(b);
    return *this;
  }
  // Bytes after the last layer that no length field counts (Ethernet padding/FCS).
  PacketBuilder& trailer(std::size_t n, std::uint8_t fill = 0) {
    trailer_ += n;
    trailer_fill_ = fill;
    return *this;
  }

  // ---- overrides, on the most recent layer that has the field ----
  PacketBuilder& override_ethertype(std::uint16_t t) {
    last({LayerKind::Eth, LayerKind::Sll, LayerKind::Sll2, LayerKind::Vlan}).type_override = t;
    return *this;
  }
  // IPv4 protocol / IPv6 or extension header next-header.
  PacketBuilder& override_proto(std::uint8_t p) {
    last({LayerKind::Ipv4, LayerKind::Ipv6, LayerKind::Hop, LayerKind::Routing, LayerKind::Dest,
          LayerKind::Frag6, LayerKind::Ah})
        .type_override = p;
    return *this;
  }
  PacketBuilder& override_ppp_proto(std::uint16_t p) {
    last({LayerKind::Pppoe}).type_override = p;
    return *this;
  }
  PacketBuilder& override_total_length(std::uint16_t n) {
    last({LayerKind::Ipv4}).length_override = n;
    return *this;
  }
  PacketBuilder& override_ihl(std::uint8_t words) {
    last({LayerKind::Ipv4}).hlen_override = words;
    return *this;
  }
  PacketBuilder& override_version(std::uint8_t v) {
    last({LayerKind::Ipv4, LayerKind::Ipv6}).version_override = v;
    return *this;
  }
  PacketBuilder& override_payload_length(std::uint16_t n) {
    last({LayerKind::Ipv6}).length_override = n;
    return *this;
  }
  PacketBuilder& override_udp_length(std::uint16_t n) {
    last({LayerKind::Udp}).length_override = n;
    return *this;
  }
  PacketBuilder& override_data_offset(std::uint8_t words) {
    last({LayerKind::Tcp}).hlen_override = words;
    return *this;
  }
  PacketBuilder& override_bos(bool bottom) {
    last({LayerKind::Mpls}).bos_override = bottom;
    return *this;
  }

  // ---- results ----
  LinkType link_type() const { return link_; }
  Bytes build() const { return build_layout(nullptr); }
  std::uint32_t wire_len() const { return static_cast<std::uint32_t>(build().size()); }
  // Also reports where each layer landed (trailer excluded), outermost first.
  Bytes build_layout(std::vector<LayerSpan>* spans) const {
    std::vector<Bytes> headers(layers_.size());
    std::size_t inner = 0;  // bytes after the current layer (trailer excluded)
    for (std::size_t i = layers_.size(); i-- > 0;) {
      const Layer* next = i + 1 < layers_.size() ? &layers_[i + 1] : nullptr;
      headers[i] = detail::emit(layers_[i], next, inner);
      inner += headers[i].size();
    }
    Bytes out;
    if (spans != nullptr) spans->clear();
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      if (spans != nullptr) {
        spans->push_back({layers_[i].kind, out.size(), out.size() + headers[i].size()});
      }
      out.insert(out.end(), headers[i].begin(), headers[i].end());
    }
    out.insert(out.end(), trailer_, std::byte{trailer_fill_});
    return out;
  }

 private:
  PacketBuilder& link(LayerKind k, LinkType lt) {
    add(k);
    link_ = lt;
    return *this;
  }
  Layer& add(LayerKind k) {
    layers_.push_back(Layer{});
    layers_.back().kind = k;
    return layers_.back();
  }
  PacketBuilder& ext(LayerKind k, std::uint8_t units) {
    add(k).units = units;
    return *this;
  }
  PacketBuilder& icmp_layer(LayerKind k, std::uint8_t type, std::uint8_t code, std::uint16_t ident,
                            std::uint16_t seq) {
    Layer& l = add(k);
    l.icmp_type = type;
    l.icmp_code = code;
    l.id = ident;
    l.icmp_seq = seq;
    return *this;
  }
  Layer& last(std::initializer_list<LayerKind> kinds) {
    for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
      for (LayerKind k : kinds) {
        if (it->kind == k) return *it;
      }
    }
    throw std::logic_error("PacketBuilder: no layer for this modifier");
  }

  std::vector<Layer> layers_;
  LinkType link_ = LinkType::Raw;
  std::size_t trailer_ = 0;
  std::uint8_t trailer_fill_ = 0;
};

}  // namespace sf::test
