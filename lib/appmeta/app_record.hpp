// What a flow's application parsers found, in a fixed-size record: kept per
// flow on its worker while the flow lives (AppTracker's slot pool) and carried
// after the FlowEvent to the exporters when the record is finished. One
// application per flow (a stream is DNS, TLS or HTTP, not two), so the three
// parts share storage. Bounds are the JSON record's: text longer than a field
// is cut and flagged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sf {

enum class AppKind : std::uint8_t { kNone = 0, kDns, kTls, kHttp };

inline constexpr std::size_t kAppDnsAnswersMax = 8;     // dns_answers entries kept per flow
inline constexpr std::size_t kAppDnsDataMax = 384;      // their addresses and CNAME targets
inline constexpr std::size_t kAppTextMax = 255;         // names, hosts, URIs
inline constexpr std::size_t kAppUserAgentMax = 200;
inline constexpr std::size_t kAppAlpnMax = 63;
inline constexpr std::size_t kAppJa4Len = 36;

// A bounded string: len bytes of text (any bytes: escaped when written as JSON).
template <std::size_t N>
struct AppText {
  std::uint8_t len;
  char text[N];
  std::string_view view() const noexcept { return {text, len}; }
  // Copies at most N bytes; true if it had to cut.
  bool assign(std::string_view s) noexcept {
    const std::size_t n = s.size() < N ? s.size() : N;
    for (std::size_t i = 0; i < n; ++i) text[i] = s[i];
    len = static_cast<std::uint8_t>(n);
    return n < s.size();
  }
};
static_assert(kAppTextMax <= 255, "lengths are one byte");

struct AppDnsAnswer {
  std::uint16_t type;  // 1 A, 28 AAAA, 5 CNAME (others are not kept)
  std::uint16_t off;   // into AppDnsPart::data: 4 or 16 address bytes, or the target name's text
  std::uint16_t len;
  std::uint32_t ttl;
};

struct AppDnsPart {
  enum Bits : std::uint8_t {
    kQuery = 0x01,             // a query was parsed (query/qtype from it)
    kResponse = 0x02,          // a response was parsed (rcode/answers from it)
    kAnswersTruncated = 0x04,  // the response had more answers than kept
    kQueryTruncated = 0x08,
    kOverTcp = 0x10,
    kQuestion = 0x20,          // query/qtype are set (from a query, or a response's question)
  };
  std::uint8_t bits;
  std::uint8_t rcode;
  std::uint16_t qtype;
  std::uint8_t answer_count;
  std::uint8_t pad_[1];
  std::uint16_t data_used;
  AppText<kAppTextMax> query;
  AppDnsAnswer answers[kAppDnsAnswersMax];
  char data[kAppDnsDataMax];
};

struct AppTlsPart {
  enum Bits : std::uint8_t {
    kClientHello = 0x01,
    kServerHello = 0x02,  // server_version is the negotiated one
    kSni = 0x04,
    kSniTruncated = 0x08,
    kAlpnTruncated = 0x10,
  };
  std::uint8_t bits;
  std::uint8_t pad_[1];
  std::uint16_t client_version;  // the highest the client offered
  std::uint16_t server_version;
  AppText<kAppTextMax> sni;
  AppText<kAppAlpnMax> alpn;     // protocols joined by ','
  char ja4[kAppJa4Len + 1];
};

struct AppHttpPart {
  enum Bits : std::uint8_t {
    kRequest = 0x01,
    kResponse = 0x02,  // status is set
    kHost = 0x04,
    kHostTruncated = 0x08,
    kUriTruncated = 0x10,
    kUserAgent = 0x20,
    kUserAgentTruncated = 0x40,
    kHeadIncomplete = 0x80,  // the request head did not end within the byte cap or the stream
  };
  std::uint8_t bits;
  std::uint8_t pad_[1];
  std::uint16_t status;
  AppText<16> method;
  AppText<kAppTextMax> host;
  AppText<kAppTextMax> uri;
  AppText<kAppUserAgentMax> user_agent;
};

struct AppRecord {
  AppKind kind;
  std::uint8_t pad_[7];
  union {
    AppDnsPart dns;
    AppTlsPart tls;
    AppHttpPart http;
  };
};
// Three 256-byte export ring elements after the FlowEvent (see EventSlot).
static_assert(sizeof(AppRecord) <= 768, "an app record travels as three ring elements");

}  // namespace sf
