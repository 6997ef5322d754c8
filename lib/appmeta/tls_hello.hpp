// ClientHello and ServerHello bodies (as tls_read_handshake hands them out):
// SNI, ALPN, versions and the JA4 fingerprint of the client; the negotiated
// version of the server. Fixed-size results, bounded work, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "appmeta/ja4.hpp"
#include "appmeta/tls_handshake_reader.hpp"

namespace sf {

inline constexpr std::size_t kTlsSniMax = 255;
inline constexpr std::size_t kTlsAlpnTextMax = 63;  // ALPN protocols joined with ',' (bounded)
// Ciphers, extensions and signature algorithms kept per list for JA4 (real
// hellos have well under 100); beyond this ja4_truncated is set.
inline constexpr std::size_t kTlsJa4ListMax = 512;

inline constexpr std::uint8_t kTlsClientHello = 1;
inline constexpr std::uint8_t kTlsServerHello = 2;

struct TlsClientHello {
  std::uint16_t legacy_version;  // client_version field
  std::uint16_t max_version;     // highest non-GREASE supported_versions entry, else legacy_version
  // First host_name of the server_name extension, raw bytes (not validated as
  // a DNS name), NUL-terminated; cut at kTlsSniMax bytes (sni_truncated).
  char sni[kTlsSniMax + 1];
  std::uint16_t sni_len;
  bool has_sni;
  bool sni_truncated;
  // tshark's tls.handshake.extensions_alpn_str values joined by ','. Only
  // whole protocols are kept: the first one that does not fit ends the text
  // and sets alpn_truncated; alpn_count counts them all.
  char alpn[kTlsAlpnTextMax + 1];
  std::uint8_t alpn_len;
  std::uint16_t alpn_count;
  bool alpn_truncated;
  char ja4[kJa4Len + 1];  // NUL-terminated
  bool ja4_truncated;     // a list had more than kTlsJa4ListMax entries: ja4 hashes only the first ones
};
static_assert(std::is_trivially_copyable_v<TlsClientHello>);

// Parses a ClientHello body (type 1). kOk, or kMalformed when a length does
// not fit (fields, extension block, or inside server_name / ALPN /
// supported_versions / signature_algorithms); out is then unspecified.
// Bounded work whatever the lengths say: one pass over the body.
TlsStatus parse_tls_client_hello(std::span<const std::uint8_t> body, TlsClientHello& out) noexcept;

// Negotiated version from a ServerHello body (type 2): the supported_versions
// extension if present (RFC 8446 4.2.1), else server_version.
TlsStatus parse_tls_server_hello(std::span<const std::uint8_t> body, std::uint16_t& version) noexcept;

// "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "SSLv3", "SSLv2", "DTLSv1.0",
// "DTLSv1.2", "DTLSv1.3"; static text, the view never dangles.
std::string_view tls_version_name(std::uint16_t v) noexcept;  // "" for a version without a name
// The name, or "0xNNNN" (lowercase hex) written into buf.
std::string_view tls_version_text(std::uint16_t v, char (&buf)[7]) noexcept;

}  // namespace sf
