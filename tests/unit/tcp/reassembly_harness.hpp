// Test helpers for the reassembler: a consumer that records what it is
// given, and a two-direction connection around one Reassembler. Expected
// bytes always come from the test's own strings, never from here.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tcp/reassembler.hpp"

namespace sf::test {

// What every reassembly test file names: flags, expected ends and gaps, and
// the sequence number of a stream offset after a SYN at isn.
inline constexpr std::uint8_t kSyn = tcpflag::kSyn;
inline constexpr std::uint8_t kFin = tcpflag::kFin;
inline constexpr std::uint8_t kAck = tcpflag::kAck;
using Ends = std::vector<StreamEnd>;
using Gaps = std::vector<std::uint64_t>;
constexpr std::uint32_t seq_after_syn(std::uint32_t isn, std::uint64_t off) {
  return isn + 1 + static_cast<std::uint32_t>(off);
}

struct Chunk {
  std::uint64_t offset;
  std::string bytes;
  bool gap;
  const std::uint8_t* from;  // where the consumer read them (zero copy or a page)
};

// Keeps what each stream (flow id, direction) was given.
class Recorder : public StreamConsumer {
 public:
  static constexpr std::uint64_t kFlow = 42;  // Conn's flow id

  bool on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
               bool gap_before) noexcept override {
    Dir& d = streams_[{ctx.flow_id, ctx.dir}];
    if (!d.ends.empty()) ++d.after_end;
    if (data.empty()) ++d.empty_calls;
    d.chunks.push_back(Chunk{offset, std::string(data.begin(), data.end()), gap_before, data.data()});
    return true;
  }
  void on_end(const StreamContext& ctx, StreamEnd reason) noexcept override {
    streams_[{ctx.flow_id, ctx.dir}].ends.push_back(reason);
  }

  const std::vector<Chunk>& chunks(int dir, std::uint64_t flow = kFlow) const { return get(dir, flow).chunks; }
  const std::vector<StreamEnd>& ends(int dir, std::uint64_t flow = kFlow) const { return get(dir, flow).ends; }
  // Every byte delivered, in delivery order.
  std::string bytes(int dir, std::uint64_t flow = kFlow) const {
    std::string out;
    for (const Chunk& c : get(dir, flow).chunks) out += c.bytes;
    return out;
  }
  // Offsets where a chunk said bytes were skipped before it.
  std::vector<std::uint64_t> gaps(int dir, std::uint64_t flow = kFlow) const {
    std::vector<std::uint64_t> out;
    for (const Chunk& c : get(dir, flow).chunks) {
      if (c.gap) out.push_back(c.offset);
    }
    return out;
  }
  // The contract: offsets only grow; a chunk starts where the last one ended
  // unless it says gap_before (then strictly later); no empty chunks; nothing
  // after the end; at most one end.
  ::testing::AssertionResult consistent(int dir, std::uint64_t flow = kFlow) const {
    const Dir& d = get(dir, flow);
    std::uint64_t end = 0;
    bool first = true;
    for (const Chunk& c : d.chunks) {
      const bool expect_gap = first ? c.offset > 0 : c.offset > end;
      if (c.gap != expect_gap || (!c.gap && c.offset != end) || c.offset < end) {
        return ::testing::AssertionFailure() << "chunk at " << c.offset << " (gap " << c.gap << ") after end " << end;
      }
      end = c.offset + c.bytes.size();
      first = false;
    }
    if (d.after_end > 0) return ::testing::AssertionFailure() << d.after_end << " chunks after the end";
    if (d.empty_calls > 0) return ::testing::AssertionFailure() << d.empty_calls << " empty chunks";
    if (d.ends.size() > 1) return ::testing::AssertionFailure() << d.ends.size() << " ends";
    return ::testing::AssertionSuccess();
  }
  void clear() { streams_.clear(); }

 private:
  struct Dir {
    std::vector<Chunk> chunks;
    std::vector<StreamEnd> ends;
    int after_end = 0;
    int empty_calls = 0;
  };
  const Dir& get(int dir, std::uint64_t flow) const {
    static const Dir kNone;
    const auto it = streams_.find({flow, static_cast<std::uint8_t>(dir)});
    return it != streams_.end() ? it->second : kNone;
  }
  std::map<std::pair<std::uint64_t, std::uint8_t>, Dir> streams_;
};

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A small config that buffers plenty and limits nothing, unless a test says.
inline ReassemblyConfig roomy_config(OverlapPolicy policy = OverlapPolicy::First) {
  ReassemblyConfig c;
  c.policy = policy;
  c.page_size_bytes = 16;
  c.pages_per_worker = 4096;
  c.pages_per_connection = 4096;
  c.max_bytes_above_hole = 0;
  c.depth_bytes = 0;
  c.flush_after_ms = 0;
  return c;
}

// One connection: direction 0 and 1, each a StreamState, one reassembler.
struct Conn {
  explicit Conn(const ReassemblyConfig& config) : r(config, counters) {
    r.add_consumer(&rec);
    for (std::uint8_t d = 0; d < 2; ++d) ctx[d] = StreamContext{&key, Recorder::kFlow, 1, d, 0, 0};
  }
  void seg(int dir, std::uint32_t seq, std::uint8_t flags, std::string_view data, std::uint64_t ts_ns = 0) {
    r.segment(s[dir], s[1 - dir], ctx[dir], seq, flags, bytes_of(data), ts_ns);
    EXPECT_TRUE(r.check(s[dir]));
  }
  void end(int dir, StreamEnd reason) { r.end(s[dir], ctx[dir], reason); }
  void flush(int dir, std::uint64_t now_ns) { r.flush_aged(s[dir], ctx[dir], now_ns); }

  ReassemblyCounters counters;
  Reassembler r;
  Recorder rec;
  FlowKey key{};
  StreamState s[2]{};
  StreamContext ctx[2]{};
};

// Deterministic bytes for ground truth: every stream a test cuts into segments.
inline std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  std::uint32_t x = seed * 2654435761U + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

}  // namespace sf::test
