#include "flow/flow_tracker.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include <rte_prefetch.h>

#include "common/compiler.hpp"

namespace sf {

namespace {

constexpr std::uint64_t kNsPerMs = 1000000ULL;

std::uint32_t wheel_slots(const FlowTimeouts& t) {
  const std::uint64_t longest =
      std::max({t.tcp_idle_ns, t.udp_idle_ns, t.icmp_idle_ns, t.other_idle_ns, t.tcp_closed_ns, t.tcp_establish_ns});
  const std::uint64_t ticks = longest / t.tick_ns + 2;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(ticks, 1U << 20));
}

bool is_pure_syn(std::uint8_t flags) noexcept {
  return (flags & (tcpflag::kSyn | tcpflag::kAck)) == tcpflag::kSyn;
}

// Why a flow that outlived its timeout ends. tcp_bits stay 0 for non-TCP flows.
EndReason timeout_end_reason(const FlowRecord& r) noexcept {
  return tcp_closed(r.tcp_bits) ? EndReason::tcp_close : EndReason::idle;
}

void fill_tcp_record(const TcpConn& c, std::uint8_t initiator_dir, FlowEvent& ev) noexcept {
  ev.conn_state = tcp_conn_state(c, initiator_dir);
  ev.direction_reason = c.direction_reason;
  TcpRecord& t = ev.tcp;
  t.bits = kTcpRecordState;
  for (unsigned d = 0; d < 2; ++d) {
    const TcpEndpoint& ep = c.ep[d];
    t.retrans_packets[d] = ep.retrans_packets;
    t.retrans_bytes[d] = ep.retrans_bytes;
    t.ooo_segments[d] = ep.ooo_segments;
    t.zero_windows[d] = ep.zero_windows;
  }
  const HandshakeRtt rtt = tcp_handshake_rtt(c);
  if (rtt.seen) {
    t.bits |= kTcpRecordRtt;
    t.rtt_synack_us = static_cast<std::uint32_t>(std::min<std::uint64_t>(rtt.synack_us, UINT32_MAX));
    t.rtt_ack_us = static_cast<std::uint32_t>(std::min<std::uint64_t>(rtt.ack_us, UINT32_MAX));
  }
  std::memcpy(t.history, c.history, c.history_len);
  t.history_len = c.history_len;
  if (c.history_truncated) t.bits |= kTcpRecordTruncated;
}

// Zeek's conn_state for flows without TCP state: both sides seen is SF, only
// the initiator S0 (the initiator sent the first packet, so it always has one).
void fill_stateless_record(FlowEvent& ev) noexcept {
  const unsigned s = ev.initiator_dir;
  const bool orig = ev.packets[s] != 0;
  const bool resp = ev.packets[s ^ 1U] != 0;
  ev.conn_state = orig ? (resp ? ConnState::SF : ConnState::S0) : (resp ? ConnState::SHR : ConnState::OTH);
  ev.direction_reason = DirectionReason::first_packet;
}

}  // namespace

std::string_view end_reason_name(EndReason r) noexcept {
  switch (r) {
#define SF_X(name) \
  case EndReason::name: return #name;
    SF_END_REASONS(SF_X)
#undef SF_X
    case EndReason::kCount: break;
  }
  return "unknown";
}

FlowTimeouts FlowTimeouts::from_config(const TimeoutConfig& c) noexcept {
  FlowTimeouts t{};
  t.tcp_idle_ns = c.tcp_idle_ms * kNsPerMs;
  t.udp_idle_ns = c.udp_idle_ms * kNsPerMs;
  t.icmp_idle_ns = c.icmp_idle_ms * kNsPerMs;
  t.other_idle_ns = c.other_idle_ms * kNsPerMs;
  t.tcp_closed_ns = c.tcp_closed_ms * kNsPerMs;
  t.tcp_establish_ns = c.tcp_establish_ms * kNsPerMs;
  t.active_ns = c.active_ms * kNsPerMs;
  t.tick_ns = std::max<std::uint64_t>(c.tick_ms, 1) * kNsPerMs;
  return t;
}

FlowTracker::FlowTracker(std::unique_ptr<FlowTable> table, const FlowTimeouts& timeouts, OnTableFull on_full,
                         std::uint16_t worker_id, EventSink& sink, WorkerCounters& counters)
    : table_(std::move(table)),
      wheel_(table_->capacity(), wheel_slots(timeouts), timeouts.tick_ns),
      timeouts_(timeouts),
      on_full_(on_full),
      worker_id_(worker_id),
      sink_(sink),
      counters_(counters) {}

std::uint64_t FlowTracker::idle_timeout(const FlowRecord& r) const noexcept {
  if (r.proto == ipproto::kTcp) {
    if (tcp_closed(r.tcp_bits)) return timeouts_.tcp_closed_ns;
    return (r.tcp_bits & (kTcpOpening | kTcpEstablished)) == kTcpOpening ? timeouts_.tcp_establish_ns
                                                                          : timeouts_.tcp_idle_ns;
  }
  if (r.proto == ipproto::kUdp) return timeouts_.udp_idle_ns;
  if (r.proto == ipproto::kIcmp || r.proto == ipproto::kIcmpv6) return timeouts_.icmp_idle_ns;
  return timeouts_.other_idle_ns;
}

void FlowTracker::process_burst(const PacketMeta* const* metas, std::uint32_t n) noexcept {
  const FlowKey* keys[FlowTable::kLookupBulkMax];
  std::uint32_t hashes[FlowTable::kLookupBulkMax];
  std::int32_t positions[FlowTable::kLookupBulkMax];

  for (std::uint32_t base = 0; base < n; base += FlowTable::kLookupBulkMax) {
    const std::uint32_t chunk = std::min(n - base, FlowTable::kLookupBulkMax);
    for (std::uint32_t i = 0; i < chunk; ++i) {
      keys[i] = &metas[base + i]->key;
      hashes[i] = metas[base + i]->hash;
    }
    table_->lookup_bulk(keys, hashes, chunk, positions);
    // The hot line (FlowRecord's first: all an established flow's packet
    // touches) and, for TCP, the first line of its connection state (all an
    // in-order segment of an established connection needs), kPrefetchAhead
    // packets ahead: a whole chunk at once would overrun the core's line fill
    // buffers and drop most of the requests.
    auto prefetch = [&](std::uint32_t i) {
      if (positions[i] < 0) return;
      const auto pos = static_cast<std::uint32_t>(positions[i]);
      rte_prefetch0(&table_->record(pos));
      if (keys[i]->proto == ipproto::kTcp) {
        rte_prefetch0(&table_->tcp(pos));
        if (reasm_ != nullptr) {  // the flow's two stream states: the next two lines
          const auto* ss = reinterpret_cast<const char*>(table_->streams(pos));
          rte_prefetch0(ss);
          rte_prefetch0(ss + 64);
        }
      }
    };
    for (std::uint32_t i = 0; i < chunk && i < kPrefetchAhead; ++i) prefetch(i);
    table_changed_ = false;
    for (std::uint32_t i = 0; i < chunk; ++i) {
      if (i + kPrefetchAhead < chunk) prefetch(i + kPrefetchAhead);
      const PacketMeta& m = *metas[base + i];
      std::int32_t pos = positions[i];
      const bool fresh = !table_changed_;
      if (SF_UNLIKELY(table_changed_)) {
        // An earlier packet of this chunk created, ended or evicted a flow:
        // the bulk result may be stale.
        const bool still_valid = pos >= 0 && table_->record(static_cast<std::uint32_t>(pos)).in_use &&
                                 table_->record(static_cast<std::uint32_t>(pos)).key == m.key;
        if (!still_valid) {
          counters_.stale_lookups.inc();
          pos = table_->lookup(m.key, m.hash);
        }
      }
      // A miss in a fresh bulk result needs no second look before the insert.
      process_one(m, pos, fresh && pos < 0);
      done_through_ = m.packet_id;
    }
  }
  flush_events();
  if (gate_ != nullptr) gate_->publish(done_through_);
  counters_.packets.add(n);
  counters_.active_flows.set(table_->size());
}

void FlowTracker::process_one(const PacketMeta& m, std::int32_t pos, bool known_absent) noexcept {
  // Timeouts run on the input clock (the newest timestamp RX had read when
  // this packet came), not on the packet's own time: a capture whose
  // timestamps go back would otherwise expire flows differently depending
  // on which other flows share the worker.
  const std::uint64_t clock = m.clock_ns > m.ts_ns ? m.clock_ns : m.ts_ns;
  if (SF_UNLIKELY(!clock_started_)) {
    clock_started_ = true;
    now_ns_ = clock;
    wheel_.start(clock);
  }
  if (clock > now_ns_) now_ns_ = clock;

  std::uint32_t generation = 1;
  if (pos >= 0) {
    FlowRecord& r = table_->record(static_cast<std::uint32_t>(pos));
    const bool is_tcp = r.proto == ipproto::kTcp;
    if (clock > r.last_ts_ns && clock - r.last_ts_ns > idle_timeout(r)) {
      // Timed out by the clock of this very packet: the wheel may not have run yet.
      end_flow(static_cast<std::uint32_t>(pos), timeout_end_reason(r));
      pos = -1;
      known_absent = true;
    } else if (is_tcp && is_pure_syn(m.tcp_flags) && tcp_closed(r.tcp_bits) &&
               !((r.tcp_bits & kTcpSynSeen) && r.syn_isn == m.tcp_seq)) {
      // A new connection on a closed tuple (a new ISN): a new generation.
      generation = r.generation + 1;
      end_flow(static_cast<std::uint32_t>(pos), EndReason::tcp_close);
      pos = -1;
      known_absent = true;
    } else if (SF_UNLIKELY(m.ts_ns >= r.active_deadline_ns)) {  // never, with active timeouts off
      emit_record(static_cast<std::uint32_t>(pos), EndReason::active);
      if (r.tcp_bits & kTcpStateStarted) {
        for (TcpEndpoint& ep : table_->tcp(static_cast<std::uint32_t>(pos)).ep) {
          ep.retrans_packets = ep.ooo_segments = ep.zero_windows = 0;
          ep.retrans_bytes = 0;
        }
      }
      r.packets[0] = r.packets[1] = 0;
      r.bytes[0] = r.bytes[1] = 0;
      r.tcp_flags[0] = r.tcp_flags[1] = 0;
      r.first_ts_ns = m.ts_ns;  // this packet opens the next interval
      const std::uint64_t periods = (m.ts_ns - r.active_deadline_ns) / timeouts_.active_ns + 1;
      r.active_deadline_ns += periods * timeouts_.active_ns;
    }
  }
  if (pos < 0) {
    pos = create_flow(m, generation, known_absent);
    if (pos < 0) return;  // counted as table_full
  }

  const std::uint32_t idx = static_cast<std::uint32_t>(pos);
  FlowRecord& r = table_->record(idx);
  const std::uint8_t d = m.dir;
  r.packets[d] += 1;
  r.bytes[d] += m.ip_bytes;
  if (m.ts_ns > r.last_ts_ns) r.last_ts_ns = m.ts_ns;
  // UDP metadata: the flow's first payload decides whether it is DNS/SSDP;
  // a flow that is neither costs nothing after that.
  if (r.proto == ipproto::kUdp && app_ != nullptr && m.payload_caplen != 0 && r.app_state != AppTracker::kUdpDone) {
    r.app_state = app_->on_udp(idx, r.key, d, std::span<const std::uint8_t>(m.payload, m.payload_caplen), m.ts_ns,
                               r.app_state);
  }
  if (r.proto == ipproto::kTcp && m.has_l4) {
    r.tcp_flags[d] |= m.tcp_flags;
    const std::uint8_t before = r.tcp_bits;
    if (is_pure_syn(m.tcp_flags) && !(r.tcp_bits & kTcpSynSeen)) {
      r.tcp_bits |= kTcpSynSeen;
      r.syn_isn = m.tcp_seq;
    }
    if ((m.tcp_flags & (tcpflag::kSyn | tcpflag::kAck)) == (tcpflag::kSyn | tcpflag::kAck) && tcp_closed(r.tcp_bits)) {
      // A SYN-ACK after the close: the same connection (same ISN, or it would
      // be a new generation) is being set up again, e.g. SYN, RST, SYN again.
      // It is open again, not lingering.
      r.tcp_bits = static_cast<std::uint8_t>(r.tcp_bits & ~(kTcpRst | kTcpFinLo | kTcpFinHi));
    }
    if (m.tcp_flags & tcpflag::kFin) r.tcp_bits |= d == kDirLoToHi ? kTcpFinLo : kTcpFinHi;
    if (m.tcp_flags & tcpflag::kRst) r.tcp_bits |= kTcpRst;
    // The handshake is done (the establish timeout no longer applies) once
    // the responder's SYN-ACK answered a SYN, or the initiator acked it. A
    // deliberately simple rule, not Zeek's endpoint states: a connection
    // that was refused and then retried (SYN, RST, SYN, SYN-ACK) is
    // established for the timers even though conn_state says REJ.
    const bool from_initiator = d == r.initiator_dir;
    const std::uint8_t sa = m.tcp_flags & (tcpflag::kSyn | tcpflag::kAck);
    if (!from_initiator && sa == (tcpflag::kSyn | tcpflag::kAck)) r.tcp_bits |= kTcpSynAckSeen;
    if ((r.tcp_bits & kTcpSynAckSeen) && ((r.tcp_bits & kTcpSynSeen) || (from_initiator && (sa & tcpflag::kAck)))) {
      r.tcp_bits |= kTcpEstablished;
    }
    track_tcp(idx, r, m);
    // Closing shortens the timeout: move the timer forward (the lazy wheel
    // only ever finds deadlines that moved later).
    if (!tcp_closed(before) && tcp_closed(r.tcp_bits)) wheel_.schedule(idx, r.last_ts_ns + timeouts_.tcp_closed_ns);
  }
}

void FlowTracker::track_tcp(std::uint32_t idx, FlowRecord& r, const PacketMeta& m) noexcept {
  TcpSegment seg;
  seg.ts_ns = m.ts_ns;
  seg.seq = m.tcp_seq;
  seg.ack = m.tcp_ack;
  seg.payload_len = m.payload_len;
  seg.window = m.tcp_window;
  seg.flags = m.tcp_flags;
  seg.dir = m.dir;
  TcpConn& c = table_->tcp(idx);
  if (SF_UNLIKELY(!(r.tcp_bits & kTcpStateStarted))) {
    // Oriented already when an earlier packet (a later fragment) had no TCP header.
    tcp_conn_start(c, seg, r.initiator_dir, r.packets[0] + r.packets[1] > 1);
    r.tcp_bits |= kTcpStateStarted;
  }
  tcp_conn_update(c, seg, r.initiator_dir);
  if (reasm_ != nullptr) reassemble(idx, r, m);
}

namespace {

// flow_id is on the record's cold line: read only when someone will see it
// (a consumer), so reassembly without consumers stays on the hot line.
StreamContext stream_context(const FlowRecord& r, std::uint32_t slot, std::uint8_t dir, bool consumers = true) noexcept {
  return StreamContext{&r.key, consumers ? r.flow_id : 0, r.generation, dir, r.initiator_dir, slot};
}

StreamEnd stream_end(EndReason reason, std::uint8_t tcp_bits) noexcept {
  switch (reason) {
    case EndReason::idle: return StreamEnd::timeout;
    case EndReason::tcp_close: return (tcp_bits & kTcpRst) ? StreamEnd::rst : StreamEnd::fin;
    case EndReason::evicted: return StreamEnd::evicted;
    case EndReason::shutdown: return StreamEnd::shutdown;
    case EndReason::eof:
    case EndReason::active:
    case EndReason::kCount: break;
  }
  return StreamEnd::eof;
}

}  // namespace

void FlowTracker::reassemble(std::uint32_t idx, const FlowRecord& r, const PacketMeta& m) noexcept {
  StreamState* ss = table_->streams(idx);  // reset with the rest of the TcpConn by tcp_conn_start
  const std::uint8_t d = m.dir & 1U;
  if (SF_UNLIKELY(m.tcp_flags & tcpflag::kRst)) {
    // An abort ends both directions; what is buffered is delivered after its gaps.
    reasm_->end(ss[d], stream_context(r, idx, d), StreamEnd::rst);
    reasm_->end(ss[d ^ 1U], stream_context(r, idx, static_cast<std::uint8_t>(d ^ 1U)), StreamEnd::rst);
    return;
  }
  if (SF_UNLIKELY(m.tcp_flags & tcpflag::kSyn)) {
    // A SYN on the same ISN after a rejected attempt (SYN, RST, SYN again):
    // the connection is starting over. Streams that ended before carrying a
    // byte start again with it.
    for (unsigned i = 0; i < 2; ++i) {
      if (ss[i].ended() && ss[i].next_offset == 0) ss[i] = StreamState{};
    }
  }
  if (app_ != nullptr) app_->set_now(m.ts_ns);
  // The flow id (the record's second line) only for a direction someone still reads.
  reasm_->segment(ss[d], ss[d ^ 1U], stream_context(r, idx, d, reasm_->wanted(ss[d])), m.tcp_seq, m.tcp_flags,
                  std::span<const std::uint8_t>(m.payload, m.payload_caplen), m.ts_ns);
  reasm_->flush_aged(ss[0], stream_context(r, idx, 0, reasm_->wanted(ss[0])), m.ts_ns);
  reasm_->flush_aged(ss[1], stream_context(r, idx, 1, reasm_->wanted(ss[1])), m.ts_ns);
}

void FlowTracker::end_streams(std::uint32_t idx, EndReason reason) noexcept {
  const FlowRecord& r = table_->record(idx);
  StreamState* ss = table_->streams(idx);
  const StreamEnd why = stream_end(reason, r.tcp_bits);
  reasm_->end(ss[0], stream_context(r, idx, 0), why);
  reasm_->end(ss[1], stream_context(r, idx, 1), why);
}

std::int32_t FlowTracker::create_flow(const PacketMeta& m, std::uint32_t generation, bool known_absent) noexcept {
  std::int32_t pos = known_absent ? table_->insert_absent(m.key, m.hash) : table_->insert(m.key, m.hash);
  if (pos == -ENOSPC) {
    counters_.table_full_events.inc();
    if (on_full_ == OnTableFull::Evict && make_room()) pos = table_->insert_absent(m.key, m.hash);
  }
  if (pos < 0) {
    counters_.table_full.inc();
    return -1;
  }
  table_changed_ = true;
  const std::uint32_t idx = static_cast<std::uint32_t>(pos);
  FlowRecord& r = table_->record(idx);
  r = FlowRecord{};
  r.key = m.key;
  r.flow_id = m.packet_id;
  r.generation = generation;
  r.in_use = 1;
  r.proto = m.key.proto;
  // A flow first seen by its SYN-ACK was initiated by the SYN-ACK's receiver.
  const bool synack = m.key.proto == ipproto::kTcp && m.has_l4 &&
                      (m.tcp_flags & (tcpflag::kSyn | tcpflag::kAck)) == (tcpflag::kSyn | tcpflag::kAck);
  r.initiator_dir = synack ? static_cast<std::uint8_t>(m.dir ^ 1U) : m.dir;
  // A handshake starts: until it completes, the short establish timeout applies.
  if (m.key.proto == ipproto::kTcp && m.has_l4 && (m.tcp_flags & tcpflag::kSyn)) r.tcp_bits |= kTcpOpening;
  r.icmp_type = m.icmp_type;
  // Off: a deadline no timestamp reaches, so the packet path needs no branch on the config.
  r.active_deadline_ns = timeouts_.active_ns != 0 ? m.ts_ns + timeouts_.active_ns : kNoActiveDeadline;
  r.first_ts_ns = m.ts_ns;
  r.last_ts_ns = m.ts_ns;
  wheel_.schedule(idx, m.ts_ns + idle_timeout(r));
  counters_.flows_created.inc();
  return pos;
}

void FlowTracker::emit_record(std::uint32_t pos, EndReason reason) noexcept {
  const FlowRecord& r = table_->record(pos);
  FlowEvent& ev = *new (pending_[n_pending_].bytes) FlowEvent{};
  ev.key = r.key;
  ev.flow_id = r.flow_id;
  ev.first_ts_ns = r.first_ts_ns;
  ev.last_ts_ns = r.last_ts_ns;
  ev.packets[0] = r.packets[0];
  ev.packets[1] = r.packets[1];
  ev.bytes[0] = r.bytes[0];
  ev.bytes[1] = r.bytes[1];
  ev.generation = r.generation;
  ev.tcp_flags[0] = r.tcp_flags[0];
  ev.tcp_flags[1] = r.tcp_flags[1];
  ev.initiator_dir = r.initiator_dir;
  ev.icmp_type = r.icmp_type;
  ev.end_reason = reason;
  ev.worker = worker_id_;
  ev.seq = ++seq_;
  if (r.tcp_bits & kTcpStateStarted) {
    fill_tcp_record(table_->tcp(pos), r.initiator_dir, ev);
    if (reasm_ != nullptr) {
      const StreamState* ss = table_->streams(pos);
      for (unsigned d = 0; d < 2; ++d) {
        ev.tcp.missed_bytes[d] = ss[d].missed_bytes;
        ev.tcp.overlap_conflict_bytes[d] = ss[d].overlap_conflict_bytes;
      }
    }
  } else {
    fill_stateless_record(ev);
  }
  // The metadata goes with the record; an interim (active timeout) record
  // carries a copy and the flow keeps its slot.
  std::uint32_t slots = 1;
  if (app_ != nullptr && app_->export_record(pos, pending_[n_pending_ + 1].bytes, reason != EndReason::active)) {
    ev.app_slots = kAppRecordSlots;
    slots += kAppRecordSlots;
  }
  n_pending_ += slots;
  ++n_pending_events_;
  counters_.records[static_cast<unsigned>(reason)].inc();
  if (n_pending_events_ == kEventBatch) flush_events();
}

void FlowTracker::flush_events() noexcept {
  if (n_pending_ == 0) return;
  if (gate_ != nullptr) {
    std::uint64_t newest = 0;  // the latest-starting flow among them
    for (std::uint32_t i = 0; i < n_pending_; i += event_slots(pending_[i])) {
      newest = std::max(newest, event_at(pending_[i]).flow_id);
    }
    gate_->publish(done_through_);  // before waiting: others may be waiting for us
    gate_->wait_for_others(newest);
  }
  const std::uint32_t queued = sink_.emit_burst(pending_, n_pending_);
  std::uint64_t pkts[2] = {0, 0};     // [queued, refused]
  std::uint32_t records[2] = {0, 0};
  for (std::uint32_t i = 0; i < n_pending_; i += event_slots(pending_[i])) {
    const FlowEvent& ev = event_at(pending_[i]);
    pkts[i >= queued] += ev.packets[0] + ev.packets[1];
    ++records[i >= queued];
  }
  counters_.packets_exported.add(pkts[0]);
  if (SF_UNLIKELY(records[1] != 0)) {
    counters_.export_dropped_records.add(records[1]);
    counters_.export_dropped_packets.add(pkts[1]);
  }
  n_pending_ = 0;
  n_pending_events_ = 0;
}

// The table is full: end the flow nearest its idle deadline (what the timer
// wheel would end first), so eviction costs the packet path nothing. A flow
// already past its deadline ends as a timeout, as the next tick would have.
bool FlowTracker::make_room() noexcept {
  for (;;) {
    const std::uint32_t idx = wheel_.first_scheduled();
    if (idx == TimerWheel::kNil) return false;
    const FlowRecord& r = table_->record(idx);
    const std::uint64_t deadline = r.last_ts_ns + idle_timeout(r);
    if (now_ns_ > deadline) {
      end_flow(idx, timeout_end_reason(r));
      return true;
    }
    if (wheel_.in_slot_for(idx, deadline)) {
      end_flow(idx, EndReason::evicted);
      return true;
    }
    wheel_.schedule(idx, deadline);  // lazy re-arm: it has been active since
  }
}

void FlowTracker::end_flow(std::uint32_t pos, EndReason reason) noexcept {
  end_flow(pos, reason, flow_hash(table_->record(pos).key, table_->seed()));
}

void FlowTracker::end_flow(std::uint32_t pos, EndReason reason, std::uint32_t hash) noexcept {
  // Streams first: their last bytes, gaps and ends go to the consumers, and
  // the record gets the final missed and conflicting byte counts.
  if (reasm_ != nullptr && (table_->record(pos).tcp_bits & kTcpStateStarted)) end_streams(pos, reason);
  emit_record(pos, reason);
  wheel_.cancel(pos);
  table_->remove(pos, hash);
  table_changed_ = true;
}

// Timers fire in batches: the wheel names them, then the batch's records,
// their hash buckets and key slots are fetched together (one bulk lookup
// warms what each delete will touch), instead of three dependent misses per
// expired flow.
void FlowTracker::expire_batch(const std::uint32_t* due, std::uint32_t n) noexcept {
  std::uint32_t ending[kExpiryBatch];
  const FlowKey* keys[kExpiryBatch];
  std::uint32_t hashes[kExpiryBatch];
  std::int32_t positions[kExpiryBatch];
  std::uint32_t m = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const FlowRecord& r = table_->record(due[i]);
    const std::uint64_t deadline = r.last_ts_ns + idle_timeout(r);
    if (now_ns_ > deadline) {
      rte_prefetch0(&r.key);
      ending[m++] = due[i];
    } else {
      wheel_.schedule(due[i], deadline);  // active since it was set: lazy re-arm
    }
  }
  if (m == 0) return;
  for (std::uint32_t i = 0; i < m; ++i) {
    keys[i] = &table_->record(ending[i]).key;
    hashes[i] = flow_hash(*keys[i], table_->seed());
  }
  table_->lookup_bulk(keys, hashes, m, positions);
  for (std::uint32_t i = 0; i < m; ++i) end_flow(ending[i], timeout_end_reason(table_->record(ending[i])), hashes[i]);
}

void FlowTracker::advance_clock(std::uint64_t now_ns) noexcept {
  if (!clock_started_) return;  // no flows yet
  if (now_ns > now_ns_) now_ns_ = now_ns;
  std::uint32_t due[kExpiryBatch] = {};  // zeroed: GCC cannot see that only n entries are read
  std::uint32_t n = 0;
  const std::uint32_t fired = wheel_.advance(now_ns_, [&](std::uint32_t pos) {
    rte_prefetch0(&table_->record(pos));
    due[n++] = pos;
    if (n == kExpiryBatch) {
      expire_batch(due, n);
      n = 0;
    }
  });
  if (n != 0) expire_batch(due, n);
  flush_events();
  if (fired != 0) {
    counters_.timers_fired.add(fired);
    counters_.active_flows.set(table_->size());
  }
}

void FlowTracker::finish(std::uint64_t now_ns, EndReason reason) noexcept {
  advance_clock(now_ns);
  for (std::uint32_t pos = 0; pos < table_->capacity() && table_->size() > 0; ++pos) {
    const FlowRecord& r = table_->record(pos);
    if (!r.in_use) continue;
    // The wheel fires whole ticks only: a deadline inside the last tick has
    // still passed, and the flow ended by timeout, not by end of input.
    // A closed connection ends as tcp_close either way.
    const bool timed_out = now_ns_ > r.last_ts_ns + idle_timeout(r);
    end_flow(pos, timed_out || tcp_closed(r.tcp_bits) ? timeout_end_reason(r) : reason);
  }
  flush_events();
  counters_.active_flows.set(0);
}

}  // namespace sf
