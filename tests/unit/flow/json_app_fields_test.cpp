// The application fields of a JSON record: exact text for DNS, TLS and HTTP
// parts written by hand, escaping of wire bytes, and server_name.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "export/json_record.hpp"

namespace sf {
namespace {

FlowEvent udp_event() {
  FlowEvent ev{};
  inet_pton(AF_INET, "10.0.0.1", ev.key.addr_lo.data());
  inet_pton(AF_INET, "10.0.0.53", ev.key.addr_hi.data());
  ev.key.port_lo = 40000;
  ev.key.port_hi = 53;
  ev.key.proto = ipproto::kUdp;
  ev.key.ip_version = 4;
  ev.first_ts_ns = ev.last_ts_ns = 1700000000ULL * 1000000000ULL;
  ev.packets[0] = ev.packets[1] = 1;
  return ev;
}

// The text between the end of the fixed fields (conn_state/direction_reason) and end_reason.
std::string app_text(const FlowEvent& ev, const AppRecord* app, ServerName sn = {}) {
  char buf[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, app, sn, 0, buf, sizeof buf);
  EXPECT_GT(n, 0U);
  const std::string line(buf, n);
  const std::size_t a = line.find("\"direction_reason\":");
  const std::size_t from = line.find(',', a) + 1;
  const std::size_t to = line.find(",\"end_reason\"");
  return to + 1 > from ? line.substr(from, to - from) : std::string();
}

void put(AppDnsPart& d, std::uint16_t type, std::uint32_t ttl, const void* bytes, std::uint16_t len) {
  AppDnsAnswer& a = d.answers[d.answer_count++];
  a.type = type;
  a.ttl = ttl;
  a.off = d.data_used;
  a.len = len;
  std::memcpy(d.data + d.data_used, bytes, len);
  d.data_used = static_cast<std::uint16_t>(d.data_used + len);
}

TEST(JsonAppFields, DnsQueryAnswersAndTtls) {
  AppRecord app{};
  app.kind = AppKind::kDns;
  AppDnsPart& d = app.dns;
  d.bits = AppDnsPart::kQuery | AppDnsPart::kResponse | AppDnsPart::kQuestion;
  d.query.assign("www.example.org");
  d.qtype = 1;
  d.rcode = 0;
  put(d, 5, 300, "edge.cdn.example.net", 20);
  const std::uint8_t v4[4] = {192, 0, 2, 7};
  put(d, 1, 30, v4, 4);
  std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 1;
  put(d, 28, 60, v6, 16);
  EXPECT_EQ(app_text(udp_event(), &app),
            "\"dns_query\":\"www.example.org\",\"dns_qtype\":1,\"dns_rcode\":0,\"dns_rcode_name\":\"NOERROR\","
            "\"dns_answers\":[\"edge.cdn.example.net\",\"192.0.2.7\",\"2001:db8::1\"],\"dns_ttls\":[300,30,60]");
}

TEST(JsonAppFields, DnsQueryOnlyAndNxdomainWithoutAnswers) {
  AppRecord app{};
  app.kind = AppKind::kDns;
  app.dns.bits = AppDnsPart::kQuery | AppDnsPart::kQuestion;
  app.dns.query.assign("a.b");
  app.dns.qtype = 28;
  EXPECT_EQ(app_text(udp_event(), &app), "\"dns_query\":\"a.b\",\"dns_qtype\":28");
  app.dns.bits |= AppDnsPart::kResponse | AppDnsPart::kAnswersTruncated;
  app.dns.rcode = 3;
  EXPECT_EQ(app_text(udp_event(), &app),
            "\"dns_query\":\"a.b\",\"dns_qtype\":28,\"dns_rcode\":3,\"dns_rcode_name\":\"NXDOMAIN\","
            "\"dns_answers\":[],\"dns_ttls\":[],\"dns_answers_truncated\":true");
  app.dns.rcode = 15;  // no name for it
  EXPECT_EQ(app_text(udp_event(), &app),
            "\"dns_query\":\"a.b\",\"dns_qtype\":28,\"dns_rcode\":15,"
            "\"dns_answers\":[],\"dns_ttls\":[],\"dns_answers_truncated\":true");
}

TEST(JsonAppFields, WireBytesAreEscaped) {
  AppRecord app{};
  app.kind = AppKind::kDns;
  app.dns.bits = AppDnsPart::kQuery | AppDnsPart::kQuestion;
  app.dns.query.assign(std::string_view("a\"b\\c\x01\xe9.d\x7f", 10));
  EXPECT_EQ(app_text(udp_event(), &app), "\"dns_query\":\"a\\\"b\\\\c\\u0001\\u00e9.d\\u007f\",\"dns_qtype\":0");
}

TEST(JsonAppFields, TlsClientAndServerHello) {
  AppRecord app{};
  app.kind = AppKind::kTls;
  AppTlsPart& t = app.tls;
  t.bits = AppTlsPart::kClientHello | AppTlsPart::kSni | AppTlsPart::kServerHello;
  t.sni.assign("www.example.com");
  t.alpn.assign("h2,http/1.1");
  t.client_version = 0x0304;
  t.server_version = 0x0303;
  std::strcpy(t.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  const ServerName sn = own_server_name(&app);
  EXPECT_EQ(sn.name, "www.example.com");
  EXPECT_STREQ(sn.source, "tls_sni");
  EXPECT_EQ(app_text(udp_event(), &app, sn),
            "\"tls_sni\":\"www.example.com\",\"tls_alpn\":[\"h2\",\"http/1.1\"],\"tls_client_version\":\"TLSv1.3\","
            "\"tls_ja4\":\"t13d1516h2_8daaf6152771_e5627efa2ab1\",\"tls_version\":\"TLSv1.2\","
            "\"server_name\":\"www.example.com\",\"server_name_source\":\"tls_sni\"");
  t.bits = AppTlsPart::kClientHello;  // no SNI, no ServerHello, an unnamed version
  t.alpn.assign("");
  t.client_version = 0x7f1c;
  std::strcpy(t.ja4, "t00i0000000_000000000000_000000000000");
  EXPECT_EQ(own_server_name(&app).name, "");
  EXPECT_EQ(app_text(udp_event(), &app),
            "\"tls_client_version\":\"0x7f1c\",\"tls_ja4\":\"t00i0000000_000000000000_000000000000\"");
}

TEST(JsonAppFields, HttpRequestAndStatus) {
  AppRecord app{};
  app.kind = AppKind::kHttp;
  AppHttpPart& h = app.http;
  h.bits = AppHttpPart::kRequest | AppHttpPart::kHost | AppHttpPart::kUserAgent | AppHttpPart::kResponse;
  h.method.assign("GET");
  h.host.assign("example.com:8080");
  h.uri.assign("/a?b=\"c\"");
  h.user_agent.assign("curl/7.88.1");
  h.status = 404;
  const ServerName sn = own_server_name(&app);
  EXPECT_EQ(sn.name, "example.com");  // the port is not part of the name
  EXPECT_STREQ(sn.source, "http_host");
  EXPECT_EQ(app_text(udp_event(), &app, sn),
            "\"http_method\":\"GET\",\"http_host\":\"example.com:8080\",\"http_uri\":\"/a?b=\\\"c\\\"\","
            "\"http_user_agent\":\"curl/7.88.1\",\"http_status\":404,"
            "\"server_name\":\"example.com\",\"server_name_source\":\"http_host\"");
  h.host.assign("[2001:db8::1]:80");
  EXPECT_EQ(own_server_name(&app).name, "2001:db8::1");
  h.host.assign("2001:db8::1");  // a bare IPv6 literal has no port to cut
  EXPECT_EQ(own_server_name(&app).name, "2001:db8::1");
}

TEST(JsonAppFields, ServerNameFromTheCacheAndNoneAtAll) {
  EXPECT_EQ(app_text(udp_event(), nullptr, ServerName{"named.example", "dns"}),
            "\"server_name\":\"named.example\",\"server_name_source\":\"dns\"");
  EXPECT_EQ(app_text(udp_event(), nullptr), "");
}

TEST(JsonAppFields, TheLongestRecordFits) {
  // Every text at its bound and every byte escaped to six characters.
  AppRecord app{};
  app.kind = AppKind::kHttp;
  AppHttpPart& h = app.http;
  h.bits = AppHttpPart::kRequest | AppHttpPart::kHost | AppHttpPart::kUserAgent | AppHttpPart::kResponse |
           AppHttpPart::kUriTruncated;
  const std::string ugly(300, '\x01');
  h.method.assign(ugly);
  h.host.assign(ugly);
  h.uri.assign(ugly);
  h.user_agent.assign(ugly);
  FlowEvent ev = udp_event();
  ev.key.ip_version = 6;
  std::memset(ev.key.addr_lo.data(), 0xfe, 16);
  std::memset(ev.key.addr_hi.data(), 0xff, 16);
  char buf[kJsonRecordMax];
  EXPECT_GT(format_json_record(ev, &app, ServerName{h.host.view(), "http_host"}, 0, buf, sizeof buf), 0U);
}

}  // namespace
}  // namespace sf
