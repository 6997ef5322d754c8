// tls_read_handshake: record stripping, fragments across records and chunks,
// zero copy, the early kNotTls answer, kMalformed / kTooBig, and the same
// message whatever the chunking.
#include <gtest/gtest.h>

#include <cstring>
#include <string_view>

#include "appmeta/tls_hello.hpp"
#include "tls_captures.hpp"
#include "tls_test_util.hpp"

namespace sf {
namespace {

using test::Bytes;
using test::feed;
using test::unhex;

// Values tshark and nDPI give for kFirefoxHello (see tls_captures.hpp).
void expect_firefox(const test::FeedResult& r, const std::string& where) {
  ASSERT_EQ(r.status, TlsStatus::kOk) << where;
  ASSERT_EQ(r.type, kTlsClientHello) << where;
  ASSERT_EQ(r.body.size(), 0x1FCu) << where;  // handshake length field 00 01 fc
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(r.body, h), TlsStatus::kOk) << where;
  EXPECT_STREQ(h.sni, "www.ntop.org") << where;
  EXPECT_STREQ(h.alpn, "h2,http/1.1") << where;
  EXPECT_EQ(h.max_version, 0x0304) << where;
  EXPECT_STREQ(h.ja4, "t13d1814h2_29a2cd9e9f10_d267a5f792d4") << where;
}

TEST(TlsReader, WholeRecordInOneChunkIsZeroCopy) {
  const Bytes s = unhex(test::kFirefoxHello);
  TlsHandshakeReader st{};
  Bytes scratch(8192);
  TlsMessageView m{};
  ASSERT_EQ(tls_read_handshake(st, scratch, s, &m), TlsStatus::kOk);
  EXPECT_EQ(m.type, 1);
  EXPECT_EQ(m.body.data(), s.data() + 9);  // 5-byte record header + 4-byte handshake header
  EXPECT_EQ(m.body.size(), 508u);
  expect_firefox(feed(s, {}), "one chunk");
}

TEST(TlsReader, EveryTwoChunkSplitGivesTheSameHello) {
  const Bytes s = unhex(test::kFirefoxHello);
  for (std::size_t cut = 1; cut < s.size(); ++cut) {
    const auto r = feed(s, {cut});
    expect_firefox(r, "cut at " + std::to_string(cut));
    // Zero copy exactly when the whole body is in the second chunk.
    EXPECT_EQ(r.zero_copy, cut <= 9) << cut;
  }
  const Bytes c = unhex(test::kChromeHello);
  for (std::size_t cut = 1; cut < c.size(); ++cut) {
    const auto r = feed(c, {cut});
    ASSERT_EQ(r.status, TlsStatus::kOk) << cut;
    TlsClientHello h;
    ASSERT_EQ(parse_tls_client_hello(r.body, h), TlsStatus::kOk) << cut;
    EXPECT_STREQ(h.ja4, "t13d1515h2_8daaf6152771_de4a06bb82e3") << cut;
  }
}

TEST(TlsReader, OneByteAtATime) {
  const Bytes s = unhex(test::kFirefoxHello);
  const auto r = feed(s, test::every_byte(s.size()));
  expect_firefox(r, "byte by byte");
  EXPECT_EQ(r.calls_to_final, s.size());
  EXPECT_FALSE(r.zero_copy);
}

TEST(TlsReader, HandshakeFragmentedAcrossRecords) {
  // The Firefox body re-framed into five records: the first holds only two
  // bytes of the 4-byte handshake header, the second one more byte.
  const Bytes whole = unhex(test::kFirefoxHello);
  const std::span<const std::uint8_t> body(whole.data() + 9, 508);
  const Bytes s = test::records(1, body, {2, 1, 3, 200});
  ASSERT_EQ(s.size(), 512u + 5 * 5);
  expect_firefox(feed(s, {}), "records, one chunk");
  expect_firefox(feed(s, test::every_byte(s.size())), "records, byte by byte");
  for (std::size_t cut = 1; cut < s.size(); ++cut) expect_firefox(feed(s, {cut}), "records, cut " + std::to_string(cut));
  // Every cut into three chunks, too: a cut on each side of every record header.
  for (std::size_t a = 1; a < 40; ++a) {
    for (std::size_t b = a + 1; b < s.size(); b += 7) expect_firefox(feed(s, {a, b}), "three chunks");
  }
}

TEST(TlsReader, LargeHelloWithMlKemKeyShareSpansSegments) {
  // X25519MLKEM768 (0x11ec, draft-kwiatkowski-tls-ecdhe-mlkem: 1184-byte
  // ML-KEM-768 key + 32-byte X25519 key), a plain X25519 share and padding
  // take the hello to about 2 KiB: two TCP segments.
  Bytes key_share;
  test::put16(key_share, 4 + 1216 + 4 + 32);
  test::put16(key_share, 0x11EC);
  test::put16(key_share, 1216);
  key_share.insert(key_share.end(), 1216, 0x5A);
  test::put16(key_share, 0x001D);
  test::put16(key_share, 32);
  key_share.insert(key_share.end(), 32, 0x11);
  const Bytes body = test::client_hello(0x0303, {0x1301, 0x1302, 0x1303},
                                        {{0x0000, test::sni_ext("pq.example.net")},
                                         {0x0010, test::alpn_ext({"h2"})},
                                         {0x002B, test::versions_ext({0x0304})},
                                         {0x0033, key_share},
                                         {0x0015, Bytes(600, 0)}});  // padding, as browsers add
  ASSERT_GT(body.size(), 1900u);
  const Bytes s = test::records(1, body);
  EXPECT_EQ(feed(s, {1448}).body, body);
  EXPECT_EQ(feed(s, test::every_byte(s.size())).body, body);
  EXPECT_EQ(feed(s, {}, 1024).status, TlsStatus::kTooBig);  // a 1 KiB pool buffer would not do
  const auto r = feed(s, {1448});
  ASSERT_EQ(r.status, TlsStatus::kOk);
  EXPECT_FALSE(r.zero_copy);
  EXPECT_EQ(r.body, body);
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(r.body, h), TlsStatus::kOk);
  EXPECT_STREQ(h.sni, "pq.example.net");
  // t, 13, SNI, 3 ciphers, 5 extensions, "h2"; cipher hash is sha256 of
  // "1301,1302,1303" (hashlib: 55b375c5d22e...).
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 24), "t13d0305h2_55b375c5d22e_");
}

TEST(TlsReader, NotTlsOnTheFirstBadByte) {
  const std::string_view http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  TlsHandshakeReader st{};
  Bytes scratch(8192);
  TlsMessageView m{};
  const auto g = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(http.data()), 1);
  EXPECT_EQ(tls_read_handshake(st, scratch, g, &m), TlsStatus::kNotTls);
  // Sticky: the rest of the stream is not read.
  const auto rest = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(http.data()), http.size());
  EXPECT_EQ(tls_read_handshake(st, scratch, rest, &m), TlsStatus::kNotTls);

  // Byte by byte, each bad first record header stops where it goes wrong.
  const struct {
    const char* hex;
    std::size_t calls;
  } cases[] = {
      {"17030300100000", 1},  // application data first
      {"80fa010303", 1},      // SSLv2-style ClientHello
      {"16020000", 2},        // record major version 2
      {"1603050010", 3},      // 0x0305
      {"1603010000", 5},      // empty handshake record
      {"1603034801", 5},      // 18433 > 2^14 + 2048
  };
  for (const auto& c : cases) {
    const Bytes s = unhex(c.hex);
    const auto r = feed(s, test::every_byte(s.size()));
    EXPECT_EQ(r.status, TlsStatus::kNotTls) << c.hex;
    EXPECT_EQ(r.calls_to_final, c.calls) << c.hex;
  }
  // 18432 is still a record length we accept.
  EXPECT_EQ(feed(unhex("1603034800"), {}).status, TlsStatus::kNeedMore);
}

TEST(TlsReader, LaterBadRecordIsMalformed) {
  const Bytes whole = unhex(test::kFirefoxHello);
  const std::span<const std::uint8_t> body(whole.data() + 9, 508);
  Bytes s = test::records(1, body, {100});
  // Second record header at offset 5 + 100.
  Bytes alert = s;
  alert[105] = 21;
  EXPECT_EQ(feed(alert, {}).status, TlsStatus::kMalformed);
  Bytes version = s;
  version[107] = 5;
  EXPECT_EQ(feed(version, {}).status, TlsStatus::kMalformed);
  Bytes empty = s;
  empty[108] = 0;
  empty[109] = 0;
  EXPECT_EQ(feed(empty, {}).status, TlsStatus::kMalformed);
}

TEST(TlsReader, TooBigWhateverTheChunking) {
  const Bytes s = unhex(test::kFirefoxHello);
  EXPECT_EQ(feed(s, {}, 507).status, TlsStatus::kTooBig);
  EXPECT_EQ(feed(s, test::every_byte(s.size()), 507).status, TlsStatus::kTooBig);
  // Decided from the handshake header (byte 9), not at the end of the data.
  EXPECT_EQ(feed(s, test::every_byte(s.size()), 507).calls_to_final, 9u);
  expect_firefox(feed(s, {}, 508), "scratch exactly the body");
  expect_firefox(feed(s, test::every_byte(s.size()), 508), "scratch exactly the body, byte by byte");
  EXPECT_EQ(feed(s, {}, 0).status, TlsStatus::kTooBig);
}

TEST(TlsReader, EveryTruncationNeedsMore) {
  const Bytes s = unhex(test::kFirefoxHello);
  for (std::size_t n = 0; n < s.size(); ++n) {
    EXPECT_EQ(feed(std::span(s).first(n), {}).status, TlsStatus::kNeedMore) << n;
  }
}

TEST(TlsReader, EmptyMessageAndStickyStatus) {
  const Bytes s = unhex("16030300040e000000");  // ServerHelloDone, empty body
  TlsHandshakeReader st{};
  Bytes scratch(64);
  TlsMessageView m{};
  ASSERT_EQ(tls_read_handshake(st, scratch, s, &m), TlsStatus::kOk);
  EXPECT_EQ(m.type, 14);
  EXPECT_TRUE(m.body.empty());
  // After the answer the reader neither reads nor writes *out.
  TlsMessageView untouched{0x77, {}};
  EXPECT_EQ(tls_read_handshake(st, scratch, s, &untouched), TlsStatus::kOk);
  EXPECT_EQ(untouched.type, 0x77);
  EXPECT_EQ(tls_read_handshake(st, scratch, s, nullptr), TlsStatus::kOk);
}

TEST(TlsReader, ServerHelloWithAndWithoutSupportedVersions) {
  const struct {
    std::string_view hex;
    std::uint16_t version;  // tshark: supported_version if present, else handshake.version
    std::string_view name;
  } cases[] = {{test::kServerHelloTls13, 0x0304, "TLSv1.3"}, {test::kServerHelloTls12, 0x0303, "TLSv1.2"}};
  for (const auto& c : cases) {
    const Bytes s = unhex(c.hex);
    for (std::size_t cut = 0; cut < s.size(); ++cut) {
      const auto r = cut == 0 ? feed(s, {}) : feed(s, {cut});
      ASSERT_EQ(r.status, TlsStatus::kOk) << c.name << " cut " << cut;
      ASSERT_EQ(r.type, kTlsServerHello);
      std::uint16_t v = 0;
      ASSERT_EQ(parse_tls_server_hello(r.body, v), TlsStatus::kOk);
      EXPECT_EQ(v, c.version);
      EXPECT_EQ(tls_version_name(v), c.name);
    }
    // Every truncation of the body is malformed (the extensions are not optional once begun).
    const auto r = feed(s, {});
    for (std::size_t n = 0; n < r.body.size(); ++n) {
      std::uint16_t v = 0;
      const auto st = parse_tls_server_hello(std::span(r.body).first(n), v);
      // 38 + 32 session id + cipher + compression = 70: a ServerHello without extensions.
      EXPECT_EQ(st, n == 70 ? TlsStatus::kOk : TlsStatus::kMalformed) << c.name << " " << n;
      if (n == 70) {
        EXPECT_EQ(v, 0x0303);
      }
    }
  }
}

}  // namespace
}  // namespace sf
