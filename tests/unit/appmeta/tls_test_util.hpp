// Helpers for the TLS tests: hex decoding, a ClientHello body builder, record
// framing, and feeding a stream to tls_read_handshake in chosen chunks.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "appmeta/tls_handshake_reader.hpp"

namespace sf::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes unhex(std::string_view h) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<std::uint8_t>(nib(h[i]) << 4 | nib(h[i + 1])));
  return out;
}

inline void put16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put_bytes(Bytes& b, std::span<const std::uint8_t> s) { b.insert(b.end(), s.begin(), s.end()); }
inline void put_text(Bytes& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }

// Extension bodies, laid out by hand from the RFCs.
inline Bytes sni_ext(std::string_view host) {  // RFC 6066 3
  Bytes b;
  put16(b, host.size() + 3);
  b.push_back(0);  // host_name
  put16(b, host.size());
  put_text(b, host);
  return b;
}
inline Bytes alpn_ext(std::initializer_list<std::string_view> names) {  // RFC 7301 3.1
  Bytes list;
  for (auto n : names) {
    list.push_back(static_cast<std::uint8_t>(n.size()));
    put_text(list, n);
  }
  Bytes b;
  put16(b, list.size());
  put_bytes(b, list);
  return b;
}
inline Bytes u16_list_ext(std::initializer_list<std::uint16_t> v, bool one_byte_len) {
  Bytes b;
  if (one_byte_len) {
    b.push_back(static_cast<std::uint8_t>(2 * v.size()));
  } else {
    put16(b, 2 * v.size());
  }
  for (auto x : v) put16(b, x);
  return b;
}
inline Bytes versions_ext(std::initializer_list<std::uint16_t> v) { return u16_list_ext(v, true); }  // RFC 8446 4.2.1
inline Bytes sig_algs_ext(std::initializer_list<std::uint16_t> v) { return u16_list_ext(v, false); }  // RFC 8446 4.2.3

struct Ext {
  std::uint16_t type;
  Bytes data;
};

// ClientHello body (RFC 8446 4.1.2): version, 32-byte random, 32-byte session
// id, ciphers, one null compression method, extensions (omitted when
// with_extensions is false).
inline Bytes client_hello(std::uint16_t legacy, const std::vector<std::uint16_t>& ciphers, const std::vector<Ext>& exts,
                          bool with_extensions = true) {
  Bytes b;
  put16(b, legacy);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<std::uint8_t>(i));
  b.push_back(32);
  for (int i = 0; i < 32; ++i) b.push_back(static_cast<std::uint8_t>(0xA0 + i));
  put16(b, 2 * ciphers.size());
  for (auto c : ciphers) put16(b, c);
  b.push_back(1);
  b.push_back(0);
  if (!with_extensions) return b;
  Bytes e;
  for (const auto& x : exts) {
    put16(e, x.type);
    put16(e, x.data.size());
    put_bytes(e, x.data);
  }
  put16(b, e.size());
  put_bytes(b, e);
  return b;
}

// Handshake message (type + 24-bit length + body) cut into records of the
// given fragment sizes (the last one takes the rest), record version 0x0301
// for the first and 0x0303 after, as browsers send them.
inline Bytes records(std::uint8_t type, std::span<const std::uint8_t> body, std::vector<std::size_t> frags = {}) {
  Bytes msg{type, static_cast<std::uint8_t>(body.size() >> 16), static_cast<std::uint8_t>(body.size() >> 8),
            static_cast<std::uint8_t>(body.size())};
  put_bytes(msg, body);
  Bytes out;
  std::size_t off = 0;
  for (std::size_t i = 0; off < msg.size(); ++i) {
    std::size_t n = i < frags.size() ? frags[i] : msg.size() - off;
    if (n > msg.size() - off) n = msg.size() - off;
    out.push_back(22);
    out.push_back(3);
    out.push_back(i == 0 ? 1 : 3);
    put16(out, n);
    out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(off), msg.begin() + static_cast<std::ptrdiff_t>(off + n));
    off += n;
  }
  return out;
}

struct FeedResult {
  TlsStatus status = TlsStatus::kNeedMore;
  std::uint8_t type = 0;
  Bytes body;                 // copied out: the view is valid only until the next call
  bool zero_copy = false;     // body pointed into the chunk passed in
  std::size_t calls_to_final = 0;
};

// Feeds `stream` in chunks that end at each of `cuts` (ascending) and at the
// end; stops at the first status other than kNeedMore.
inline FeedResult feed(std::span<const std::uint8_t> stream, const std::vector<std::size_t>& cuts,
                       std::size_t scratch_size = 8192) {
  TlsHandshakeReader st{};
  std::vector<std::uint8_t> scratch(scratch_size);
  FeedResult r;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t to = i < cuts.size() ? cuts[i] : stream.size();
    const auto chunk = stream.subspan(from, to - from);
    TlsMessageView m{};
    ++r.calls_to_final;
    r.status = tls_read_handshake(st, scratch, chunk, &m);
    if (r.status != TlsStatus::kNeedMore) {
      if (r.status == TlsStatus::kOk) {
        r.type = m.type;
        r.body.assign(m.body.begin(), m.body.end());
        r.zero_copy = !m.body.empty() && m.body.data() >= chunk.data() && m.body.data() < chunk.data() + chunk.size();
      }
      return r;
    }
    from = to;
  }
  return r;
}

inline std::vector<std::size_t> every_byte(std::size_t n) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

}  // namespace sf::test
