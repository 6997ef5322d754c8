#include "tcp/tcp_conn.hpp"

#include "packet/parsed_packet.hpp"

namespace sf {

namespace {

using State = TcpEndpointState;

// Zeek: "TOO_LARGE_SEQ_DELTA": SYN/RST sequence jumps beyond this are not trusted.
constexpr std::int32_t kTooLargeSeqDelta = 1048576;

// Zeek's history masks (TCP_Endpoint.h); the responder's are shifted by 16.
enum : std::uint32_t {
  kHistSyn = 0x1,
  kHistFin = 0x2,
  kHistRst = 0x4,
  kHistFinRst = 0x8,
  kHistData = 0x10,
  kHistAck = 0x20,
  kHistMultiFlag = 0x40,
};

std::int32_t seq_delta(std::uint32_t a, std::uint32_t b) noexcept { return static_cast<std::int32_t>(a - b); }

struct Flags {
  std::uint8_t bits;
  bool syn() const noexcept { return bits & tcpflag::kSyn; }
  bool fin() const noexcept { return bits & tcpflag::kFin; }
  bool rst() const noexcept { return bits & tcpflag::kRst; }
  bool ack() const noexcept { return bits & tcpflag::kAck; }
};

// A side's view: its hot fields in TcpConn's first line, the rest in its TcpEndpoint.
struct Side {
  TcpEndpoint* cold;
  std::uint32_t& last_seq;
  std::uint32_t& ack_seq;
  State& state;
  TcpEndpoint* operator->() const noexcept { return cold; }
};

Side side(TcpConn& c, unsigned d) noexcept { return Side{&c.ep[d], c.last_seq[d], c.ack_seq[d], c.state[d]}; }

void set_state(Side ep, State s) noexcept {
  ep->prev_state = ep.state;
  ep.state = s;
}

char role_case(char code, bool is_orig) noexcept {
  return is_orig || code < 'A' || code > 'Z' ? code : static_cast<char>(code - 'A' + 'a');
}

void add_history(TcpConn& c, char code) noexcept {
  if (c.history_len < kTcpHistoryMax) {
    c.history[c.history_len++] = code;
  } else {
    c.history_truncated = 1;
  }
}

// Zeek's CheckHistory: the first time a mask is seen, its letter is added;
// returns whether it had been seen before.
bool check_history(TcpConn& c, bool is_orig, std::uint32_t mask, char code) noexcept {
  if (!is_orig) mask <<= 16;
  if ((c.hist_seen & mask) == 0) {
    c.hist_seen |= mask;
    add_history(c, role_case(code, is_orig));
    return false;
  }
  return true;
}

void init_endpoint(Side ep, Flags f, std::uint32_t seq, std::uint32_t last_seq) noexcept {
  switch (ep.state) {
    case State::Inactive:
      if (f.syn()) {
        ep->start_seq = ep.ack_seq = seq;
        ep.last_seq = last_seq;
      } else {
        // Picked up mid-way: number as if a SYN had been seen, and do not
        // count this first packet as a retransmission.
        ep->start_seq = ep.ack_seq = seq - 1;
        ep.last_seq = seq;
      }
      break;
    case State::SynSent:
    case State::SynAckSent:
      if (f.syn() && seq != ep->start_seq) {  // SYN_seq_jump
        ep->start_seq = ep.ack_seq = seq;
        ep.last_seq = last_seq;
      }
      break;
    case State::Established:
    case State::Partial:
      if (f.syn()) {  // guess that this SYN is the one that sets the connection up
        ep->start_seq = ep.ack_seq = seq;
        ep.last_seq = last_seq;
      }
      break;
    case State::Reset:
      if (f.syn() && ep->prev_state == State::Inactive) {  // the earlier RST was likely injected
        ep->start_seq = ep.ack_seq = seq;
        ep.last_seq = last_seq;
      }
      break;
    case State::Closed:
      break;
  }
}

void update_history(TcpConn& c, Side ep, bool is_orig, Flags f, std::uint32_t rel_seq,
                    std::uint32_t len) noexcept {
  const int bits_set = int{f.syn()} + int{f.fin()} + int{f.rst()};
  if (bits_set > 1) {
    if (f.fin() && f.rst()) {
      check_history(c, is_orig, kHistFinRst, 'I');
    } else {
      check_history(c, is_orig, kHistMultiFlag, 'Q');
    }
  } else if (bits_set == 1) {
    if (f.syn()) {
      const char code = f.ack() ? 'H' : 'S';
      if (check_history(c, is_orig, kHistSyn, code) && rel_seq != ep->hist_last_syn) {
        add_history(c, role_case(code, is_orig));
      }
      ep->hist_last_syn = rel_seq;
    }
    if (f.fin()) {
      // A FIN's sequence number comes after its data.
      if (check_history(c, is_orig, kHistFin, 'F') && rel_seq + len != ep->hist_last_fin) {
        add_history(c, role_case('F', is_orig));
      }
      ep->hist_last_fin = rel_seq + len;
    }
    if (f.rst()) {
      if (check_history(c, is_orig, kHistRst, 'R') && rel_seq != ep->hist_last_rst) {
        add_history(c, role_case('R', is_orig));
      }
      ep->hist_last_rst = rel_seq;
    }
  } else if (len != 0) {
    check_history(c, is_orig, kHistData, 'D');
  } else if (f.ack()) {
    check_history(c, is_orig, kHistAck, 'A');
  }
}

// Returns the change in the highest sequence number (may be negative).
std::int32_t update_last_seq(TcpConn& c, Side ep, bool is_orig, Flags f, std::uint32_t seq,
                             std::uint32_t last_seq, std::uint32_t len) noexcept {
  const std::int32_t delta_last = seq_delta(last_seq, ep.last_seq);
  if ((f.syn() || f.rst()) && (delta_last > kTooLargeSeqDelta || delta_last < -kTooLargeSeqDelta)) {
    // not trusted
  } else if (f.fin() && ep.last_seq == ep->start_seq + 1) {
    ep.last_seq = last_seq;  // only SYN and FIN seen: trust the FIN (connections over 2 GB)
  } else if (ep.state == State::Reset) {
    // no later sequence number is trusted
  } else if (delta_last > 0) {
    if (len != 0 && seq_delta(seq, ep.last_seq) > 0 && !ep->has_hole) {
      ep->has_hole = 1;  // bytes [last_seq, seq) have not been seen (yet)
      ep->hole_start = ep.last_seq;
      ep->hole_end = seq;
    }
    ep.last_seq = last_seq;
  } else if (len != 0) {
    if (ep->rxmit.hit()) add_history(c, role_case('T', is_orig));
    const bool in_hole = ep->has_hole && seq_delta(seq, ep->hole_start) >= 0 && seq_delta(seq, ep->hole_end) < 0;
    if (in_hole) {
      // A late segment filling a hole: reordering, not a retransmission.
      ++ep->ooo_segments;
      if (seq == ep->hole_start) ep->hole_start = seq + len;
      if (seq + len == ep->hole_end) ep->hole_end = seq;
      if (seq_delta(ep->hole_start, ep->hole_end) >= 0) ep->has_hole = 0;
    } else {
      ++ep->retrans_packets;
      ep->retrans_bytes += len;
    }
  }
  return delta_last;
}

void update_inactive(TcpConn& c, Side ep, Side peer, bool is_orig, Flags f, std::uint32_t seq,
                     std::uint32_t len, std::uint8_t dir, std::uint8_t& initiator_dir, std::uint8_t& changed) noexcept {
  if (f.syn()) {
    if (is_orig) {
      if (!f.ack() && peer.state == State::Established && peer->prev_state == State::Inactive) {
        // The SYN that the peer's SYN-ACK answered, captured after it (our
        // orientation already made the SYN-ACK's receiver the initiator, the
        // mirror of Zeek's SYN/SYN-ACK reversal): established, not an attempt.
        set_state(ep, State::Established);
      } else {
        set_state(ep, f.ack() ? State::SynAckSent : State::SynSent);
      }
    } else {
      if (!f.ack() && peer.state == State::SynAckSent && seq == ep->start_seq) {
        // SYN/SYN-ACK reversal: the side we took for the initiator answered
        // first. Flip the roles and establish.
        initiator_dir = dir;
        changed |= kTcpChangeFlipped;
        add_history(c, '^');
        set_state(peer, State::Established);
      }
      if (peer.state == State::SynSent) set_state(peer, State::Established);
      set_state(ep, State::Established);
    }
  }
  if (f.fin()) set_state(ep, State::Closed);
  if (f.rst()) set_state(ep, State::Reset);
  if (ep.state == State::Inactive) {  // no control flag changed the state
    const Side& orig = peer;   // when !is_orig
    if (!is_orig && len == 0 && orig.state == State::SynSent) {
      // Some stacks ACK a SYN before answering it: not a partial connection.
    } else if (f.ack() && peer.state == State::Established) {
      set_state(ep, State::Established);  // the initial SYN was probably missed
    } else {
      set_state(ep, State::Partial);
    }
  }
}

void update_state_machine(TcpConn& c, Side ep, Side peer, bool is_orig, Flags f, std::uint32_t seq,
                          std::uint32_t len, std::uint8_t dir, std::uint8_t& initiator_dir,
                          std::uint8_t& changed) noexcept {
  switch (ep.state) {
    case State::Inactive:
      update_inactive(c, ep, peer, is_orig, f, seq, len, dir, initiator_dir, changed);
      break;
    case State::SynSent:
    case State::SynAckSent:
      if (f.fin()) set_state(ep, State::Closed);
      if (f.rst()) set_state(ep, State::Reset);
      break;
    case State::Established:
    case State::Partial:
      if (f.syn() && ep.state == State::Partial && peer.state == State::Inactive && !f.ack()) {
        set_state(ep, State::SynSent);  // SYN after partial
      }
      if (f.fin() && !f.rst()) {
        set_state(ep, State::Closed);
        // The peer's FIN then RST was a normal close after all.
        if (peer.state == State::Reset && peer->prev_state == State::Closed) set_state(peer, State::Closed);
      }
      if (f.rst()) set_state(ep, State::Reset);
      break;
    case State::Closed:
      // After a FIN exchange a RST changes nothing.
      if (f.rst() && peer.state != State::Closed) set_state(ep, State::Reset);
      break;
    case State::Reset:
      break;
  }
}

void note_handshake(TcpConn& c, const TcpSegment& s, bool is_orig, Flags f) noexcept {
  if (!c.handshake_watch) return;
  if (f.syn() && !f.ack()) {
    if (is_orig && c.syn_ts_ns == 0) c.syn_ts_ns = s.ts_ns;
  } else if (f.syn() && f.ack()) {
    if (!is_orig && c.syn_ts_ns != 0 && c.synack_ts_ns == 0) c.synack_ts_ns = s.ts_ns;
  } else if (f.ack() && is_orig && c.synack_ts_ns != 0 && !f.rst()) {
    c.ack_ts_ns = s.ts_ns;
  }
  // Done when the ACK came, or when data flows without a SYN seen first
  // (picked up mid-way: there is no handshake to time).
  if (c.ack_ts_ns != 0 || (c.syn_ts_ns == 0 && !f.syn())) c.handshake_watch = 0;
}

// The segment every established connection is mostly made of: in order, ACK
// only (maybe PSH/URG/ECN bits), an open window, its history letter already
// written, nothing acked beyond what the peer sent, no handshake left to
// time. Every step of the full update would then only move last_seq and
// ack_seq, so do just that, touching TcpConn's first line only.
// Established, or picked up mid-way: flag-less segments change neither state.
bool past_handshake(State s) noexcept { return s == State::Established || s == State::Partial; }

bool fast_path(TcpConn& c, const TcpSegment& s, unsigned d, bool is_orig) noexcept {
  const unsigned p = d ^ 1U;
  const std::uint32_t letter = (s.payload_len != 0 ? kHistData : kHistAck) << (is_orig ? 0 : 16);
  if ((s.flags & (tcpflag::kSyn | tcpflag::kFin | tcpflag::kRst | tcpflag::kAck)) != tcpflag::kAck ||
      s.window == 0 || !past_handshake(c.state[d]) || !past_handshake(c.state[p]) ||
      s.seq != c.last_seq[d] || (c.hist_seen & letter) == 0 || c.handshake_watch ||
      seq_delta(s.ack, c.last_seq[p]) > 0) {
    return false;
  }
  const std::int32_t delta_ack = seq_delta(s.ack, c.ack_seq[p]);
  if (delta_ack > 0 && !(s.ack == 0 && delta_ack > kTooLargeSeqDelta)) c.ack_seq[p] = s.ack;
  c.last_seq[d] = s.seq + s.payload_len;
  return true;
}

}  // namespace

bool ScaledCount::hit() noexcept {
  if (++count != threshold) return false;
  const std::uint64_t next = std::uint64_t{threshold} * 10;
  if (next > UINT32_MAX) {
    count = 0;  // Zeek: on wrap-around, reset the count and keep the threshold
  } else {
    threshold = static_cast<std::uint32_t>(next);
  }
  return true;
}

std::string_view conn_state_name(ConnState s) noexcept {
  switch (s) {
#define SF_X(name) \
  case ConnState::name: return #name;
    SF_CONN_STATES(SF_X)
#undef SF_X
    case ConnState::kCount: break;
  }
  return "OTH";
}

std::string_view direction_reason_name(DirectionReason r) noexcept {
  switch (r) {
#define SF_X(name) \
  case DirectionReason::name: return #name;
    SF_DIRECTION_REASONS(SF_X)
#undef SF_X
    case DirectionReason::kCount: break;
  }
  return "first_packet";
}

void tcp_conn_start(TcpConn& c, const TcpSegment& first, std::uint8_t& initiator_dir, bool oriented) noexcept {
  c = TcpConn{};
  const std::uint8_t sa = first.flags & (tcpflag::kSyn | tcpflag::kAck);
  if (oriented) {
    c.direction_reason = DirectionReason::first_packet;
  } else if (sa == tcpflag::kSyn) {
    c.direction_reason = DirectionReason::syn;
    initiator_dir = first.dir;
  } else if (sa == (tcpflag::kSyn | tcpflag::kAck)) {
    c.direction_reason = DirectionReason::synack;
    initiator_dir = static_cast<std::uint8_t>(first.dir ^ 1U);
  } else {
    c.direction_reason = DirectionReason::first_packet;
    initiator_dir = first.dir;
  }
}

std::uint8_t tcp_conn_update(TcpConn& c, const TcpSegment& s, std::uint8_t& initiator_dir) noexcept {
  const Flags f{s.flags};
  const std::uint8_t d = s.dir & 1U;
  const bool is_orig = d == initiator_dir;
  if (fast_path(c, s, d, is_orig)) return 0;
  Side ep = side(c, d);
  Side peer = side(c, d ^ 1U);
  std::uint8_t changed = 0;

  // Sequence space this segment takes: SYN and FIN one each; a RST's data is not part of the stream.
  std::uint32_t seg_len = s.payload_len + f.syn() + f.fin();
  if (f.rst()) seg_len -= s.payload_len;
  const std::uint32_t seq_one_past = s.seq + seg_len;

  init_endpoint(ep, f, s.seq, seq_one_past);
  update_history(c, ep, is_orig, f, s.seq - ep->start_seq, s.payload_len);

  // Zero windows are boring with or after a RST, or once the peer has sent a FIN.
  if (s.window == 0 && !f.rst() && peer.state != State::Closed && ep.state != State::Reset) {
    ++ep->zero_windows;
    if (ep->zero_window.hit()) add_history(c, role_case('W', is_orig));
  }
  if (f.fin() && ep->fin_count != UINT8_MAX) ++ep->fin_count;

  bool ack_tracked = false;
  if (f.ack()) {
    if (peer.state == State::Inactive) {
      // Number the peer's space as if its SYN had been seen.
      peer->start_seq = peer.ack_seq = peer.last_seq = s.ack - 1;
    } else {
      ack_tracked = true;
      const std::int32_t delta_ack = seq_delta(s.ack, peer.ack_seq);
      if (f.rst() || (s.ack == 0 && delta_ack > kTooLargeSeqDelta)) {
        // ACKs in RSTs, and a jump to 0, are not trusted
      } else if (delta_ack > 0) {
        peer.ack_seq = s.ack;
      }
    }
  }

  const std::int32_t delta_last = update_last_seq(c, ep, is_orig, f, s.seq, seq_one_past, s.payload_len);
  (void)delta_last;
  update_state_machine(c, ep, peer, is_orig, f, s.seq, s.payload_len, d, initiator_dir, changed);

  // An ACK beyond everything the peer was seen to send: a content gap in the
  // peer's stream (not flagged on FIN/RST, where such ACKs are unreliable).
  if (ack_tracked && !f.fin() && !f.rst() && seq_delta(s.ack, peer.last_seq) > 0 &&
      (!peer->gap_flagged || seq_delta(s.ack, peer->gap_edge) > 0)) {
    peer->gap_edge = s.ack;
    peer->gap_flagged = 1;
    const bool peer_is_orig = (d ^ 1U) == initiator_dir;
    if (peer->gaps.hit()) add_history(c, role_case('G', peer_is_orig));
  }

  note_handshake(c, s, d == initiator_dir, f);
  return changed;
}

bool tcp_conn_established(const TcpConn& c) noexcept {
  auto done = [](State s) { return s == State::Established || s == State::Closed; };
  return done(c.state[0]) && done(c.state[1]);
}

std::uint64_t tcp_endpoint_size(const TcpConn& conn, unsigned d) noexcept {
  TcpConn& c = const_cast<TcpConn&>(conn);  // a read-only use of the side views
  const Side ep = side(c, d & 1U);
  const Side peer = side(c, (d & 1U) ^ 1U);
  const bool no_data_acked = ep.ack_seq == ep->start_seq || ep.ack_seq == ep->start_seq + 1;
  if (ep->prev_state == State::SynSent && ep.state == State::Reset && peer.state == State::Inactive &&
      !no_data_acked) {
    return 0;  // a half-open connection found and aborted: its sequence numbers say nothing
  }
  const std::uint32_t by_seq = ep.last_seq - ep->start_seq;
  const std::uint32_t by_ack = ep.ack_seq - ep->start_seq;
  std::uint64_t size = seq_delta(ep.last_seq, ep.ack_seq) > 0 ? by_seq : by_ack;
  if (size != 0) --size;                        // the SYN's octet
  if (ep->fin_count != 0 && size != 0) --size;   // the FIN's
  return size;
}

namespace {

// Zeek: /\^?S[^HAFGIQ]*R.*/ == history (a whole-string match).
bool history_is_syn_then_rst(const TcpConn& c) noexcept {
  unsigned i = 0;
  if (i < c.history_len && c.history[i] == '^') ++i;
  if (i >= c.history_len || c.history[i] != 'S') return false;
  for (++i; i < c.history_len; ++i) {
    const char h = c.history[i];
    if (h == 'R') return true;
    if (h == 'H' || h == 'A' || h == 'F' || h == 'G' || h == 'I' || h == 'Q') return false;
  }
  return false;
}

}  // namespace

ConnState tcp_conn_state(const TcpConn& c, std::uint8_t initiator_dir) noexcept {
  const unsigned o = initiator_dir & 1U;
  const unsigned r = o ^ 1U;
  const State os = c.state[o];
  const State rs = c.state[r];
  const bool o_inactive = os == State::Inactive || os == State::Partial;
  const bool r_inactive = rs == State::Inactive || rs == State::Partial;
  if (rs == State::Reset) {
    if (os == State::SynSent || os == State::SynAckSent ||
        (os == State::Reset && tcp_endpoint_size(c, o) == 0 && tcp_endpoint_size(c, r) == 0)) {
      return ConnState::REJ;
    }
    return o_inactive ? ConnState::RSTRH : ConnState::RSTR;
  }
  if (os == State::Reset) {
    if (r_inactive) return history_is_syn_then_rst(c) ? ConnState::RSTOS0 : ConnState::OTH;
    return ConnState::RSTO;
  }
  if (rs == State::Closed && os == State::Closed) return ConnState::SF;
  if (os == State::Closed) return r_inactive ? ConnState::SH : ConnState::S2;
  if (rs == State::Closed) return o_inactive ? ConnState::SHR : ConnState::S3;
  if (os == State::SynSent && rs == State::Inactive) return ConnState::S0;
  if (os == State::Established && rs == State::Established) return ConnState::S1;
  return ConnState::OTH;
}

HandshakeRtt tcp_handshake_rtt(const TcpConn& c) noexcept {
  HandshakeRtt rtt;
  if (c.synack_ts_ns >= c.syn_ts_ns && c.synack_ts_ns != 0 && c.ack_ts_ns >= c.synack_ts_ns && c.ack_ts_ns != 0) {
    // Both halves or neither: a handshake with one half missing has no RTT.
    rtt.seen = true;
    rtt.synack_us = (c.synack_ts_ns - c.syn_ts_ns) / 1000;
    rtt.ack_us = (c.ack_ts_ns - c.synack_ts_ns) / 1000;
  }
  return rtt;
}

}  // namespace sf
