// Encodes a FlowEvent as one JSON object (one line), into a caller's buffer:
// no allocation, no locale, so exporters can format at full speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flow/flow_record.hpp"

namespace sf {

// Enough for the longest record: two IPv6 addresses, every counter at its
// maximum, and every app text at its bound with every byte escaped (\u00XX).
inline constexpr std::size_t kJsonRecordMax = 8192;

// Who the flow talks to, and how we know (server_name, server_name_source).
struct ServerName {
  std::string_view name;   // empty: unknown
  const char* source = nullptr;  // "tls_sni", "http_host" or "dns"
};

// Writes the record and a trailing '\n'; returns the bytes written (0 if cap is too small).
// app: the flow's AppRecord, or null. community_id_seed: export.community_id_seed.
std::size_t format_json_record(const FlowEvent& ev, const AppRecord* app, const ServerName& server,
                               std::uint16_t community_id_seed, char* buf, std::size_t cap) noexcept;
inline std::size_t format_json_record(const FlowEvent& ev, std::uint16_t community_id_seed, char* buf,
                                      std::size_t cap) noexcept {
  return format_json_record(ev, nullptr, ServerName{}, community_id_seed, buf, cap);
}

// The flow's own name (TLS SNI, then HTTP Host without its port) if it has one.
ServerName own_server_name(const AppRecord* app) noexcept;

// "CEUAPRSF" letters of the set flags, NUL-terminated into out[9].
void tcp_flags_letters(std::uint8_t flags, char out[9]) noexcept;

}  // namespace sf
