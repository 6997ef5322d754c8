#include "common/sha1.hpp"

#include <bit>
#include <cstring>

#include "common/byte_order.hpp"

namespace sf {

namespace {

constexpr std::size_t kBlock = 64;

using State = std::array<std::uint32_t, 5>;

void compress(State& h, const std::byte* block) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 80; ++i) w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f, k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDC;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6;
    }
    const std::uint32_t t = std::rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

}  // namespace

Sha1Digest sha1(std::span<const std::byte> data) noexcept {
  State h{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  const std::size_t full = data.size() / kBlock * kBlock;
  for (std::size_t off = 0; off < full; off += kBlock) compress(h, data.data() + off);

  // Padding: 0x80, zeros, then the message length in bits (64-bit big-endian);
  // one block, or two when fewer than 9 bytes are left in the first.
  std::byte tail[2 * kBlock]{};
  const std::size_t rest = data.size() - full;
  if (rest != 0) std::memcpy(tail, data.data() + full, rest);
  tail[rest] = std::byte{0x80};
  const std::size_t tail_len = rest + 1 + 8 <= kBlock ? kBlock : 2 * kBlock;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<std::byte>(bits >> (8 * i));
  for (std::size_t off = 0; off < tail_len; off += kBlock) compress(h, tail + off);

  Sha1Digest out;
  for (std::size_t i = 0; i < h.size(); ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
  }
  return out;
}

}  // namespace sf
