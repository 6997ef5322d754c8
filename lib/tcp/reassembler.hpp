// Per-direction TCP stream reassembly, one Reassembler per worker. Runs on
// the worker that owns the flow, inside packet processing: no locks, no
// allocation after construction, no exceptions, no syscalls.
//
// In-order bytes go straight from the caller's packet to every consumer
// (zero copy). Bytes ahead of a hole are copied into the worker's page pool
// (never the caller's buffer: holding packets would starve the RX pool) and
// delivered once the hole fills, or after a gap when a limit or the flush
// age says to stop waiting. Each direction is a StreamState the caller keeps
// in its per-flow array; both directions of a connection share
// pages_per_connection, which is why segment() also takes the peer.
//
// Cost per segment: O(log n) in the stream's buffered segments, plus O(k)
// for the k buffered segments it overlaps and the ones it makes deliverable
// (each of those is delivered or freed once). See SegmentStore.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "tcp/reassembly_config.hpp"
#include "tcp/reassembly_counters.hpp"
#include "tcp/segment_store.hpp"
#include "tcp/stream_consumer.hpp"
#include "tcp/stream_state.hpp"

namespace sf {

class Reassembler {
 public:
  static constexpr std::size_t kMaxConsumers = 8;  // bits of StreamState::muted
  // Segments starting further than this from the expected sequence number
  // (ahead or behind) are dropped as out_of_window.
  static constexpr std::uint32_t kMaxWindow = 1U << 30;

  // Allocates the page pool (config.pages_per_worker pages): the only
  // allocation, at startup (std::bad_alloc if it cannot be had).
  Reassembler(const ReassemblyConfig& config, ReassemblyCounters& counters);

  // Every stream goes to every consumer, in the order added. False when full.
  bool add_consumer(StreamConsumer* consumer) noexcept;

  // One TCP segment of direction s (peer: the other direction of the same
  // connection). A SYN takes one sequence number (its data starts at ISN+1,
  // offset 0); a stream first seen without a SYN starts at this segment's
  // seq. A FIN takes the sequence number after its data: once every byte
  // before it is delivered (or skipped), the stream ends with fin; bytes
  // after a FIN are dropped. A segment with RST is ignored: the caller judges
  // it and calls end(rst) for the directions it closes.
  void segment(StreamState& s, StreamState& peer, const StreamContext& ctx, std::uint32_t seq,
               std::uint8_t tcp_flags, std::span<const std::uint8_t> payload, std::uint64_t ts_ns) noexcept {
    // Most segments, inline: the next bytes of a started stream with nothing
    // buffered, no FIN known, no gap pending, under the depth, no SYN/FIN/RST.
    // Exactly what the general path would do for them: hand them on, move on.
    if (s.flags == StreamState::kStarted && s.buffer == SegmentStore::kNil &&
        (tcp_flags & (tcpflag::kSyn | tcpflag::kFin | tcpflag::kRst)) == 0 && seq == next_seq(s) &&
        (config_.depth_bytes == 0 || s.delivered_bytes() + payload.size() <= config_.depth_bytes)) {
      if (payload.empty()) return;
      if (s.muted != all_muted_) hand_on(s, ctx, payload, false);
      s.next_offset += payload.size();
      return;
    }
    segment_general(s, peer, ctx, seq, tcp_flags, payload, ts_ns);
  }

  // Flushes what has waited longer than flush_after_ms above a hole: each
  // hole below it is skipped (missed bytes) and the data delivered after a
  // gap. Waiting is counted from the segment buffered first (arrival order,
  // so a capture clock that steps back does not reorder it). Cheap when
  // nothing is buffered; meant to run on every packet of the flow, for both
  // directions.
  void flush_aged(StreamState& s, const StreamContext& ctx, std::uint64_t now_ns) noexcept {
    if (s.buffer != SegmentStore::kNil) flush_aged_buffered(s, ctx, now_ns);
  }

  // The direction is over: what is buffered is delivered in order (after a
  // gap for each hole, holes counted as missed, as is a hole before a known
  // FIN), on_end(reason) is called unless the stream already ended (FIN), and
  // every page goes back to the pool. Then s may be reset to StreamState{}.
  void end(StreamState& s, const StreamContext& ctx, StreamEnd reason) noexcept;

  std::uint32_t pages_held(const StreamState& s) const noexcept {
    return s.buffer != SegmentStore::kNil ? store_.pages(s.buffer) : 0;
  }
  std::uint32_t bytes_buffered(const StreamState& s) const noexcept {
    return s.buffer != SegmentStore::kNil ? store_.bytes(s.buffer) : 0;
  }
  // Arrival time of the buffered segment that has waited longest (0: none).
  std::uint64_t oldest_buffered_ns(const StreamState& s) const noexcept {
    return s.buffer != SegmentStore::kNil ? store_.ts_ns(store_.oldest(s.buffer)) : 0;
  }
  std::uint32_t pages_free() const noexcept { return store_.pages_free(); }
  bool has_consumers() const noexcept { return consumer_count_ != 0; }
  // Some consumer still takes this direction's bytes (app parsers decline
  // after the first message: most streams need no flow id, so no second line).
  bool wanted(const StreamState& s) const noexcept { return s.muted != all_muted_; }
  const ReassemblyConfig& config() const noexcept { return config_; }
  // Tree and list nodes visited so far: a cost measure for tests, not a timer.
  std::uint64_t steps() const noexcept { return store_.steps(); }
  // Full O(n) consistency check of a stream's buffer, for tests.
  bool check(const StreamState& s) const noexcept {
    return s.buffer == SegmentStore::kNil || store_.check(s.buffer);
  }

 private:
  struct Need {
    std::uint64_t pages = 0;
    std::uint64_t bytes = 0;
  };

  void hand_on(StreamState& s, const StreamContext& ctx, std::span<const std::uint8_t> data, bool gap) noexcept {
    for (std::size_t i = 0; i < consumer_count_; ++i) {
      const auto bit = static_cast<std::uint8_t>(1U << i);
      if (!(s.muted & bit) && !consumers_[i]->on_data(ctx, s.next_offset, data, gap)) s.muted |= bit;
    }
  }
  void flush_aged_buffered(StreamState& s, const StreamContext& ctx, std::uint64_t now_ns) noexcept;
  void segment_general(StreamState& s, StreamState& peer, const StreamContext& ctx, std::uint32_t seq,
                       std::uint8_t tcp_flags, std::span<const std::uint8_t> payload, std::uint64_t ts_ns) noexcept;
  void in_order(StreamState& s, const StreamContext& ctx, std::span<const std::uint8_t> data,
                bool count_conflicts) noexcept;
  void out_of_order(StreamState& s, const StreamState& peer, const StreamContext& ctx, std::uint64_t a,
                    std::span<const std::uint8_t> data, std::uint64_t ts_ns) noexcept;
  Need merge_overlaps(StreamState& s, std::uint64_t a, std::span<const std::uint8_t> data) noexcept;
  bool fits(const StreamState& s, const StreamState& peer, const Need& need, bool count) noexcept;
  void store_gaps(StreamState& s, std::uint64_t a, std::span<const std::uint8_t> data, std::uint64_t ts_ns) noexcept;
  // Where [a, ...) lands: the node before it (prev) and the first node
  // ending after a (cur), either may be kNil.
  void locate(std::uint32_t buf, std::uint64_t a, std::uint32_t& prev, std::uint32_t& cur) noexcept;
  template <typename Gap, typename Overlap>
  void walk(std::uint32_t prev, std::uint32_t cur, std::uint64_t a, std::uint64_t b, Gap&& gap,
            Overlap&& overlap) noexcept;

  // Delivery. Each returns false once the stream takes no more data (FIN
  // offset or depth reached); callers stop and settle() tidies up.
  bool deliver(StreamState& s, const StreamContext& ctx, std::span<const std::uint8_t> data) noexcept;
  bool deliver_node(StreamState& s, const StreamContext& ctx, std::uint32_t node, std::uint32_t rel) noexcept;
  bool deliver_run(StreamState& s, const StreamContext& ctx, std::uint32_t node) noexcept;
  bool skip_hole_and_deliver_run(StreamState& s, const StreamContext& ctx) noexcept;
  void skip_to(StreamState& s, std::uint64_t off) noexcept;
  void count_conflicts(StreamState& s, std::uint32_t diff) noexcept;
  void settle(StreamState& s, const StreamContext& ctx) noexcept;
  void finish(StreamState& s, const StreamContext& ctx, StreamEnd reason) noexcept;

  static std::uint32_t next_seq(const StreamState& s) noexcept {
    return s.base_seq + static_cast<std::uint32_t>(s.next_offset);
  }
  static std::uint64_t fin_offset(const StreamState& s) noexcept {
    const auto ahead = static_cast<std::int32_t>(s.fin_seq - next_seq(s));  // >= 0: never passed
    return s.next_offset + static_cast<std::uint64_t>(static_cast<std::int64_t>(ahead));
  }

  ReassemblyConfig config_;
  ReassemblyCounters& counters_;
  SegmentStore store_;
  std::uint64_t flush_after_ns_;
  std::array<StreamConsumer*, kMaxConsumers> consumers_{};
  std::size_t consumer_count_ = 0;
  std::uint8_t all_muted_ = 0;  // StreamState::muted when every consumer declined
  bool overlapped_ = false;  // the segment being processed overlapped something
};

}  // namespace sf
