// Limits and policy of TCP stream reassembly, per worker. Plain struct with
// defaults; the YAML keys are wired elsewhere. Sizes are in bytes or pages,
// times in milliseconds, as the names say.
#pragma once

#include <cstdint>

namespace sf {

// Which bytes win where a segment overlaps bytes already buffered.
enum class OverlapPolicy : std::uint8_t {
  First,  // the bytes that arrived first (what most end hosts keep)
  Last,   // the bytes that arrived last
};

struct ReassemblyConfig {
  OverlapPolicy policy = OverlapPolicy::First;
  // Unit of buffer memory. Out-of-order bytes are copied into pages; a
  // buffered segment holds whole pages, so a 1-byte segment costs one page.
  std::uint32_t page_size_bytes = 2048;  // 1..1 MiB (0 is read as the default)
  // Pages preallocated per worker: the pool, allocated at construction. The
  // sum over workers is the global budget (default 128 MiB per worker).
  std::uint32_t pages_per_worker = 65536;
  // Pages one connection may hold, both directions together.
  std::uint32_t pages_per_connection = 256;
  // Bytes one direction may hold buffered above its first hole; 0 = no limit
  // other than the pages.
  std::uint32_t max_bytes_above_hole = 1U << 20;
  // Bytes delivered per direction, after which the direction's data is
  // ignored (not counted as missed); 0 = unlimited.
  std::uint32_t depth_bytes = 1U << 20;
  // Data that waited above a hole this long is flushed: the hole is skipped
  // (missed bytes) and the data delivered after a gap; 0 = never by age.
  std::uint32_t flush_after_ms = 30000;
};

}  // namespace sf
