// Shared pieces of the IPFIX tests: a sink that keeps every message, and
// flow events with hand-chosen values.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ipfix/ipfix_encoder.hpp"

namespace sf::test {

class CollectSink : public IpfixMessageSink {
 public:
  std::vector<std::vector<std::uint8_t>> messages;
  void message(std::span<const std::uint8_t> bytes) noexcept override {
    messages.emplace_back(bytes.begin(), bytes.end());
  }
};

inline std::array<std::uint8_t, 16> v4(const char* text) {
  std::array<std::uint8_t, 16> a{};
  inet_pton(AF_INET, text, a.data());
  return a;
}
inline std::array<std::uint8_t, 16> v6(const char* text) {
  std::array<std::uint8_t, 16> a{};
  inet_pton(AF_INET6, text, a.data());
  return a;
}

// A TCP flow 192.168.1.9:40000 -> 10.0.0.5:80 whose initiator is the key's hi
// endpoint (so the record must swap the normalized key back): the client sent
// 3 packets / 180 bytes with SYN|FIN|PSH|ACK, the server 2 / 300 with SYN|ACK.
inline FlowEvent tcp_event_v4() {
  FlowEvent ev{};
  ev.key.addr_lo = v4("10.0.0.5");
  ev.key.addr_hi = v4("192.168.1.9");
  ev.key.port_lo = 80;
  ev.key.port_hi = 40000;
  ev.key.proto = 6;
  ev.key.ip_version = 4;
  ev.initiator_dir = kDirHiToLo;
  ev.packets[kDirHiToLo] = 3;
  ev.bytes[kDirHiToLo] = 180;
  ev.tcp_flags[kDirHiToLo] = 0x1b;
  ev.packets[kDirLoToHi] = 2;
  ev.bytes[kDirLoToHi] = 300;
  ev.tcp_flags[kDirLoToHi] = 0x12;
  ev.flow_id = 42;
  ev.first_ts_ns = 1700000000123456789ULL;  // 1700000000123 ms
  ev.last_ts_ns = 1700000001987654321ULL;   // 1700000001987 ms
  ev.end_reason = EndReason::tcp_close;
  ev.conn_state = ConnState::SF;
  ev.generation = 1;
  return ev;
}

// UDP over IPv6, initiator = the lo endpoint 2001:db8::1 port 5353 -> 2001:db8::2 port 53.
inline FlowEvent udp_event_v6() {
  FlowEvent ev{};
  ev.key.addr_lo = v6("2001:db8::1");
  ev.key.addr_hi = v6("2001:db8::2");
  ev.key.port_lo = 5353;
  ev.key.port_hi = 53;
  ev.key.proto = 17;
  ev.key.ip_version = 6;
  ev.initiator_dir = kDirLoToHi;
  ev.packets[kDirLoToHi] = 1;
  ev.bytes[kDirLoToHi] = 100;
  ev.packets[kDirHiToLo] = 1;
  ev.bytes[kDirHiToLo] = 200;
  ev.flow_id = 7;
  ev.first_ts_ns = 2000000000000000000ULL;
  ev.last_ts_ns = 2000000000500000000ULL;
  ev.end_reason = EndReason::idle;
  ev.conn_state = ConnState::SF;
  ev.generation = 1;
  return ev;
}

inline std::vector<std::uint8_t> addr_bytes(const std::array<std::uint8_t, 16>& a, std::size_t n) {
  return {a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n)};
}

}  // namespace sf::test
