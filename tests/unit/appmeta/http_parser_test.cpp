// HTTP/1.x head parser on crafted heads. Where a comment says "tshark", the
// expected text is what tshark 4.0.17 printed (http.host, http.user_agent,
// http.request.uri) for the same bytes in a text2pcap capture; the rest is
// counted by hand from the bytes. One real request of zeek__bro.org.pcap is
// embedded as hex with tshark's fields.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "appmeta/http_parser.hpp"

namespace sf {
namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string_view method(const HttpRequest& r) { return {r.method, r.method_len}; }
std::string_view uri(const HttpRequest& r) { return {r.uri, r.uri_len}; }
std::string_view host(const HttpRequest& r) { return {r.host, r.host_len}; }
std::string_view ua(const HttpRequest& r) { return {r.user_agent, r.user_agent_len}; }

HttpStatus parse(std::string_view head, HttpRequest& r, bool complete = true) {
  return parse_http_request(bytes(head), complete, r);
}

TEST(HttpProbe, KnownMethodsAndPrefixes) {
  EXPECT_EQ(probe_http_request(bytes("GET / HTTP/1.1\r\n")), HttpStatus::kOk);
  EXPECT_EQ(probe_http_request(bytes("GET ")), HttpStatus::kOk);
  EXPECT_EQ(probe_http_request(bytes("POST /x")), HttpStatus::kOk);
  EXPECT_EQ(probe_http_request(bytes("PROPFIND ")), HttpStatus::kOk);
  EXPECT_EQ(probe_http_request(bytes("M-SEARCH * HTTP/1.1")), HttpStatus::kOk);
  EXPECT_EQ(probe_http_request(bytes("CONNECT a:443 ")), HttpStatus::kOk);
  for (std::string_view p : {"", "G", "GE", "GET", "P", "PU", "PROPF", "M-", "OPTIONS"})
    EXPECT_EQ(probe_http_request(bytes(p)), HttpStatus::kNeedMore) << p;
}

TEST(HttpProbe, NotHttp) {
  // TLS 1.2 ClientHello record start, SSH banner, zeros, lower-case method
  // (tshark does not take "get" either), a longer token starting as a method.
  const std::uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
  EXPECT_EQ(probe_http_request(tls), HttpStatus::kNotHttp);
  const std::uint8_t zeros[8] = {};
  EXPECT_EQ(probe_http_request(zeros), HttpStatus::kNotHttp);
  for (std::string_view p : {"SSH-2.0-OpenSSH_8.9", "get / HTTP/1.1", "GETX /", "CONNECTION ", "GET\t/", "X"})
    EXPECT_EQ(probe_http_request(bytes(p)), HttpStatus::kNotHttp) << p;
  HttpRequest r;
  EXPECT_EQ(parse_http_request(tls, true, r), HttpStatus::kNotHttp);
  EXPECT_EQ(parse("get / HTTP/1.1\r\n\r\n", r), HttpStatus::kNotHttp);
}

TEST(HttpHeadLength, EndsAtTheEmptyLine) {
  // 16 + 9 + 2 bytes, then the body.
  EXPECT_EQ(http_head_length(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY")), 27u);
  EXPECT_EQ(http_head_length(bytes("GET / HTTP/1.0\n\n")), 16u);
  EXPECT_EQ(http_head_length(bytes("GET / HTTP/1.0\nHost: a\n\r\nx")), 25u);
  EXPECT_EQ(http_head_length(bytes("GET / HTTP/1.1\r\nHost: a\r\n")), 0u);
  EXPECT_EQ(http_head_length(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r")), 0u);
  EXPECT_EQ(http_head_length({}), 0u);
}

TEST(HttpRequest, GetWithOddCaseHeadersKeepsTrailingSpace) {
  // tshark: http.host "example.com  ", http.user_agent "curl/8.0  ".
  HttpRequest r;
  ASSERT_EQ(parse("GET /a HTTP/1.1\r\nhOsT:   example.com  \r\nuser-AGENT:  curl/8.0  \r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(method(r), "GET");
  EXPECT_EQ(uri(r), "/a");
  EXPECT_EQ(r.version_minor, 1);
  ASSERT_TRUE(r.has_host);
  EXPECT_EQ(host(r), "example.com  ");
  ASSERT_TRUE(r.has_user_agent);
  EXPECT_EQ(ua(r), "curl/8.0  ");
  EXPECT_FALSE(r.uri_truncated || r.host_truncated || r.user_agent_truncated);
  EXPECT_STREQ(r.host, "example.com  ");  // NUL-terminated too
}

TEST(HttpRequest, FoldedLineIsSkipped) {
  // tshark: http.host "example.org\t" (leading tab trimmed), http.user_agent
  // "Mozilla/5.0" (the continuation line is not part of it).
  HttpRequest r;
  ASSERT_EQ(parse("GET /b HTTP/1.1\r\nHost:\texample.org\t\r\nUser-Agent: Mozilla/5.0\r\n (folded part)\r\n\r\n", r),
            HttpStatus::kOk);
  EXPECT_EQ(host(r), "example.org\t");
  EXPECT_EQ(ua(r), "Mozilla/5.0");
  // A folded "Host:" is no Host header; tshark: http.host "real.example".
  ASSERT_EQ(parse("GET /y HTTP/1.1\r\nX: 1\r\n Host: folded.example\r\nHost: real.example\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(host(r), "real.example");
}

TEST(HttpRequest, AbsoluteUriAndConnect) {
  // tshark: uri "http://abs.example/x?y", host "other.example".
  HttpRequest r;
  ASSERT_EQ(parse("GET http://abs.example/x?y HTTP/1.1\r\nHost: other.example\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(uri(r), "http://abs.example/x?y");
  EXPECT_EQ(host(r), "other.example");
  EXPECT_FALSE(r.has_user_agent);
  // tshark: method CONNECT, uri and host "example.com:443".
  ASSERT_EQ(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(method(r), "CONNECT");
  EXPECT_EQ(uri(r), "example.com:443");
  EXPECT_EQ(host(r), "example.com:443");
}

TEST(HttpRequest, PostHeadStopsAtTheEmptyLine) {
  const std::string_view req =
      "POST /submit HTTP/1.1\r\nHost: api.example\r\nContent-Length: 27\r\n\r\nUser-Agent: in the body\r\n\r\n";
  HttpRequest r;
  ASSERT_EQ(parse(req, r), HttpStatus::kOk);
  EXPECT_EQ(method(r), "POST");
  EXPECT_EQ(uri(r), "/submit");
  EXPECT_EQ(host(r), "api.example");
  EXPECT_FALSE(r.has_user_agent);
  EXPECT_EQ(http_head_length(bytes(req)), 23u + 19u + 20u + 2u);
}

TEST(HttpRequest, Http10WithoutHostAndLfOnly) {
  HttpRequest r;
  ASSERT_EQ(parse("GET /old HTTP/1.0\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(r.version_minor, 0);
  EXPECT_FALSE(r.has_host);
  EXPECT_EQ(r.host_len, 0);
  EXPECT_EQ(r.host[0], '\0');
  // tshark: host "lf.example", user_agent "lf".
  ASSERT_EQ(parse("GET /c HTTP/1.1\nHost: lf.example\nUser-Agent: lf\n\n", r), HttpStatus::kOk);
  EXPECT_EQ(uri(r), "/c");
  EXPECT_EQ(host(r), "lf.example");
  EXPECT_EQ(ua(r), "lf");
}

TEST(HttpRequest, RepeatedEmptyAndMisspelledHeaders) {
  HttpRequest r;
  // tshark lists "first.example,second.example": we keep the first.
  ASSERT_EQ(parse("GET /d HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(host(r), "first.example");
  // tshark: an empty http.host.
  ASSERT_EQ(parse("GET /e HTTP/1.1\r\nHost:\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_TRUE(r.has_host);
  EXPECT_EQ(r.host_len, 0);
  // tshark: no http.host for "Host : x".
  ASSERT_EQ(parse("GET /f HTTP/1.1\r\nHost : spaced.example\r\nHosts: no\r\nX-Host: no\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_FALSE(r.has_host);
}

TEST(HttpRequest, NonAsciiBytesShowAsReplacement) {
  // tshark: uri "/\uFFFD\uFFFDx", host "x\x01y.example" (copied),
  // user_agent "a\uFFFD\uFFFDb".
  HttpRequest r;
  ASSERT_EQ(parse("GET /\xc3\xa9x HTTP/1.1\r\nHost: x\x01y.example\r\nUser-Agent: a\xc3\xa9" "b\r\n\r\n", r),
            HttpStatus::kOk);
  EXPECT_EQ(uri(r), "/\xEF\xBF\xBD\xEF\xBF\xBDx");
  EXPECT_EQ(host(r), "x\x01y.example");
  EXPECT_EQ(ua(r), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
}

TEST(HttpRequest, OversizedFieldsAreCutAtTheBound) {
  const std::string long_uri = "/" + std::string(299, 'u');
  const std::string long_host(300, 'h');
  const std::string long_ua(1000, 'a');
  const std::string req = "GET " + long_uri + " HTTP/1.1\r\nHost: " + long_host + "\r\nUser-Agent: " + long_ua + "\r\n\r\n";
  HttpRequest r;
  ASSERT_EQ(parse(req, r), HttpStatus::kOk);
  EXPECT_EQ(r.uri_len, 255);
  EXPECT_TRUE(r.uri_truncated);
  EXPECT_EQ(uri(r), long_uri.substr(0, 255));
  EXPECT_EQ(r.host_len, 255);
  EXPECT_TRUE(r.host_truncated);
  EXPECT_EQ(host(r), std::string(255, 'h'));
  EXPECT_EQ(r.user_agent_len, 255);
  EXPECT_TRUE(r.user_agent_truncated);
  EXPECT_EQ(r.user_agent[255], '\0');

  // Exactly at the bound: not truncated.
  const std::string fits = "GET /x HTTP/1.1\r\nHost: " + std::string(255, 'h') + "\r\n\r\n";
  ASSERT_EQ(parse(fits, r), HttpStatus::kOk);
  EXPECT_EQ(r.host_len, 255);
  EXPECT_FALSE(r.host_truncated);

  // A replacement character that would cross the bound is left out whole.
  const std::string cross = "GET /x HTTP/1.1\r\nUser-Agent: " + std::string(254, 'a') + "\xc3\xa9\r\n\r\n";
  ASSERT_EQ(parse(cross, r), HttpStatus::kOk);
  EXPECT_EQ(r.user_agent_len, 254);
  EXPECT_TRUE(r.user_agent_truncated);
}

// "GET /" with no version, as in zeek__mixed-vlan-mpls.pcap frame 37, where
// tshark shows http.request.method GET and http.request.uri "/".
TEST(HttpRequest, Http09SimpleRequest) {
  HttpRequest r;
  ASSERT_EQ(parse("GET /\r\n\r\n", r), HttpStatus::kOk);
  EXPECT_EQ(std::string_view(r.method, r.method_len), "GET");
  EXPECT_EQ(std::string_view(r.uri, r.uri_len), "/");
  EXPECT_EQ(r.version_minor, kHttpVersion09);
  EXPECT_FALSE(r.has_host);
  ASSERT_EQ(parse("GET /x\n", r), HttpStatus::kOk);
  EXPECT_EQ(std::string_view(r.uri, r.uri_len), "/x");
}

TEST(HttpRequest, MalformedRequestLines) {
  HttpRequest r;
  EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n", r), HttpStatus::kMalformed);
  EXPECT_EQ(parse("GET  /dbl HTTP/1.1\r\n\r\n", r), HttpStatus::kMalformed);
  EXPECT_EQ(parse("GET / HTTP/1.1 extra\r\n\r\n", r), HttpStatus::kMalformed);
  EXPECT_EQ(parse("GET / HTTP/1.x\r\n\r\n", r), HttpStatus::kMalformed);
  EXPECT_EQ(parse("GET / HTTP/1.1", r), HttpStatus::kMalformed);  // complete, yet no line end
  EXPECT_EQ(parse("GET / http/1.1\r\n\r\n", r), HttpStatus::kMalformed);
}

TEST(HttpRequest, EveryTruncation) {
  // Offsets: request line 0..26 (SP at 3 and 15, LF at 25); Host line
  // 26..49 (colon at 30, LF at 48); User-Agent line 49..71 (colon at 59,
  // LF at 70); Accept line 71..84; empty line 84..86.
  const std::string full =
      "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n";
  ASSERT_EQ(full.size(), 86u);
  ASSERT_EQ(http_head_length(bytes(full)), 86u);
  HttpRequest r;
  for (std::size_t len = 0; len <= full.size(); ++len) {
    SCOPED_TRACE("prefix length " + std::to_string(len));
    const std::string_view pre(full.data(), len);
    EXPECT_EQ(http_head_length(bytes(pre)), len == 86 ? 86u : 0u);
    const HttpStatus s = parse(pre, r, /*complete=*/false);
    if (len < 4) {
      EXPECT_EQ(s, HttpStatus::kNeedMore);
      EXPECT_EQ(r.method_len, 0);
      EXPECT_EQ(probe_http_request(bytes(pre)), HttpStatus::kNeedMore);
      continue;
    }
    EXPECT_EQ(probe_http_request(bytes(pre)), HttpStatus::kOk);
    EXPECT_EQ(method(r), "GET");
    if (len < 26) {
      EXPECT_EQ(s, HttpStatus::kNeedMore);
      EXPECT_EQ(uri(r), std::string_view("/index.html").substr(0, len < 15 ? len - 4 : 11));
      EXPECT_EQ(r.uri_truncated, len <= 15);
      EXPECT_EQ(parse(pre, r, /*complete=*/true), HttpStatus::kMalformed);
      continue;
    }
    EXPECT_EQ(s, HttpStatus::kOk);
    EXPECT_EQ(uri(r), "/index.html");
    EXPECT_FALSE(r.uri_truncated);
    EXPECT_EQ(r.version_minor, 1);
    EXPECT_EQ(r.has_host, len >= 31);
    if (len >= 31) {
      const std::size_t vend = len >= 48 ? 47 : len;
      EXPECT_EQ(host(r), full.substr(32, vend > 32 ? vend - 32 : 0));
      EXPECT_EQ(r.host_truncated, len <= 48);
    }
    EXPECT_EQ(r.has_user_agent, len >= 60);
    if (len >= 60) {
      const std::size_t vend = len >= 70 ? 69 : len;
      EXPECT_EQ(ua(r), full.substr(61, vend > 61 ? vend - 61 : 0));
      EXPECT_EQ(r.user_agent_truncated, len <= 70);
    }
    // Given as complete, the same bytes parse the same way except that no
    // value counts as cut.
    ASSERT_EQ(parse(pre, r, /*complete=*/true), HttpStatus::kOk);
    EXPECT_FALSE(r.host_truncated || r.user_agent_truncated);
  }
  ASSERT_EQ(parse(full, r), HttpStatus::kOk);
  EXPECT_EQ(host(r), "www.example.com");
  EXPECT_EQ(ua(r), "test/1.0");
}

// zeek__bro.org.pcap frame 4 (tcp.payload). tshark: http.request.method
// GET, http.host bro.org, http.request.uri /, http.user_agent "Mozilla/5.0
// (X11; Linux i686; rv:24.0) Gecko/20100101 Firefox/24.0"; tcp.len 275.
constexpr std::string_view kBroOrgFrame4 =
    "474554202f20485454502f312e310d0a486f73743a2062726f2e6f72670d0a557365722d4167656e743a204d6f7a696c"
    "6c612f352e3020285831313b204c696e757820693638363b2072763a32342e3029204765636b6f2f3230313030313031"
    "2046697265666f782f32342e300d0a4163636570743a20746578742f68746d6c2c6170706c69636174696f6e2f786874"
    "6d6c2b786d6c2c6170706c69636174696f6e2f786d6c3b713d302e392c2a2f2a3b713d302e380d0a4163636570742d4c"
    "616e67756167653a20656e2d55532c656e3b713d302e350d0a4163636570742d456e636f64696e673a20677a69702c20"
    "6465666c6174650d0a436f6e6e656374696f6e3a206b6565702d616c6976650d0a0d0a";

TEST(HttpRequest, RealCaptureRequest) {
  std::vector<std::uint8_t> b;
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < kBroOrgFrame4.size(); i += 2)
    b.push_back(static_cast<std::uint8_t>(nib(kBroOrgFrame4[i]) * 16 + nib(kBroOrgFrame4[i + 1])));
  ASSERT_EQ(b.size(), 275u);
  EXPECT_EQ(probe_http_request(b), HttpStatus::kOk);
  EXPECT_EQ(http_head_length(b), 275u);
  HttpRequest r;
  ASSERT_EQ(parse_http_request(b, true, r), HttpStatus::kOk);
  EXPECT_EQ(method(r), "GET");
  EXPECT_EQ(host(r), "bro.org");
  EXPECT_EQ(uri(r), "/");
  EXPECT_EQ(ua(r), "Mozilla/5.0 (X11; Linux i686; rv:24.0) Gecko/20100101 Firefox/24.0");
}

// Random bytes spliced into a valid head (fixed seed): lengths stay within
// the bounds and the texts NUL-terminated, whatever the status.
TEST(HttpRequest, CorruptedHeadsStayInBounds) {
  const std::string base =
      "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n";
  std::mt19937 rng(7);
  HttpRequest r;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<char>(rng());
    b.resize(b.size() - rng() % 20);
    (void)parse(b, r, (rng() & 1) != 0);
    ASSERT_LE(r.method_len, kHttpMethodMax);
    ASSERT_LE(r.uri_len, kHttpUriMax);
    ASSERT_LE(r.host_len, kHttpHostMax);
    ASSERT_LE(r.user_agent_len, kHttpUserAgentMax);
    ASSERT_EQ(r.uri[r.uri_len], '\0');
    ASSERT_EQ(r.host[r.host_len], '\0');
    ASSERT_EQ(r.user_agent[r.user_agent_len], '\0');
    ASSERT_LE(http_head_length(bytes(b)), b.size());
  }
}

TEST(HttpStatusLine, Codes) {
  std::uint16_t code = 1;
  EXPECT_EQ(parse_http_status_line(bytes("HTTP/1.1 200 OK\r\n"), code), HttpStatus::kOk);
  EXPECT_EQ(code, 200);
  EXPECT_EQ(parse_http_status_line(bytes("HTTP/1.0 404 Not Found\r\n"), code), HttpStatus::kOk);
  EXPECT_EQ(code, 404);
  EXPECT_EQ(parse_http_status_line(bytes("HTTP/1.1 101 Switching Protocols\r\n"), code), HttpStatus::kOk);
  EXPECT_EQ(code, 101);
  EXPECT_EQ(parse_http_status_line(bytes("HTTP/1.1 204\r\n"), code), HttpStatus::kOk);
  EXPECT_EQ(code, 204);
  EXPECT_EQ(parse_http_status_line(bytes("HTTP/1.1 599\n"), code), HttpStatus::kOk);
  EXPECT_EQ(code, 599);
}

TEST(HttpStatusLine, MalformedAndNotHttp) {
  std::uint16_t code = 1;
  for (std::string_view s : {"HTTP/1.1 2x0 OK\r\n", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 200OK\r\n", "HTTP/1.1 099 X\r\n",
                             "HTTP/1.x 200 OK\r\n", "HTTP/1.1  200 OK\r\n", "HTTP/1.1\t200 OK\r\n"}) {
    EXPECT_EQ(parse_http_status_line(bytes(s), code), HttpStatus::kMalformed) << s;
    EXPECT_EQ(code, 0);
  }
  for (std::string_view s : {"HTTP/2 200\r\n", "SSH-2.0-x\r\n", "http/1.1 200 OK", "GET / HTTP/1.1\r\n"})
    EXPECT_EQ(parse_http_status_line(bytes(s), code), HttpStatus::kNotHttp) << s;
}

TEST(HttpStatusLine, EveryPrefixNeedsMoreUntilTheDelimiter) {
  const std::string_view full = "HTTP/1.1 302 Found\r\n";
  std::uint16_t code = 0;
  for (std::size_t len = 0; len < 13; ++len)
    EXPECT_EQ(parse_http_status_line(bytes(full.substr(0, len)), code), HttpStatus::kNeedMore) << len;
  for (std::size_t len = 13; len <= full.size(); ++len) {
    EXPECT_EQ(parse_http_status_line(bytes(full.substr(0, len)), code), HttpStatus::kOk) << len;
    EXPECT_EQ(code, 302);
  }
}

}  // namespace
}  // namespace sf
