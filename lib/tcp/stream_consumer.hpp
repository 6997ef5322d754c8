// What a reassembled TCP byte stream looks like to whoever reads it (the
// application parsers, the stream dump): in-order data, marked when bytes
// were skipped before it, and one end per direction. Called on the worker
// that owns the flow, from inside packet processing: consumers must not block,
// allocate per call, or do I/O.
#pragma once

#include <cstdint>
#include <span>

#include "flow/flow_key.hpp"

namespace sf {

// Why a direction's stream ended.
#define SF_STREAM_END_REASONS(X) X(fin) X(rst) X(timeout) X(evicted) X(eof) X(shutdown)

enum class StreamEnd : std::uint8_t {
#define SF_X(name) name,
  SF_STREAM_END_REASONS(SF_X)
#undef SF_X
  kCount
};

// Which stream a call is about. Valid only during the call.
struct StreamContext {
  const FlowKey* key;        // the flow's normalized key
  std::uint64_t flow_id;     // unique per run (the flow's first packet id)
  std::uint32_t generation;  // 1, 2, ... for later connections on the same tuple
  std::uint8_t dir;          // sender of these bytes: kDirLoToHi or kDirHiToLo
  std::uint8_t initiator_dir;  // direction of the connection initiator's packets
  std::uint32_t flow_slot;     // the flow's position in its worker's table (per-flow side arrays)
};

class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;
  // Bytes at stream offset `offset` (0 = the first byte after the SYN, or the
  // first byte seen for a stream picked up mid-way). gap_before: bytes between
  // the previous delivery and `offset` were skipped (counted as missed_bytes).
  // Returns whether this consumer wants more of this direction: false (an app
  // parser that has what it needs, or gave up) and the reassembler stops
  // calling it for the stream, so uninteresting streams cost it nothing.
  // on_end is still called.
  virtual bool on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
                       bool gap_before) noexcept = 0;
  // The direction is over; no further calls for it.
  virtual void on_end(const StreamContext& ctx, StreamEnd reason) noexcept = 0;
};

}  // namespace sf
