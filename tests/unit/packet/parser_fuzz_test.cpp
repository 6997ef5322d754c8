// Randomized robustness: random bytes and mutated valid frames, for every link
// type. Each frame is parsed from an exact-size heap copy so that the sanitizer
// build catches any read past the captured bytes; results must be consistent.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "parse_test_util.hpp"

namespace sf::test {
namespace {

using PB = PacketBuilder;

constexpr int kIterations = 100000;

constexpr LinkType kLinks[] = {LinkType::Null,  LinkType::Ethernet, LinkType::Raw,
                               LinkType::Loop,  LinkType::LinuxSll, LinkType::Ipv4,
                               LinkType::Ipv6,  LinkType::LinuxSll2};

// Frames with every header kind, one link-layer prefix per link type.
std::vector<Bytes> seeds_for(LinkType lt) {
  const auto base = [lt] {
    switch (lt) {
      case LinkType::Ethernet: return PB().eth();
      case LinkType::LinuxSll: return PB().sll();
      case LinkType::LinuxSll2: return PB().sll2();
      case LinkType::Null: return PB().null();
      case LinkType::Loop: return PB().loop();
      default: return PB().raw(lt);
    }
  };
  const bool l2 = lt == LinkType::Ethernet || lt == LinkType::LinuxSll ||
                  lt == LinkType::LinuxSll2;
  std::vector<PB> pkts = {
      base().ipv4("10.0.0.1", "10.0.0.2").ipv4_options(Bytes(8, std::byte{1})).tcp(1, 2, 2)
          .tcp_options(Bytes(12, std::byte{1})).payload(20),
      base().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(5, 0, true).udp(1, 2).payload(20),
      base().ipv4("10.0.0.1", "10.0.0.2").ipv4_frag(5, 9, false).override_proto(17).payload(20),
      base().ipv4("10.0.0.1", "10.0.0.2").icmp_echo(3).payload(8),
      base().ipv4("10.0.0.1", "10.0.0.2").sctp(1, 2).payload(8),
      base().ipv6("::1", "::2").hop().routing(1).dest().frag6(1, 0, true).udp(1, 2).payload(8),
      base().ipv6("::1", "::2").ah().tcp(1, 2, 0x12).payload(8),
      base().ipv6("::1", "::2").icmpv6_echo(9).payload(8),
      base().ipv6("::1", "::2").frag6(1, 7, false).override_proto(6).payload(16),
  };
  if (l2) {
    pkts.push_back(base().qinq(1, 2).mpls({1, 2}).ipv4("10.0.0.1", "10.0.0.2").udp(1, 2));
    pkts.push_back(base().vlan(3).pppoe().ipv6("::1", "::2").tcp(1, 2, 1));
    pkts.push_back(base().mpls({7}).ipv6("::1", "::2").udp(1, 2));
  }
  std::vector<Bytes> out;
  for (const PB& p : pkts) out.push_back(p.build());
  return out;
}

void check_invariants(const ParseResult& r, const ParsedPacket& p, std::size_t caplen,
                      std::uint32_t wire) {
  if (r.status == ParseStatus::Malformed) {
    ASSERT_LT(static_cast<unsigned>(r.reason), kMalformedReasonCount);
    return;
  }
  if (r.status != ParseStatus::Ok) return;
  ASSERT_TRUE(p.ip_version == 4 || p.ip_version == 6);
  ASSERT_LE(p.vlan_count, 8);
  ASSERT_LT(p.l3_offset, caplen);
  ASSERT_LE(p.l4_offset, caplen);
  ASSERT_LE(p.payload_offset, caplen);
  ASSERT_LE(p.ip_bytes, wire - p.l3_offset);
  ASSERT_LE(std::size_t{p.payload_offset} + p.payload_len, std::size_t{p.l3_offset} + p.ip_bytes);
  if (p.is_fragment && !p.first_fragment) {
    ASSERT_EQ(p.l4_offset, 0);
    ASSERT_EQ(p.src_port, 0);
    ASSERT_EQ(p.dst_port, 0);
  }
}

class Fuzz : public ::testing::TestWithParam<LinkType> {};

TEST_P(Fuzz, RandomBytesNeverCrash) {
  const LinkType lt = GetParam();
  std::mt19937 rng(1234 + static_cast<unsigned>(lt));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> len(0, 160);
  // Bias toward interesting values so random frames get past the link layer.
  const std::uint8_t hot[] = {0x08, 0x00, 0x86, 0xDD, 0x81, 0x88, 0xA8, 0x47, 0x64, 0x45, 0x60,
                              0x02, 0x1E, 0x06, 0x11, 0x3A, 0x2C, 0x01, 0x00, 0xFF};
  Bytes frame;
  ParsedPacket p;
  for (int i = 0; i < kIterations; ++i) {
    frame.resize(len(rng));
    const bool biased = (i & 1) != 0;
    for (auto& b : frame) {
      b = static_cast<std::byte>(biased && byte(rng) < 160 ? hot[byte(rng) % sizeof hot]
                                                           : byte(rng));
    }
    const auto wire = static_cast<std::uint32_t>(frame.size() + (byte(rng) < 64 ? byte(rng) : 0));
    const ParseResult r = parse_prefix(frame, frame.size(), wire, lt, p);
    check_invariants(r, p, frame.size(), wire);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_P(Fuzz, MutatedValidFramesNeverCrash) {
  const LinkType lt = GetParam();
  const std::vector<Bytes> seeds = seeds_for(lt);
  ParsedPacket p;
  for (const Bytes& s : seeds) {
    ASSERT_EQ(parse_prefix(s, s.size(), static_cast<std::uint32_t>(s.size()), lt, p).status,
              ParseStatus::Ok);
  }
  std::mt19937 rng(99 + static_cast<unsigned>(lt));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> pick(0, seeds.size() - 1);
  int ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    Bytes frame = seeds[pick(rng)];
    const int flips = 1 + byte(rng) % 4;
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = static_cast<std::size_t>(byte(rng) * 256 + byte(rng)) % frame.size();
      frame[at] = byte(rng) < 128 ? static_cast<std::byte>(byte(rng))
                                  : frame[at] ^ static_cast<std::byte>(1u << (byte(rng) % 8));
    }
    std::size_t caplen = frame.size();
    if (byte(rng) < 64) caplen = static_cast<std::size_t>(byte(rng)) % (frame.size() + 1);
    std::uint32_t wire = static_cast<std::uint32_t>(byte(rng) < 32 ? caplen : frame.size());
    if (byte(rng) < 16) wire += static_cast<std::uint32_t>(byte(rng) * 64);
    const ParseResult r = parse_prefix(frame, caplen, wire, lt, p);
    check_invariants(r, p, caplen, wire);
    if (::testing::Test::HasFatalFailure()) return;
    ok += r.status == ParseStatus::Ok;
  }
  EXPECT_GT(ok, kIterations / 10);  // the mutations still reach the deep parsers
}

INSTANTIATE_TEST_SUITE_P(Parser, Fuzz, ::testing::ValuesIn(kLinks),
                         [](const ::testing::TestParamInfo<LinkType>& info) {
                           return std::string(link_type_name(info.param));
                         });

}  // namespace
}  // namespace sf::test
