// A flow's state in its shard, and the event a worker hands the exporters
// when a record is finished (final, or interim on active timeout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>

#include "appmeta/app_record.hpp"
#include "flow/flow_key.hpp"
#include "tcp/tcp_conn.hpp"

namespace sf {

#define SF_END_REASONS(X) X(idle) X(active) X(tcp_close) X(evicted) X(eof) X(shutdown)

enum class EndReason : std::uint8_t {
#define SF_X(name) name,
  SF_END_REASONS(SF_X)
#undef SF_X
  kCount
};
inline constexpr unsigned kEndReasonCount = static_cast<unsigned>(EndReason::kCount);
std::string_view end_reason_name(EndReason r) noexcept;

// TCP connection facts the flow table's timers need, on the record's hot line
// (the full connection state is the flow's TcpConn, tcp/tcp_conn.hpp).
enum TcpBits : std::uint8_t {
  kTcpSynSeen = 0x01,      // a pure SYN was seen; syn_isn holds its sequence number
  kTcpFinLo = 0x02,        // FIN from the lo endpoint
  kTcpFinHi = 0x04,        // FIN from the hi endpoint
  kTcpRst = 0x08,
  kTcpOpening = 0x10,      // started by a SYN or SYN-ACK: the establish timeout applies until...
  kTcpEstablished = 0x20,  // ...the handshake completed
  kTcpStateStarted = 0x40, // the TcpConn holds this connection (a packet with a TCP header was seen)
  kTcpSynAckSeen = 0x80,   // the responder answered with a SYN-ACK
};

inline bool tcp_closed(std::uint8_t bits) noexcept {
  return (bits & kTcpRst) || ((bits & kTcpFinLo) && (bits & kTcpFinHi));
}

inline constexpr std::uint64_t kNoActiveDeadline = UINT64_MAX;

// Hot/cold split: a packet of an established flow reads and writes only the
// first cache line; the second is written when the flow starts and read when
// a record is emitted (or a lookup is re-checked), so a worker at 10M flows
// misses once per packet on its record, not twice.
struct alignas(64) FlowRecord {
  // Line 0: per-packet state.
  std::uint64_t last_ts_ns = 0;
  std::uint64_t active_deadline_ns = 0;  // next active-timeout grid point; kNoActiveDeadline = off
  std::uint64_t packets[2] = {0, 0};     // by direction (kDirLoToHi, kDirHiToLo)
  std::uint64_t bytes[2] = {0, 0};
  std::uint32_t syn_isn = 0;
  std::uint32_t generation = 0;
  std::uint8_t tcp_flags[2] = {0, 0};  // union of flags by direction, this interval
  std::uint8_t tcp_bits = 0;           // TcpBits
  std::uint8_t proto = 0;              // key.proto, here so timeouts need no second line
  std::uint8_t in_use = 0;
  std::uint8_t initiator_dir = 0;      // direction of the initiator's packets
  std::uint8_t icmp_type = 0;          // ICMP/ICMPv6: the first packet's type (its Community ID needs it)
  std::uint8_t app_state = 0;          // UDP: AppTracker::UdpState
  // Line 1: identity, set at creation.
  FlowKey key;                      // 48
  std::uint64_t flow_id = 0;
  std::uint64_t first_ts_ns = 0;    // first packet of the current record interval
};
static_assert(sizeof(FlowRecord) == 128, "two cache lines per flow");
static_assert(offsetof(FlowRecord, key) == 64, "the per-packet state fills exactly the first line");

// A TCP connection's part of a finished record, by direction (kDirLoToHi, kDirHiToLo).
struct TcpRecord {
  std::uint64_t retrans_bytes[2];
  std::uint64_t missed_bytes[2];            // skipped by reassembly, or acknowledged but never seen
  std::uint64_t overlap_conflict_bytes[2];  // overlapping bytes whose content differed
  std::uint32_t retrans_packets[2];
  std::uint32_t ooo_segments[2];
  std::uint32_t zero_windows[2];
  std::uint32_t rtt_synack_us;  // SYN -> SYN-ACK; valid with kTcpRecordRtt
  std::uint32_t rtt_ack_us;     // SYN-ACK -> ACK
  char history[kTcpHistoryMax];
  std::uint8_t history_len;
  std::uint8_t bits;  // TcpRecordBits
  std::uint8_t pad_[15];
};
static_assert(sizeof(TcpRecord) == 128, "no implicit padding");

enum TcpRecordBits : std::uint8_t {
  kTcpRecordState = 0x01,      // the TCP part is filled (a TCP flow with a header seen)
  kTcpRecordRtt = 0x02,        // the whole handshake was seen in order
  kTcpRecordTruncated = 0x04,  // history hit its bound
};

// A finished record, by value: the worker's slot can be reused at once.
struct FlowEvent {
  FlowKey key;
  std::uint64_t flow_id;
  std::uint64_t first_ts_ns;
  std::uint64_t last_ts_ns;
  std::uint64_t packets[2];
  std::uint64_t bytes[2];
  std::uint32_t generation;
  std::uint8_t tcp_flags[2];
  std::uint8_t initiator_dir;
  EndReason end_reason;
  std::uint16_t worker;
  ConnState conn_state;
  DirectionReason direction_reason;
  std::uint8_t icmp_type;  // FlowRecord::icmp_type
  std::uint8_t app_slots;  // 0, or kAppRecordSlots: the flow's AppRecord follows in the next slots
  std::uint8_t pad_[2];    // explicit: no byte goes uninitialized
  std::uint64_t seq;       // 1, 2, ... per worker and run: a gap downstream is a lost record
  TcpRecord tcp;
};
static_assert(sizeof(FlowEvent) == 256, "four cache lines per ring element, no implicit padding");

// One element of the export rings (and of a worker's pending batch): a
// FlowEvent, or a part of the AppRecord that follows it. Records without
// application data, most of them, stay one element: a SYN scan or a UDP flood
// does not pay for the metadata of the few flows that have some. A worker
// queues whole events only, so a reader that finds a header finds its tail.
struct alignas(16) EventSlot {
  unsigned char bytes[sizeof(FlowEvent)];
};
inline constexpr std::uint32_t kAppRecordSlots = 3;
static_assert(sizeof(AppRecord) <= kAppRecordSlots * sizeof(EventSlot));

inline const FlowEvent& event_at(const EventSlot& s) noexcept {
  return *std::launder(reinterpret_cast<const FlowEvent*>(s.bytes));
}
inline std::uint32_t event_slots(const EventSlot& s) noexcept { return 1U + event_at(s).app_slots; }
// The AppRecord after a header slot whose app_slots is set.
inline const AppRecord* app_record_at(const EventSlot& header) noexcept {
  return std::launder(reinterpret_cast<const AppRecord*>((&header + 1)->bytes));
}

}  // namespace sf
