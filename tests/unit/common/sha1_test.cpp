// SHA-1 against the FIPS 180 examples, and against Python's hashlib (OpenSSL)
// at every padding boundary: 55/56 bytes (length field fits / spills into a
// second block), 63/64/65 and the same one block later.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha1.hpp"

namespace sf {
namespace {

std::string hex(const Sha1Digest& d) {
  std::string out;
  char two[3];
  for (std::uint8_t b : d) {
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}

std::string sha1_hex(std::string_view s) {
  return hex(sha1(std::as_bytes(std::span<const char>(s.data(), s.size()))));
}

TEST(Sha1, Fips180Examples) {
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, EmptyAndLongerMessages) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                     "mnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1, PaddingBoundariesMatchHashlib) {
  // Message byte i = (7 i + 3) mod 256; digests from Python's hashlib.sha1.
  const struct {
    std::size_t len;
    const char* digest;
  } cases[] = {
      {55, "ddf57317ef34bfee3b6df83d359098930eb278bc"},  {56, "a0d492bb0fc889d0eca3bc137066ab6f4f74f369"},
      {63, "c55856749bef509bdfe6bfebfc7bf4e793e82132"},  {64, "bede92be29c3874e1b54ddc77988d606fc857a8e"},
      {65, "b05a80522b053d6dc7e0a517d0e70212c7dad11f"},  {119, "504e27376a6e0f0dba8295b85cb25dc4dfa17d23"},
      {120, "82134b02fb3f702491be9bed581eeab59334acb2"}, {127, "34d5e582029e9b9b85b2febe31da3db7cdabaaea"},
      {128, "a09133e6730ffe899efb70204cb5646cd5dc24ee"},
  };
  for (const auto& c : cases) {
    std::vector<std::byte> msg(c.len);
    for (std::size_t i = 0; i < c.len; ++i) msg[i] = static_cast<std::byte>((i * 7 + 3) & 0xFF);
    EXPECT_EQ(hex(sha1(msg)), c.digest) << c.len << " bytes";
  }
}

}  // namespace
}  // namespace sf
