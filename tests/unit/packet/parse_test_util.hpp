// Helpers shared by the packet parser tests.
#pragma once

#include <cstring>
#include <memory>
#include <ostream>
#include <span>

#include "packet/packet_parser.hpp"
#include "support/packet_builder.hpp"

namespace sf {

inline std::ostream& operator<<(std::ostream& os, MalformedReason r) {
  return os << malformed_reason_name(r);
}
inline std::ostream& operator<<(std::ostream& os, ParseStatus s) {
  switch (s) {
    case ParseStatus::Ok:
      return os << "Ok";
    case ParseStatus::NonIp:
      return os << "NonIp";
    case ParseStatus::Malformed:
      return os << "Malformed";
  }
  return os << "?";
}

namespace test {

// Parses the first caplen bytes from an exact-size heap copy, so that the
// sanitizers catch any read past the captured bytes.
inline ParseResult parse_prefix(const Bytes& frame, std::size_t caplen, std::uint32_t wire_len,
                                LinkType link, ParsedPacket& out) {
  std::unique_ptr<std::byte[]> copy(caplen ? new std::byte[caplen] : nullptr);
  if (caplen != 0) std::memcpy(copy.get(), frame.data(), caplen);
  return parse_packet(std::span<const std::byte>(copy.get(), caplen), wire_len, link, out);
}

inline ParseResult parse_built(const PacketBuilder& b, ParsedPacket& out) {
  const Bytes frame = b.build();
  return parse_prefix(frame, frame.size(), static_cast<std::uint32_t>(frame.size()),
                      b.link_type(), out);
}

}  // namespace test
}  // namespace sf
