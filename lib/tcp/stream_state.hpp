// One direction of a TCP connection as the reassembler sees it. Embedded by
// the caller in its per-flow array (two per connection), so it is small and
// trivially copyable, and StreamState{} means "not started": after end() the
// caller may reset a slot to StreamState{} and reuse it for a new connection.
//
// Stream offsets are 64-bit: offset 0 is the byte after the SYN (or the first
// byte seen), and sequence numbers only matter as a signed 32-bit distance
// from the sequence number of next_offset, so streams may cross 2^32 freely.
#pragma once

#include <cstdint>
#include <type_traits>

namespace sf {

struct StreamState {
  enum Flag : std::uint8_t {
    kStarted = 0x01,
    kEnded = 0x02,         // on_end delivered; nothing more for this direction
    kFinKnown = 0x04,      // fin_seq holds the FIN's sequence number
    kDepthReached = 0x08,  // depth_bytes delivered: the rest is ignored
    kGapPending = 0x10,    // bytes were skipped since the last delivery
  };

  std::uint64_t next_offset;          // next byte to deliver (delivered + missed so far)
  std::uint64_t missed_bytes;         // skipped: holes flushed, skipped for room, or left at the end
  std::uint64_t retransmitted_bytes;  // bytes below next_offset seen again (dropped)
  std::uint32_t base_seq;             // sequence number of offset 0
  std::uint32_t fin_seq;              // sequence number the FIN occupies (kFinKnown)
  std::uint32_t retransmitted_packets;  // segments carrying any such bytes
  std::uint32_t overlap_conflict_bytes;  // buffered bytes overlapped with other content (saturates)
  // The segments buffered out of order, in the worker's pool: 0 when none.
  // Held out of line because most streams never buffer anything.
  std::uint32_t buffer;
  std::uint8_t flags;
  std::uint8_t muted;  // bit i: consumer i declined more of this direction
  std::uint8_t pad_[2];

  bool has(Flag f) const noexcept { return (flags & f) != 0; }
  bool started() const noexcept { return has(kStarted); }
  bool ended() const noexcept { return has(kEnded); }
  std::uint64_t delivered_bytes() const noexcept { return next_offset - missed_bytes; }
};
static_assert(sizeof(StreamState) == 48, "two directions fit in 96 bytes of a flow's state");
static_assert(std::is_trivially_copyable_v<StreamState> && std::is_standard_layout_v<StreamState>);
static_assert(std::is_aggregate_v<StreamState>, "StreamState{} zero-initializes every field");

}  // namespace sf
