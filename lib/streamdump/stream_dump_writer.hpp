// The I/O side of --dump-streams: one thread (a control thread, never a
// datapath lcore) drains every worker's StreamDumpConsumer and writes each
// direction of each TCP connection to its own file in the dump directory
// (names: streamdump/stream_name.hpp).
//
// File contents: byte k of the file is stream offset k. Bytes are written with
// pwrite at their offset, so a range the reassembler skipped (gap_before) or
// that the dump dropped is a hole: it reads as zeros and the file still has
// the stream's length up to its last delivered byte. This is what tcpflow
// does (it seeks over missing data and counts nothing for it). A file is
// created at the stream's first byte (streams without data get no file) and
// truncated then, so a rerun into the same directory does not keep stale
// tails; files are closed at end of stream. At most max_open_files are open at
// once: the least recently written is closed and reopened when needed.
//
// Index: one JSON line per stream in DIR/streams.jsonl (index_file), written
// when the stream ends: file, flow_id, generation, endpoints, bytes, size,
// gaps and missed_bytes (reassembly), dump_lost_bytes (dropped by the dump
// before later bytes of the stream: a lost tail shows only in the counters),
// write_errors, end (fin, rst, timeout, evicted, eof, shutdown; "none" when
// the stream was still open at the end of the run or its end was dropped).
//
// Engine wiring (start-up, run, report):
//   auto w = StreamDumpWriter::create(options, n_workers);  // before packets flow;
//                                                           // an error is a start-up error
//   worker i gives &w->consumer(i) to its reassembler, calls consumer(i).flush()
//     once per burst and consumer(i).close() when it exits;
//   a control thread (rte_ctrl_thread_create, like the JSON exporter) runs
//     w->run(), which returns once every consumer is closed and drained, every
//     file closed and the index written; start it before the workers (kWait
//     waits for it);
//   join it, then put w->report() in the run's report; w->failed() says that
//     some bytes did not reach the disk (an output error).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "metrics/counter.hpp"
#include "streamdump/stream_dump_consumer.hpp"

namespace sf {

struct StreamDumpOptions {
  std::string dir;                            // must exist and be writable
  DumpOnFull on_full = DumpOnFull::kWait;     // capture files: kWait; live: kDrop
  std::uint32_t block_bytes = 64 * 1024;      // multiple of 16, 4 KiB .. 64 MiB
  std::uint32_t blocks_per_worker = 64;       // pool per worker: blocks_per_worker x block_bytes
  std::uint32_t max_open_files = 256;         // fd cache (LRU)
  std::string index_file = "streams.jsonl";   // inside dir; empty: no index
};

// Written by the writer thread only.
struct alignas(64) StreamDumpWriterCounters {
  Counter bytes_written;
  Counter bytes_failed;        // bytes that reached the writer but not the disk (open or write error)
  Counter write_errors;        // failed pwrite calls (ENOSPC, EIO, EFBIG, ...) and index write errors
  Counter open_errors;         // files that could not be created or reopened
  Counter files_created;
  Counter files_reopened;      // after the fd cache had closed them
  Counter fd_evictions;        // files closed to stay within max_open_files
  Counter streams_ended;       // end-of-stream records for streams with a file
  Counter streams_unfinished;  // streams still open when the writer finished
  Counter ends_without_data;   // end records of streams that never had a byte
  Counter blocks;
};

// The whole dump: every worker's consumer plus the writer.
struct StreamDumpReport {
  std::uint64_t bytes_queued = 0;
  std::uint64_t dropped_bytes = 0;      // dump_dropped_bytes
  std::uint64_t dropped_calls = 0;
  std::uint64_t dropped_ends = 0;
  std::uint64_t pool_empty = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t bytes_failed = 0;
  std::uint64_t bytes_unwritten = 0;    // queued - written - failed: 0 after run() returned normally
  std::uint64_t write_errors = 0;
  std::uint64_t open_errors = 0;
  std::uint64_t files_created = 0;
  std::uint64_t files_reopened = 0;
  std::uint64_t fd_evictions = 0;
  std::uint64_t streams_ended = 0;
  std::uint64_t streams_unfinished = 0;
  std::string first_error;              // empty when nothing failed
};

class StreamDumpWriter {
 public:
  // Checks that options.dir exists, is a directory and is writable (by
  // creating and removing a probe file), opens the index, and preallocates
  // every consumer's pool. All errors happen here, before packets flow.
  static Result<std::unique_ptr<StreamDumpWriter>> create(const StreamDumpOptions& options,
                                                          std::uint32_t n_consumers);
  ~StreamDumpWriter();  // finish() if run() did not
  StreamDumpWriter(const StreamDumpWriter&) = delete;
  StreamDumpWriter& operator=(const StreamDumpWriter&) = delete;

  std::uint32_t consumers() const noexcept { return static_cast<std::uint32_t>(consumers_.size()); }
  StreamDumpConsumer& consumer(std::uint32_t i) noexcept { return *consumers_[i]; }

  // The I/O thread's body: drains until every consumer is closed and empty
  // (or stop() was called and what was queued is written), then finish().
  void run() noexcept;
  // Any thread: make run() return after writing what is queued.
  void stop() noexcept { stop_.store(true, std::memory_order_release); }

  // Writes every block queued now; returns the blocks written. For callers
  // that drive the writer themselves (tests, single-threaded tools).
  std::uint64_t drain() noexcept;
  // Closes every file (streams still open get end "none" in the index),
  // flushes the index, and tells consumers that nobody drains them any more.
  // Idempotent.
  void finish() noexcept;

  const StreamDumpWriterCounters& counters() const noexcept { return counters_; }
  // Consumers' and writer's counters together; first_error once run() returned.
  StreamDumpReport report() const;
  // Some bytes did not reach their file (or the index could not be written).
  bool failed() const noexcept;
  const std::string& dir() const noexcept { return options_.dir; }

 private:
  struct StreamId {
    std::uint64_t flow_id;
    std::uint32_t generation;
    std::uint8_t dir;
    bool operator==(const StreamId&) const = default;
  };
  struct StreamIdHash {
    std::size_t operator()(const StreamId& s) const noexcept;
  };
  struct Stream {
    std::string name;
    FlowKey key{};
    std::uint64_t flow_id = 0;
    std::uint32_t generation = 0;
    std::uint8_t dir = 0;
    bool initiator = false;
    bool created = false;     // the file exists (truncated at creation)
    int fd = -1;
    std::list<StreamId>::iterator lru;  // valid while fd >= 0
    std::uint64_t bytes = 0;            // bytes delivered to the writer
    std::uint64_t end = 0;              // highest offset + 1 delivered
    std::uint64_t gaps = 0;
    std::uint64_t missed_bytes = 0;
    std::uint64_t dump_lost_bytes = 0;
    std::uint64_t write_errors = 0;
  };

  StreamDumpWriter(StreamDumpOptions options, int dir_fd, std::FILE* index);
  std::uint64_t drain_consumer(StreamDumpConsumer& c) noexcept;
  void write_block(const StreamDumpBlock& b) noexcept;
  void write_data(const DumpRecordHeader& h, const std::byte* bytes) noexcept;
  void end_stream(const DumpRecordHeader& h) noexcept;
  Stream& stream_for(const DumpRecordHeader& h, const StreamId& id);
  bool ensure_open(Stream& s, const StreamId& id) noexcept;
  void close_file(Stream& s) noexcept;
  void write_index(const Stream& s, std::string_view end) noexcept;
  void note_error(const std::string& what) noexcept;

  StreamDumpOptions options_;
  int dir_fd_;
  std::FILE* index_;
  std::vector<std::unique_ptr<StreamDumpConsumer>> consumers_;
  std::unordered_map<StreamId, Stream, StreamIdHash> streams_;
  std::list<StreamId> lru_;  // open files, most recently written first
  std::uint32_t open_files_ = 0;
  // Hash of a base name → streams that used it this run (about 40 bytes per
  // stream ever dumped: the price of never overwriting an earlier file).
  std::unordered_map<std::uint64_t, std::uint32_t> name_uses_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};  // finish() ran: consumers stop waiting
  bool finished_ = false;
  std::atomic<bool> has_error_{false};
  std::string first_error_;
  StreamDumpWriterCounters counters_;
};

}  // namespace sf
