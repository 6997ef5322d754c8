#include "common/sha256.hpp"

#include <bit>
#include <cstring>

#include "common/byte_order.hpp"

namespace sf {

namespace {

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
// cube roots of the first 64 primes.
constexpr std::uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

void compress(std::array<std::uint32_t, 8>& h, const std::byte* block) noexcept {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i) w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = std::rotr(w[i - 15], 7) ^ std::rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = std::rotr(w[i - 2], 17) ^ std::rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t s1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = hh + s1 + ch + kK[i] + w[i];
    const std::uint32_t s0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = s0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

}  // namespace

Sha256::Sha256() noexcept
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::update(std::span<const std::byte> data) noexcept {
  // An empty span may have a null data(): memcpy from it is undefined even
  // for 0 bytes (UBSan: nonnull-attribute), so nothing is copied at all.
  if (data.empty()) return;
  total_ += data.size();
  const std::byte* p = data.data();
  std::size_t n = data.size();
  if (buf_len_ != 0) {
    const std::size_t take = n < kBlock - buf_len_ ? n : kBlock - buf_len_;
    std::memcpy(buf_.data() + buf_len_, p, take);
    buf_len_ += take;
    p += take;
    n -= take;
    if (buf_len_ < kBlock) return;
    compress(h_, buf_.data());
    buf_len_ = 0;
  }
  for (; n >= kBlock; p += kBlock, n -= kBlock) compress(h_, p);
  if (n != 0) std::memcpy(buf_.data(), p, n);
  buf_len_ = n;
}

Sha256Digest Sha256::finish() noexcept {
  // Padding: 0x80, zeros, then the message length in bits (64-bit big-endian);
  // one block, or two when fewer than 9 bytes are left in the last one.
  const std::uint64_t bits = total_ * 8;
  std::byte tail[2 * kBlock]{};
  std::memcpy(tail, buf_.data(), buf_len_);
  tail[buf_len_] = std::byte{0x80};
  const std::size_t tail_len = buf_len_ + 1 + 8 <= kBlock ? kBlock : 2 * kBlock;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<std::byte>(bits >> (8 * i));
  for (std::size_t off = 0; off < tail_len; off += kBlock) compress(h_, tail + off);

  Sha256Digest out;
  for (std::size_t i = 0; i < h_.size(); ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h_[i] >> (24 - 8 * j));
  }
  return out;
}

Sha256Digest sha256(std::span<const std::byte> data) noexcept {
  Sha256 h;
  h.update(data);
  return h.finish();
}

}  // namespace sf
