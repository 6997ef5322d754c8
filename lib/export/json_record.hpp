// Encodes a FlowEvent as one JSON object (one line), into a caller's buffer:
// no allocation, no locale, so exporters can format at full speed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "flow/flow_record.hpp"

namespace sf {

// Enough for the longest record (two IPv6 addresses, every counter at its maximum).
inline constexpr std::size_t kJsonRecordMax = 1536;

// Writes the record and a trailing '\n'; returns the bytes written (0 if cap is too small).
// community_id_seed: the Community ID seed (export.community_id_seed).
std::size_t format_json_record(const FlowEvent& ev, std::uint16_t community_id_seed, char* buf,
                               std::size_t cap) noexcept;

// "CEUAPRSF" letters of the set flags, NUL-terminated into out[9].
void tcp_flags_letters(std::uint8_t flags, char out[9]) noexcept;

}  // namespace sf
