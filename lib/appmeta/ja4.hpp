// JA4 TLS client fingerprint (FoxIO, BSD 3-Clause), for TLS over TCP.
// Followed: FoxIO-LLC/ja4 technical_details/JA4.md (the spec, its worked
// example and ALPN rules) and the reference rust/ja4/src/tls.rs (GREASE set,
// version from the highest supported_versions entry, 99 caps, the optional
// '_' before the signature algorithms, 000000000000 for an empty list).
// Where the two disagree we follow the spec; see ja4_alpn_chars().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sf {

inline constexpr std::size_t kJa4Len = 36;  // "t13d1516h2_8daaf6152771_e5627efa2ab1"

// GREASE (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa.
constexpr bool tls_is_grease(std::uint16_t v) noexcept { return (v & 0x0F0F) == 0x0A0A && (v >> 8) == (v & 0xFF); }

// What JA4 needs from a ClientHello, GREASE already removed. Lists in wire
// order; the formatter sorts its own copies.
struct Ja4Input {
  std::uint16_t version;          // highest supported_versions entry, else legacy_version
  bool has_sni_ext;               // extension 0x0000 present (even if empty)
  std::span<const std::uint16_t> ciphers;
  std::span<const std::uint16_t> extensions;  // including SNI and ALPN
  std::span<const std::uint16_t> sig_algs;    // signature_algorithms, wire order
  std::span<const std::uint8_t> first_alpn;   // first ALPN protocol, empty if none
};

// The two characters of JA4_a for the first ALPN value (spec, "ALPN Extension
// Value"): "00" when absent or empty; its first and last characters when both
// are ASCII alphanumeric (one character counts as both); otherwise the first
// and last hex digits of its bytes. The reference implementations differ
// here (they print 'c0' for a lone 'c' and '9' for a non-ASCII character).
void ja4_alpn_chars(std::span<const std::uint8_t> alpn, char out[2]) noexcept;

// Writes the 36 characters and a NUL. Lists longer than the caller could
// store are its business: this hashes exactly what it is given.
void ja4_format(const Ja4Input& in, char out[kJa4Len + 1]) noexcept;

}  // namespace sf
