// Per-connection TCP state, after Zeek's TCP analyzer (TCPSessionAdapter and
// TCP_Endpoint): the same endpoint states, the same history letters with the
// same repeat rules, and the same conn_state function, so a record's
// conn_state/history read the way a Zeek user expects. Pure C++, owned by the
// flow's worker, updated once per TCP packet; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tcp/stream_state.hpp"

namespace sf {

// Zeek's TCP_ENDPOINT_* states.
enum class TcpEndpointState : std::uint8_t { Inactive, SynSent, SynAckSent, Partial, Established, Closed, Reset };

#define SF_CONN_STATES(X) X(S0) X(S1) X(SF) X(REJ) X(S2) X(S3) X(RSTO) X(RSTR) X(RSTOS0) X(RSTRH) X(SH) X(SHR) X(OTH)
enum class ConnState : std::uint8_t {
#define SF_X(name) name,
  SF_CONN_STATES(SF_X)
#undef SF_X
  kCount
};
std::string_view conn_state_name(ConnState s) noexcept;

// How the record's orientation (src = initiator) was decided.
#define SF_DIRECTION_REASONS(X) X(first_packet) X(syn) X(synack)
enum class DirectionReason : std::uint8_t {
#define SF_X(name) name,
  SF_DIRECTION_REASONS(SF_X)
#undef SF_X
  kCount
};
std::string_view direction_reason_name(DirectionReason r) noexcept;

// One TCP segment as the tracker sees it.
struct TcpSegment {
  std::uint64_t ts_ns = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint32_t payload_len = 0;  // per the IP header (may exceed what was captured)
  std::uint16_t window = 0;       // raw header value (zero is zero under any scale)
  std::uint8_t flags = 0;
  std::uint8_t dir = 0;           // sender: kDirLoToHi / kDirHiToLo
};

// A letter every 1st, 10th, 100th, ... time (Zeek's ScaledHistoryEntry).
struct ScaledCount {
  std::uint32_t count = 0;
  std::uint32_t threshold = 1;
  bool hit() noexcept;  // counts one; true when a letter is due
};

// One side of the connection, by sender direction (not by role: a role flip
// only changes which side is the initiator). What an in-order segment of an
// established connection touches lives in TcpConn's first line instead.
struct TcpEndpoint {
  std::uint32_t start_seq = 0;  // ISN, or first seq - 1 when picked up mid-way (as if a SYN was seen)
  std::uint32_t hist_last_syn = 0;
  std::uint32_t hist_last_fin = 0;
  std::uint32_t hist_last_rst = 0;
  std::uint32_t gap_edge = 0;   // peer ACK up to which a content gap was already flagged
  // The first hole in this side's sequence space: a later segment inside it is
  // out of order (reordered), not a retransmission.
  std::uint32_t hole_start = 0;
  std::uint32_t hole_end = 0;
  ScaledCount rxmit;
  ScaledCount zero_window;
  ScaledCount gaps;
  // Per record interval (reset by an interim record):
  std::uint32_t retrans_packets = 0;
  std::uint32_t ooo_segments = 0;
  std::uint32_t zero_windows = 0;
  std::uint64_t retrans_bytes = 0;
  TcpEndpointState prev_state = TcpEndpointState::Inactive;
  std::uint8_t fin_count = 0;  // saturating
  std::uint8_t has_hole = 0;
  std::uint8_t gap_flagged = 0;  // gap_edge is set
};

inline constexpr unsigned kTcpHistoryMax = 31;  // letters kept; Zeek's history is unbounded, ours is not

struct alignas(64) TcpConn {
  // Line 0, by side: all an in-order segment of an established connection
  // reads or writes (the fast path), so such a packet touches one line.
  std::uint32_t last_seq[2] = {0, 0};  // one past the highest sequence number sent
  std::uint32_t ack_seq[2] = {0, 0};   // highest ACK of the side's data by its peer
  TcpEndpointState state[2] = {TcpEndpointState::Inactive, TcpEndpointState::Inactive};
  std::uint8_t handshake_watch = 1;    // the handshake RTT may still be measured
  std::uint32_t hist_seen = 0;         // Zeek's masks: originator's in the low 16 bits, responder's in the high
  // Lines 1-2: the reassembly state of each direction (by sender), next to
  // the hot line: same page, and fetched with it by the adjacent-line
  // prefetcher. Owned by the tracker's Reassembler, not by this code.
  alignas(64) StreamState streams[2] = {};
  // The rest: per side, then the connection's history and handshake.
  TcpEndpoint ep[2];
  std::uint64_t syn_ts_ns = 0;     // initiator's first SYN
  std::uint64_t synack_ts_ns = 0;  // responder's first SYN-ACK after it
  std::uint64_t ack_ts_ns = 0;     // initiator's first ACK after that
  char history[kTcpHistoryMax] = {};
  std::uint8_t history_len = 0;
  std::uint8_t history_truncated = 0;
  DirectionReason direction_reason = DirectionReason::first_packet;
};
static_assert(sizeof(TcpConn) == 384, "six cache lines per TCP connection");
static_assert(offsetof(TcpConn, streams) == 64, "the stream states follow the hot line");

// What a packet changed beyond the connection's own state.
enum TcpChange : std::uint8_t {
  kTcpChangeFlipped = 0x02,  // roles flipped: initiator_dir changed
};

// Starts a connection with its first packet (the whole TcpConn is reset,
// its stream states too): decides the initiator (the
// foundation's rule: the SYN-ACK's receiver, else the first packet's sender).
// oriented: the flow's direction was already decided by an earlier packet
// without a TCP header (a fragment): keep it, as first_packet.
void tcp_conn_start(TcpConn& c, const TcpSegment& first, std::uint8_t& initiator_dir, bool oriented = false) noexcept;

// Accounts one segment (the first one too, after tcp_conn_start). May flip
// initiator_dir (Zeek's SYN/SYN-ACK reversal, recorded as '^').
std::uint8_t tcp_conn_update(TcpConn& c, const TcpSegment& s, std::uint8_t& initiator_dir) noexcept;

// Zeek's conn_state, from the endpoint states (and history, for RSTOS0).
ConnState tcp_conn_state(const TcpConn& c, std::uint8_t initiator_dir) noexcept;

// Both sides established, or one closed after that: the handshake is done.
bool tcp_conn_established(const TcpConn& c) noexcept;

// Handshake timings in microseconds: SYN→SYN-ACK (the responder's side of
// the probe) and SYN-ACK→ACK (the initiator's side). seen: the whole
// handshake was captured in order.
struct HandshakeRtt {
  bool seen = false;
  std::uint64_t synack_us = 0;
  std::uint64_t ack_us = 0;
};
HandshakeRtt tcp_handshake_rtt(const TcpConn& c) noexcept;

// Payload bytes side d sent, from its sequence numbers (Zeek's TCP_Endpoint::Size).
std::uint64_t tcp_endpoint_size(const TcpConn& c, unsigned d) noexcept;

}  // namespace sf
