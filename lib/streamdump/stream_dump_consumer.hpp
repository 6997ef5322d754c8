// The worker side of --dump-streams: a StreamConsumer that copies reassembled
// bytes into fixed-size blocks from a pool preallocated for its worker and
// hands the blocks to the StreamDumpWriter (the I/O thread) over a lock-free
// SPSC queue. On the datapath: no syscall, no lock, no allocation.
//
// Per worker, from the worker's lcore only:
//   on_data()/on_end()  called by the reassembler;
//   flush()             once per burst: hands the partly filled block over, so
//                       bytes (and end-of-stream records) reach the disk within
//                       a burst even on a quiet stream;
//   close()             once, when the worker is done: flush + "no more".
//
// When no block is free (the writer is behind): DumpOnFull::kWait spins and
// yields until one comes back (capture files: no byte is lost);
// DumpOnFull::kDrop drops the bytes and counts them in dropped_bytes (live
// traffic: the datapath never stalls on the disk). The queue to the writer
// holds every block of the pool, so it is never full: "no free block" is the
// only back-pressure. Dropped bytes leave a hole in their file (later bytes
// are still written at their offsets) and show as the stream's
// dump_lost_bytes in the writer's index.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/spsc_queue.hpp"
#include "metrics/counter.hpp"
#include "streamdump/stream_dump_block.hpp"
#include "tcp/stream_consumer.hpp"

namespace sf {

enum class DumpOnFull : std::uint8_t { kWait, kDrop };

// Written by the owning worker only; read by anyone (relaxed).
struct alignas(64) StreamDumpCounters {
  Counter bytes_queued;    // copied into blocks for the writer
  Counter dropped_bytes;   // dump_dropped_bytes: no free block (kDrop, or the writer had stopped)
  Counter dropped_calls;   // on_data calls that lost some or all of their bytes
  Counter dropped_ends;    // end-of-stream records lost (the writer closes those files at the end)
  Counter ends_queued;
  Counter blocks_sent;
  Counter pool_empty;      // times no block was free (kWait: waits; kDrop: drop events)
};

class StreamDumpConsumer final : public StreamConsumer {
 public:
  // Preallocates `blocks` blocks of `block_bytes` bytes (a multiple of 16,
  // at least 1024). writer_done: set by the writer when it stops draining, so
  // that kWait never waits for a writer that is gone (it drops and counts).
  StreamDumpConsumer(std::uint32_t block_bytes, std::uint32_t blocks, DumpOnFull policy,
                     const std::atomic<bool>* writer_done);
  ~StreamDumpConsumer() override;
  StreamDumpConsumer(const StreamDumpConsumer&) = delete;
  StreamDumpConsumer& operator=(const StreamDumpConsumer&) = delete;

  // Worker side.
  bool on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
               bool gap_before) noexcept override;
  void on_end(const StreamContext& ctx, StreamEnd reason) noexcept override;
  void flush() noexcept;
  void close() noexcept;

  const StreamDumpCounters& counters() const noexcept { return counters_; }
  DumpOnFull policy() const noexcept { return policy_; }

  // Writer side.
  bool next_full(StreamDumpBlock*& out) noexcept { return full_.pop(out); }
  void recycle(StreamDumpBlock* b) noexcept;
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

 private:
  DumpRecordHeader* begin_record(std::size_t min_payload) noexcept;
  bool acquire() noexcept;
  void hand_off() noexcept;
  SF_COLD void drop_data(std::size_t n) noexcept;

  std::vector<std::byte> memory_;
  std::vector<StreamDumpBlock> blocks_;
  SpscQueue<StreamDumpBlock*> free_;  // writer → worker
  SpscQueue<StreamDumpBlock*> full_;  // worker → writer
  StreamDumpBlock* cur_ = nullptr;    // block being filled
  DumpRecordHeader* last_ = nullptr;  // last data record in cur_ (contiguous bytes extend it)
  const DumpOnFull policy_;
  const std::atomic<bool>* writer_done_;
  std::atomic<bool> closed_{false};
  StreamDumpCounters counters_;
};

}  // namespace sf
