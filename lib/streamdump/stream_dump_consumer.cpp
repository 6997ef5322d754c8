#include "streamdump/stream_dump_consumer.hpp"

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/compiler.hpp"

namespace sf {

namespace {

// A data record opens only where at least this much payload fits (or the whole
// delivery, when smaller): no block ends in a string of tiny fragments.
constexpr std::size_t kMinChunk = 512;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

bool same_stream(const DumpRecordHeader& h, const StreamContext& ctx) noexcept {
  return h.flow_id == ctx.flow_id && h.generation == ctx.generation && h.dir == ctx.dir;
}

}  // namespace

StreamDumpConsumer::StreamDumpConsumer(std::uint32_t block_bytes, std::uint32_t blocks, DumpOnFull policy,
                                       const std::atomic<bool>* writer_done)
    : memory_(static_cast<std::size_t>(block_bytes) * blocks),
      blocks_(blocks),
      free_(blocks),
      full_(blocks),
      policy_(policy),
      writer_done_(writer_done) {
  // The queue to the writer holds the whole pool, so hand_off() never fails.
  for (std::uint32_t i = 0; i < blocks; ++i) {
    blocks_[i].data = memory_.data() + static_cast<std::size_t>(i) * block_bytes;
    blocks_[i].capacity = block_bytes;
    blocks_[i].used = 0;
    free_.push(&blocks_[i]);
  }
}

StreamDumpConsumer::~StreamDumpConsumer() = default;

bool StreamDumpConsumer::acquire() noexcept {
  StreamDumpBlock* b = nullptr;
  if (SF_LIKELY(free_.pop(b))) {
    b->used = 0;
    cur_ = b;
    return true;
  }
  counters_.pool_empty.inc();
  if (policy_ == DumpOnFull::kDrop) return false;
  // kWait: the writer gives blocks back as it writes them. It may share this
  // CPU: yield now and then rather than spin.
  unsigned spins = 0;
  while (!free_.pop(b)) {
    if (writer_done_ != nullptr && writer_done_->load(std::memory_order_acquire)) {
      if (free_.pop(b)) break;
      return false;  // nobody will give a block back: drop and count
    }
    if (++spins % 64 == 0) {
      sched_yield();
    } else {
      cpu_relax();
    }
  }
  b->used = 0;
  cur_ = b;
  return true;
}

void StreamDumpConsumer::hand_off() noexcept {
  if (cur_ == nullptr) return;
  if (cur_->used == 0) return;  // keep an empty block for the next record
  // Cannot fail: the queue holds as many entries as there are blocks.
  full_.push(cur_);
  counters_.blocks_sent.inc();
  cur_ = nullptr;
  last_ = nullptr;
}

void StreamDumpConsumer::recycle(StreamDumpBlock* b) noexcept {
  b->used = 0;
  free_.push(b);
}

DumpRecordHeader* StreamDumpConsumer::begin_record(std::size_t min_payload) noexcept {
  const std::size_t need = sizeof(DumpRecordHeader) + min_payload;
  if (cur_ != nullptr) {
    const std::size_t at = dump_align_up(cur_->used);
    if (at + need <= cur_->capacity) {
      cur_->used = static_cast<std::uint32_t>(at);
      return reinterpret_cast<DumpRecordHeader*>(cur_->data + at);
    }
    hand_off();
    if (cur_ != nullptr) {
      // An empty block too small for the record cannot happen (blocks hold a
      // header and kMinChunk); keep the invariant anyway.
      return nullptr;
    }
  }
  if (!acquire()) return nullptr;
  return reinterpret_cast<DumpRecordHeader*>(cur_->data);
}

void StreamDumpConsumer::drop_data(std::size_t n) noexcept {
  counters_.dropped_bytes.add(n);
  counters_.dropped_calls.inc();
}

bool StreamDumpConsumer::on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
                                 bool gap_before) noexcept {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  if (n == 0) return true;
  // Contiguous bytes of the stream that wrote the last record: extend it.
  if (last_ != nullptr && !gap_before && same_stream(*last_, ctx) && last_->offset + last_->length == offset) {
    const std::size_t room = std::min<std::size_t>(cur_->capacity - cur_->used,
                                                   std::numeric_limits<std::uint32_t>::max() - last_->length);
    const std::size_t take = std::min(n, room);
    std::memcpy(cur_->data + cur_->used, p, take);
    cur_->used += static_cast<std::uint32_t>(take);
    last_->length += static_cast<std::uint32_t>(take);
    counters_.bytes_queued.add(take);
    p += take;
    n -= take;
    offset += take;
    if (n == 0) return true;
  }
  while (n > 0) {
    DumpRecordHeader* h = begin_record(std::min(n, kMinChunk));
    if (SF_UNLIKELY(h == nullptr)) {
      drop_data(n);
      return true;  // counted; later bytes may fit again
    }
    const std::size_t room = cur_->capacity - cur_->used - sizeof(DumpRecordHeader);
    const std::size_t take = std::min({n, room, static_cast<std::size_t>(std::numeric_limits<std::uint32_t>::max())});
    h->key = *ctx.key;
    h->flow_id = ctx.flow_id;
    h->offset = offset;
    h->generation = ctx.generation;
    h->length = static_cast<std::uint32_t>(take);
    h->dir = ctx.dir;
    h->kind = DumpRecordKind::kData;
    h->gap_before = gap_before ? 1 : 0;
    h->end_reason = 0;
    h->initiator = ctx.dir == ctx.initiator_dir ? 1 : 0;
    std::memset(h->pad_, 0, sizeof h->pad_);
    std::memcpy(cur_->data + cur_->used + sizeof(DumpRecordHeader), p, take);
    cur_->used += static_cast<std::uint32_t>(sizeof(DumpRecordHeader) + take);
    last_ = h;
    counters_.bytes_queued.add(take);
    p += take;
    n -= take;
    offset += take;
    gap_before = false;  // the rest continues this record's bytes
  }
  return true;  // the dump wants every byte
}

void StreamDumpConsumer::on_end(const StreamContext& ctx, StreamEnd reason) noexcept {
  DumpRecordHeader* h = begin_record(0);
  if (SF_UNLIKELY(h == nullptr)) {
    counters_.dropped_ends.inc();
    return;
  }
  h->key = *ctx.key;
  h->flow_id = ctx.flow_id;
  h->offset = 0;
  h->generation = ctx.generation;
  h->length = 0;
  h->dir = ctx.dir;
  h->kind = DumpRecordKind::kEnd;
  h->gap_before = 0;
  h->end_reason = static_cast<std::uint8_t>(reason);
  h->initiator = ctx.dir == ctx.initiator_dir ? 1 : 0;
  std::memset(h->pad_, 0, sizeof h->pad_);
  cur_->used += static_cast<std::uint32_t>(sizeof(DumpRecordHeader));
  last_ = nullptr;
  counters_.ends_queued.inc();
}

void StreamDumpConsumer::flush() noexcept { hand_off(); }

void StreamDumpConsumer::close() noexcept {
  hand_off();
  closed_.store(true, std::memory_order_release);
}

}  // namespace sf
