// What RX hands a worker with each packet (kept in the mbuf's private area):
// the work of parsing, keying and hashing is done once, on RX, and the worker
// never has to touch the packet's data for flow accounting.
#pragma once

#include <cstdint>

#include "flow/flow_key.hpp"

namespace sf {

struct PacketMeta {
  FlowKey key;                    // normalized
  std::uint32_t hash = 0;         // flow_hash(key, seed)
  std::uint8_t dir = 0;           // kDirLoToHi / kDirHiToLo
  std::uint8_t tcp_flags = 0;     // 0 for non-TCP and later fragments
  std::uint8_t has_l4 = 0;        // transport header parsed (not a later fragment)
  std::uint8_t icmp_type = 0;     // ICMP/ICMPv6 type (a later fragment: its datagram's)
  std::uint32_t wire_len = 0;     // frame length on the wire (capture: orig_len)
  std::uint64_t ts_ns = 0;        // capture time or RX time, ns since the epoch
  // The RX clock when this packet was read: the newest ts_ns so far. Equal to
  // ts_ns unless the capture's timestamps go back; timeouts use it.
  std::uint64_t clock_ns = 0;
  std::uint64_t packet_id = 0;    // unique per run; a flow started by this packet takes it as flow_id
  std::uint32_t ip_bytes = 0;     // IP-layer length from the header
  std::uint32_t tcp_seq = 0;
  std::uint32_t tcp_ack = 0;
  std::uint16_t tcp_window = 0;
  std::uint16_t payload_offset = 0;
  std::uint16_t payload_len = 0;     // per the IP header
  std::uint16_t payload_caplen = 0;  // of which captured in the packet's first segment
  // The captured payload (payload_caplen bytes), inside the packet's buffer:
  // valid while the worker holds the packet.
  const std::uint8_t* payload = nullptr;
};
static_assert(sizeof(PacketMeta) <= 128, "fits the mbuf private area we reserve");

}  // namespace sf
