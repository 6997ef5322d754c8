#include "appmeta/ja4.hpp"

#include <algorithm>
#include <cstring>

#include "common/sha256.hpp"

namespace sf {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kMaxSorted = 1024;  // the caller stores fewer (TlsClientHello caps its lists)

bool is_alnum(std::uint8_t c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void put_two_digits(char* out, std::size_t n) noexcept {
  if (n > 99) n = 99;
  out[0] = static_cast<char>('0' + n / 10);
  out[1] = static_cast<char>('0' + n % 10);
}

const char* version_chars(std::uint16_t v) noexcept {
  switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xFEFF: return "d1";
    case 0xFEFD: return "d2";
    case 0xFEFC: return "d3";
    default: return "00";
  }
}

// Hashes "xxxx,xxxx,..." (4 lower-case hex digits each) into h.
void hash_list(Sha256& h, std::span<const std::uint16_t> values) noexcept {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t v = values[i];
    const char item[5] = {',', kHex[v >> 12], kHex[(v >> 8) & 0xF], kHex[(v >> 4) & 0xF], kHex[v & 0xF]};
    h.update(std::as_bytes(std::span<const char>(i == 0 ? item + 1 : item, i == 0 ? 4 : 5)));
  }
}

// First 12 hex digits of the digest, or twelve zeros when nothing was hashed
// (JA4+ general rule 1: an empty field is 000000000000, not sha256("")).
void put_hash12(char* out, Sha256& h, bool empty) noexcept {
  if (empty) {
    std::memset(out, '0', 12);
    return;
  }
  const Sha256Digest d = h.finish();
  for (int i = 0; i < 6; ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 0xF];
  }
}

}  // namespace

void ja4_alpn_chars(std::span<const std::uint8_t> alpn, char out[2]) noexcept {
  if (alpn.empty()) {
    out[0] = out[1] = '0';
    return;
  }
  const std::uint8_t first = alpn.front(), last = alpn.back();
  if (is_alnum(first) && is_alnum(last)) {
    out[0] = static_cast<char>(first);
    out[1] = static_cast<char>(last);
  } else {
    out[0] = kHex[first >> 4];
    out[1] = kHex[last & 0xF];
  }
}

void ja4_format(const Ja4Input& in, char out[kJa4Len + 1]) noexcept {
  char* o = out;
  *o++ = 't';
  std::memcpy(o, version_chars(in.version), 2);
  o += 2;
  *o++ = in.has_sni_ext ? 'd' : 'i';
  put_two_digits(o, in.ciphers.size());
  o += 2;
  put_two_digits(o, in.extensions.size());
  o += 2;
  ja4_alpn_chars(in.first_alpn, o);
  o += 2;
  *o++ = '_';

  std::uint16_t sorted[kMaxSorted];
  std::size_t n = std::min(in.ciphers.size(), kMaxSorted);
  std::copy_n(in.ciphers.begin(), n, sorted);
  std::sort(sorted, sorted + n);
  Sha256 hb;
  hash_list(hb, {sorted, n});
  put_hash12(o, hb, n == 0);
  o += 12;
  *o++ = '_';

  // Sorted extensions without SNI (0x0000) and ALPN (0x0010), then '_' and
  // the signature algorithms in wire order; no '_' when there are none.
  n = 0;
  for (std::uint16_t e : in.extensions) {
    if (e != 0x0000 && e != 0x0010 && n < kMaxSorted) sorted[n++] = e;
  }
  std::sort(sorted, sorted + n);
  Sha256 hc;
  hash_list(hc, {sorted, n});
  if (!in.sig_algs.empty()) {
    hc.update(std::as_bytes(std::span<const char>("_", 1)));
    hash_list(hc, in.sig_algs);
  }
  put_hash12(o, hc, n == 0);
  o += 12;
  *o = '\0';
}

}  // namespace sf
