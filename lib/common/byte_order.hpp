// Unaligned, bounds-unchecked network-order loads through memcpy (no UB on odd
// addresses). Callers check bounds first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sf {

inline std::uint8_t load_u8(const std::byte* p) noexcept { return static_cast<std::uint8_t>(*p); }

inline std::uint16_t load_be16(const std::byte* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline std::uint32_t load_be32(const std::byte* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline std::uint16_t load_le16(const std::byte* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline std::uint32_t load_le32(const std::byte* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace sf
