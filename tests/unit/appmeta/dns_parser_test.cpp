// DNS message parser on crafted messages (expected values written by hand
// from the bytes, offsets counted in the comments), on name texts whose
// expected form is what tshark 4.0 printed for the same labels (crafted
// capture, text2pcap + tshark -e dns.qry.name), and on two responses of
// zeek__dns-edns-ecs.pcap embedded as hex with tshark's fields.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "appmeta/dns_parser.hpp"

namespace sf {
namespace {

// Byte writer for crafted messages: network order, names as labels.
class Msg {
 public:
  Msg& u8(std::uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  Msg& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
  Msg& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v)); }
  Msg& bytes(std::initializer_list<std::uint8_t> l) {
    b_.insert(b_.end(), l);
    return *this;
  }
  Msg& header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an, std::uint16_t ns,
              std::uint16_t ar) {
    return u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  }
  // One label of raw bytes (no terminator).
  Msg& label(std::string_view l) {
    u8(static_cast<std::uint8_t>(l.size()));
    b_.insert(b_.end(), l.begin(), l.end());
    return *this;
  }
  // "www.example.com" as labels plus the root terminator.
  Msg& name(std::string_view dotted) {
    while (!dotted.empty()) {
      const auto dot = dotted.find('.');
      label(dotted.substr(0, dot));
      dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    }
    return u8(0);
  }
  Msg& ptr(std::uint16_t off) { return u16(static_cast<std::uint16_t>(0xC000 | off)); }
  Msg& question(std::uint16_t type = 1, std::uint16_t cls = 1) { return u16(type).u16(cls); }
  // Type, class, ttl, rdlength: what follows an owner name.
  Msg& rr(std::uint16_t type, std::uint16_t cls, std::uint32_t ttl, std::uint16_t rdlen) {
    return u16(type).u16(cls).u32(ttl).u16(rdlen);
  }
  std::size_t size() const { return b_.size(); }
  std::span<const std::uint8_t> span() const { return b_; }
  std::vector<std::uint8_t>& vec() { return b_; }

 private:
  std::vector<std::uint8_t> b_;
};

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  return out;
}

std::string addr_text(const DnsAnswer& a) {
  char buf[64];
  if (a.type == kDnsTypeA) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.addr[0], a.addr[1], a.addr[2], a.addr[3]);
    return buf;
  }
  std::string s;  // full hex groups: comparisons below are written the same way
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%02x%02x", i ? ":" : "", a.addr[i], a.addr[i + 1]);
    s += buf;
  }
  return s;
}

std::vector<std::string> resolved(const DnsMessage& m) {
  std::vector<std::string> out;
  for_each_resolved_address(m, [&](const DnsAnswer& a) { out.push_back(addr_text(a)); });
  return out;
}

DnsStatus parse(const Msg& msg, DnsMessage& m) { return parse_dns_message(msg.span(), m); }

TEST(DnsParser, SimpleAQuery) {
  // dig example.com A with RD: id 0x1a2b, flags 0x0100.
  Msg q;
  q.header(0x1a2b, 0x0100, 1, 0, 0, 0).name("example.com").question(1, 1);
  ASSERT_EQ(q.size(), 12u + 13u + 4u);
  DnsMessage m;
  ASSERT_EQ(parse(q, m), DnsStatus::kOk);
  EXPECT_EQ(m.id, 0x1a2b);
  EXPECT_EQ(m.flags, 0x0100);
  EXPECT_FALSE(m.response);
  EXPECT_EQ(m.opcode, 0);
  EXPECT_EQ(m.rcode, 0);
  EXPECT_EQ(m.qdcount, 1);
  EXPECT_EQ(m.ancount, 0);
  ASSERT_TRUE(m.has_question);
  EXPECT_EQ(m.name(m.qname), "example.com");
  EXPECT_EQ(m.qtype, 1);
  EXPECT_EQ(m.qclass, 1);
  EXPECT_EQ(m.answer_count, 0);
  EXPECT_FALSE(m.answers_truncated);
}

TEST(DnsParser, SimpleAResponseWithPointerOwner) {
  Msg r;
  r.header(0x1a2b, 0x8180, 1, 1, 0, 0).name("example.com").question();
  r.ptr(12).rr(1, 1, 3600, 4).bytes({93, 184, 216, 34});
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_TRUE(m.response);
  EXPECT_EQ(m.opcode, 0);
  EXPECT_EQ(m.rcode, 0);
  ASSERT_EQ(m.answer_count, 1);
  const DnsAnswer& a = m.answers[0];
  EXPECT_EQ(m.name(a.owner), "example.com");
  EXPECT_EQ(a.type, 1);
  EXPECT_EQ(a.rclass, 1);
  EXPECT_EQ(a.ttl, 3600u);
  EXPECT_EQ(addr_text(a), "93.184.216.34");
  EXPECT_EQ(a.target.len, 0);
  EXPECT_EQ(resolved(m), std::vector<std::string>{"93.184.216.34"});
}

TEST(DnsParser, AaaaResponse) {
  Msg r;
  r.header(7, 0x8180, 1, 1, 0, 0).name("ipv6.example").question(28, 1);
  r.ptr(12).rr(28, 1, 0xFFFFFFFFu, 16).bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.qtype, 28);
  ASSERT_EQ(m.answer_count, 1);
  EXPECT_EQ(m.answers[0].type, 28);
  EXPECT_EQ(m.answers[0].ttl, 0xFFFFFFFFu);
  EXPECT_EQ(addr_text(m.answers[0]), "2001:0db8:0000:0000:0000:0000:0000:0001");
}

// www.example.com CNAME cdn.example.net; CDN.Example.NET CNAME edge.example.org;
// edge.example.org A 192.0.2.1 and AAAA 2001:db8::2; unrelated.example A 198.51.100.7.
Msg cname_chain_response() {
  Msg r;
  r.header(0x4242, 0x8180, 1, 5, 0, 0).name("www.example.com").question();  // question ends at 33
  r.ptr(12).rr(5, 1, 300, 17).name("cdn.example.net");                      // target name at 45
  r.name("CDN.Example.NET").rr(5, 1, 300, 18).name("edge.example.org");
  r.name("edge.example.org").rr(1, 1, 60, 4).bytes({192, 0, 2, 1});
  r.name("unrelated.example").rr(1, 1, 60, 4).bytes({198, 51, 100, 7});
  r.name("EDGE.example.org").rr(28, 1, 60, 16).bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
  return r;
}

TEST(DnsParser, CnameChainYieldsOnlyChainAddresses) {
  const Msg r = cname_chain_response();
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  ASSERT_EQ(m.answer_count, 5);
  EXPECT_EQ(m.name(m.answers[0].target), "cdn.example.net");
  EXPECT_EQ(m.name(m.answers[1].owner), "CDN.Example.NET");
  EXPECT_EQ(m.name(m.answers[1].target), "edge.example.org");
  EXPECT_EQ(m.name(m.answers[3].owner), "unrelated.example");
  EXPECT_EQ(resolved(m), (std::vector<std::string>{"192.0.2.1", "2001:0db8:0000:0000:0000:0000:0000:0002"}));
}

TEST(DnsParser, CnameLoopEndsAndYieldsChainAddressOnce) {
  // a.test CNAME b.test, b.test CNAME a.test, a.test A 10.0.0.1.
  Msg r;
  r.header(1, 0x8180, 1, 3, 0, 0).name("a.test").question();  // "a.test" at 12
  r.ptr(12).rr(5, 1, 1, 8).name("b.test");                    // "b.test" at 36
  r.ptr(36).rr(5, 1, 1, 2).ptr(12);
  r.ptr(12).rr(1, 1, 1, 4).bytes({10, 0, 0, 1});
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  ASSERT_EQ(m.answer_count, 3);
  EXPECT_EQ(m.name(m.answers[1].owner), "b.test");
  EXPECT_EQ(m.name(m.answers[1].target), "a.test");
  EXPECT_EQ(resolved(m), std::vector<std::string>{"10.0.0.1"});
}

TEST(DnsParser, BackwardPointerAfterLabels) {
  // mail + pointer to "example.com" at 12 in an owner; a target that is
  // "smtp" + pointer to the owner name "mail.example.com" (at 29).
  Msg r;
  r.header(2, 0x8180, 1, 1, 0, 0).name("example.com").question(15, 1);  // question ends at 29
  r.label("mail").ptr(12).rr(5, 1, 5, 7).label("smtp").ptr(29);
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  ASSERT_EQ(m.answer_count, 1);
  EXPECT_EQ(m.name(m.answers[0].owner), "mail.example.com");
  EXPECT_EQ(m.name(m.answers[0].target), "smtp.mail.example.com");
}

TEST(DnsParser, SelfPointerIsMalformed) {
  Msg r;
  r.header(3, 0x0100, 1, 0, 0, 0).ptr(12).question();  // the name at 12 points at 12
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
  EXPECT_FALSE(m.has_question);
  EXPECT_EQ(m.id, 3);  // the header stays filled
}

TEST(DnsParser, TwoCyclePointerIsMalformed) {
  // Owner at 29 points to 31, which points back to 29: the first jump goes
  // forward, which is refused.
  Msg r;
  r.header(4, 0x8180, 1, 1, 0, 0).name("example.com").question();  // ends at 29
  r.ptr(31).ptr(29).rr(1, 1, 1, 4).bytes({1, 2, 3, 4});
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
  EXPECT_TRUE(m.has_question);
  EXPECT_EQ(m.name(m.qname), "example.com");
  EXPECT_EQ(m.answer_count, 0);
}

TEST(DnsParser, BackwardOnlyLoopHitsTheBound) {
  // At 29: label of length 2 whose bytes are C0 1D (a pointer to 29), then
  // at 32 a pointer to 29: every pointer goes backward, yet the name would
  // be "\300\035.\300\035..." forever. Ends at the 64-pointer / 255-octet
  // bound.
  Msg r;
  r.header(5, 0x8180, 1, 1, 0, 0).name("example.com").question();  // ends at 29
  r.u8(2).ptr(29).ptr(29).rr(1, 1, 1, 4).bytes({1, 2, 3, 4});
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
  EXPECT_EQ(m.answer_count, 0);
}

// A chain of backward pointers kept in the RDATA of an opaque record: at
// R a pointer to the question name (12), at R+2i a pointer to R+2(i-1). An
// owner pointing at R+2k follows k+2 pointers: 64 is the bound.
Msg pointer_chain(std::size_t k) {
  Msg r;
  r.header(17, 0x8180, 1, 2, 0, 0).name("example.com").question();  // ends at 29
  const std::uint16_t rdata = 29 + 2 + 10;
  r.ptr(12).rr(0xFF00, 1, 0, 2 * 70);
  r.ptr(12);
  for (std::uint16_t i = 1; i < 70; ++i) r.ptr(static_cast<std::uint16_t>(rdata + 2 * (i - 1)));
  r.ptr(static_cast<std::uint16_t>(rdata + 2 * k)).rr(1, 1, 0, 4).bytes({1, 2, 3, 4});
  return r;
}

TEST(DnsParser, PointerCountBound) {
  DnsMessage m;
  ASSERT_EQ(parse(pointer_chain(62), m), DnsStatus::kOk);  // 64 pointers
  ASSERT_EQ(m.answer_count, 2);
  EXPECT_EQ(m.name(m.answers[1].owner), "example.com");
  EXPECT_EQ(parse(pointer_chain(63), m), DnsStatus::kMalformed);  // 65
  EXPECT_EQ(m.answer_count, 1);
}

TEST(DnsParser, PointerPastEndIsMalformed) {
  Msg r;
  r.header(6, 0x0100, 1, 0, 0, 0).label("www").ptr(0x3FFF).question();
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
}

TEST(DnsParser, ForwardPointerIsMalformed) {
  // The question name points at a well-formed name placed after it (at 18).
  Msg r;
  r.header(7, 0x0100, 1, 0, 0, 1).ptr(18).question().name("later.example").rr(1, 1, 0, 0);
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
  EXPECT_FALSE(m.has_question);
}

TEST(DnsParser, ReservedLabelTypesAreMalformed) {
  for (const std::uint8_t type : {std::uint8_t{0x40}, std::uint8_t{0x80}, std::uint8_t{0x7F}, std::uint8_t{0xBF}}) {
    Msg r;
    r.header(8, 0x0100, 1, 0, 0, 0).label("ok").u8(type).bytes({'a', 'b', 'c'}).u8(0).question();
    DnsMessage m;
    EXPECT_EQ(parse(r, m), DnsStatus::kMalformed) << int(type);
  }
  // Also in a record that is only skipped (authority section).
  Msg r;
  r.header(8, 0x8180, 1, 0, 1, 0).name("ok").question().u8(0x41).bytes({'x'}).u8(0).rr(2, 1, 0, 0);
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
}

TEST(DnsParser, NameOf255OctetsIsOkAnd256Malformed) {
  const std::string l63(63, 'a');
  // 3 * (1 + 63) + (1 + 61) + 1 = 255 wire octets; text 63*3 + 61 + 3 dots.
  Msg ok;
  ok.header(9, 0x0100, 1, 0, 0, 0).label(l63).label(l63).label(l63).label(std::string(61, 'b')).u8(0).question();
  DnsMessage m;
  ASSERT_EQ(parse(ok, m), DnsStatus::kOk);
  EXPECT_EQ(m.qname.len, 253);
  EXPECT_EQ(m.name(m.qname), l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b'));
  EXPECT_EQ(m.names_clipped, 0);

  Msg bad;
  bad.header(9, 0x0100, 1, 0, 0, 0).label(l63).label(l63).label(l63).label(std::string(62, 'b')).u8(0).question();
  EXPECT_EQ(parse(bad, m), DnsStatus::kMalformed);
  EXPECT_FALSE(m.has_question);

  // Over 255 octets through a pointer: "c" (2 octets) + the 255-octet
  // name of the question.
  Msg viaptr;
  viaptr.header(9, 0x8180, 1, 1, 0, 0).label(l63).label(l63).label(l63).label(std::string(61, 'b')).u8(0).question();
  viaptr.label("c").ptr(12).rr(1, 1, 0, 4).bytes({1, 1, 1, 1});
  EXPECT_EQ(parse(viaptr, m), DnsStatus::kMalformed);
  EXPECT_TRUE(m.has_question);
  EXPECT_EQ(m.answer_count, 0);
}

TEST(DnsParser, LargeMessageKeepsTheBound) {
  // 4000 A answers owned by a pointer to the question: 12 + (13 + 4) + 4000 * 16
  // = 64029 bytes.
  Msg r;
  r.header(10, 0x8180, 1, 4000, 0, 0).name("big.example").question();
  for (std::uint32_t i = 0; i < 4000; ++i)
    r.ptr(12).rr(1, 1, i, 4).bytes({10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                     static_cast<std::uint8_t>(i)});
  ASSERT_EQ(r.size(), 64029u);
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.ancount, 4000);
  EXPECT_EQ(m.answer_count, kDnsMaxAnswers);
  EXPECT_TRUE(m.answers_truncated);
  EXPECT_EQ(m.answers[15].ttl, 15u);
  EXPECT_EQ(addr_text(m.answers[15]), "10.0.0.15");
  EXPECT_EQ(m.name(m.answers[15].owner), "big.example");
  EXPECT_EQ(resolved(m).size(), kDnsMaxAnswers);

  // The same message cut one byte short is truncated in the skipped part.
  r.vec().pop_back();
  EXPECT_EQ(parse(r, m), DnsStatus::kTruncated);
  EXPECT_EQ(m.answer_count, kDnsMaxAnswers);
}

TEST(DnsParser, NamesAreaFullStopsKeeping) {
  // Owners of 199 text characters each (labels of 63+63+63+7: 4 labels,
  // 196 chars + 3 dots): qname "q" takes 1 byte, 5 owners take 995, the
  // 6th would need 199 of the 28 left.
  const std::string l63(63, 'x');
  Msg r;
  r.header(11, 0x8180, 1, 8, 0, 0).name("q").question();
  for (int i = 0; i < 8; ++i) {
    r.label(l63).label(l63).label(l63).label("label-" + std::to_string(i)).u8(0);
    r.rr(1, 1, 0, 4).bytes({192, 0, 2, static_cast<std::uint8_t>(i)});
  }
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.answer_count, 5);
  EXPECT_TRUE(m.answers_truncated);
  EXPECT_EQ(m.names_used, 1 + 5 * 199);
  EXPECT_EQ(m.name(m.answers[4].owner), l63 + "." + l63 + "." + l63 + ".label-4");
  EXPECT_EQ(addr_text(m.answers[4]), "192.0.2.4");
}

TEST(DnsParser, EveryTruncationOfAResponse) {
  // Hand-placed offsets: header 0..12, question www.example.com 12..33,
  // CNAME (owner c00c, target "cdn" + c010 = 6 bytes) 33..51, A (owner c02d =
  // the target at 45) 51..67, AAAA 67..95, OPT in additional 95..106.
  Msg r;
  r.header(0xbeef, 0x8180, 1, 3, 0, 1).name("www.example.com").question();
  r.ptr(12).rr(5, 1, 300, 6).label("cdn").ptr(16);
  r.ptr(45).rr(1, 1, 60, 4).bytes({192, 0, 2, 10});
  r.ptr(45).rr(28, 1, 60, 16).bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10});
  r.u8(0).rr(41, 4096, 0, 0);
  ASSERT_EQ(r.size(), 106u);
  const std::vector<std::uint8_t> full = r.vec();
  DnsMessage m;
  for (std::size_t len = 0; len <= full.size(); ++len) {
    SCOPED_TRACE("prefix length " + std::to_string(len));
    const DnsStatus s = parse_dns_message(std::span(full.data(), len), m);
    if (len < 12) {
      EXPECT_EQ(s, DnsStatus::kMalformed);
      EXPECT_FALSE(m.has_question);
      EXPECT_EQ(m.answer_count, 0);
      continue;
    }
    EXPECT_EQ(s, len == full.size() ? DnsStatus::kOk : DnsStatus::kTruncated);
    EXPECT_EQ(m.id, 0xbeef);
    EXPECT_EQ(m.ancount, 3);
    EXPECT_EQ(m.arcount, 1);
    EXPECT_EQ(m.has_question, len >= 33);
    if (m.has_question) {
      EXPECT_EQ(m.name(m.qname), "www.example.com");
    }
    const std::size_t kept = len >= 95 ? 3 : len >= 67 ? 2 : len >= 51 ? 1 : 0;
    ASSERT_EQ(m.answer_count, kept);
    if (kept >= 1) {
      EXPECT_EQ(m.name(m.answers[0].target), "cdn.example.com");
    }
    if (kept >= 2) {
      EXPECT_EQ(addr_text(m.answers[1]), "192.0.2.10");
    }
    if (kept >= 3) {
      EXPECT_EQ(m.name(m.answers[2].owner), "cdn.example.com");
    }
    EXPECT_FALSE(m.answers_truncated);
  }
}

TEST(DnsParser, MdnsResponseWithoutQuestion) {
  // An mDNS announcement: id 0, flags 0x8400 (QR, AA), no question.
  // _ipp._tcp.local PTR "My Printer._ipp._tcp.local"; printer.local A
  // 192.168.1.20 with the cache-flush bit in the class (0x8001).
  Msg r;
  r.header(0, 0x8400, 0, 2, 0, 0).name("_ipp._tcp.local");  // at 12
  r.rr(12, 1, 4500, 13).label("My Printer").ptr(12);
  r.name("printer.local").rr(1, 0x8001, 120, 4).bytes({192, 168, 1, 20});
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_FALSE(m.has_question);
  EXPECT_EQ(m.opcode, 0);
  ASSERT_EQ(m.answer_count, 2);
  EXPECT_EQ(m.name(m.answers[0].owner), "_ipp._tcp.local");
  EXPECT_EQ(m.answers[0].type, 12);
  EXPECT_EQ(m.name(m.answers[0].target), "My Printer._ipp._tcp.local");
  EXPECT_EQ(m.answers[1].rclass, 0x8001);
  EXPECT_EQ(addr_text(m.answers[1]), "192.168.1.20");
  EXPECT_TRUE(resolved(m).empty());  // no question: no chain to walk
}

TEST(DnsParser, NxdomainWithSoaInAuthority) {
  // flags 0x8183: QR RD RA, RCODE 3; opcode 0.
  Msg r;
  r.header(0x0bad, 0x8183, 1, 0, 1, 0).name("nope.example").question();
  r.ptr(17).rr(6, 1, 900, 0x20);  // owner "example" (at 17) via the question
  r.label("ns").ptr(17).label("host").ptr(17).u32(1).u32(2).u32(3).u32(4).u32(5);
  ASSERT_EQ(r.size(), 12u + 14u + 4u + 12u + 0x20u);
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.rcode, 3);
  EXPECT_EQ(m.opcode, 0);
  EXPECT_TRUE(m.response);
  EXPECT_EQ(m.nscount, 1);
  EXPECT_EQ(m.answer_count, 0);
  EXPECT_EQ(m.name(m.qname), "nope.example");
}

TEST(DnsParser, OpcodeAndRcodeBits) {
  // flags 0x2805: opcode 5 (UPDATE) in bits 11-14, rcode 5 (REFUSED).
  Msg r;
  r.header(1, 0x2805, 0, 0, 0, 0);
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_FALSE(m.response);
  EXPECT_EQ(m.opcode, 5);
  EXPECT_EQ(m.rcode, 5);
}

TEST(DnsParser, BadRdataSkipsTheRecordAndGoesOn) {
  Msg r;
  r.header(12, 0x8180, 1, 3, 0, 0).name("x.test").question();
  r.ptr(12).rr(1, 1, 1, 5).bytes({1, 2, 3, 4, 5});  // A with 5 bytes
  r.ptr(12).rr(5, 1, 1, 5).label("ab").u8(0).u8(0xEE);  // CNAME name + a stray byte
  r.ptr(12).rr(1, 1, 1, 4).bytes({9, 9, 9, 9});
  DnsMessage m;
  EXPECT_EQ(parse(r, m), DnsStatus::kMalformed);
  EXPECT_EQ(m.bad_rdata_records, 2);
  ASSERT_EQ(m.answer_count, 1);
  EXPECT_EQ(addr_text(m.answers[0]), "9.9.9.9");
}

TEST(DnsParser, ShortMessagesAreMalformed) {
  const std::uint8_t bytes[11] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0};
  DnsMessage m;
  EXPECT_EQ(parse_dns_message(std::span(bytes, 11), m), DnsStatus::kMalformed);
  EXPECT_EQ(parse_dns_message({}, m), DnsStatus::kMalformed);
}

TEST(DnsParser, OnlyTheFirstQuestionIsKept) {
  Msg r;
  r.header(13, 0x8180, 2, 1, 0, 0).name("one.test").question(1, 1).name("two.test").question(28, 1);
  r.ptr(12).rr(1, 1, 1, 4).bytes({1, 1, 1, 1});
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.name(m.qname), "one.test");
  EXPECT_EQ(m.qtype, 1);
  ASSERT_EQ(m.answer_count, 1);
}

TEST(DnsParser, RootNameIsEmptyText) {
  // A query for the root NS: tshark shows "<Root>", we give "".
  Msg r;
  r.header(14, 0x0100, 1, 0, 0, 0).u8(0).question(2, 1);
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  ASSERT_TRUE(m.has_question);
  EXPECT_EQ(m.qname.len, 0);
  EXPECT_EQ(m.qtype, 2);
}

// Expected texts are what tshark 4.0.17 printed as dns.qry.name for these
// labels (text2pcap of the same bytes).
TEST(DnsParser, NameTextMatchesTshark) {
  struct Case {
    std::vector<std::string> labels;
    std::string text;
  };
  const Case cases[] = {
      {{"a.b", "com"}, "a.b.com"},
      {{"a\x01" "b", "com"}, "a\\001b.com"},
      {{std::string("x\0y", 3)}, "x\\000y"},
      {{"x\ty", "x\ny", "x\ry", "x\ay"}, "x\\ty.x\\ny.x\\ry.x\\ay"},
      {{"x\x1fy", "x\x0ey"}, "x\\037y.x\\016y"},
      {{"caf\xc3\xa9", "com"}, "caf\xc3\xa9.com"},
      {{"a b", "c\\d"}, "a b.c\\d"},
      {{"\xff\x7f", "x"}, "\xEF\xBF\xBD\\177.x"},
      {{"A\"B", "x"}, "A\"B.x"},
      {{"x\x80y"}, "x\xEF\xBF\xBDy"},
      {{"x\xc1\x81y"}, "xAy"},                          // overlong 'A'
      {{"x\xe0\x80\x80y"}, "x\\u0000y"},                // overlong NUL
      {{"x\xed\xa0\x80y"}, "x\xEF\xBF\xBDy"},           // surrogate
      {{"x\xf0\x9f\x98\x80y"}, "x\xf0\x9f\x98\x80y"},   // U+1F600
      {{"x\xc2\x85y"}, "x\\u0085y"},                    // C1 control
      {{"x\xc2\xa0y"}, "x\xc2\xa0y"},                   // NBSP
      {{"x\xc2\xady"}, "x\\u00ADy"},                    // soft hyphen (Cf)
      {{"x\xe2\x80\x8by"}, "x\\u200By"},                // zero width space (Cf)
      {{"x\xef\xbf\xbfy"}, "x\\uFFFFy"},                // noncharacter
      {{"x\xf3\xa0\x80\x81y"}, "x\\U000E0001y"},        // language tag
      {{"x\xf4\x90\x80\x80y"}, "x\xEF\xBF\xBDy"},       // past U+10FFFF
      {{"x\xe2\x80y"}, "x\xEF\xBF\xBDy"},               // cut sequence: one U+FFFD
      {{"x\xe2\x80", "y"}, "x\xEF\xBF\xBD.y"},
      {{"x\xc3\xc3y"}, "x\xEF\xBF\xBD\xEF\xBF\xBDy"},
      {{"x\xe2\x28\xa1y"}, "x\xEF\xBF\xBD(\xEF\xBF\xBDy"},
      {{"x\xf0\x9f\x98\x41y"}, "x\xEF\xBF\xBD" "Ay"},
      {{"x\xf8\x80y"}, "x\xEF\xBF\xBDy"},
      {{"x\xc3\xa9\x80y"}, "x\xc3\xa9\xEF\xBF\xBDy"},
  };
  for (const Case& c : cases) {
    Msg r;
    r.header(15, 0x0100, 1, 0, 0, 0);
    for (const std::string& l : c.labels) r.label(l);
    r.u8(0).question();
    DnsMessage m;
    ASSERT_EQ(parse(r, m), DnsStatus::kOk) << c.text;
    EXPECT_EQ(m.name(m.qname), c.text);
  }
}

TEST(DnsParser, EscapedTextIsClippedAtTheBound) {
  // Three labels of 63 bytes 0x01: each byte is "\001" (4 chars). 63
  // escapes = 252 chars, the dot makes 253, the next escape does not fit.
  const std::string l(63, '\x01');
  Msg r;
  r.header(16, 0x0100, 1, 0, 0, 0).label(l).label(l).label(l).u8(0).question();
  DnsMessage m;
  ASSERT_EQ(parse(r, m), DnsStatus::kOk);
  EXPECT_EQ(m.names_clipped, 1);
  std::string expect;
  for (int i = 0; i < 63; ++i) expect += "\\001";
  expect += ".";
  EXPECT_EQ(m.name(m.qname), expect);
}

// zeek__dns-edns-ecs.pcap frame 9 (udp.payload). tshark: dns.qry.name
// atlas.ripe.net; dns.resp.type 5,46,1,46,41; dns.cname atlas-ui.ripe.net;
// dns.a 193.0.6.158; dns.resp.ttl 21600 x4; id 0xf779, flags 0x8400.
constexpr std::string_view kFrame9 =
    "f779840000010004000000010561746c61730472697065036e65740000010001c00c0005000100005460000b0861746c"
    "61732d7569c012c00c002e000100005460009c00050803000054605ba23ab95b7a9fa941130472697065036e65740037"
    "173019742f0e1e7221eba082b1e7167c86951d7e5417d432900b9a676fc7177a445e30574d910e733f820164b6263c16"
    "9a734ae4777b4092b0b6b672f3f57c55f2f421ba7db5c9e5a2311daaec8d7aa85dc4eb0cbcbb7fd708dd004545ee220e"
    "25b610b70abe9bd02e9333bf272e5b5ae5440d034731568281cf3da6443fcec02c00010001000054600004c100069ec0"
    "2c002e000100005460009c00010803000054605ba23ab95b7a9fa941130472697065036e6574009216645fd6bb01eec3"
    "8bb96bd55b810bc3749fa6425c20e458b7e1650ac8b8fa48f7c1d5dba5f0d083d49f57e2abb56509b6ae7fd3641e32b8"
    "37e905c34b441934b33229e46d232d9f130687e255be25847dd202f8298e19790eb41ad390506aa8394ab6000f0402c8"
    "ee94239cfeb15d07c4da4802006a647e0d8d86f00cbca20000291000000080000000";

TEST(DnsParser, RealCaptureCnameResponse) {
  const std::vector<std::uint8_t> msg = from_hex(kFrame9);
  ASSERT_EQ(msg.size(), 418u);
  DnsMessage m;
  ASSERT_EQ(parse_dns_message(msg, m), DnsStatus::kOk);
  EXPECT_EQ(m.id, 0xf779);
  EXPECT_EQ(m.flags, 0x8400);
  EXPECT_EQ(m.name(m.qname), "atlas.ripe.net");
  ASSERT_EQ(m.answer_count, 4);
  const std::uint16_t types[] = {5, 46, 1, 46};
  const char* owners[] = {"atlas.ripe.net", "atlas.ripe.net", "atlas-ui.ripe.net", "atlas-ui.ripe.net"};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(m.answers[i].type, types[i]);
    EXPECT_EQ(m.answers[i].ttl, 21600u);
    EXPECT_EQ(m.name(m.answers[i].owner), owners[i]);
  }
  EXPECT_EQ(m.name(m.answers[0].target), "atlas-ui.ripe.net");
  EXPECT_EQ(resolved(m), std::vector<std::string>{"193.0.6.158"});
}

// Frame 80: dns.qry.name erfpop.de; dns.resp.type 28,28,41; dns.aaaa
// 2606:4700:30::6818:6291,2606:4700:30::6818:6391; dns.resp.ttl 300,300.
constexpr std::string_view kFrame80 =
    "8cec8180000100020000000106657266706f7002646500001c0001c00c001c00010000012c0010260647000030000000"
    "00000068186291c00c001c00010000012c0010260647000030000000000000681863910000290200000000000000";

TEST(DnsParser, RealCaptureAaaaResponse) {
  const std::vector<std::uint8_t> msg = from_hex(kFrame80);
  DnsMessage m;
  ASSERT_EQ(parse_dns_message(msg, m), DnsStatus::kOk);
  EXPECT_EQ(m.name(m.qname), "erfpop.de");
  EXPECT_EQ(m.qtype, 28);
  ASSERT_EQ(m.answer_count, 2);
  EXPECT_EQ(m.answers[0].ttl, 300u);
  EXPECT_EQ(m.answers[1].ttl, 300u);
  EXPECT_EQ(resolved(m), (std::vector<std::string>{"2606:4700:0030:0000:0000:0000:6818:6291",
                                                    "2606:4700:0030:0000:0000:0000:6818:6391"}));
}

// Random byte flips of a valid response (fixed seed): whatever the status,
// the result stays inside its bounds and every kept name inside the area.
TEST(DnsParser, CorruptedMessagesStayInBounds) {
  const std::vector<std::uint8_t> base = cname_chain_response().vec();
  std::mt19937 rng(20240601);
  DnsMessage m;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<std::uint8_t> b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    b.resize(b.size() - rng() % 8);
    const DnsStatus s = parse_dns_message(b, m);
    ASSERT_TRUE(s == DnsStatus::kOk || s == DnsStatus::kTruncated || s == DnsStatus::kMalformed);
    ASSERT_LE(m.answer_count, kDnsMaxAnswers);
    ASSERT_LE(m.names_used, kDnsNamesArea);
    const auto inside = [&](DnsName n) { return n.len <= kDnsNameTextMax && n.off + n.len <= m.names_used; };
    if (m.has_question) {
      ASSERT_TRUE(inside(m.qname));
    }
    for (std::size_t i = 0; i < m.answer_count; ++i) {
      ASSERT_TRUE(inside(m.answers[i].owner));
      ASSERT_TRUE(inside(m.answers[i].target));
    }
    std::size_t yielded = 0;
    for_each_resolved_address(m, [&](const DnsAnswer&) { ++yielded; });
    ASSERT_LE(yielded, m.answer_count);
  }
}

TEST(DnsParser, NameEqualityIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(dns_name_equal("WwW.Example.COM", "www.example.com"));
  EXPECT_FALSE(dns_name_equal("www.example.com", "www.example.co"));
  EXPECT_FALSE(dns_name_equal("\xc3\xa9", "\xc3\x89"));  // é / É: not folded
}

}  // namespace
}  // namespace sf
