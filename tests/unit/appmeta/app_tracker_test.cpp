// AppTracker, the per-worker glue between flows and parsers: which flows get
// metadata, what goes into their AppRecord, messages assembled across chunks,
// gaps, the byte cap, pool exhaustion, and DNS answers into the shared cache.
// Messages are built here byte by byte; expected fields are the values put in.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "appmeta/app_tracker.hpp"

namespace sf {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}
void name(Bytes& b, std::string_view n) {
  while (!n.empty()) {
    const std::size_t dot = n.find('.');
    const std::string_view label = n.substr(0, dot);
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
    n = dot == std::string_view::npos ? std::string_view{} : n.substr(dot + 1);
  }
  b.push_back(0);
}

// A response to "www.example.org" A: CNAME to edge.cdn.example.net, A 192.0.2.7 (ttl 30).
Bytes dns_response(bool response = true) {
  Bytes b;
  put16(b, 0x1234);
  put16(b, response ? 0x8180 : 0x0100);
  put16(b, 1);
  put16(b, response ? 2 : 0);
  put16(b, 0);
  put16(b, 0);
  name(b, "www.example.org");
  put16(b, 1);
  put16(b, 1);
  if (!response) return b;
  b.push_back(0xc0);  // owner: the question name at offset 12
  b.push_back(12);
  put16(b, 5);
  put16(b, 1);
  put32(b, 300);
  Bytes target;
  name(target, "edge.cdn.example.net");
  put16(b, static_cast<unsigned>(target.size()));
  b.insert(b.end(), target.begin(), target.end());
  name(b, "edge.cdn.example.net");
  put16(b, 1);
  put16(b, 1);
  put32(b, 30);
  put16(b, 4);
  for (std::uint8_t x : {192, 0, 2, 7}) b.push_back(x);
  return b;
}

// A TLS 1.2 ClientHello record: one cipher, server_name and ALPN "h2".
Bytes client_hello(std::string_view sni) {
  Bytes ext;
  put16(ext, 0);  // server_name
  put16(ext, static_cast<unsigned>(sni.size() + 5));
  put16(ext, static_cast<unsigned>(sni.size() + 3));
  ext.push_back(0);
  put16(ext, static_cast<unsigned>(sni.size()));
  ext.insert(ext.end(), sni.begin(), sni.end());
  put16(ext, 16);  // ALPN
  put16(ext, 5);
  put16(ext, 3);
  ext.push_back(2);
  ext.push_back('h');
  ext.push_back('2');
  Bytes body;
  put16(body, 0x0303);
  body.insert(body.end(), 32, 0x11);
  body.push_back(0);
  put16(body, 2);
  put16(body, 0x002f);
  body.push_back(1);
  body.push_back(0);
  put16(body, static_cast<unsigned>(ext.size()));
  body.insert(body.end(), ext.begin(), ext.end());
  Bytes rec = {0x16, 0x03, 0x01};
  put16(rec, static_cast<unsigned>(body.size() + 4));
  rec.push_back(1);
  rec.push_back(0);
  put16(rec, static_cast<unsigned>(body.size()));
  rec.insert(rec.end(), body.begin(), body.end());
  return rec;
}

struct Fixture : ::testing::Test {
  Fixture() {
    inet_pton(AF_INET, "10.0.0.1", key.addr_lo.data());
    inet_pton(AF_INET, "10.0.0.53", key.addr_hi.data());
    key.ip_version = 4;
  }
  AppTracker& make(std::uint32_t slots = 16, std::uint32_t buffers = 4, std::uint32_t buffer_bytes = 1024,
                   bool with_cache = true) {
    AppConfig c;
    c.flows_per_worker = slots;
    c.buffers_per_worker = buffers;
    c.buffer_bytes = buffer_bytes;
    if (with_cache) cache = std::move(DnsCache::create(DnsCacheConfig{}).value());
    app = std::make_unique<AppTracker>(c, 64, cache.get(), counters);
    return *app;
  }
  StreamContext ctx(std::uint8_t dir, std::uint32_t slot = 3) const {
    return StreamContext{&key, 7, 1, dir, kDirLoToHi, slot};
  }
  AppRecord take(std::uint32_t slot, bool release = true) {
    AppRecord r{};
    EXPECT_TRUE(app->export_record(slot, reinterpret_cast<unsigned char*>(&r), release));
    return r;
  }
  FlowKey key{};
  AppCounters counters;
  std::unique_ptr<DnsCache> cache;
  std::unique_ptr<AppTracker> app;
};

TEST_F(Fixture, DnsOverUdpFillsTheRecordAndTheCacheForTheClient) {
  key.port_lo = 40000;
  key.port_hi = 53;
  key.proto = 17;
  AppTracker& a = make();
  const Bytes q = dns_response(false);
  const Bytes r = dns_response(true);
  EXPECT_EQ(a.on_udp(3, key, kDirLoToHi, q, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpWanted);
  // With a cache every response is wanted (each feeds it).
  EXPECT_EQ(a.on_udp(3, key, kDirHiToLo, r, 2000, AppTracker::kUdpWanted), AppTracker::kUdpWanted);
  const AppRecord rec = take(3);
  ASSERT_EQ(rec.kind, AppKind::kDns);
  EXPECT_EQ(rec.dns.query.view(), "www.example.org");
  EXPECT_EQ(rec.dns.qtype, 1);
  EXPECT_EQ(rec.dns.rcode, 0);
  ASSERT_EQ(rec.dns.answer_count, 2);
  EXPECT_EQ(rec.dns.answers[0].type, 5);
  EXPECT_EQ(std::string_view(rec.dns.data + rec.dns.answers[0].off, rec.dns.answers[0].len), "edge.cdn.example.net");
  EXPECT_EQ(rec.dns.answers[1].ttl, 30U);
  EXPECT_EQ(std::memcmp(rec.dns.data + rec.dns.answers[1].off, "\xc0\x00\x02\x07", 4), 0);
  // The receiver of the answer (10.0.0.1) now has a name for 192.0.2.7, and nobody else.
  std::uint8_t server[16] = {192, 0, 2, 7};
  char out[256];
  DnsCacheReaderCounters rc;
  ASSERT_EQ(cache->lookup(4, key.addr_lo.data(), server, 2000, out, sizeof out, rc), 15U);
  EXPECT_STREQ(out, "www.example.org");
  EXPECT_EQ(cache->lookup(4, key.addr_hi.data(), server, 2000, out, sizeof out, rc), 0U);
  EXPECT_EQ(counters.dns_messages.get(), 2U);
  EXPECT_EQ(counters.dns_cache_inserts.get(), 1U);
  // Released: the next flow in that table slot starts with nothing.
  AppRecord none{};
  EXPECT_FALSE(a.export_record(3, reinterpret_cast<unsigned char*>(&none), true));
  EXPECT_EQ(a.slots_free(), 16U);
}

TEST_F(Fixture, NotDnsOnPort53TakesNoSlot) {
  key.port_lo = 40000;
  key.port_hi = 53;
  key.proto = 17;
  AppTracker& a = make();
  const Bytes junk = {1, 2, 3};
  // Junk as the first datagram settles it, on port 53 too (a flood costs one parse per flow).
  EXPECT_EQ(a.on_udp(3, key, kDirLoToHi, junk, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpDone);
  EXPECT_EQ(a.slots_free(), 16U);
  key.port_hi = 4433;
  EXPECT_EQ(a.on_udp(4, key, kDirLoToHi, junk, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpDone);
  EXPECT_EQ(counters.dns_malformed.get(), 1U);
}

// DNS on another port (a dnscrypt certificate query on 443, as in
// ndpi__dnscrypt-v1-and-resolver-pings.pcap) is recognised by its content;
// random bytes and a near miss (two questions) are not.
TEST_F(Fixture, DnsOnAnotherPortIsRecognisedByItsContent) {
  key.port_lo = 443;
  key.port_hi = 38388;
  key.proto = 17;
  AppTracker& a = make(16, 4, 1024, false);
  EXPECT_EQ(a.on_udp(3, key, kDirHiToLo, dns_response(false), 1000, AppTracker::kUdpUndecided),
            AppTracker::kUdpWanted);
  EXPECT_EQ(a.on_udp(3, key, kDirLoToHi, dns_response(true), 2000, AppTracker::kUdpWanted),
            AppTracker::kUdpDone);  // query and response seen, no cache: described
  EXPECT_EQ(take(3).dns.query.view(), "www.example.org");
  Bytes two = dns_response(false);
  two[5] = 2;  // qdcount 2
  EXPECT_EQ(a.on_udp(4, key, kDirHiToLo, two, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpDone);
  Bytes noise(64);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 37 + 11);
  EXPECT_EQ(a.on_udp(5, key, kDirHiToLo, noise, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpDone);
  EXPECT_EQ(a.slots_free(), 16U);
}

// SSDP: an M-SEARCH datagram and a unicast answer (ndpi__1kxun.pcap has them).
TEST_F(Fixture, SsdpRequestAndAnswerOverUdp) {
  key.port_lo = 1900;
  key.port_hi = 55809;
  key.proto = 17;
  AppTracker& a = make();
  const Bytes search = bytes("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n\r\n");
  const Bytes answer = bytes("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n");
  EXPECT_EQ(a.on_udp(3, key, kDirHiToLo, search, 1000, AppTracker::kUdpUndecided), AppTracker::kUdpWanted);
  EXPECT_EQ(a.on_udp(3, key, kDirLoToHi, answer, 2000, AppTracker::kUdpWanted), AppTracker::kUdpDone);
  const AppRecord rec = take(3);
  ASSERT_EQ(rec.kind, AppKind::kHttp);
  EXPECT_EQ(rec.http.method.view(), "M-SEARCH");
  EXPECT_EQ(rec.http.uri.view(), "*");
  EXPECT_EQ(rec.http.host.view(), "239.255.255.250:1900");
  EXPECT_EQ(rec.http.status, 200);
}

TEST_F(Fixture, TlsClientHelloSplitAtEveryByteIsReadOnce) {
  key.port_lo = 443;
  key.port_hi = 50000;
  key.proto = 6;
  const Bytes hello = client_hello("www.example.com");
  for (std::size_t cut = 1; cut < hello.size(); ++cut) {
    AppTracker& a = make();
    const std::span<const std::uint8_t> all(hello);
    ASSERT_TRUE(a.on_data(ctx(0), 0, all.first(cut), false)) << cut;
    ASSERT_FALSE(a.on_data(ctx(0), cut, all.subspan(cut), false)) << cut;  // done: no more wanted
    const AppRecord rec = take(3);
    ASSERT_EQ(rec.kind, AppKind::kTls);
    ASSERT_EQ(rec.tls.sni.view(), "www.example.com") << cut;
    EXPECT_EQ(rec.tls.alpn.view(), "h2");
    EXPECT_EQ(rec.tls.client_version, 0x0303);
    EXPECT_EQ(a.buffers_free(), 4U) << "the assembly buffer went back";
  }
}

TEST_F(Fixture, ANonTlsNonHttpStreamIsDeclinedAtOnce) {
  key.port_lo = 22;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make();
  const Bytes ssh = bytes("SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_FALSE(a.on_data(ctx(0), 0, ssh, false));
  EXPECT_FALSE(a.on_data(ctx(1), 0, ssh, false));  // the server side too
  EXPECT_EQ(a.slots_free(), 16U);
}

TEST_F(Fixture, HttpRequestAcrossSegmentsAndTheStatusLine) {
  key.port_lo = 80;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make();
  const Bytes req = bytes("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\n\r\n");
  const std::span<const std::uint8_t> all(req);
  EXPECT_TRUE(a.on_data(ctx(0), 0, all.first(10), false));
  EXPECT_TRUE(a.on_data(ctx(0), 10, all.subspan(10, 30), false));
  EXPECT_FALSE(a.on_data(ctx(0), 40, all.subspan(40), false));
  const Bytes resp = bytes("HTTP/1.1 301 Moved\r\n");
  EXPECT_TRUE(a.on_data(ctx(1), 0, std::span<const std::uint8_t>(resp).first(5), false));
  EXPECT_FALSE(a.on_data(ctx(1), 5, std::span<const std::uint8_t>(resp).subspan(5), false));
  const AppRecord rec = take(3);
  ASSERT_EQ(rec.kind, AppKind::kHttp);
  EXPECT_EQ(rec.http.method.view(), "GET");
  EXPECT_EQ(rec.http.host.view(), "example.com");
  EXPECT_EQ(rec.http.uri.view(), "/index.html");
  EXPECT_EQ(rec.http.user_agent.view(), "curl/8");
  EXPECT_EQ(rec.http.status, 301);
  EXPECT_EQ(counters.http_requests.get(), 1U);
  EXPECT_EQ(counters.http_responses.get(), 1U);
}

TEST_F(Fixture, AnHttpHeadLongerThanTheCapIsParsedAsFarAsItCame) {
  key.port_lo = 80;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make(16, 4, 512);
  std::string head = "POST /upload HTTP/1.1\r\nHost: big.example\r\nX-Pad: ";
  head += std::string(2000, 'x');
  const Bytes req = bytes(head);
  const std::span<const std::uint8_t> all(req);
  EXPECT_TRUE(a.on_data(ctx(0), 0, all.first(100), false));
  EXPECT_FALSE(a.on_data(ctx(0), 100, all.subspan(100), false));
  const AppRecord rec = take(3);
  EXPECT_EQ(rec.http.method.view(), "POST");
  EXPECT_EQ(rec.http.host.view(), "big.example");
  EXPECT_TRUE(rec.http.bits & AppHttpPart::kHeadIncomplete);
  EXPECT_EQ(counters.http_incomplete.get(), 1U);
}

TEST_F(Fixture, AGapBeforeTheMessageStopsTheParse) {
  key.port_lo = 80;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make();
  const Bytes req = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::span<const std::uint8_t> all(req);
  EXPECT_TRUE(a.on_data(ctx(0), 0, all.first(8), false));
  EXPECT_FALSE(a.on_data(ctx(0), 20, all.subspan(20), true));  // bytes 8..19 never came
  EXPECT_EQ(counters.streams_with_gaps.get(), 1U);
  EXPECT_EQ(a.buffers_free(), 4U);
  const AppRecord rec = take(3);
  EXPECT_FALSE(rec.http.bits & AppHttpPart::kRequest);
  // A stream picked up mid-way (its first bytes are not at offset 0) is not classified.
  EXPECT_FALSE(a.on_data(ctx(0, 5), 100, all, false));
  EXPECT_EQ(a.slots_free(), 16U);
}

TEST_F(Fixture, DnsOverTcpWithTheLengthPrefixSplit) {
  key.port_lo = 53;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make();
  const Bytes r = dns_response(true);
  Bytes framed;
  put16(framed, static_cast<unsigned>(r.size()));
  framed.insert(framed.end(), r.begin(), r.end());
  const std::span<const std::uint8_t> all(framed);
  a.set_now(5000);
  // The server (lo side, port 53) answers; the client is hi.
  const StreamContext server{&key, 7, 1, kDirLoToHi, kDirHiToLo, 3};
  EXPECT_TRUE(a.on_data(server, 0, all.first(1), false));
  EXPECT_TRUE(a.on_data(server, 1, all.subspan(1, 20), false));
  EXPECT_FALSE(a.on_data(server, 21, all.subspan(21), false));
  const AppRecord rec = take(3);
  ASSERT_EQ(rec.kind, AppKind::kDns);
  EXPECT_TRUE(rec.dns.bits & AppDnsPart::kOverTcp);
  EXPECT_EQ(rec.dns.query.view(), "www.example.org");
  EXPECT_EQ(rec.dns.answer_count, 2);
  std::uint8_t addr[16] = {192, 0, 2, 7};
  char out[256];
  DnsCacheReaderCounters rc;
  EXPECT_EQ(cache->lookup(4, key.addr_hi.data(), addr, 5000, out, sizeof out, rc), 15U);
}

TEST_F(Fixture, EmptyPoolsAreCountedAndTheFlowGoesWithout) {
  key.port_lo = 443;
  key.port_hi = 50000;
  key.proto = 6;
  AppTracker& a = make(1, 1, 1024);
  const Bytes hello = client_hello("a.example");
  const std::span<const std::uint8_t> all(hello);
  EXPECT_TRUE(a.on_data(ctx(0, 1), 0, all.first(10), false));  // holds the only slot and buffer
  EXPECT_FALSE(a.on_data(ctx(0, 2), 0, all, false));            // no slot for a second flow
  EXPECT_EQ(counters.slots_exhausted.get(), 1U);
  EXPECT_FALSE(a.on_data(ctx(0, 1), 10, all.subspan(10), false));
  EXPECT_EQ(take(1).tls.sni.view(), "a.example");
  // Slots left but no buffer: the second flow is TLS without a hello read.
  AppTracker& b = make(4, 1, 1024);
  EXPECT_TRUE(b.on_data(ctx(0, 1), 0, all.first(10), false));  // takes the buffer
  EXPECT_FALSE(b.on_data(ctx(0, 2), 0, all, false));
  EXPECT_EQ(counters.buffers_exhausted.get(), 1U);
  AppRecord r{};
  ASSERT_TRUE(b.export_record(2, reinterpret_cast<unsigned char*>(&r), true));
  EXPECT_EQ(r.kind, AppKind::kTls);
  EXPECT_FALSE(r.tls.bits & AppTlsPart::kClientHello);
}

TEST_F(Fixture, AnInterimRecordKeepsTheSlot) {
  key.port_lo = 40000;
  key.port_hi = 53;
  key.proto = 17;
  AppTracker& a = make();
  a.on_udp(3, key, kDirLoToHi, dns_response(false), 1000, AppTracker::kUdpUndecided);
  EXPECT_EQ(take(3, false).dns.query.view(), "www.example.org");
  EXPECT_EQ(a.slots_free(), 15U);
  EXPECT_EQ(take(3, true).dns.query.view(), "www.example.org");
  EXPECT_EQ(a.slots_free(), 16U);
}

}  // namespace
}  // namespace sf
