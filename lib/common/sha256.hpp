// SHA-256 (FIPS 180-4), one shot or incremental, no allocation. Here because
// JA4 hashes its cipher and extension lists with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sf {

inline constexpr std::size_t kSha256DigestSize = 32;
using Sha256Digest = std::array<std::uint8_t, kSha256DigestSize>;

// Incremental hasher: update() any number of times with pieces of the message,
// then finish() once. Lets JA4 hash a list while formatting it, without a
// buffer the size of the list.
class Sha256 {
 public:
  Sha256() noexcept;
  void update(std::span<const std::byte> data) noexcept;
  Sha256Digest finish() noexcept;

 private:
  static constexpr std::size_t kBlock = 64;
  std::array<std::uint32_t, 8> h_;
  std::array<std::byte, kBlock> buf_{};
  std::uint64_t total_ = 0;  // message bytes so far
  std::size_t buf_len_ = 0;
};

Sha256Digest sha256(std::span<const std::byte> data) noexcept;

}  // namespace sf
