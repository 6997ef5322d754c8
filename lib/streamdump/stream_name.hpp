// File names of dumped streams, one file per direction (like tcpflow):
//
//   {src_ip}.{src_port}-{dst_ip}.{dst_port}[--{vlan}[.{inner_vlan}]][-g{generation}]
//
// src is the sender of the bytes in the file. IPv4 in dotted quad, IPv6 in the
// compressed text form of inet_ntop (2001:db8::1), no zero padding (tcpflow
// pads: 010.000.000.001.00080). The VLAN part appears only when the flow key
// carries VLAN ids (flow_table.vlan_in_key), so that flows that differ only by
// VLAN do not share a file (tcpflow writes `--{vlan}` the same way). The
// generation part appears for generation > 1 (a later connection on the same
// tuple). The writer appends `-n{K}` when a name was already used earlier in
// the run by another stream (the same tuple seen again after its flow ended
// on a timeout, which starts over at generation 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flow/flow_key.hpp"
#include "tcp/stream_consumer.hpp"

namespace sf {

// Longest name: two IPv6 addresses, both ports, two VLANs, a generation and a
// repeat suffix, plus the NUL.
inline constexpr std::size_t kStreamNameMax = 192;

// Writes the name (NUL-terminated) and returns its length; 0 if cap is too small.
std::size_t format_stream_name(const FlowKey& key, std::uint8_t dir, std::uint32_t generation, char* out,
                               std::size_t cap) noexcept;

// Text form of one of the key's addresses (inet_ntop); out needs 46 bytes.
void format_key_address(const FlowKey& key, bool lo, char* out, std::size_t cap) noexcept;

// "fin", "rst", "timeout", ... ("none" out of range).
std::string_view stream_end_name(std::uint8_t reason) noexcept;

}  // namespace sf
