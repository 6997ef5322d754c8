// The PacketMeta of an mbuf lives in its private area (the pool is created with
// priv_size = kMbufPrivSize), so RX's parse results travel with the packet.
#pragma once

#include <rte_mbuf.h>

#include "flow/packet_meta.hpp"

namespace sf {

inline constexpr unsigned kMbufPrivSize = RTE_ALIGN(sizeof(PacketMeta), RTE_MBUF_PRIV_ALIGN);

inline PacketMeta* packet_meta(rte_mbuf* m) noexcept {
  return static_cast<PacketMeta*>(rte_mbuf_to_priv(m));
}

}  // namespace sf
