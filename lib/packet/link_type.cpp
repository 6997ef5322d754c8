#include "packet/link_type.hpp"

namespace sf {

std::optional<LinkType> link_type_from_pcap(int dlt) noexcept {
  switch (dlt) {
    case 0:
      return LinkType::Null;
    case 1:
      return LinkType::Ethernet;
    case 12:   // DLT_RAW on most BSDs
    case 14:   // DLT_RAW on OpenBSD
    case 101:  // LINKTYPE_RAW
      return LinkType::Raw;
    case 108:
      return LinkType::Loop;
    case 113:
      return LinkType::LinuxSll;
    case 228:
      return LinkType::Ipv4;
    case 229:
      return LinkType::Ipv6;
    case 276:
      return LinkType::LinuxSll2;
    default:
      return std::nullopt;
  }
}

std::string_view link_type_name(LinkType lt) noexcept {
  switch (lt) {
    case LinkType::Null:
      return "null";
    case LinkType::Ethernet:
      return "ethernet";
    case LinkType::Raw:
      return "raw";
    case LinkType::Loop:
      return "loop";
    case LinkType::LinuxSll:
      return "linux_sll";
    case LinkType::Ipv4:
      return "ipv4";
    case LinkType::Ipv6:
      return "ipv6";
    case LinkType::LinuxSll2:
      return "linux_sll2";
  }
  return "unknown";
}

}  // namespace sf
