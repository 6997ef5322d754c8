// What travels from a worker's StreamDumpConsumer to the StreamDumpWriter: a
// fixed-size block of records, each a header and (for data) the bytes. Blocks
// come from a pool preallocated per worker and go back to it once written,
// so the worker never allocates and the writer never copies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "flow/flow_key.hpp"

namespace sf {

enum class DumpRecordKind : std::uint8_t { kData, kEnd };

// One record. The stream is named by its key, flow id, generation and
// direction: the writer renders the file name, the worker does no formatting.
struct alignas(16) DumpRecordHeader {
  FlowKey key;
  std::uint64_t flow_id;
  std::uint64_t offset;      // data: stream offset of the first byte
  std::uint32_t generation;
  std::uint32_t length;      // data bytes following the header (0 for kEnd)
  std::uint8_t dir;          // sender of the bytes: kDirLoToHi or kDirHiToLo
  DumpRecordKind kind;
  std::uint8_t gap_before;   // data: bytes before `offset` were skipped by reassembly
  std::uint8_t end_reason;   // kEnd: a StreamEnd
  std::uint8_t initiator;    // 1 when the sender is the connection's initiator
  std::uint8_t pad_[3];
};
static_assert(sizeof(DumpRecordHeader) == 80, "record headers are 5 x 16 bytes");

// Records start on 16-byte boundaries inside a block.
inline constexpr std::size_t kDumpRecordAlign = 16;
constexpr std::size_t dump_align_up(std::size_t n) noexcept {
  return (n + kDumpRecordAlign - 1) & ~(kDumpRecordAlign - 1);
}

struct StreamDumpBlock {
  std::byte* data = nullptr;  // capacity bytes, 16-byte aligned
  std::uint32_t capacity = 0;
  std::uint32_t used = 0;     // bytes of records written so far
};

}  // namespace sf
