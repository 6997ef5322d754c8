// IPFIX encoder: round trips through a generic decoder (element numbers from
// the IANA registry, RFC 5103, and the table in ipfix_encoder.hpp), message
// framing rules of RFC 7011, and one message compared byte for byte with a
// layout written out by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipfix_decoder.hpp"
#include "ipfix_test_util.hpp"

namespace sf {
namespace {

using test::CollectSink;
using test::DecodedMessage;
using test::DecodedRecord;
using test::FieldSpec;
using test::IpfixDecoder;

constexpr std::uint32_t kRev = 29305;
constexpr std::uint32_t kCert = 6871;
constexpr std::uint32_t kSf = 32473;

struct Decoded {
  std::vector<DecodedMessage> messages;
  std::vector<DecodedRecord> records;
  std::vector<std::string> errors;
};

Decoded decode_all(const CollectSink& sink) {
  IpfixDecoder d;
  Decoded out;
  for (const auto& m : sink.messages) {
    out.messages.push_back(d.decode(m));
    for (const auto& r : out.messages.back().records) out.records.push_back(r);
  }
  out.errors = d.errors;
  return out;
}

IpfixOptions opts(IpfixMode mode, bool metadata = true) {
  IpfixOptions o;
  o.mode = mode;
  o.metadata = metadata;
  return o;
}

TEST(IpfixEncoder, EndReasonsAreRfc7011Codes) {
  // IANA flowEndReason: 1 idleTimeout, 2 activeTimeout, 3 endOfFlowDetected, 4 forcedEnd, 5 lackOfResources.
  EXPECT_EQ(ipfix_end_reason(EndReason::idle), 1);
  EXPECT_EQ(ipfix_end_reason(EndReason::active), 2);
  EXPECT_EQ(ipfix_end_reason(EndReason::tcp_close), 3);
  EXPECT_EQ(ipfix_end_reason(EndReason::eof), 4);
  EXPECT_EQ(ipfix_end_reason(EndReason::shutdown), 4);
  EXPECT_EQ(ipfix_end_reason(EndReason::evicted), 5);
}

TEST(IpfixEncoder, FirstMessageStartsWithBothTemplates) {
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kUniflow, false), sink);
  enc.add(test::tcp_event_v4(), nullptr, "", 100);
  enc.flush(100);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.messages.size(), 1U);
  ASSERT_GE(d.messages[0].sets.size(), 2U);
  EXPECT_EQ(d.messages[0].sets[0].id, 2);
  EXPECT_EQ(d.messages[0].templates_defined, (std::vector<std::uint16_t>{256, 257}));
  // The uniflow IPv4 template: the elements the brief names, IANA numbers and sizes.
  IpfixDecoder again;
  again.decode(sink.messages[0]);
  const std::vector<FieldSpec> want = {{0, 6, 2},   {0, 8, 4},   {0, 12, 4},  {0, 7, 2},   {0, 11, 2},
                                       {0, 4, 1},   {0, 60, 1},  {0, 136, 1}, {0, 58, 2},  {0, 245, 2},
                                       {0, 148, 8}, {0, 152, 8}, {0, 153, 8}, {0, 2, 8},   {0, 1, 8}};
  EXPECT_EQ(again.templates[256].fields, want);
  // IPv6: the same with sourceIPv6Address (27) / destinationIPv6Address (28), 16 bytes.
  std::vector<FieldSpec> want6 = want;
  want6[1] = {0, 27, 16};
  want6[2] = {0, 28, 16};
  EXPECT_EQ(again.templates[257].fields, want6);
}

// The preamble a TCP transport writes first on every new connection: the
// templates alone, the current sequence number, nothing emitted.
TEST(IpfixEncoder, TemplateMessageIsTheTemplatesAloneAndEmitsNothing) {
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow, true), sink);
  for (int i = 0; i < 3; ++i) enc.add(test::tcp_event_v4(), nullptr, "", 100);
  enc.flush(100);
  const std::size_t emitted = sink.messages.size();
  const std::span<const std::uint8_t> pre = enc.template_message();
  EXPECT_EQ(sink.messages.size(), emitted);
  IpfixDecoder d;
  const DecodedMessage m = d.decode(pre);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(m.sets.size(), 1U);
  EXPECT_EQ(m.sets[0].id, 2);
  EXPECT_EQ(m.templates_defined.size(), 2U);  // IPv4 and IPv6 of the mode
  EXPECT_TRUE(m.records.empty());
  EXPECT_EQ(m.sequence, 3U);  // the data records sent before it
}

TEST(IpfixEncoder, UniflowV4RoundTripOneRecordPerDirection) {
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kUniflow, false), sink);
  enc.add(test::tcp_event_v4(), nullptr, "", 1700000005);
  enc.flush(1700000005);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 2U);
  EXPECT_EQ(d.messages[0].export_time, 1700000005U);
  EXPECT_EQ(d.messages[0].domain, 1U);
  const DecodedRecord& c = d.records[0];  // the initiator's direction first
  EXPECT_EQ(c.template_id, 256);
  EXPECT_EQ(c.bytes(0, 8), (std::vector<std::uint8_t>{192, 168, 1, 9}));
  EXPECT_EQ(c.bytes(0, 12), (std::vector<std::uint8_t>{10, 0, 0, 5}));
  EXPECT_EQ(c.uint(7), 40000U);
  EXPECT_EQ(c.uint(11), 80U);
  EXPECT_EQ(c.uint(4), 6U);
  EXPECT_EQ(c.uint(60), 4U);
  EXPECT_EQ(c.uint(2), 3U);
  EXPECT_EQ(c.uint(1), 180U);
  EXPECT_EQ(c.uint(6), 0x1bU);
  EXPECT_EQ(c.uint(136), 3U);
  EXPECT_EQ(c.uint(148), 42U);
  EXPECT_EQ(c.uint(152), 1700000000123ULL);
  EXPECT_EQ(c.uint(153), 1700000001987ULL);
  EXPECT_EQ(c.uint(58), 0U);
  EXPECT_EQ(c.uint(245), 0U);
  EXPECT_FALSE(c.has(kRev, 2));
  const DecodedRecord& s = d.records[1];
  EXPECT_EQ(s.bytes(0, 8), (std::vector<std::uint8_t>{10, 0, 0, 5}));
  EXPECT_EQ(s.bytes(0, 12), (std::vector<std::uint8_t>{192, 168, 1, 9}));
  EXPECT_EQ(s.uint(7), 80U);
  EXPECT_EQ(s.uint(11), 40000U);
  EXPECT_EQ(s.uint(2), 2U);
  EXPECT_EQ(s.uint(1), 300U);
  EXPECT_EQ(s.uint(6), 0x12U);
  EXPECT_EQ(s.uint(148), 42U);
  EXPECT_EQ(enc.data_records(), 2U);
  EXPECT_EQ(enc.messages(), 1U);
}

TEST(IpfixEncoder, UniflowOneDirectionFlowIsOneRecord) {
  FlowEvent ev = test::tcp_event_v4();
  ev.packets[kDirLoToHi] = 0;  // the server never answered
  ev.bytes[kDirLoToHi] = 0;
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kUniflow), sink);
  enc.add(ev, nullptr, "", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 1U);
  EXPECT_EQ(d.records[0].bytes(0, 8), (std::vector<std::uint8_t>{192, 168, 1, 9}));
  EXPECT_EQ(d.records[0].uint(2), 3U);
  EXPECT_EQ(enc.data_records(), 1U);
}

TEST(IpfixEncoder, BiflowV6RoundTrip) {
  FlowEvent ev = test::udp_event_v6();
  ev.initiator_dir = kDirHiToLo;  // 2001:db8::2 port 53 started it
  ev.tcp_flags[kDirHiToLo] = 0x02;
  ev.tcp_flags[kDirLoToHi] = 0x12;
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow, false), sink);
  enc.add(ev, nullptr, "", 9);
  enc.flush(9);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  EXPECT_EQ(d.messages[0].templates_defined, (std::vector<std::uint16_t>{258, 259}));
  ASSERT_EQ(d.records.size(), 1U);
  const DecodedRecord& r = d.records[0];
  EXPECT_EQ(r.template_id, 259);
  EXPECT_EQ(r.bytes(0, 27), test::addr_bytes(test::v6("2001:db8::2"), 16));
  EXPECT_EQ(r.bytes(0, 28), test::addr_bytes(test::v6("2001:db8::1"), 16));
  EXPECT_EQ(r.uint(7), 53U);
  EXPECT_EQ(r.uint(11), 5353U);
  EXPECT_EQ(r.uint(60), 6U);
  EXPECT_EQ(r.uint(4), 17U);
  EXPECT_EQ(r.uint(2), 1U);       // initiator's packets
  EXPECT_EQ(r.uint(1), 200U);     // initiator's bytes (direction hi->lo)
  EXPECT_EQ(r.uint(kRev, 2), 1U);  // reversePacketDeltaCount
  EXPECT_EQ(r.uint(kRev, 1), 100U);
  EXPECT_EQ(r.uint(6), 0x02U);
  EXPECT_EQ(r.uint(kRev, 6), 0x12U);
  EXPECT_EQ(r.uint(239), 1U);  // biflowDirection initiator
  EXPECT_EQ(r.uint(136), 1U);  // idle
  EXPECT_EQ(r.uint(152), 2000000000000ULL);
  EXPECT_EQ(r.uint(153), 2000000000500ULL);
  EXPECT_FALSE(r.has(0, 8));
}

TEST(IpfixEncoder, BiflowTemplateHasReverseElementsUnderPen29305) {
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow, false), sink);
  enc.add(test::tcp_event_v4(), nullptr, "", 1);
  enc.flush(1);
  IpfixDecoder d;
  d.decode(sink.messages.at(0));
  ASSERT_TRUE(d.errors.empty());
  const auto& f = d.templates[258].fields;
  ASSERT_FALSE(f.empty());
  // nfdump keeps the last of the two tcpControlBits: the initiator's must follow the reverse one.
  EXPECT_EQ(f.front(), (FieldSpec{kRev, 6, 2}));
  EXPECT_EQ(f[1], (FieldSpec{0, 6, 2}));
  int reverse = 0;
  for (const auto& x : f) reverse += x.pen == kRev;
  EXPECT_EQ(reverse, 3);
  EXPECT_EQ(f.back(), (FieldSpec{0, 239, 1}));
}

TEST(IpfixEncoder, VlanTags) {
  FlowEvent ev = test::tcp_event_v4();
  ev.key.vlan_count = 2;
  ev.key.vlan_outer = 100;
  ev.key.vlan_inner = 4094;
  FlowEvent one = test::tcp_event_v4();
  one.key.vlan_count = 1;
  one.key.vlan_outer = 7;
  one.key.vlan_inner = 9;  // not keyed: must not appear
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow), sink);
  enc.add(ev, nullptr, "", 1);
  enc.add(one, nullptr, "", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 2U);
  EXPECT_EQ(d.records[0].uint(58), 100U);
  EXPECT_EQ(d.records[0].uint(245), 4094U);
  EXPECT_EQ(d.records[1].uint(58), 7U);
  EXPECT_EQ(d.records[1].uint(245), 0U);
}

AppRecord tls_app(std::string_view sni) {
  AppRecord a{};
  a.kind = AppKind::kTls;
  a.tls.bits = AppTlsPart::kClientHello | AppTlsPart::kSni | AppTlsPart::kServerHello;
  a.tls.sni.assign(sni);
  a.tls.alpn.assign("h2,http/1.1");
  a.tls.client_version = 0x0303;
  a.tls.server_version = 0x0304;
  const char ja4[] = "t13d1516h2_8daaf6152771_e5627efa2ab1";
  std::memcpy(a.tls.ja4, ja4, sizeof ja4);
  return a;
}

TEST(IpfixEncoder, TlsMetadata) {
  FlowEvent ev = test::tcp_event_v4();
  ev.tcp.bits = kTcpRecordState;
  std::memcpy(ev.tcp.history, "ShADadFf", 8);
  ev.tcp.history_len = 8;
  ev.direction_reason = DirectionReason::syn;
  ev.generation = 3;
  const AppRecord app = tls_app("www.example.com");
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow), sink);
  enc.add(ev, &app, "www.example.com", "tls_sni", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  EXPECT_EQ(d.messages[0].templates_defined, (std::vector<std::uint16_t>{262, 263}));
  ASSERT_EQ(d.records.size(), 1U);
  const DecodedRecord& r = d.records[0];
  EXPECT_EQ(r.text(kCert, 294), "www.example.com");
  EXPECT_EQ(r.varlen_prefix.at({kCert, 294}), 1U);
  EXPECT_EQ(r.text(kCert, 179), "");
  EXPECT_EQ(r.text(kSf, 1), "SF");
  EXPECT_EQ(r.text(kSf, 3), "ShADadFf");
  EXPECT_EQ(r.text(kSf, 4), "www.example.com");
  EXPECT_EQ(r.text(kSf, 5), "tls_sni");
  EXPECT_EQ(r.text(kSf, 11), "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(r.text(kSf, 12), "h2,http/1.1");
  EXPECT_EQ(r.uint(kSf, 13), 0x0303U);
  EXPECT_EQ(r.uint(kSf, 14), 0x0304U);
  EXPECT_EQ(r.uint(kSf, 16), 65535U);  // no DNS response
  EXPECT_EQ(r.uint(kSf, 17), 3U);
  EXPECT_EQ(r.text(kSf, 18), "syn");
  EXPECT_EQ(r.text(kSf, 6), "");
  // Community ID v1 of 192.168.1.9:40000 -> 10.0.0.5:80/TCP, seed 0, from the spec's
  // definition with Python's hashlib: base64(sha1(seed 00 00, 10.0.0.5, 192.168.1.9,
  // proto 06, pad 00, ports 80, 40000)) (the smaller endpoint first).
  EXPECT_EQ(r.text(kSf, 2), "1:FlhKIDMdHMK7WcZYxOh5qM/U8kw=");
}

TEST(IpfixEncoder, DnsAndHttpMetadataAndLongStrings) {
  AppRecord dns{};
  dns.kind = AppKind::kDns;
  dns.dns.bits = AppDnsPart::kQuery | AppDnsPart::kQuestion | AppDnsPart::kResponse;
  dns.dns.query.assign("example.org");
  dns.dns.qtype = 28;
  dns.dns.rcode = 3;
  AppRecord http{};
  http.kind = AppKind::kHttp;
  http.http.bits = AppHttpPart::kRequest | AppHttpPart::kHost | AppHttpPart::kResponse | AppHttpPart::kUserAgent;
  http.http.method.assign("GET");
  const std::string long_host(255, 'h');  // the AppRecord's bound: needs RFC 7011's 3-byte length
  http.http.host.assign(long_host);
  http.http.uri.assign("/index.html");
  http.http.user_agent.assign("curl/8.0");
  http.http.status = 404;
  const std::string long_name(300, 'n');  // longer than any string we emit: cut to 255
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kUniflow), sink);
  FlowEvent one_way = test::udp_event_v6();
  one_way.packets[kDirHiToLo] = 0;
  enc.add(one_way, &dns, "example.org", "dns", 1);
  enc.add(test::tcp_event_v4(), &http, long_name, "http_host", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 3U);
  const DecodedRecord& q = d.records[0];
  EXPECT_EQ(q.template_id, 257 + 4);
  EXPECT_EQ(q.text(kCert, 179), "example.org");
  EXPECT_EQ(q.uint(kSf, 15), 28U);
  EXPECT_EQ(q.uint(kSf, 16), 3U);
  EXPECT_EQ(q.text(kSf, 5), "dns");
  EXPECT_EQ(q.text(kSf, 3), "");  // no TCP state
  for (int i = 1; i <= 2; ++i) {  // both directions' records carry the flow's metadata
    const DecodedRecord& h = d.records[static_cast<std::size_t>(i)];
    EXPECT_EQ(h.template_id, 256 + 4);
    EXPECT_EQ(h.text(kSf, 7), "GET");
    EXPECT_EQ(h.text(kSf, 6), long_host);
    EXPECT_EQ(h.varlen_prefix.at({kSf, 6}), 3U);
    EXPECT_EQ(h.text(kSf, 8), "/index.html");
    EXPECT_EQ(h.text(kSf, 9), "curl/8.0");
    EXPECT_EQ(h.uint(kSf, 10), 404U);
    EXPECT_EQ(h.text(kSf, 4), std::string(255, 'n'));
    EXPECT_EQ(h.text(kCert, 294), "");
  }
  EXPECT_EQ(d.messages[0].sets.size(), 3U);  // templates, v6 data, v4 data
}

TEST(IpfixEncoder, MetadataOffLeavesOnlyStandardAndReverseElements) {
  const AppRecord app = tls_app("a.example");
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kBiflow, false), sink);
  enc.add(test::tcp_event_v4(), &app, "a.example", "tls_sni", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 1U);
  for (const auto& [key, value] : d.records[0].values) EXPECT_TRUE(key.first == 0 || key.first == kRev) << key.first;
}

TEST(IpfixEncoder, SequenceNumbersCountRecordsBefore) {
  IpfixOptions o = opts(IpfixMode::kUniflow);
  o.observation_domain = 77;
  CollectSink sink;
  IpfixEncoder enc(o, sink);
  FlowEvent ev = test::tcp_event_v4();
  for (int i = 0; i < 500; ++i) {
    ev.flow_id = static_cast<std::uint64_t>(i);
    ev.packets[kDirLoToHi] = (i % 3 == 0) ? 0 : 2;  // one or two records
    enc.add(ev, nullptr, "", 5);
  }
  enc.flush(6);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_GT(d.messages.size(), 5U);
  std::uint64_t before = 0;
  for (const auto& m : d.messages) {
    EXPECT_EQ(m.sequence, before);
    EXPECT_EQ(m.domain, 77U);
    before += m.records.size();
  }
  const std::uint64_t expected = 500 + 500 - (500 + 2) / 3;  // 167 flows of 500 had one direction
  EXPECT_EQ(before, expected);
  EXPECT_EQ(enc.data_records(), expected);
  EXPECT_EQ(enc.messages(), d.messages.size());
  EXPECT_EQ(d.messages.back().export_time, 6U);
}

TEST(IpfixEncoder, MaxMessageBytesHoldsFor10000Records) {
  for (const std::uint32_t max : {1024U, 1400U, 9000U, 65535U}) {
    IpfixOptions o = opts(IpfixMode::kBiflow);
    o.max_message_bytes = max;
    CollectSink sink;
    IpfixEncoder enc(o, sink);
    const AppRecord app = tls_app(std::string(200, 's'));
    for (int i = 0; i < 10000; ++i) {
      FlowEvent ev = (i % 2) ? test::tcp_event_v4() : test::udp_event_v6();
      ev.flow_id = static_cast<std::uint64_t>(i);
      enc.add(ev, (i % 5 == 0) ? &app : nullptr, "", 1);
    }
    enc.flush(1);
    const Decoded d = decode_all(sink);
    ASSERT_TRUE(d.errors.empty()) << d.errors.front();
    ASSERT_EQ(d.records.size(), 10000U);
    for (const auto& m : d.messages) EXPECT_LE(m.wire_size, max);
    for (std::size_t i = 0; i < d.records.size(); ++i) EXPECT_EQ(d.records[i].uint(148), i);
    EXPECT_EQ(enc.records_text_cut(), 0U);
    if (max == 1400) {
      EXPECT_GT(d.messages.size(), 10000U * 100 / 1400);  // about 100 bytes a record at least
    }
  }
}

TEST(IpfixEncoder, MaxMessageBytesIsClamped) {
  IpfixOptions o;
  o.max_message_bytes = 100;
  CollectSink sink;
  EXPECT_EQ(IpfixEncoder(o, sink).max_message_bytes(), 1024U);
  o.max_message_bytes = 100000;
  EXPECT_EQ(IpfixEncoder(o, sink).max_message_bytes(), 65535U);
}

TEST(IpfixEncoder, LargestRecordStillFitsTheSmallestMessage) {
  // HTTP with every string at its bound in a 1024-byte message: the strings are
  // shortened (counted), the standard part is intact.
  AppRecord http{};
  http.kind = AppKind::kHttp;
  http.http.bits = AppHttpPart::kRequest | AppHttpPart::kHost | AppHttpPart::kUserAgent;
  http.http.method.assign(std::string(16, 'M'));
  http.http.host.assign(std::string(255, 'h'));
  http.http.uri.assign(std::string(255, 'u'));
  http.http.user_agent.assign(std::string(200, 'a'));
  IpfixOptions o = opts(IpfixMode::kBiflow);
  o.max_message_bytes = 1024;
  CollectSink sink;
  IpfixEncoder enc(o, sink);
  FlowEvent ev = test::udp_event_v6();
  enc.add(ev, &http, std::string(255, 'n'), "http_host", 1);
  enc.flush(1);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  ASSERT_EQ(d.records.size(), 1U);
  for (const auto& m : d.messages) EXPECT_LE(m.wire_size, 1024U);
  EXPECT_EQ(enc.records_text_cut(), 1U);
  EXPECT_EQ(d.records[0].uint(1), 100U);
  EXPECT_LT(d.records[0].text(kSf, 6).size(), 255U);
  EXPECT_EQ(d.records[0].text(kSf, 6), std::string(d.records[0].text(kSf, 6).size(), 'h'));
}

TEST(IpfixEncoder, TemplatesAfterForceAndRefresh) {
  IpfixOptions o = opts(IpfixMode::kUniflow);
  o.template_refresh_s = 60;
  CollectSink sink;
  IpfixEncoder enc(o, sink);
  const FlowEvent ev = test::tcp_event_v4();
  auto starts_with_templates = [](const std::vector<std::uint8_t>& m) { return m.size() > 17 && m[16] == 0 && m[17] == 2; };

  enc.add(ev, nullptr, "", 1000);
  enc.flush(1000);
  enc.add(ev, nullptr, "", 1059);  // 59 s later: no refresh yet
  enc.flush(1059);
  ASSERT_EQ(sink.messages.size(), 2U);
  EXPECT_TRUE(starts_with_templates(sink.messages[0]));
  EXPECT_FALSE(starts_with_templates(sink.messages[1]));

  enc.add(ev, nullptr, "", 1060);  // 60 s after the last template set
  enc.flush(1060);
  ASSERT_EQ(sink.messages.size(), 3U);
  EXPECT_TRUE(starts_with_templates(sink.messages[2]));

  enc.force_templates();  // nothing buffered: the next message starts with them
  EXPECT_EQ(sink.messages.size(), 3U);
  enc.add(ev, nullptr, "", 1061);
  enc.flush(1061);
  ASSERT_EQ(sink.messages.size(), 4U);
  EXPECT_TRUE(starts_with_templates(sink.messages[3]));

  enc.add(ev, nullptr, "", 1062);  // buffered, then a new connection
  enc.force_templates();
  ASSERT_EQ(sink.messages.size(), 5U);  // templates only, now
  enc.flush(1062);
  ASSERT_EQ(sink.messages.size(), 6U);
  const Decoded d = decode_all(sink);
  ASSERT_TRUE(d.errors.empty()) << d.errors.front();
  EXPECT_EQ(d.messages[4].sets.size(), 1U);
  EXPECT_EQ(d.messages[4].sets[0].id, 2);
  EXPECT_TRUE(d.messages[4].records.empty());
  EXPECT_EQ(d.messages[4].sequence, 8U);  // 4 flows of 2 records before it
  EXPECT_EQ(d.messages[5].sequence, 8U);  // the templates-only message counted none
  EXPECT_EQ(d.messages[5].records.size(), 2U);
  EXPECT_EQ(enc.template_sets(), 4U);

  // Refresh 0: only at start.
  IpfixOptions once = o;
  once.template_refresh_s = 0;
  CollectSink sink2;
  IpfixEncoder enc2(once, sink2);
  enc2.add(ev, nullptr, "", 1);
  enc2.flush(1);
  enc2.add(ev, nullptr, "", 100000);
  enc2.flush(100000);
  ASSERT_EQ(sink2.messages.size(), 2U);
  EXPECT_TRUE(starts_with_templates(sink2.messages[0]));
  EXPECT_FALSE(starts_with_templates(sink2.messages[1]));
}

// One message laid out by hand from RFC 7011 (3.1 header, 3.4.1 template
// record, 3.3.2 data set) and the IANA element numbers.
TEST(IpfixEncoder, ByteExactMessage) {
  FlowEvent ev = test::tcp_event_v4();
  ev.packets[kDirLoToHi] = 0;  // one record
  ev.key.vlan_count = 1;
  ev.key.vlan_outer = 10;
  IpfixOptions o = opts(IpfixMode::kUniflow, false);
  o.observation_domain = 7;
  CollectSink sink;
  IpfixEncoder enc(o, sink);
  enc.add(ev, nullptr, "", 1700000000);
  enc.flush(1700000000);
  // clang-format off
  const std::vector<std::uint8_t> want = {
    // Message header: version 10, length 213, export time 1700000000, sequence 0, domain 7.
    0x00, 0x0a, 0x00, 0xd5, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
    // Template Set: id 2, length 4 + 2 * (4 + 15 * 4) = 132.
    0x00, 0x02, 0x00, 0x84,
    // Template 256, 15 fields.
    0x01, 0x00, 0x00, 0x0f,
    0x00, 0x06, 0x00, 0x02,   // tcpControlBits
    0x00, 0x08, 0x00, 0x04,   // sourceIPv4Address
    0x00, 0x0c, 0x00, 0x04,   // destinationIPv4Address
    0x00, 0x07, 0x00, 0x02,   // sourceTransportPort
    0x00, 0x0b, 0x00, 0x02,   // destinationTransportPort
    0x00, 0x04, 0x00, 0x01,   // protocolIdentifier
    0x00, 0x3c, 0x00, 0x01,   // ipVersion (60)
    0x00, 0x88, 0x00, 0x01,   // flowEndReason (136)
    0x00, 0x3a, 0x00, 0x02,   // vlanId (58)
    0x00, 0xf5, 0x00, 0x02,   // dot1qCustomerVlanId (245)
    0x00, 0x94, 0x00, 0x08,   // flowId (148)
    0x00, 0x98, 0x00, 0x08,   // flowStartMilliseconds (152)
    0x00, 0x99, 0x00, 0x08,   // flowEndMilliseconds (153)
    0x00, 0x02, 0x00, 0x08,   // packetDeltaCount
    0x00, 0x01, 0x00, 0x08,   // octetDeltaCount
    // Template 257 (IPv6), 15 fields.
    0x01, 0x01, 0x00, 0x0f,
    0x00, 0x06, 0x00, 0x02,
    0x00, 0x1b, 0x00, 0x10,   // sourceIPv6Address (27)
    0x00, 0x1c, 0x00, 0x10,   // destinationIPv6Address (28)
    0x00, 0x07, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x04, 0x00, 0x01, 0x00, 0x3c, 0x00, 0x01,
    0x00, 0x88, 0x00, 0x01, 0x00, 0x3a, 0x00, 0x02, 0x00, 0xf5, 0x00, 0x02, 0x00, 0x94, 0x00, 0x08,
    0x00, 0x98, 0x00, 0x08, 0x00, 0x99, 0x00, 0x08, 0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x08,
    // Data Set for template 256: length 4 + 61.
    0x01, 0x00, 0x00, 0x41,
    0x00, 0x1b,               // SYN|FIN|PSH|ACK
    192, 168, 1, 9,           // the initiator
    10, 0, 0, 5,
    0x9c, 0x40,               // 40000
    0x00, 0x50,               // 80
    0x06,                     // TCP
    0x04,
    0x03,                     // endOfFlowDetected
    0x00, 0x0a,               // VLAN 10
    0x00, 0x00,
    0, 0, 0, 0, 0, 0, 0, 42,  // flowId
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b,  // 1700000000123 ms
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6f, 0xc3,  // 1700000001987 ms
    0, 0, 0, 0, 0, 0, 0, 3,   // packets
    0, 0, 0, 0, 0, 0, 0, 180, // octets
  };
  // clang-format on
  ASSERT_EQ(sink.messages.size(), 1U);
  EXPECT_EQ(sink.messages[0], want);
}

TEST(IpfixEncoder, FlushWithNothingBufferedEmitsNothing) {
  CollectSink sink;
  IpfixEncoder enc(opts(IpfixMode::kUniflow), sink);
  enc.flush(1);
  EXPECT_TRUE(sink.messages.empty());
  EXPECT_EQ(enc.messages(), 0U);
}

}  // namespace
}  // namespace sf
