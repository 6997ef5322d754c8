#include "tcp/reassembler.hpp"

#include <algorithm>

#include "packet/parsed_packet.hpp"

namespace sf {

namespace {

ReassemblyConfig sanitized(ReassemblyConfig c) noexcept {
  if (c.page_size_bytes == 0) c.page_size_bytes = ReassemblyConfig{}.page_size_bytes;
  c.page_size_bytes = std::min(c.page_size_bytes, 1U << 20);
  return c;
}

}  // namespace

Reassembler::Reassembler(const ReassemblyConfig& config, ReassemblyCounters& counters)
    : config_(sanitized(config)),
      counters_(counters),
      store_(config_.page_size_bytes, config_.pages_per_worker, counters),
      flush_after_ns_(static_cast<std::uint64_t>(config_.flush_after_ms) * 1000000) {}

bool Reassembler::add_consumer(StreamConsumer* consumer) noexcept {
  if (consumer == nullptr || consumer_count_ == kMaxConsumers) return false;
  consumers_[consumer_count_++] = consumer;
  all_muted_ = static_cast<std::uint8_t>((1U << consumer_count_) - 1U);
  return true;
}

void Reassembler::segment_general(StreamState& s, StreamState& peer, const StreamContext& ctx, std::uint32_t seq,
                                  std::uint8_t tcp_flags, std::span<const std::uint8_t> payload,
                                  std::uint64_t ts_ns) noexcept {
  // RST payload is diagnostic text, not stream data; ending is the caller's call.
  if (s.ended() || (tcp_flags & tcpflag::kRst) != 0) return;
  const bool syn = (tcp_flags & tcpflag::kSyn) != 0;
  const bool fin = (tcp_flags & tcpflag::kFin) != 0;
  const std::uint32_t data_seq = syn ? seq + 1 : seq;
  if (!s.started()) {
    s.base_seq = data_seq;
    s.flags |= StreamState::kStarted;
  }
  if (s.has(StreamState::kDepthReached)) {  // nothing more is delivered: only the end matters
    if (fin) finish(s, ctx, StreamEnd::fin);
    return;
  }
  const auto rel = static_cast<std::int32_t>(data_seq - next_seq(s));
  constexpr auto kWindow = static_cast<std::int32_t>(kMaxWindow);
  if (rel > kWindow || rel < -kWindow || payload.size() > kMaxWindow) {
    counters_.out_of_window.inc();
    return;
  }
  // [a, b) in stream offsets; a is negative for bytes before offset 0.
  const auto next = static_cast<std::int64_t>(s.next_offset);
  const std::int64_t a0 = next + rel;
  std::int64_t a = a0;
  std::int64_t b = a0 + static_cast<std::int64_t>(payload.size());
  if (fin && !s.has(StreamState::kFinKnown) && b >= next) {  // a FIN below delivered bytes is stale
    s.fin_seq = next_seq(s) + static_cast<std::uint32_t>(b - next);
    s.flags |= StreamState::kFinKnown;
  }
  if (s.has(StreamState::kFinKnown)) {
    const auto fin_off = static_cast<std::int64_t>(fin_offset(s));
    if (b > fin_off) {  // bytes after the FIN are not part of the stream
      counters_.out_of_window.inc();
      b = std::max(a, fin_off);
    }
  }
  overlapped_ = false;
  if (a < next) {
    const std::int64_t again = std::min(b, next) - a;
    if (again > 0) {
      s.retransmitted_bytes += static_cast<std::uint64_t>(again);
      ++s.retransmitted_packets;
      counters_.retransmitted_bytes.add(static_cast<std::uint64_t>(again));
      overlapped_ = true;
    }
    a = std::min(next, b);
  }
  if (b > a) {
    const auto data = payload.subspan(static_cast<std::size_t>(a - a0), static_cast<std::size_t>(b - a));
    if (a == next) {
      in_order(s, ctx, data, true);
    } else {
      out_of_order(s, peer, ctx, static_cast<std::uint64_t>(a), data, ts_ns);
    }
  }
  if (overlapped_) counters_.overlaps.inc();
  settle(s, ctx);
}

// data starts at s.next_offset. Buffered bytes it overlaps are delivered in
// its place (first wins) or dropped under it (last wins).
void Reassembler::in_order(StreamState& s, const StreamContext& ctx, std::span<const std::uint8_t> data,
                           bool count) noexcept {
  if (s.buffer == SegmentStore::kNil) {
    deliver(s, ctx, data);
    return;
  }
  const std::uint64_t a = s.next_offset;
  const std::uint64_t b = a + data.size();
  auto part = [&](std::uint64_t from, std::uint64_t to) {
    return data.subspan(static_cast<std::size_t>(from - a), static_cast<std::size_t>(to - from));
  };
  // Conflicts are the arriving segment's, counted whole before delivery
  // (which a FIN or the depth may cut short).
  if (count) {
    for (std::uint32_t n = store_.first(s.buffer); n != SegmentStore::kNil && store_.start(n) < b;
         n = store_.next(n)) {
      const auto overlap = part(store_.start(n), std::min(store_.end(n), b));
      overlapped_ = true;
      count_conflicts(s, store_.count_diff(n, 0, overlap.data(), static_cast<std::uint32_t>(overlap.size())));
    }
  }
  std::uint32_t n = store_.first(s.buffer);
  if (config_.policy == OverlapPolicy::First) {
    std::uint64_t pos = a;
    for (; n != SegmentStore::kNil && store_.start(n) < b; n = store_.next(n)) {
      const std::uint64_t start = store_.start(n);
      if (start > pos && !deliver(s, ctx, part(pos, start))) return;
      if (!deliver_node(s, ctx, n, 0)) return;
      pos = store_.end(n);
    }
    if (pos < b && !deliver(s, ctx, part(pos, b))) return;
  } else {
    if (!deliver(s, ctx, data)) return;
    for (; n != SegmentStore::kNil && store_.start(n) < b; n = store_.next(n)) {
      const std::uint64_t start = store_.start(n);
      if (store_.end(n) > b && !deliver_node(s, ctx, n, static_cast<std::uint32_t>(b - start))) return;
    }
  }
  deliver_run(s, ctx, n);
}

void Reassembler::out_of_order(StreamState& s, const StreamState& peer, const StreamContext& ctx,
                               std::uint64_t a, std::span<const std::uint8_t> data, std::uint64_t ts_ns) noexcept {
  counters_.ooo_segments.inc();
  const std::uint64_t b = a + data.size();
  const Need need = merge_overlaps(s, a, data);
  if (need.bytes == 0) return;  // nothing new: all of it was buffered already
  for (bool first_try = true; !fits(s, peer, need, first_try); first_try = false) {
    if (s.buffer == SegmentStore::kNil || store_.start(store_.first(s.buffer)) >= a) {
      // Nothing buffered below the segment is left to give up: skip to it.
      skip_to(s, a);
      in_order(s, ctx, data, false);
      return;
    }
    if (!skip_hole_and_deliver_run(s, ctx)) return;
    if (s.next_offset >= a) {  // that run reached into the segment: the rest is in order now
      if (s.next_offset < b) in_order(s, ctx, data.subspan(static_cast<std::size_t>(s.next_offset - a)), false);
      return;
    }
  }
  store_gaps(s, a, data, ts_ns);
}

void Reassembler::locate(std::uint32_t buf, std::uint64_t a, std::uint32_t& prev, std::uint32_t& cur) noexcept {
  const std::uint32_t p = store_.floor(buf, a);
  prev = SegmentStore::kNil;
  if (p == SegmentStore::kNil) {
    cur = store_.first(buf);
  } else if (store_.end(p) > a) {
    cur = p;  // overlaps a: no gap before it, so prev is never needed
  } else {
    prev = p;
    cur = store_.next(p);
  }
}

// Visits [a, b) in order: gap(prev, from, to) for stretches no node holds
// (it returns the node now before `to`), overlap(node, from, to) for the
// rest. Touches only the nodes that overlap [a, b).
template <typename Gap, typename Overlap>
void Reassembler::walk(std::uint32_t prev, std::uint32_t cur, std::uint64_t a, std::uint64_t b, Gap&& gap,
                       Overlap&& overlap) noexcept {
  std::uint64_t pos = a;
  while (pos < b) {
    if (cur == SegmentStore::kNil || store_.start(cur) >= b) {
      gap(prev, pos, b);
      return;
    }
    if (store_.start(cur) > pos) {
      prev = gap(prev, pos, store_.start(cur));
      pos = store_.start(cur);
    }
    const std::uint64_t to = std::min(store_.end(cur), b);
    overlap(cur, pos, to);
    store_.add_steps(1);
    pos = to;
    prev = cur;
    cur = store_.next(cur);
  }
}

// First pass over an out-of-order segment: count conflicts where it overlaps
// buffered bytes (and overwrite them under last-wins, which needs no memory),
// and measure what the rest would take.
Reassembler::Need Reassembler::merge_overlaps(StreamState& s, std::uint64_t a,
                                              std::span<const std::uint8_t> data) noexcept {
  Need need;
  if (s.buffer == SegmentStore::kNil) {
    need.pages = store_.pages_for(data.size());
    need.bytes = data.size();
    return need;
  }
  std::uint32_t prev = SegmentStore::kNil;
  std::uint32_t cur = SegmentStore::kNil;
  locate(s.buffer, a, prev, cur);
  walk(
      prev, cur, a, a + data.size(),
      [&](std::uint32_t p, std::uint64_t from, std::uint64_t to) {
        need.pages += store_.pages_for(to - from);  // chunks are whole pages but the last
        need.bytes += to - from;
        return p;
      },
      [&](std::uint32_t n, std::uint64_t from, std::uint64_t to) {
        overlapped_ = true;
        const auto rel = static_cast<std::uint32_t>(from - store_.start(n));
        const std::uint8_t* src = data.data() + (from - a);
        const auto len = static_cast<std::uint32_t>(to - from);
        const std::uint32_t diff = store_.count_diff(n, rel, src, len);
        count_conflicts(s, diff);
        if (diff > 0 && config_.policy == OverlapPolicy::Last) store_.write(n, rel, src, len);
      });
  return need;
}

// Whether the new bytes fit every limit; on the first try, counts each limit
// they exceed.
bool Reassembler::fits(const StreamState& s, const StreamState& peer, const Need& need, bool count) noexcept {
  const std::uint64_t conn_pages = pages_held(s) + (&peer == &s ? 0 : pages_held(peer));
  const bool conn_ok = conn_pages + need.pages <= config_.pages_per_connection;
  const bool pool_ok = need.pages <= store_.pages_free();
  const bool hole_ok =
      config_.max_bytes_above_hole == 0 || bytes_buffered(s) + need.bytes <= config_.max_bytes_above_hole;
  if (count) {
    if (!conn_ok) counters_.limit_pages_per_connection.inc();
    if (!pool_ok) counters_.limit_pages_per_worker.inc();
    if (!hole_ok) counters_.limit_above_hole.inc();
  }
  return conn_ok && pool_ok && hole_ok;
}

// Second pass: store the stretches of [a, b) no node holds, as new nodes,
// rebuilding the treap over [a, b) in the same walk.
void Reassembler::store_gaps(StreamState& s, std::uint64_t a, std::span<const std::uint8_t> data,
                             std::uint64_t ts_ns) noexcept {
  if (s.buffer == SegmentStore::kNil) s.buffer = store_.open();
  if (s.buffer == SegmentStore::kNil) return;  // cannot happen: fits() saw a free page
  const std::uint32_t buf = s.buffer;
  const std::uint64_t b = a + data.size();
  std::uint32_t prev = SegmentStore::kNil;
  std::uint32_t cur = SegmentStore::kNil;
  locate(buf, a, prev, cur);
  store_.begin_range(buf, a, b);
  walk(
      prev, cur, a, b,
      [&](std::uint32_t p, std::uint64_t from, std::uint64_t to) {
        while (from < to) {
          const std::uint64_t len = std::min<std::uint64_t>(to - from, store_.max_node_bytes());
          const std::uint32_t n = store_.add(buf, p, from, data.subspan(static_cast<std::size_t>(from - a),
                                                                          static_cast<std::size_t>(len)), ts_ns);
          if (n == SegmentStore::kNil) break;  // cannot happen: fits() counted the pages
          p = n;
          from += len;
        }
        return p;
      },
      [&](std::uint32_t n, std::uint64_t, std::uint64_t) {
        if (store_.start(n) >= a) store_.keep(n);  // one starting before a stays where it is
      });
  store_.end_range(buf);
}

void Reassembler::flush_aged_buffered(StreamState& s, const StreamContext& ctx, std::uint64_t now_ns) noexcept {
  if (flush_after_ns_ == 0 || s.ended()) return;
  bool counted = false;
  while (s.buffer != SegmentStore::kNil) {
    const std::uint32_t oldest = store_.oldest(s.buffer);
    const std::uint64_t ts = store_.ts_ns(oldest);
    if (!(now_ns > ts && now_ns - ts > flush_after_ns_)) break;
    if (!counted) {
      counters_.limit_flush_age.inc();
      counted = true;
    }
    // Give up on every hole below the oldest segment; its run is delivered
    // with it (and frees it).
    const std::uint64_t target = store_.start(oldest);
    while (s.buffer != SegmentStore::kNil && store_.start(store_.first(s.buffer)) <= target) {
      if (!skip_hole_and_deliver_run(s, ctx)) {
        settle(s, ctx);
        return;
      }
    }
  }
  settle(s, ctx);
}

void Reassembler::end(StreamState& s, const StreamContext& ctx, StreamEnd reason) noexcept {
  if (s.ended()) return;
  if (s.started() && !s.has(StreamState::kDepthReached)) {
    bool more = true;
    while (more && s.buffer != SegmentStore::kNil) more = skip_hole_and_deliver_run(s, ctx);
    if (more && s.has(StreamState::kFinKnown)) skip_to(s, fin_offset(s));  // the bytes before the FIN we never saw
  }
  finish(s, ctx, reason);
}

bool Reassembler::deliver(StreamState& s, const StreamContext& ctx, std::span<const std::uint8_t> data) noexcept {
  std::uint64_t n = data.size();
  bool more = true;
  if (s.has(StreamState::kFinKnown)) {
    const std::uint64_t room = fin_offset(s) - s.next_offset;
    if (n >= room) {
      n = room;
      more = false;
    }
  }
  if (config_.depth_bytes != 0) {
    const std::uint64_t delivered = s.delivered_bytes();
    const std::uint64_t room = config_.depth_bytes > delivered ? config_.depth_bytes - delivered : 0;
    if (n > room) {
      n = room;
      more = false;
      s.flags |= StreamState::kDepthReached;
      counters_.limit_depth.inc();
    }
  }
  if (n > 0) {
    const bool gap = s.has(StreamState::kGapPending);
    s.flags &= static_cast<std::uint8_t>(~StreamState::kGapPending);
    const auto out = data.first(static_cast<std::size_t>(n));
    if (s.muted != all_muted_) hand_on(s, ctx, out, gap);
    s.next_offset += n;
  }
  return more;
}

bool Reassembler::deliver_node(StreamState& s, const StreamContext& ctx, std::uint32_t node,
                               std::uint32_t rel) noexcept {
  bool more = true;
  store_.read(node, rel, store_.len(node) - rel, [&](std::span<const std::uint8_t> chunk) {
    if (more) more = deliver(s, ctx, chunk);
  });
  return more;
}

// Delivers node and the nodes contiguous with it, if node starts at the next
// offset. The delivered nodes are freed by the caller's settle().
bool Reassembler::deliver_run(StreamState& s, const StreamContext& ctx, std::uint32_t node) noexcept {
  for (; node != SegmentStore::kNil && store_.start(node) == s.next_offset; node = store_.next(node)) {
    if (!deliver_node(s, ctx, node, 0)) return false;
  }
  return true;
}

// Gives up on the first hole (missed bytes), delivers the run above it and
// frees it.
bool Reassembler::skip_hole_and_deliver_run(StreamState& s, const StreamContext& ctx) noexcept {
  const std::uint32_t first = store_.first(s.buffer);
  const std::uint64_t start = store_.start(first);
  if (s.has(StreamState::kFinKnown) && fin_offset(s) <= start) {  // buffered past the FIN: the stream ends first
    skip_to(s, fin_offset(s));
    return false;
  }
  skip_to(s, start);
  if (!deliver_run(s, ctx, first)) return false;
  s.buffer = store_.release_below(s.buffer, s.next_offset);
  return true;
}

void Reassembler::skip_to(StreamState& s, std::uint64_t off) noexcept {
  if (off <= s.next_offset) return;
  const std::uint64_t skipped = off - s.next_offset;
  s.missed_bytes += skipped;
  counters_.missed_bytes.add(skipped);
  s.next_offset = off;
  s.flags |= StreamState::kGapPending;
}

void Reassembler::count_conflicts(StreamState& s, std::uint32_t diff) noexcept {
  if (diff == 0) return;
  s.overlap_conflict_bytes = s.overlap_conflict_bytes > UINT32_MAX - diff ? UINT32_MAX : s.overlap_conflict_bytes + diff;
  counters_.overlap_conflict_bytes.add(diff);
}

// After each operation: end at the FIN, give up the buffer past the depth,
// free the nodes that were delivered.
void Reassembler::settle(StreamState& s, const StreamContext& ctx) noexcept {
  if (s.has(StreamState::kFinKnown) && s.next_offset >= fin_offset(s)) {
    finish(s, ctx, StreamEnd::fin);
  } else if (s.buffer != SegmentStore::kNil) {
    if (s.has(StreamState::kDepthReached)) {
      store_.close(s.buffer);
      s.buffer = SegmentStore::kNil;
    } else if (store_.start(store_.first(s.buffer)) < s.next_offset) {
      s.buffer = store_.release_below(s.buffer, s.next_offset);
    }
  }
}

void Reassembler::finish(StreamState& s, const StreamContext& ctx, StreamEnd reason) noexcept {
  if (s.ended()) return;
  s.flags |= StreamState::kEnded;
  if (s.buffer != SegmentStore::kNil) {
    store_.close(s.buffer);
    s.buffer = SegmentStore::kNil;
  }
  for (std::size_t i = 0; i < consumer_count_; ++i) consumers_[i]->on_end(ctx, reason);
}

}  // namespace sf
