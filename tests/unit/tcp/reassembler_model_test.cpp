// Randomized checks of the reassembler. Permutations: a stream cut into
// segments and sent in any order comes out whole. Differential: thousands of
// random schedules (drops, duplicates, overlaps with other content, bytes
// before offset 0 and after the FIN, flushes, limits on bytes above the hole
// and depth) go to the reassembler and to ReferenceModel, a byte-at-a-time
// map; delivered bytes, gaps, missed bytes and every counter must agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "reassembly_harness.hpp"
#include "reference_model.hpp"

namespace sf {
namespace {

using test::Conn;
using test::roomy_config;

struct Piece {
  std::int64_t off;
  std::string data;
  bool fin = false;
};

std::vector<Piece> cut(const std::string& truth, std::size_t max_len, std::mt19937_64& rng) {
  std::vector<Piece> out;
  for (std::size_t off = 0; off < truth.size();) {
    const std::size_t len = std::min<std::size_t>(1 + rng() % max_len, truth.size() - off);
    out.push_back(Piece{static_cast<std::int64_t>(off), truth.substr(off, len)});
    off += len;
  }
  return out;
}

TEST(ReassemblerRandom, AnyPermutationComesOutWhole) {
  for (const OverlapPolicy policy : {OverlapPolicy::First, OverlapPolicy::Last}) {
    for (const std::size_t size : {1U, 2U, 10U, 100U, 1000U, 5000U}) {
      for (std::uint32_t seed = 0; seed < 40; ++seed) {
        std::mt19937_64 rng(seed * 7919 + size);
        ReassemblyConfig cfg = roomy_config(policy);
        cfg.page_size_bytes = 1 + static_cast<std::uint32_t>(rng() % 64);
        cfg.pages_per_worker = static_cast<std::uint32_t>(size) + 1;
        cfg.pages_per_connection = cfg.pages_per_worker;
        Conn c(cfg);
        const std::string truth = test::pattern(size, seed);
        std::vector<Piece> pieces = cut(truth, 1 + rng() % 300, rng);
        std::shuffle(pieces.begin(), pieces.end(), rng);
        const std::uint32_t isn = static_cast<std::uint32_t>(rng());
        c.seg(0, isn, tcpflag::kSyn, "");
        for (const Piece& p : pieces) c.seg(0, isn + 1 + static_cast<std::uint32_t>(p.off), 0, p.data);
        ASSERT_EQ(c.rec.bytes(0), truth) << "size " << size << " seed " << seed;
        EXPECT_TRUE(c.rec.gaps(0).empty());
        EXPECT_TRUE(c.rec.consistent(0));
        EXPECT_EQ(c.s[0].missed_bytes, 0U);
        EXPECT_EQ(c.counters.pages_in_use.get(), 0U);
        c.seg(0, isn + 1 + static_cast<std::uint32_t>(size), tcpflag::kFin, "");
        EXPECT_EQ(c.rec.ends(0), std::vector<StreamEnd>{StreamEnd::fin});
      }
    }
  }
}

struct Schedule {
  ReassemblyConfig cfg;
  std::uint32_t isn;
  Piece syn;  // offset 0, maybe with data (and FIN)
  struct Op {
    bool flush;
    Piece piece;
    std::uint64_t ts_ns;
  };
  std::vector<Op> ops;
  StreamEnd end;
};

std::string mutate(std::string s, std::mt19937_64& rng) {
  for (char& ch : s) {
    if (rng() % 3 == 0) ch = static_cast<char>(rng());
  }
  return s;
}

Schedule make_schedule(std::uint64_t seed, OverlapPolicy policy) {
  std::mt19937_64 rng(seed);
  Schedule sc;
  const std::size_t len = rng() % 4 == 0 ? rng() % 40 : rng() % 2000;
  const std::string truth = test::pattern(len, static_cast<std::uint32_t>(seed));
  sc.cfg = roomy_config(policy);
  const std::uint32_t page_sizes[] = {1, 2, 7, 16, 64, 2048};
  sc.cfg.page_size_bytes = page_sizes[rng() % 6];
  // A page holds at least one byte, and buffered bytes lie in [0, len + 300).
  sc.cfg.pages_per_worker = static_cast<std::uint32_t>(len) + 300;
  sc.cfg.pages_per_connection = sc.cfg.pages_per_worker;
  sc.cfg.max_bytes_above_hole = rng() % 3 == 0 ? 1 + static_cast<std::uint32_t>(rng() % (len + 1)) : 0;
  sc.cfg.depth_bytes = rng() % 4 == 0 ? rng() % (len + 1) : 0;
  sc.cfg.flush_after_ms = rng() % 3 == 0 ? 1 + static_cast<std::uint32_t>(rng() % 20) : 0;
  sc.isn = rng() % 4 == 0 ? 0xFFFFFFFFU - static_cast<std::uint32_t>(rng() % 3000) : static_cast<std::uint32_t>(rng());

  std::vector<Piece> pieces = cut(truth, 1 + rng() % 200, rng);
  const int fin_kind = static_cast<int>(rng() % 3);  // none, on the last piece, alone
  if (fin_kind == 1 && !pieces.empty()) pieces.back().fin = true;
  if (fin_kind == 2 || (fin_kind == 1 && pieces.empty())) pieces.push_back(Piece{static_cast<std::int64_t>(len), "", true});
  if (!pieces.empty() && pieces.front().off == 0 && rng() % 2 == 0) {  // data on the SYN
    sc.syn = pieces.front();
    pieces.erase(pieces.begin());
  }
  const unsigned drop_pct = static_cast<unsigned>(rng() % 3) * 15;
  std::vector<Piece> segs;
  for (const Piece& p : pieces) {
    if (rng() % 100 >= drop_pct) segs.push_back(p);
  }
  const std::size_t extra = pieces.empty() ? 0 : rng() % (pieces.size() + 1);
  for (std::size_t i = 0; i < extra; ++i) {
    const int kind = static_cast<int>(rng() % 4);
    if (kind == 0) {  // a duplicate
      segs.push_back(pieces[rng() % pieces.size()]);
      continue;
    }
    // A range over the stream, maybe from before offset 0 or past its end.
    std::int64_t from = static_cast<std::int64_t>(rng() % (len + 1)) - (rng() % 10 == 0 ? 5 : 0);
    std::int64_t to = from + 1 + static_cast<std::int64_t>(rng() % 300);
    if (rng() % 5 != 0) to = std::min<std::int64_t>(to, static_cast<std::int64_t>(len));
    if (to <= from) continue;
    std::string data;
    for (std::int64_t o = from; o < to; ++o) {
      data += o >= 0 && o < static_cast<std::int64_t>(len) ? truth[static_cast<std::size_t>(o)] : static_cast<char>(rng());
    }
    segs.push_back(Piece{from, kind == 1 ? data : mutate(data, rng)});
  }
  if (rng() % 2 == 0) {
    std::shuffle(segs.begin(), segs.end(), rng);
  } else {  // nearly in order: a few swaps of neighbours
    std::sort(segs.begin(), segs.end(), [](const Piece& x, const Piece& y) { return x.off < y.off; });
    for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
      if (rng() % 4 == 0) std::swap(segs[i], segs[i + 1]);
    }
  }
  std::uint64_t ts = 0;
  for (Piece& p : segs) {
    ts += (rng() % 4) * 1000000;
    if (rng() % 5 == 0) sc.ops.push_back(Schedule::Op{true, {}, ts});
    sc.ops.push_back(Schedule::Op{false, std::move(p), ts});
  }
  sc.ops.push_back(Schedule::Op{true, {}, ts + (rng() % 30) * 1000000});
  const StreamEnd ends[] = {StreamEnd::rst, StreamEnd::timeout, StreamEnd::eof, StreamEnd::evicted};
  sc.end = ends[rng() % 4];
  return sc;
}

std::vector<test::DeliveredByte> bytes_of(const test::Recorder& rec) {
  std::vector<test::DeliveredByte> out;
  for (const test::Chunk& ch : rec.chunks(0)) {
    for (std::size_t i = 0; i < ch.bytes.size(); ++i) {
      out.push_back(test::DeliveredByte{ch.offset + i, ch.bytes[i], ch.gap && i == 0});
    }
  }
  return out;
}

// Runs one schedule through both; returns false (with messages) on the
// first disagreement.
::testing::AssertionResult differential(std::uint64_t seed, OverlapPolicy policy) {
  const Schedule sc = make_schedule(seed, policy);
  Conn c(sc.cfg);
  test::ReferenceModel m(sc.cfg);
  const std::uint8_t syn_flags = static_cast<std::uint8_t>(tcpflag::kSyn | (sc.syn.fin ? tcpflag::kFin : 0));
  c.r.segment(c.s[0], c.s[1], c.ctx[0], sc.isn, syn_flags, test::bytes_of(sc.syn.data), 0);
  m.segment(0, sc.syn.data, sc.syn.fin, 0);
  std::size_t step = 0;
  for (const Schedule::Op& op : sc.ops) {
    ++step;
    if (op.flush) {
      c.r.flush_aged(c.s[0], c.ctx[0], op.ts_ns);
      m.flush(op.ts_ns);
    } else {
      const auto seq = sc.isn + 1 + static_cast<std::uint32_t>(op.piece.off);
      const std::uint8_t flags = op.piece.fin ? tcpflag::kFin : tcpflag::kAck;
      c.r.segment(c.s[0], c.s[1], c.ctx[0], seq, flags, test::bytes_of(op.piece.data), op.ts_ns);
      m.segment(op.piece.off, op.piece.data, op.piece.fin, op.ts_ns);
    }
    if (!c.r.check(c.s[0])) return ::testing::AssertionFailure() << "inconsistent buffer at step " << step;
    if (c.s[0].next_offset != m.next_offset() || c.r.bytes_buffered(c.s[0]) != m.buffered()) {
      return ::testing::AssertionFailure() << "step " << step << ": next " << c.s[0].next_offset << " vs "
                                           << m.next_offset() << ", buffered " << c.r.bytes_buffered(c.s[0])
                                           << " vs " << m.buffered();
    }
  }
  c.end(0, sc.end);
  m.end(sc.end);
  const auto got = bytes_of(c.rec);
  if (got != m.delivered) {
    std::size_t i = 0;
    while (i < got.size() && i < m.delivered.size() && got[i] == m.delivered[i]) ++i;
    return ::testing::AssertionFailure() << "delivered " << got.size() << " bytes, model " << m.delivered.size()
                                         << "; first difference at byte " << i;
  }
  const ReassemblyCounters& k = c.counters;
  const StreamState& s = c.s[0];
  const std::pair<const char*, std::pair<std::uint64_t, std::uint64_t>> pairs[] = {
      {"missed", {s.missed_bytes, m.missed_bytes}},
      {"missed counter", {k.missed_bytes.get(), m.missed_bytes}},
      {"retransmitted bytes", {s.retransmitted_bytes, m.retransmitted_bytes}},
      {"retransmitted counter", {k.retransmitted_bytes.get(), m.retransmitted_bytes}},
      {"retransmitted packets", {s.retransmitted_packets, m.retransmitted_packets}},
      {"conflicts", {s.overlap_conflict_bytes, m.conflict_bytes}},
      {"conflict counter", {k.overlap_conflict_bytes.get(), m.conflict_bytes}},
      {"overlaps", {k.overlaps.get(), m.overlaps}},
      {"ooo segments", {k.ooo_segments.get(), m.ooo_segments}},
      {"out of window", {k.out_of_window.get(), m.out_of_window}},
      {"limit above hole", {k.limit_above_hole.get(), m.limit_above_hole}},
      {"limit depth", {k.limit_depth.get(), m.limit_depth}},
      {"limit flush age", {k.limit_flush_age.get(), m.limit_flush_age}},
      {"limit pages (none expected)", {k.limit_pages_per_connection.get() + k.limit_pages_per_worker.get(), 0}},
      {"pages in use after the end", {k.pages_in_use.get(), 0}},
  };
  for (const auto& [name, v] : pairs) {
    if (v.first != v.second) return ::testing::AssertionFailure() << name << ": " << v.first << " vs model " << v.second;
  }
  if (c.rec.ends(0) != m.ends) return ::testing::AssertionFailure() << "end reasons differ";
  if (auto r = c.rec.consistent(0); !r) return r;
  return ::testing::AssertionSuccess();
}

class Differential : public ::testing::TestWithParam<OverlapPolicy> {};

TEST_P(Differential, AgreesWithTheReferenceModel) {
  constexpr std::uint64_t kSchedules = 2500;
  for (std::uint64_t seed = 1; seed <= kSchedules; ++seed) {
    ASSERT_TRUE(differential(seed, GetParam())) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, Differential, ::testing::Values(OverlapPolicy::First, OverlapPolicy::Last));

// The generator must actually exercise what the comparison claims to cover.
TEST(ReassemblerRandom, SchedulesCoverEveryRule) {
  ReassemblyCounters totals[2];
  std::uint64_t conflicts = 0;
  std::uint64_t gaps = 0;
  std::uint64_t fin_ends = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    for (int p = 0; p < 2; ++p) {
      const Schedule sc = make_schedule(seed, p == 0 ? OverlapPolicy::First : OverlapPolicy::Last);
      test::ReferenceModel m(sc.cfg);
      m.segment(0, sc.syn.data, sc.syn.fin, 0);
      for (const Schedule::Op& op : sc.ops) {
        if (op.flush) {
          m.flush(op.ts_ns);
        } else {
          m.segment(op.piece.off, op.piece.data, op.piece.fin, op.ts_ns);
        }
      }
      m.end(sc.end);
      totals[p].limit_above_hole.add(m.limit_above_hole);
      totals[p].limit_depth.add(m.limit_depth);
      totals[p].limit_flush_age.add(m.limit_flush_age);
      totals[p].out_of_window.add(m.out_of_window);
      totals[p].retransmitted_bytes.add(m.retransmitted_bytes);
      conflicts += m.conflict_bytes;
      for (const auto& b : m.delivered) gaps += b.gap ? 1 : 0;
      fin_ends += !m.ends.empty() && m.ends.front() == StreamEnd::fin ? 1 : 0;
    }
  }
  for (const ReassemblyCounters& t : totals) {
    EXPECT_GT(t.limit_above_hole.get(), 0U);
    EXPECT_GT(t.limit_depth.get(), 0U);
    EXPECT_GT(t.limit_flush_age.get(), 0U);
    EXPECT_GT(t.out_of_window.get(), 0U);
    EXPECT_GT(t.retransmitted_bytes.get(), 0U);
  }
  EXPECT_GT(conflicts, 0U);
  EXPECT_GT(gaps, 0U);
  EXPECT_GT(fin_ends, 0U);
}

}  // namespace
}  // namespace sf
