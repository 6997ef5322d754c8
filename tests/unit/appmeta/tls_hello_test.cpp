// parse_tls_client_hello and JA4 against independent values: tshark's fields
// and nDPI's published JA4 for two real captures, the FoxIO spec's worked
// example, a FoxIO test-data fingerprint, and the spec's rules applied by hand.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "appmeta/ja4.hpp"
#include "appmeta/tls_hello.hpp"
#include "tls_captures.hpp"
#include "tls_test_util.hpp"

namespace sf {
namespace {

using test::Bytes;
using test::Ext;
using test::unhex;

Bytes body_of(std::string_view record_hex) {
  const Bytes s = unhex(record_hex);
  return Bytes(s.begin() + 9, s.end());  // one record, one message: skip both headers
}

TEST(TlsClientHello, FirefoxFieldsMatchTsharkAndJa4MatchesNdpi) {
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(body_of(test::kFirefoxHello), h), TlsStatus::kOk);
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_EQ(h.max_version, 0x0304);
  EXPECT_TRUE(h.has_sni);
  EXPECT_STREQ(h.sni, "www.ntop.org");
  EXPECT_EQ(h.sni_len, 12);
  EXPECT_FALSE(h.sni_truncated);
  EXPECT_STREQ(h.alpn, "h2,http/1.1");
  EXPECT_EQ(h.alpn_len, 11);
  EXPECT_EQ(h.alpn_count, 2);
  EXPECT_FALSE(h.alpn_truncated);
  EXPECT_STREQ(h.ja4, "t13d1814h2_29a2cd9e9f10_d267a5f792d4");
  EXPECT_FALSE(h.ja4_truncated);
}

TEST(TlsClientHello, ChromeGreaseIgnoredAndJa4MatchesNdpi) {
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(body_of(test::kChromeHello), h), TlsStatus::kOk);
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_EQ(h.max_version, 0x0304);  // not the GREASE 0xaaaa listed first
  EXPECT_STREQ(h.sni, "safebrowsing.googleapis.com");
  EXPECT_STREQ(h.alpn, "h2,http/1.1");
  // 16 ciphers and 17 extensions on the wire, one and two of them GREASE.
  EXPECT_STREQ(h.ja4, "t13d1515h2_8daaf6152771_de4a06bb82e3");
}

// The FoxIO spec's example (technical_details/JA4.md, "Cipher hash",
// "Extension hash", "Example"): these ciphers, extensions in this order and
// signature algorithms give t13d1516h2_8daaf6152771_e5627efa2ab1.
std::vector<std::uint16_t> spec_ciphers() {
  return {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
          0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
}
std::vector<Ext> spec_extensions(Bytes sig_algs) {
  std::vector<Ext> e;
  for (std::uint16_t t : {0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
                          0x002b, 0xff01, 0x000b, 0x000a, 0x0015}) {
    Bytes d;
    if (t == 0x0000) d = test::sni_ext("example.com");
    if (t == 0x0010) d = test::alpn_ext({"h2", "http/1.1"});
    if (t == 0x002b) d = test::versions_ext({0x0304, 0x0303});
    if (t == 0x000d) d = sig_algs;
    e.push_back({t, d});
  }
  return e;
}
const Bytes kSpecSigAlgs = test::sig_algs_ext({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601});

TEST(Ja4, SpecWorkedExample) {
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, spec_ciphers(), spec_extensions(kSpecSigAlgs)), h),
            TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
}

TEST(Ja4, GreaseAnywhereIsIgnored) {
  // The same hello with GREASE added as a cipher, an extension, a supported
  // version and a signature algorithm: nothing may change.
  auto ciphers = spec_ciphers();
  ciphers.insert(ciphers.begin(), 0x0a0a);
  ciphers.push_back(0xfafa);
  auto exts = spec_extensions(test::sig_algs_ext({0x1a1a, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
                                                  0x0601}));
  exts.insert(exts.begin(), Ext{0x3a3a, {}});
  exts.push_back(Ext{0xdada, {0x00}});
  exts[12].data = test::versions_ext({0x7a7a, 0x0304, 0x0303});  // 0x002b
  ASSERT_EQ(exts[12].type, 0x002b);
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, ciphers, exts), h), TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(h.max_version, 0x0304);
}

TEST(Ja4, NoSignatureAlgorithmsMeansNoUnderscore) {
  // Spec: "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01
  // = 6d807ffa2a79": extension 0x000d present with an empty list.
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, spec_ciphers(), spec_extensions(test::sig_algs_ext({}))),
                                   h),
            TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

TEST(Ja4, FoxioSigalgGreaseTestData) {
  // FoxIO-LLC/ja4 python/test/testdata/sigalg-grease.pcapng.json: its JA4_ro
  // lists (original order, GREASE removed) rebuilt as a hello, with GREASE put
  // back in front of each list; expected "JA4.1".
  std::vector<std::uint16_t> ciphers = {0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                        0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  std::vector<Ext> exts = {{0x8a8a, {}}};
  for (std::uint16_t t : {0xfe0d, 0x0010, 0x0017, 0x0033, 0x44cd, 0xff01, 0x000a, 0x000d, 0x0023, 0x002b, 0x000b,
                          0xca34, 0x002d, 0x0000, 0x0005, 0x001b, 0x0012}) {
    Bytes d;
    if (t == 0x0000) d = test::sni_ext("optimizationguide-pa.googleapis.com");
    if (t == 0x0010) d = test::alpn_ext({"h2", "http/1.1"});
    if (t == 0x002b) d = test::versions_ext({0x4a4a, 0x0304, 0x0303});
    if (t == 0x000d) {
      d = test::sig_algs_ext({0x5a5a, 0x0904, 0x0905, 0x0906, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
                              0x0601});
    }
    exts.push_back({t, d});
  }
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, ciphers, exts), h), TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t13d1517h2_8daaf6152771_cb7bf5808d99");
}

TEST(Ja4, EmptyListsAreZeros) {
  // No ciphers, no extensions: version from legacy_version, "i", 00 00 00,
  // then twelve zeros twice (JA4+ general rule 1).
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {}, {}, false), h), TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t12i000000_000000000000_000000000000");
  EXPECT_FALSE(h.has_sni);
  EXPECT_EQ(h.alpn_len, 0);
  EXPECT_STREQ(h.alpn, "");
  // An extension block that holds only SNI and ALPN: both count, neither is hashed.
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0301, {0x002f},
                                                      {{0x0000, test::sni_ext("a.b")}, {0x0010, test::alpn_ext({"h2"})}}),
                                   h),
            TlsStatus::kOk);
  EXPECT_STREQ(h.ja4, "t10d0102h2_ba72b8082249_000000000000");  // hashlib sha256("002f")[:12]
}

TEST(Ja4, VersionsAndCountCaps) {
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0300, {0x000a}, {}, false), h), TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 4), "ts3i");
  // A draft version is "00" in JA4 but still the max_version.
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x000a}, {{0x002b, test::versions_ext({0x7f1c})}}), h),
            TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 4), "t00i");
  EXPECT_EQ(h.max_version, 0x7f1c);
  // Only GREASE listed: fall back to legacy_version.
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0302, {0x000a}, {{0x002b, test::versions_ext({0x2a2a})}}), h),
            TlsStatus::kOk);
  EXPECT_EQ(h.max_version, 0x0302);
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 4), "t11i");
  // 150 ciphers and 120 extensions: both shown as 99.
  std::vector<std::uint16_t> many;
  for (std::uint16_t i = 1; i <= 150; ++i) many.push_back(i);
  std::vector<Ext> exts;
  for (std::uint16_t i = 0x100; i < 0x100 + 120; ++i) exts.push_back({i, {}});
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, many, exts), h), TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 10), "t12i999900");
  EXPECT_FALSE(h.ja4_truncated);
  // More than we keep: flagged.
  for (std::uint16_t i = 151; i <= 600; ++i) many.push_back(i);
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, many, {}), h), TlsStatus::kOk);
  EXPECT_TRUE(h.ja4_truncated);
}

TEST(Ja4, AlpnCharactersPerSpec) {
  // Spec, "ALPN Extension Value", its examples one by one.
  const struct {
    Bytes alpn;
    const char* want;
  } cases[] = {
      {{'h', '2'}, "h2"},
      {{'h', 't', 't', 'p', '/', '1', '.', '1'}, "h1"},
      {{}, "00"},
      {{'x'}, "xx"},  // "a single character ... is treated as both the first and last character"
      {{0xAB}, "ab"},
      {{0xAB, 0xCD}, "ad"},
      {{0x30, 0xAB}, "3b"},
      {{0x30, 0x31, 0xAB, 0xCD}, "3d"},
      {{0x30, 0xAB, 0xCD, 0x31}, "01"},
  };
  for (const auto& c : cases) {
    char two[3] = {};
    ja4_alpn_chars(c.alpn, two);
    EXPECT_STREQ(two, c.want);
  }
  // Only the first protocol counts, and an empty first one is "00".
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x000a}, {{0x0010, test::alpn_ext({"", "h2"})}}), h),
            TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(8, 2), "00");
  EXPECT_STREQ(h.alpn, ",h2");
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x000a}, {{0x0010, test::alpn_ext({"spdy/3", "h2"})}}),
                                   h),
            TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(8, 2), "s3");
}

TEST(TlsClientHello, TenThousandAlpnEntriesAreBounded) {
  Bytes list;
  for (int i = 0; i < 10000; ++i) test::put_text(list, std::string_view("\x02h2", 3));
  Bytes ext;
  test::put16(ext, list.size());
  test::put_bytes(ext, list);
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x0010, ext}}), h), TlsStatus::kOk);
  EXPECT_EQ(h.alpn_count, 10000);
  EXPECT_TRUE(h.alpn_truncated);
  // 21 whole "h2" and 20 commas = 62 characters; a 22nd would make 65 > 63.
  std::string want = "h2";
  for (int i = 1; i < 21; ++i) want += ",h2";
  EXPECT_EQ(h.alpn_len, 62);
  EXPECT_EQ(std::string(h.alpn), want);
  EXPECT_EQ(std::string_view(h.ja4).substr(8, 2), "h2");
}

TEST(TlsClientHello, LongSniAndHugeExtensionBlock) {
  const std::string host(300, 'a');
  TlsClientHello h;
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x0000, test::sni_ext(host)}}), h),
            TlsStatus::kOk);
  EXPECT_EQ(h.sni_len, 255);
  EXPECT_TRUE(h.sni_truncated);
  EXPECT_EQ(std::string(h.sni), std::string(255, 'a'));
  // One padding extension (0x0015) filling the largest possible block: 65535.
  ASSERT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x0015, Bytes(65531, 0)}}), h),
            TlsStatus::kOk);
  EXPECT_EQ(std::string_view(h.ja4).substr(0, 10), "t12i010100");
}

TEST(TlsClientHello, EveryTruncationIsMalformedOrAShorterValidHello) {
  for (std::string_view hex : {test::kFirefoxHello, test::kChromeHello}) {
    const Bytes body = body_of(hex);
    for (std::size_t n = 0; n < body.size(); ++n) {
      TlsClientHello h;
      const TlsStatus st = parse_tls_client_hello(std::span(body).first(n), h);
      // 2 + 32 random + 1 + 32 session id + 2 + 2 * ciphers + 1 + 1 null compression:
      // ending there is a valid hello without extensions.
      const std::size_t no_ext = 2 + 32 + 1 + 32 + 2 + 2 * (hex == test::kFirefoxHello ? 18 : 16) + 2;
      EXPECT_EQ(st, n == no_ext ? TlsStatus::kOk : TlsStatus::kMalformed) << n;
      if (n == no_ext && hex == test::kFirefoxHello) {
        EXPECT_STREQ(h.ja4, "t12i180000_29a2cd9e9f10_000000000000");
      }
    }
  }
}

TEST(TlsClientHello, InconsistentLengthsAreMalformed) {
  const Bytes good = body_of(test::kFirefoxHello);
  TlsClientHello h;
  Bytes trailing = good;
  trailing.push_back(0);  // a byte after the extension block
  EXPECT_EQ(parse_tls_client_hello(trailing, h), TlsStatus::kMalformed);
  Bytes session = good;
  session[34] = 33;  // session id longer than 32
  EXPECT_EQ(parse_tls_client_hello(session, h), TlsStatus::kMalformed);
  Bytes odd = good;
  odd[68] = 0x23;  // cipher_suites length 35: odd
  EXPECT_EQ(parse_tls_client_hello(odd, h), TlsStatus::kMalformed);
  EXPECT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x0000, Bytes{0x00, 0x05, 0x00, 0x00, 0x09}}}),
                                   h),
            TlsStatus::kMalformed);  // server_name list shorter than its entry
  EXPECT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x002b, Bytes{0x03, 0x03, 0x04, 0x03}}}), h),
            TlsStatus::kMalformed);  // odd supported_versions
  EXPECT_EQ(parse_tls_client_hello(test::client_hello(0x0303, {0x1301}, {{0x0010, Bytes{0x00, 0x03, 0x05, 'h', '2'}}}),
                                   h),
            TlsStatus::kMalformed);  // ALPN name longer than its list
}

TEST(TlsClientHello, MutatedHellosStayInBounds) {
  // Hostile input: overwrite 1..4 bytes of a real hello with pseudo-random
  // values (fixed seed). Whatever the lengths now say, the answer is kOk or
  // kMalformed and a kOk result respects its own bounds.
  const Bytes good = body_of(test::kChromeHello);
  std::uint32_t x = 12345;
  auto next = [&x] { return x = x * 1103515245 + 12345, x >> 8; };
  int ok = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes b = good;
    for (int k = 0, n = 1 + static_cast<int>(next() % 4); k < n; ++k) b[next() % b.size()] = static_cast<std::uint8_t>(next());
    TlsClientHello h;
    const TlsStatus st = parse_tls_client_hello(b, h);
    ASSERT_TRUE(st == TlsStatus::kOk || st == TlsStatus::kMalformed);
    if (st != TlsStatus::kOk) continue;
    ++ok;
    ASSERT_LE(h.sni_len, kTlsSniMax);
    ASSERT_EQ(h.sni[h.sni_len], '\0');
    ASSERT_LE(h.alpn_len, kTlsAlpnTextMax);
    ASSERT_EQ(h.alpn[h.alpn_len], '\0');
    ASSERT_EQ(std::string_view(h.ja4).size(), kJa4Len);
  }
  EXPECT_GT(ok, 1000);  // most single-byte changes hit the random, key share or padding
}

TEST(TlsVersionName, KnownNamesAndHexForTheRest) {
  EXPECT_EQ(tls_version_name(0x0304), "TLSv1.3");
  EXPECT_EQ(tls_version_name(0x0303), "TLSv1.2");
  EXPECT_EQ(tls_version_name(0x0302), "TLSv1.1");
  EXPECT_EQ(tls_version_name(0x0301), "TLSv1.0");
  EXPECT_EQ(tls_version_name(0x0300), "SSLv3");
  EXPECT_EQ(tls_version_name(0xFEFD), "DTLSv1.2");
  EXPECT_EQ(tls_version_name(0x7f1c), "");
  char buf[7];
  EXPECT_EQ(tls_version_text(0x0303, buf), "TLSv1.2");
  EXPECT_EQ(tls_version_text(0x7f1c, buf), "0x7f1c");
  EXPECT_EQ(tls_version_text(0x0000, buf), "0x0000");
  EXPECT_EQ(tls_version_text(0xFFFF, buf), "0xffff");
  EXPECT_EQ(tls_version_text(0x0a0a, buf), "0x0a0a");
}

}  // namespace
}  // namespace sf
