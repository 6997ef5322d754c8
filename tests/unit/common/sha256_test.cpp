// SHA-256 against the FIPS 180-4 / NIST CSRC examples, and against Python's
// hashlib (OpenSSL) at every padding boundary: 55/56 bytes (length field fits
// / spills into a second block), 63/64/65 and the same one block later. The
// incremental interface is checked against the same published digests, fed
// in pieces of every size.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.hpp"

namespace sf {
namespace {

std::string hex(const Sha256Digest& d) {
  std::string out;
  char two[3];
  for (std::uint8_t b : d) {
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string sha256_hex(std::string_view s) { return hex(sha256(bytes_of(s))); }

constexpr std::string_view k448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr std::string_view k896 =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
    "mnopqrstnopqrstu";

TEST(Sha256, NistExamples) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(k448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(k896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, PaddingBoundariesMatchHashlib) {
  // Message byte i = (7 i + 3) mod 256; digests from Python's hashlib.sha256.
  const struct {
    std::size_t len;
    const char* digest;
  } cases[] = {
      {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
      {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
      {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
      {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
      {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
      {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
      {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
      {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
      {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
  };
  for (const auto& c : cases) {
    std::vector<std::byte> msg(c.len);
    for (std::size_t i = 0; i < c.len; ++i) msg[i] = static_cast<std::byte>((i * 7 + 3) & 0xFF);
    EXPECT_EQ(hex(sha256(msg)), c.digest) << c.len << " bytes";
  }
}

TEST(Sha256, IncrementalInPiecesOfEverySize) {
  // The 896-bit message crosses a block boundary; every piece size from 1 to
  // past its length, and one empty update between pieces, must not matter.
  const auto msg = bytes_of(k896);
  for (std::size_t piece = 1; piece <= msg.size() + 1; ++piece) {
    Sha256 h;
    for (std::size_t off = 0; off < msg.size(); off += piece) {
      h.update(msg.subspan(off, std::min(piece, msg.size() - off)));
      h.update({});
    }
    EXPECT_EQ(hex(h.finish()), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        << "pieces of " << piece;
  }
  Sha256 million;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(bytes_of(chunk));
  EXPECT_EQ(hex(million.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EmptyUpdateWithNullDataInsideABlock) {
  // Regression (UBSan, nonnull-attribute): an empty span whose data() is null,
  // given while part of a block is buffered, went to memcpy(dst, nullptr, 0),
  // which is undefined. It must be a no-op.
  Sha256 h;
  h.update(bytes_of("ab"));
  h.update(std::span<const std::byte>{});
  h.update(std::span<const std::byte>(static_cast<const std::byte*>(nullptr), 0));
  h.update(bytes_of("c"));
  EXPECT_EQ(hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sf
