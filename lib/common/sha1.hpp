// SHA-1 (FIPS 180-4), one shot over a byte span, no allocation. Here only
// because Community ID v1 is defined with it: not for anything that needs a
// secure hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sf {

inline constexpr std::size_t kSha1DigestSize = 20;
using Sha1Digest = std::array<std::uint8_t, kSha1DigestSize>;

Sha1Digest sha1(std::span<const std::byte> data) noexcept;

}  // namespace sf
