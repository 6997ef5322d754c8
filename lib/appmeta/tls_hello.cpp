#include "appmeta/tls_hello.hpp"

#include <array>
#include <cstring>

namespace sf {

namespace {

constexpr std::uint16_t kExtServerName = 0x0000;
constexpr std::uint16_t kExtAlpn = 0x0010;
constexpr std::uint16_t kExtSignatureAlgorithms = 0x000D;
constexpr std::uint16_t kExtSupportedVersions = 0x002B;
constexpr std::size_t kRandomLen = 32;
constexpr std::size_t kSessionIdMax = 32;

// Bounds-checked cursor over a byte span: every read says whether it fit.
class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> s) noexcept : p_(s.data()), end_(s.data() + s.size()) {}
  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  bool u8(std::uint8_t& v) noexcept {
    if (left() < 1) return false;
    v = *p_++;
    return true;
  }
  bool u16(std::uint16_t& v) noexcept {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>(p_[0] << 8 | p_[1]);
    p_ += 2;
    return true;
  }
  bool bytes(std::size_t n, std::span<const std::uint8_t>& v) noexcept {
    if (left() < n) return false;
    v = {p_, n};
    p_ += n;
    return true;
  }
  // A vector with a 1- or 2-byte length prefix.
  bool vec8(std::span<const std::uint8_t>& v) noexcept {
    std::uint8_t n;
    return u8(n) && bytes(n, v);
  }
  bool vec16(std::span<const std::uint8_t>& v) noexcept {
    std::uint16_t n;
    return u16(n) && bytes(n, v);
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// A fixed-capacity list of 16-bit values; what does not fit is counted as overflow.
struct U16List {
  std::array<std::uint16_t, kTlsJa4ListMax> v;
  std::size_t n = 0;
  bool overflow = false;
  void push(std::uint16_t x) noexcept {
    if (n < v.size()) {
      v[n++] = x;
    } else {
      overflow = true;
    }
  }
  std::span<const std::uint16_t> span() const noexcept { return {v.data(), n}; }
};

// Appends the non-GREASE 16-bit values of a vector body; false if its length is odd.
bool push_u16s(std::span<const std::uint8_t> body, U16List& list) noexcept {
  if (body.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < body.size(); i += 2) {
    const auto v = static_cast<std::uint16_t>(body[i] << 8 | body[i + 1]);
    if (!tls_is_grease(v)) list.push(v);
  }
  return true;
}

// RFC 6066 3: ServerNameList; keeps the first host_name (type 0).
bool parse_sni(std::span<const std::uint8_t> ext, TlsClientHello& out) noexcept {
  Cursor c(ext);
  std::span<const std::uint8_t> list;
  if (!c.vec16(list) || c.left() != 0) return false;
  Cursor l(list);
  while (l.left() != 0) {
    std::uint8_t type;
    std::span<const std::uint8_t> name;
    if (!l.u8(type) || !l.vec16(name)) return false;
    if (type != 0 || out.has_sni) continue;
    out.has_sni = true;
    const std::size_t keep = name.size() < kTlsSniMax ? name.size() : kTlsSniMax;
    if (keep != 0) std::memcpy(out.sni, name.data(), keep);
    out.sni[keep] = '\0';
    out.sni_len = static_cast<std::uint16_t>(keep);
    out.sni_truncated = name.size() > kTlsSniMax;
  }
  return true;
}

// RFC 7301 3.1: ProtocolNameList. Joins whole names with ',' while they fit.
bool parse_alpn(std::span<const std::uint8_t> ext, TlsClientHello& out,
                std::span<const std::uint8_t>& first) noexcept {
  Cursor c(ext);
  std::span<const std::uint8_t> list;
  if (!c.vec16(list) || c.left() != 0) return false;
  Cursor l(list);
  while (l.left() != 0) {
    std::span<const std::uint8_t> name;
    if (!l.vec8(name)) return false;
    if (out.alpn_count == 0) first = name;
    ++out.alpn_count;  // fits: each name takes at least its length byte of a list under 64 KiB
    if (out.alpn_truncated) continue;
    const std::size_t sep = out.alpn_count > 1 ? 1 : 0;
    if (out.alpn_len + sep + name.size() > kTlsAlpnTextMax) {
      out.alpn_truncated = true;
      continue;
    }
    if (sep != 0) out.alpn[out.alpn_len++] = ',';
    if (!name.empty()) std::memcpy(out.alpn + out.alpn_len, name.data(), name.size());
    out.alpn_len = static_cast<std::uint8_t>(out.alpn_len + name.size());
    out.alpn[out.alpn_len] = '\0';
  }
  return true;
}

}  // namespace

TlsStatus parse_tls_client_hello(std::span<const std::uint8_t> body, TlsClientHello& out) noexcept {
  std::memset(&out, 0, sizeof out);
  Cursor c(body);
  std::span<const std::uint8_t> random, session_id, cipher_bytes, compression, extensions;
  if (!c.u16(out.legacy_version) || !c.bytes(kRandomLen, random) || !c.vec8(session_id) ||
      session_id.size() > kSessionIdMax || !c.vec16(cipher_bytes) || !c.vec8(compression) || compression.empty()) {
    return TlsStatus::kMalformed;
  }
  U16List ciphers, exts, sig_algs;
  if (!push_u16s(cipher_bytes, ciphers)) return TlsStatus::kMalformed;

  // Extensions are optional (a hello may end after the compression methods);
  // when present, their block must fill the body exactly.
  if (c.left() != 0 && (!c.vec16(extensions) || c.left() != 0)) return TlsStatus::kMalformed;
  out.max_version = out.legacy_version;
  bool has_sni_ext = false, seen_alpn = false, seen_sig_algs = false, seen_versions = false;
  std::span<const std::uint8_t> first_alpn;
  Cursor e(extensions);
  while (e.left() != 0) {
    std::uint16_t type;
    std::span<const std::uint8_t> data;
    if (!e.u16(type) || !e.vec16(data)) return TlsStatus::kMalformed;
    if (tls_is_grease(type)) continue;
    exts.push(type);
    // A repeated extension (RFC 8446 4.2 forbids it) is counted, not parsed again.
    switch (type) {
      case kExtServerName:
        if (!has_sni_ext && !parse_sni(data, out)) return TlsStatus::kMalformed;
        has_sni_ext = true;
        break;
      case kExtAlpn:
        if (!seen_alpn && !parse_alpn(data, out, first_alpn)) return TlsStatus::kMalformed;
        seen_alpn = true;
        break;
      case kExtSignatureAlgorithms: {
        if (seen_sig_algs) break;
        seen_sig_algs = true;
        Cursor s(data);
        std::span<const std::uint8_t> list;
        if (!s.vec16(list) || s.left() != 0 || !push_u16s(list, sig_algs)) return TlsStatus::kMalformed;
        break;
      }
      case kExtSupportedVersions: {
        if (seen_versions) break;
        seen_versions = true;
        Cursor s(data);
        std::span<const std::uint8_t> list;
        if (!s.vec8(list) || s.left() != 0 || list.size() % 2 != 0) return TlsStatus::kMalformed;
        std::uint16_t best = 0;
        for (std::size_t i = 0; i < list.size(); i += 2) {
          const auto v = static_cast<std::uint16_t>(list[i] << 8 | list[i + 1]);
          if (!tls_is_grease(v) && v > best) best = v;
        }
        if (best != 0) out.max_version = best;  // only GREASE listed: keep legacy_version
        break;
      }
      default:
        break;
    }
  }

  out.ja4_truncated = ciphers.overflow || exts.overflow || sig_algs.overflow;
  const Ja4Input in{out.max_version, has_sni_ext, ciphers.span(), exts.span(), sig_algs.span(), first_alpn};
  ja4_format(in, out.ja4);
  return TlsStatus::kOk;
}

TlsStatus parse_tls_server_hello(std::span<const std::uint8_t> body, std::uint16_t& version) noexcept {
  Cursor c(body);
  std::uint16_t legacy, cipher;
  std::uint8_t compression;
  std::span<const std::uint8_t> random, session_id, extensions;
  if (!c.u16(legacy) || !c.bytes(kRandomLen, random) || !c.vec8(session_id) || session_id.size() > kSessionIdMax ||
      !c.u16(cipher) || !c.u8(compression)) {
    return TlsStatus::kMalformed;
  }
  if (c.left() != 0 && (!c.vec16(extensions) || c.left() != 0)) return TlsStatus::kMalformed;
  std::uint16_t negotiated = legacy;
  Cursor e(extensions);
  while (e.left() != 0) {
    std::uint16_t type;
    std::span<const std::uint8_t> data;
    if (!e.u16(type) || !e.vec16(data)) return TlsStatus::kMalformed;
    if (type != kExtSupportedVersions) continue;
    // In a ServerHello it is a single selected_version (RFC 8446 4.2.1).
    if (data.size() != 2) return TlsStatus::kMalformed;
    negotiated = static_cast<std::uint16_t>(data[0] << 8 | data[1]);
  }
  version = negotiated;
  return TlsStatus::kOk;
}

namespace {

// "0xNNNN" for every 16-bit value, built at compile time, so that
}  // namespace

std::string_view tls_version_name(std::uint16_t v) noexcept {
  switch (v) {
    case 0x0304: return "TLSv1.3";
    case 0x0303: return "TLSv1.2";
    case 0x0302: return "TLSv1.1";
    case 0x0301: return "TLSv1.0";
    case 0x0300: return "SSLv3";
    case 0x0002: return "SSLv2";
    case 0xFEFF: return "DTLSv1.0";
    case 0xFEFD: return "DTLSv1.2";
    case 0xFEFC: return "DTLSv1.3";
    default: return {};
  }
}

std::string_view tls_version_text(std::uint16_t v, char (&buf)[7]) noexcept {
  const std::string_view name = tls_version_name(v);
  if (!name.empty()) return name;
  static constexpr char kHex[] = "0123456789abcdef";
  buf[0] = '0';
  buf[1] = 'x';
  buf[2] = kHex[v >> 12];
  buf[3] = kHex[(v >> 8) & 0xF];
  buf[4] = kHex[(v >> 4) & 0xF];
  buf[5] = kHex[v & 0xF];
  buf[6] = '\0';
  return {buf, 6};
}

}  // namespace sf
