// Helpers for the EAL tests: unique object names, PacketMeta values built by
// hand or from frames, and an EventSink that records what it is given.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <rte_memory.h>

#include "flow/flow_key.hpp"
#include "flow/flow_table.hpp"
#include "flow/flow_tracker.hpp"
#include "packet/packet_parser.hpp"
#include "support/packet_builder.hpp"

namespace sf::test {

// rte_hash / rte_ring names are global to the process.
inline std::string unique_name(const char* base) {
  static std::atomic<unsigned> n{0};
  return std::string(base) + std::to_string(n.fetch_add(1));
}

inline std::unique_ptr<FlowTable> make_table(std::uint32_t capacity, std::uint32_t seed = 0x5eed) {
  auto t = FlowTable::create(unique_name("sft_flows"), capacity, seed, SOCKET_ID_ANY);
  EXPECT_TRUE(t) << (t ? "" : t.error());
  return t ? std::unique_ptr<FlowTable>(t.value()) : nullptr;
}

// One endpoint pair; src is the sender of the packet built from it.
struct Tuple {
  std::uint8_t proto = ipproto::kTcp;
  std::string src = "10.0.0.1";
  std::uint16_t sport = 40000;
  std::string dst = "10.0.0.2";
  std::uint16_t dport = 80;

  Tuple reply() const { return Tuple{proto, dst, dport, src, sport}; }
};

inline ParsedPacket parsed_of(const Tuple& t) {
  ParsedPacket p;
  p.src_addr = ip_addr(t.src);
  p.dst_addr = ip_addr(t.dst);
  p.ip_version = t.src.find(':') != std::string::npos ? 6 : 4;
  p.proto = t.proto;
  p.src_port = t.sport;
  p.dst_port = t.dport;
  return p;
}

// A PacketMeta as RX would build it for this tuple.
inline PacketMeta meta_of(const Tuple& t, std::uint64_t ts_ns, std::uint64_t packet_id, std::uint8_t flags = 0,
                          std::uint32_t seq = 0, std::uint32_t ip_bytes = 100, std::uint32_t seed = 0x5eed) {
  const NormalizedKey nk = normalize_flow_key(parsed_of(t), true);
  PacketMeta m;
  m.key = nk.key;
  m.dir = nk.dir;
  m.hash = flow_hash(nk.key, seed);
  m.has_l4 = 1;
  m.tcp_flags = t.proto == ipproto::kTcp ? flags : 0;
  m.tcp_seq = seq;
  m.tcp_window = 65535;  // an open window: zero windows are what tests ask for
  m.ip_bytes = ip_bytes;
  m.wire_len = ip_bytes + 14;
  m.ts_ns = ts_ns;
  m.packet_id = packet_id;
  return m;
}

// The same, through the real parser from a frame made by PacketBuilder.
inline PacketMeta meta_of_frame(const PacketBuilder& b, std::uint64_t ts_ns, std::uint64_t packet_id,
                                std::uint32_t seed = 0x5eed, bool vlan_in_key = true) {
  const Bytes frame = b.build();
  ParsedPacket p;
  const ParseResult r = parse_packet(std::span<const std::byte>(frame), b.wire_len(), b.link_type(), p);
  EXPECT_EQ(r.status, ParseStatus::Ok);
  const NormalizedKey nk = normalize_flow_key(p, vlan_in_key);
  PacketMeta m;
  m.key = nk.key;
  m.dir = nk.dir;
  m.hash = flow_hash(nk.key, seed);
  m.has_l4 = 1;
  m.tcp_flags = p.tcp_flags;
  m.icmp_type = p.icmp_type;
  m.tcp_seq = p.tcp_seq;
  m.ip_bytes = p.ip_bytes;
  m.wire_len = b.wire_len();
  m.ts_ns = ts_ns;
  m.packet_id = packet_id;
  return m;
}

class RecordingSink final : public EventSink {
 public:
  std::uint32_t emit_burst(const EventSlot* slots, std::uint32_t n) noexcept override {
    if (refuse) return 0;
    for (std::uint32_t i = 0; i < n; i += event_slots(slots[i])) {
      const FlowEvent& ev = event_at(slots[i]);
      events.push_back(ev);
      AppRecord app{};
      if (ev.app_slots != 0) app = *app_record_at(slots[i]);
      apps.push_back(app);  // kind kNone: the record had none
    }
    return n;
  }
  std::vector<FlowEvent> events;
  std::vector<AppRecord> apps;  // by event
  bool refuse = false;
};

// Packets as the initiator / responder of a record see them.
inline std::uint64_t src_packets(const FlowEvent& e) { return e.packets[e.initiator_dir]; }
inline std::uint64_t dst_packets(const FlowEvent& e) { return e.packets[e.initiator_dir ^ 1U]; }
inline std::uint64_t total_packets(const FlowEvent& e) { return e.packets[0] + e.packets[1]; }

}  // namespace sf::test
