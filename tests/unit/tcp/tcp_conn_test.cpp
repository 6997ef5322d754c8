// Zeek's connection states and history letters on scripted exchanges. The
// expected strings are what Zeek's conn.log documents for each exchange
// (base/protocols/conn/main.zeek: conn_state and history), written out by
// hand from the packets, not from this code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flow/flow_key.hpp"
#include "packet/parsed_packet.hpp"
#include "tcp/tcp_conn.hpp"

namespace sf {
namespace {

constexpr std::uint8_t S = tcpflag::kSyn, A = tcpflag::kAck, F = tcpflag::kFin, R = tcpflag::kRst,
                       P = tcpflag::kPsh;
constexpr std::uint8_t kA = kDirLoToHi;  // the client in most scripts
constexpr std::uint8_t kB = kDirHiToLo;

// A scripted connection: each side keeps its own next sequence number.
class Script {
 public:
  explicit Script(std::uint32_t isn_a = 1000, std::uint32_t isn_b = 5000) : seq_{isn_a, isn_b} {}

  // Sends from `dir` with `flags` and `len` payload bytes at the side's next
  // sequence number (or at `seq` when given), acking the peer's next byte.
  Script& send(std::uint8_t dir, std::uint8_t flags, std::uint32_t len = 0, std::uint16_t window = 4096,
               std::int64_t seq = -1) {
    TcpSegment s;
    s.ts_ns = ts_ += 1000000;  // 1 ms apart
    s.dir = dir;
    s.flags = flags;
    s.payload_len = len;
    s.window = window;
    s.seq = seq >= 0 ? static_cast<std::uint32_t>(seq) : seq_[dir];
    s.ack = (flags & A) ? seq_[dir ^ 1] : 0;
    if (!started_) {
      tcp_conn_start(conn_, s, initiator_);
      started_ = true;
    }
    tcp_conn_update(conn_, s, initiator_);
    if (seq < 0) seq_[dir] += len + ((flags & S) ? 1 : 0) + ((flags & F) ? 1 : 0);
    return *this;
  }
  // Acks a byte position the peer has not sent (for content gaps).
  Script& ack_ahead(std::uint8_t dir, std::uint32_t ahead) {
    seq_[dir ^ 1] += ahead;
    send(dir, A);
    return *this;
  }
  // Skips the first-packet rule: the initiator is given (a flow whose TCP
  // state starts after its first packet, e.g. behind a fragment).
  Script& with_initiator(std::uint8_t dir) {
    initiator_ = dir;
    started_ = true;
    return *this;
  }
  Script& handshake() { return send(kA, S).send(kB, S | A).send(kA, A); }

  std::string history() const { return std::string(conn_.history, conn_.history_len); }
  std::string state() const { return std::string(conn_state_name(tcp_conn_state(conn_, initiator_))); }
  const TcpConn& conn() const { return conn_; }
  std::uint8_t initiator() const { return initiator_; }

 private:
  TcpConn conn_;
  std::uint8_t initiator_ = 0;
  bool started_ = false;
  std::uint32_t seq_[2];
  std::uint64_t ts_ = 1700000000000000000ULL;
};

struct Case {
  const char* name;
  void (*script)(Script&);
  const char* history;
  const char* conn_state;
};

class ZeekCases : public ::testing::TestWithParam<Case> {};

TEST_P(ZeekCases, HistoryAndConnState) {
  const Case& c = GetParam();
  Script s;
  c.script(s);
  EXPECT_EQ(s.history(), c.history);
  EXPECT_EQ(s.state(), c.conn_state);
}

const Case kCases[] = {
    {"normal_close", [](Script& s) {
       s.handshake().send(kA, A | P, 100).send(kB, A).send(kB, A | P, 300).send(kA, F | A).send(kB, F | A).send(kA, A);
     }, "ShADadFf", "SF"},
    {"attempt_unanswered", [](Script& s) { s.send(kA, S).send(kA, S); }, "S", "S0"},
    {"rejected", [](Script& s) { s.send(kA, S).send(kB, R | A); }, "Sr", "REJ"},
    {"established_open", [](Script& s) { s.handshake().send(kA, A | P, 10).send(kB, A | P, 10); }, "ShADd", "S1"},
    {"originator_closes_only", [](Script& s) { s.handshake().send(kA, A | P, 10).send(kA, F | A); }, "ShADF", "S2"},
    {"responder_closes_only", [](Script& s) { s.handshake().send(kB, A | P, 10).send(kB, F | A); }, "ShAdf", "S3"},
    {"originator_aborts", [](Script& s) { s.handshake().send(kA, A | P, 10).send(kA, R); }, "ShADR", "RSTO"},
    {"responder_aborts", [](Script& s) { s.handshake().send(kB, A | P, 10).send(kB, R); }, "ShAdr", "RSTR"},
    {"syn_then_originator_rst", [](Script& s) { s.send(kA, S).send(kA, R); }, "SR", "RSTOS0"},
    {"syn_then_fin_half_open", [](Script& s) { s.send(kA, S).send(kA, F); }, "SF", "SH"},
    // The first packet is a SYN-ACK: its receiver is the initiator, so the
    // SYN-ACK's sender is the responder and writes lower case.
    {"synack_then_responder_rst", [](Script& s) { s.send(kB, S | A).send(kB, R); }, "hr", "RSTRH"},
    {"synack_then_responder_fin", [](Script& s) { s.send(kB, S | A).send(kB, F | A); }, "hf", "SHR"},
    {"synack_first_then_late_syn", [](Script& s) {
       s.send(kB, S | A).send(kA, S, 0, 4096, 999).send(kA, A).send(kA, A | P, 5).send(kB, A | P, 5);
     }, "hSADd", "S1"},
    {"midstream_one_side", [](Script& s) { s.send(kA, A | P, 100).send(kA, A | P, 100); }, "D", "OTH"},
    {"midstream_both_sides", [](Script& s) { s.send(kA, A | P, 100).send(kB, A); }, "Da", "OTH"},
    {"missed_syn_then_synack", [](Script& s) { s.send(kB, S | A).send(kA, A).send(kA, A | P, 5); }, "hAD", "S1"},
    {"fin_and_rst_together", [](Script& s) { s.handshake().send(kA, F | R | A); }, "ShAI", "RSTO"},
    {"syn_and_fin_together", [](Script& s) { s.send(kA, S | F); }, "Q", "SH"},
    // FIN, then the peer's FIN and a RST after it: still a normal close.
    {"fin_fin_then_rst", [](Script& s) {
       s.handshake().send(kA, F | A).send(kB, F | A).send(kA, R);
     }, "ShAFfR", "SF"},
};

INSTANTIATE_TEST_SUITE_P(Zeek, ZeekCases, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

// Retransmissions: 'T' on the 1st, 10th, 100th (Zeek's scaled letters).
TEST(TcpConnHistory, RetransmissionLettersScaleByPowersOfTen) {
  Script s;
  s.handshake().send(kA, A | P, 100);
  const std::uint32_t seq = 1001;  // the data segment's sequence number
  for (int i = 0; i < 100; ++i) s.send(kA, A | P, 100, 4096, seq);
  EXPECT_EQ(s.history(), "ShADTTT");
  EXPECT_EQ(s.conn().ep[kA].retrans_packets, 100U);
  EXPECT_EQ(s.conn().ep[kA].retrans_bytes, 10000U);
  EXPECT_EQ(s.conn().ep[kA].ooo_segments, 0U);
}

TEST(TcpConnHistory, ZeroWindowLettersAndCounts) {
  Script s;
  s.handshake();
  for (int i = 0; i < 12; ++i) s.send(kB, A, 0, 0);
  EXPECT_EQ(s.history(), "ShAaww");  // 1st and 10th
  EXPECT_EQ(s.conn().ep[kB].zero_windows, 12U);
  // After the peer's FIN a zero window is not interesting.
  s.send(kA, F | A).send(kB, A, 0, 0);
  EXPECT_EQ(s.conn().ep[kB].zero_windows, 12U);
}

TEST(TcpConnHistory, ReorderedSegmentIsOutOfOrderNotRetransmission) {
  Script s;
  s.handshake();
  // Bytes 1001..1100 and 1101..1200: the second arrives first.
  s.send(kA, A | P, 100, 4096, 1101).send(kA, A | P, 100, 4096, 1001);
  EXPECT_EQ(s.conn().ep[kA].ooo_segments, 1U);
  EXPECT_EQ(s.conn().ep[kA].retrans_packets, 0U);
  // Zeek still writes 'T' for a segment below the highest sequence seen.
  EXPECT_EQ(s.history(), "ShADT");
}

TEST(TcpConnHistory, AckBeyondUnseenDataIsAContentGap) {
  Script s;
  s.handshake().send(kA, A | P, 100);
  s.ack_ahead(kB, 500);  // B acks 500 bytes of A's that were never captured
  EXPECT_EQ(s.history(), "ShADaG");
  s.send(kB, A);  // the same ACK again: the same gap
  EXPECT_EQ(s.history(), "ShADaG");
}

TEST(TcpConnHistory, RepeatedSynWithNewSequenceIsRecordedAgain) {
  Script s(1000);
  s.send(kA, S, 0, 4096, 1000).send(kA, S, 0, 4096, 1000);  // a retransmitted SYN: once
  EXPECT_EQ(s.history(), "S");
  // A SYN from an established endpoint with another ISN resets the start, so
  // its relative sequence is 0 again: Zeek does not repeat the letter either.
  EXPECT_EQ(s.state(), "S0");
}

TEST(TcpConnHistory, FinRepeatedOnlyWhenItsSequenceMoves) {
  Script s;
  s.handshake().send(kA, F | A).send(kA, F | A, 0, 4096, 1001);  // FIN retransmitted at the same seq
  EXPECT_EQ(s.history(), "ShAF");
  s.send(kA, F | A | P, 10, 4096, 1001);  // a FIN at another position: a new letter
  EXPECT_EQ(s.history(), "ShAFF");
}

TEST(TcpConnHistory, HistoryIsBoundedAndSaysSo) {
  Script s;
  s.handshake();
  // Every RST at a new sequence number adds a letter: a hostile sender must not grow it without bound.
  for (std::uint32_t i = 0; i < 100; ++i) s.send(kA, R, 0, 4096, 2000 + i);
  EXPECT_EQ(s.conn().history_len, kTcpHistoryMax);
  EXPECT_EQ(s.conn().history_truncated, 1);
}

TEST(TcpConnDirection, SynAfterSynAckFromTheInitiatorFlipsRoles) {
  Script s;
  s.with_initiator(kA).send(kA, S | A).send(kB, S);
  EXPECT_EQ(s.history(), "Hs^");  // letters before '^' keep the case of the roles they were written under
  EXPECT_EQ(s.initiator(), kB);
  EXPECT_EQ(s.state(), "S1");
}

TEST(TcpConnDirection, ReasonFollowsTheFirstPacket) {
  Script syn;
  syn.send(kB, S);
  EXPECT_EQ(syn.conn().direction_reason, DirectionReason::syn);
  EXPECT_EQ(syn.initiator(), kB);
  Script synack;
  synack.send(kB, S | A);
  EXPECT_EQ(synack.conn().direction_reason, DirectionReason::synack);
  EXPECT_EQ(synack.initiator(), kA);
  Script mid;
  mid.send(kB, A | P, 10);
  EXPECT_EQ(mid.conn().direction_reason, DirectionReason::first_packet);
  EXPECT_EQ(mid.initiator(), kB);
}

TEST(TcpConnEstablished, BothSidesAfterTheThirdPacket) {
  Script s;
  s.send(kA, S).send(kB, S | A);
  EXPECT_TRUE(tcp_conn_established(s.conn()));  // Zeek: the SYN-ACK establishes both sides
  Script only_syn;
  only_syn.send(kA, S);
  EXPECT_FALSE(tcp_conn_established(only_syn.conn()));
}

TEST(TcpConnRtt, HandshakeHalvesInMicroseconds) {
  Script s;
  s.handshake();  // packets 1 ms apart
  const HandshakeRtt rtt = tcp_handshake_rtt(s.conn());
  EXPECT_TRUE(rtt.seen);
  EXPECT_EQ(rtt.synack_us, 1000U);
  EXPECT_EQ(rtt.ack_us, 1000U);
  Script partial;
  partial.send(kA, S).send(kB, S | A);
  EXPECT_FALSE(tcp_handshake_rtt(partial.conn()).seen);
}

TEST(TcpConnSequence, WrapsAcrossZero) {
  Script s(0xFFFFFF00U, 0xFFFFFFF0U);
  s.handshake();
  for (int i = 0; i < 5; ++i) s.send(kA, A | P, 100);  // crosses 2^32
  s.send(kB, F | A).send(kA, F | A).send(kB, A);
  EXPECT_EQ(s.conn().ep[kA].retrans_packets, 0U);
  EXPECT_EQ(s.history(), "ShADfFa");  // B's first pure ACK comes last
  EXPECT_EQ(s.state(), "SF");
  EXPECT_EQ(tcp_endpoint_size(s.conn(), kA), 500U);
}

TEST(TcpConnSize, RejectHasNoPayload) {
  Script s;
  s.send(kA, S).send(kB, R | A);
  EXPECT_EQ(tcp_endpoint_size(s.conn(), kA), 0U);
}

}  // namespace
}  // namespace sf
