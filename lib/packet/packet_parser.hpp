// Bounds-checked frame parser. Pure C++ (no DPDK) so it is unit-testable and
// fuzzable on its own; RX lcores call it once per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "packet/link_type.hpp"
#include "packet/parsed_packet.hpp"

namespace sf {

struct ParseResult {
  ParseStatus status;
  MalformedReason reason;  // meaningful only when status == Malformed
};

// frame: the captured bytes (caplen); wire_len: the frame's length on the wire
// (>= frame.size(); larger when the capture's snap length cut it). IP lengths
// are checked against wire_len, headers against the captured bytes.
ParseResult parse_packet(std::span<const std::byte> frame, std::uint32_t wire_len, LinkType link,
                         ParsedPacket& out) noexcept;

}  // namespace sf
