// Community ID v1 against values the spec's own tools computed: the baseline
// tables and JSON of github.com/corelight/community-id-spec (baseline/README.md,
// baseline_deflt.json, baseline_seed1.json, made with pycommunityid) and the
// tuples of pycommunityid's tests/communityid_test.py, each with seed 0 and 1.
// Then the record path: frames built, parsed and keyed as RX does, one flow
// per conversation, whose id must equal the spec's id of its packets.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "flow/community_id.hpp"
#include "packet/packet_parser.hpp"
#include "support/packet_builder.hpp"

namespace sf {
namespace {

constexpr int kNoPorts = -1;

struct Vector {
  std::uint8_t proto;
  const char* saddr;
  const char* daddr;
  int sport;  // ICMP: type; kNoPorts: a protocol without ports
  int dport;  // ICMP: code
  const char* seed0;
  const char* seed1;
};

// baseline/README.md, "Default settings" and "A custom seed=1 value" (same rows).
constexpr Vector kBaselineTables[] = {
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {17, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {132, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 128, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 129, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 146, 0,
     "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {46, "1.2.3.4", "5.6.7.8", kNoPorts, kNoPorts, "1:ikv3kmf89luf73WPz1jOs49S768=",
     "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "5.6.7.8", "1.2.3.4", kNoPorts, kNoPorts, "1:ikv3kmf89luf73WPz1jOs49S768=",
     "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", kNoPorts,
     kNoPorts, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
    {46, "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", kNoPorts,
     kNoPorts, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=", "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
};

// baseline/baseline_deflt.json and baseline_seed1.json (pcaps/combined.pcap.gz
// through pycommunityid). Their ICMP "dport" is the mapped counterpart type for
// request/reply types and the code otherwise; as a code it gives the same id.
constexpr Vector kBaselineJson[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:zavyT/cezQr1fmImYCwYnMXbgck=",
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:zavyT/cezQr1fmImYCwYnMXbgck=",
     "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
     "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
     "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
     "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
     "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
     "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {46, "10.1.12.1", "10.1.12.2", kNoPorts, kNoPorts, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
     "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {46, "10.1.12.2", "10.1.12.1", kNoPorts, kNoPorts, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
     "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

// pycommunityid tests/communityid_test.py: the cases the baselines lack.
constexpr Vector kPycommunityidTests[] = {
    // Type 20 is not a request/reply type: one-way, so the code is hashed.
    {1, "192.168.0.89", "192.168.0.1", 20, 0, "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=", "1:lCXHHxavE1Vq3oX9NH5ladQg02o="},
    {1, "192.168.0.89", "192.168.0.1", 20, 1, "1:tz/fHIDUHs19NkixVVoOZywde+I=", "1:Ie3wmFyxiEyikbsbcO03d2nh+PM="},
    // Echo reply: the code is ignored (the counterpart type stands in).
    {1, "192.168.0.1", "192.168.0.89", 0, 20, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
     "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    // One-way (time exceeded): each direction has its own id.
    {58, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=", "1:OlOWx9psIbBFi7lOCw/4MhlKR9M="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0,
     "1:/OGBt9BN1ofenrmSPWYicpij2Vc=", "1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE="},
    {132, "192.168.170.8", "192.168.170.56", 7, 80, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="},
    {132, "192.168.170.56", "192.168.170.8", 80, 7, "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="},
    // pycommunityid issue 3: ports compare as numbers (10 < 11569).
    {6, "10.0.0.1", "10.0.0.2", 10, 11569, "1:SXBGMX1lBOwhhoDrZynfROxnhnM=", "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo="},
    {46, "10.1.24.4", "10.1.12.1", kNoPorts, kNoPorts, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=",
     "1:BK3BVW3U2eemuwVQVN3zd/GULno="},
    {46, "10.1.12.1", "10.1.24.4", kNoPorts, kNoPorts, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=",
     "1:BK3BVW3U2eemuwVQVN3zd/GULno="},
};

std::array<std::uint8_t, 16> addr(const char* text, std::uint8_t& version) {
  std::array<std::uint8_t, 16> a{};
  version = std::strchr(text, ':') != nullptr ? 6 : 4;
  EXPECT_EQ(inet_pton(version == 6 ? AF_INET6 : AF_INET, text, a.data()), 1) << text;
  return a;
}

CommunityIdTuple tuple_of(const Vector& v) {
  CommunityIdTuple t;
  t.src_addr = addr(v.saddr, t.ip_version);
  t.dst_addr = addr(v.daddr, t.ip_version);
  t.proto = v.proto;
  // Protocols without ports: what is in the port fields must not matter.
  t.src_port = static_cast<std::uint16_t>(v.sport == kNoPorts ? 0xBEEF : v.sport);
  t.dst_port = static_cast<std::uint16_t>(v.dport == kNoPorts ? 0x1234 : v.dport);
  return t;
}

std::string id(const CommunityIdTuple& t, std::uint16_t seed) {
  CommunityIdText out;
  out.fill('#');
  community_id(t, seed, out);
  EXPECT_EQ(out[kCommunityIdLen], '\0');
  return std::string(out.data());
}

std::string describe(const Vector& v) {
  return std::to_string(v.proto) + " " + v.saddr + " " + std::to_string(v.sport) + " -> " + v.daddr + " " +
         std::to_string(v.dport);
}

template <std::size_t N>
void expect_vectors(const Vector (&vectors)[N]) {
  for (const Vector& v : vectors) {
    SCOPED_TRACE(describe(v));
    EXPECT_EQ(id(tuple_of(v), 0), v.seed0);
    EXPECT_EQ(id(tuple_of(v), 1), v.seed1);
  }
}

TEST(CommunityId, SpecBaselineTables) { expect_vectors(kBaselineTables); }
TEST(CommunityId, SpecBaselineJson) { expect_vectors(kBaselineJson); }
TEST(CommunityId, PycommunityidTests) { expect_vectors(kPycommunityidTests); }

TEST(CommunityId, ShapeAndSeedMatters) {
  const CommunityIdTuple t = tuple_of(kBaselineTables[0]);
  const std::string a = id(t, 0);
  EXPECT_EQ(a.size(), kCommunityIdLen);
  EXPECT_EQ(a.substr(0, 2), "1:");
  EXPECT_EQ(a.back(), '=');
  EXPECT_NE(id(t, 0xFFFF), a);
  EXPECT_NE(id(t, 0x0100), id(t, 0x0001)) << "the seed is hashed big-endian, both bytes";
}

TEST(CommunityId, EqualAddressesOrderByPort) {
  // Loopback-like tuples: the ports decide, numerically, so both directions agree.
  for (std::uint8_t proto : {ipproto::kTcp, ipproto::kUdp, ipproto::kSctp}) {
    CommunityIdTuple t;
    std::uint8_t v;
    t.src_addr = t.dst_addr = addr("127.0.0.1", v);
    t.proto = proto;
    t.src_port = 0x0100;  // 256: big-endian 01 00, little-endian reads 1
    t.dst_port = 0x0002;  // 2
    CommunityIdTuple r = t;
    std::swap(r.src_port, r.dst_port);
    EXPECT_EQ(id(t, 0), id(r, 0));
    // Not a constant: another port pair hashes differently.
    r.dst_port = 3;
    EXPECT_NE(id(t, 0), id(r, 0));
  }
}

// ---- The record path: frames → parser → normalized key → first packet's tuple ----

struct Flow {
  FlowKey key;
  std::uint8_t initiator_dir = 0;
  std::uint8_t first_icmp_type = 0;
};

ParsedPacket parse(const test::PacketBuilder& b) {
  ParsedPacket p;
  const test::Bytes frame = b.build();
  EXPECT_EQ(parse_packet(frame, b.wire_len(), b.link_type(), p).status, ParseStatus::Ok);
  return p;
}

// What the tracker keeps of a flow's first packet (initiator = its sender).
Flow flow_started_by(const test::PacketBuilder& first) {
  const ParsedPacket p = parse(first);
  const NormalizedKey nk = normalize_flow_key(p, false);
  return {nk.key, nk.dir, p.icmp_type};
}

std::string flow_id(const Flow& f, std::uint16_t seed) {
  return id(first_packet_tuple(f.key, f.initiator_dir, f.first_icmp_type), seed);
}

FlowKey key_of(const test::PacketBuilder& b) { return normalize_flow_key(parse(b), false).key; }

TEST(CommunityIdRecord, EchoFlowMatchesTheSpecWhicheverPacketCameFirst) {
  using test::PacketBuilder;
  // baseline_deflt.json: 192.168.0.89 pings 192.168.0.1.
  const auto request = PacketBuilder().eth().ipv4("192.168.0.89", "192.168.0.1").icmp_echo(0x4242, 1);
  const auto reply = PacketBuilder().eth().ipv4("192.168.0.1", "192.168.0.89").icmp_echo(0x4242, 1, true);
  ASSERT_EQ(key_of(request), key_of(reply)) << "one flow";
  EXPECT_EQ(flow_id(flow_started_by(request), 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
  EXPECT_EQ(flow_id(flow_started_by(request), 1), "1:03g6IloqVBdcZlPyX8r0hgoE7kA=");
  // Capture started after the request: the replier is the initiator.
  EXPECT_EQ(flow_id(flow_started_by(reply), 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
  EXPECT_EQ(flow_id(flow_started_by(reply), 1), "1:03g6IloqVBdcZlPyX8r0hgoE7kA=");

  // The same with the pinger on the high address: the key's lo side replies.
  const auto request_hi = PacketBuilder().eth().ipv4("5.6.7.8", "1.2.3.4").icmp_echo(7);
  const auto reply_lo = PacketBuilder().eth().ipv4("1.2.3.4", "5.6.7.8").icmp_echo(7, 1, true);
  CommunityIdTuple spec = tuple_of(kBaselineTables[6]);  // 1.2.3.4 -> 5.6.7.8 echo request
  std::swap(spec.src_addr, spec.dst_addr);
  const std::string want = id(spec, 0);
  EXPECT_EQ(flow_id(flow_started_by(request_hi), 0), want);
  EXPECT_EQ(flow_id(flow_started_by(reply_lo), 0), want);
  EXPECT_NE(want, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=") << "who pinged whom is part of the id";
}

TEST(CommunityIdRecord, Icmpv6EchoFlow) {
  using test::PacketBuilder;
  // baseline_deflt.json: 3ffe:507:0:1:200:86ff:fe05:80da pings 3ffe:501:0:1001::2.
  const auto request = PacketBuilder().eth().ipv6("3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2")
                           .icmpv6_echo(0x0400, 9);
  const auto reply = PacketBuilder().eth().ipv6("3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da")
                         .icmpv6_echo(0x0400, 9, true);
  ASSERT_EQ(key_of(request), key_of(reply));
  EXPECT_EQ(flow_id(flow_started_by(request), 0), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
  EXPECT_EQ(flow_id(flow_started_by(reply), 0), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
  EXPECT_EQ(flow_id(flow_started_by(request), 1), "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=");
}

TEST(CommunityIdRecord, NonEchoIcmpKeepsTypeAndCodeInTheKey) {
  using test::PacketBuilder;
  // One-way messages whose sender is on either side of the key.
  const auto ttl = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").icmp(11, 0);
  EXPECT_EQ(flow_id(flow_started_by(ttl), 0), "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
  EXPECT_EQ(flow_id(flow_started_by(ttl), 1), "1:XjUibYHaafLQ3pxQeiMI8g25q20=");
  const auto unreach = PacketBuilder().eth().ipv6("3ffe:501:410:0:2c0:dfff:fe47:33e",
                                                  "3ffe:507:0:1:200:86ff:fe05:80da").icmpv6(1, 4);
  EXPECT_EQ(flow_id(flow_started_by(unreach), 0), "1:hLZd0XGWojozrvxqE0dWB1iM6R0=");
  const auto exceeded = PacketBuilder().eth().ipv6("3ffe:507:0:1:200:86ff:fe05:80da",
                                                   "3ffe:507:0:1:260:97ff:fe07:69ea").icmpv6(3, 0);
  EXPECT_EQ(flow_id(flow_started_by(exceeded), 0), "1:/OGBt9BN1ofenrmSPWYicpij2Vc=");
  // Request/reply types other than echo are two flows in shardflow (type and
  // code are the ports) but one id, as the spec intends.
  const auto solicit = PacketBuilder().eth().ipv6("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea")
                           .icmpv6(135, 0);
  const auto advert = PacketBuilder().eth().ipv6("fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da")
                          .icmpv6(136, 0);
  EXPECT_NE(key_of(solicit), key_of(advert));
  EXPECT_EQ(flow_id(flow_started_by(solicit), 0), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
  EXPECT_EQ(flow_id(flow_started_by(advert), 0), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
  // Type 20 code 1 (one-way, the code counts), sent from the high address.
  const auto t20 = PacketBuilder().eth().ipv4("192.168.0.89", "192.168.0.1").icmp(20, 1);
  EXPECT_EQ(flow_id(flow_started_by(t20), 0), "1:tz/fHIDUHs19NkixVVoOZywde+I=");
}

TEST(CommunityIdRecord, TypeEqualToCodeIsNotMistakenForEcho) {
  using test::PacketBuilder;
  // Port unreachable (3/3) has equal "ports" like an echo key; its type is not echo.
  const auto unreach = PacketBuilder().eth().ipv4("10.0.0.2", "10.0.0.1").icmp(3, 3);
  const Flow f = flow_started_by(unreach);
  ASSERT_EQ(f.key.port_lo, f.key.port_hi);
  CommunityIdTuple spec;
  std::uint8_t v;
  spec.src_addr = addr("10.0.0.2", v);
  spec.dst_addr = addr("10.0.0.1", v);
  spec.proto = ipproto::kIcmp;
  spec.src_port = 3;
  spec.dst_port = 3;
  EXPECT_EQ(flow_id(f, 0), id(spec, 0));
  // A recorded echo type that the key contradicts (ports differ) leaves the key's type and code.
  const Flow ttl{key_of(PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").icmp(11, 0)), kDirLoToHi, 8};
  EXPECT_EQ(flow_id(ttl, 0), "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
}

TEST(CommunityIdRecord, PortProtocolsAndOthersIgnoreOrientation) {
  using test::PacketBuilder;
  const auto syn = PacketBuilder().eth().ipv4("128.232.110.120", "66.35.250.204").tcp(34855, 80, tcpflag::kSyn);
  Flow f = flow_started_by(syn);
  EXPECT_EQ(flow_id(f, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
  f.initiator_dir ^= 1U;  // e.g. first seen as SYN-ACK
  EXPECT_EQ(flow_id(f, 0), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
  const auto dns = PacketBuilder().eth().vlan(10).ipv4("8.8.8.8", "192.168.1.52").udp(53, 54585);
  EXPECT_EQ(flow_id(flow_started_by(dns), 1), "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=");
  const auto sctp = PacketBuilder().eth().ipv4("192.168.170.56", "192.168.170.8").sctp(80, 7);
  EXPECT_EQ(flow_id(flow_started_by(sctp), 0), "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=");
  const auto tcp6 = PacketBuilder().eth().ipv6("2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887")
                        .tcp(25, 63943, tcpflag::kAck);
  EXPECT_EQ(flow_id(flow_started_by(tcp6), 0), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
  // RSVP (46): no ports; the key's are zero and ignored either way.
  const auto rsvp = PacketBuilder().eth().ipv4("10.1.12.2", "10.1.12.1").udp(1, 2).override_proto(46);
  Flow r = flow_started_by(rsvp);
  EXPECT_EQ(r.key.port_lo, 0);
  EXPECT_EQ(flow_id(r, 0), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
  r.key.port_lo = 99;
  EXPECT_EQ(flow_id(r, 1), "1:rYir8gphR31noO9iDRQmF/BteEI=");
}

}  // namespace
}  // namespace sf
