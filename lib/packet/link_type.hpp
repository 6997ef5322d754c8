// Capture link types (libpcap DLT/LINKTYPE numbers) the parser understands.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sf {

enum class LinkType : std::uint16_t {
  Null = 0,         // BSD loopback: 4-byte address family in host order of the writer
  Ethernet = 1,
  Raw = 101,        // raw IPv4 or IPv6, version from the first nibble (DLT_RAW 12/14 map here)
  Loop = 108,       // OpenBSD loopback: 4-byte address family, network order
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
};

// Maps a pcap link-layer header type (LINKTYPE_* or the platform DLT_* value
// libpcap reports) to the parser's link type; nullopt when unsupported.
std::optional<LinkType> link_type_from_pcap(int dlt) noexcept;
std::string_view link_type_name(LinkType lt) noexcept;

}  // namespace sf
