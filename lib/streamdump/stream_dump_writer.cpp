#include "streamdump/stream_dump_writer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string_view>
#include <thread>

#include "streamdump/stream_name.hpp"

namespace sf {

namespace {

constexpr std::uint32_t kMinBlockBytes = 4096;
constexpr std::uint32_t kMaxBlockBytes = 64U << 20;
constexpr mode_t kFileMode = 0644;

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

std::size_t StreamDumpWriter::StreamIdHash::operator()(const StreamId& s) const noexcept {
  std::uint64_t h = s.flow_id * 0x9e3779b97f4a7c15ULL;
  h ^= (static_cast<std::uint64_t>(s.generation) << 1 | s.dir) + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
  return static_cast<std::size_t>(h ^ (h >> 29));
}

Result<std::unique_ptr<StreamDumpWriter>> StreamDumpWriter::create(const StreamDumpOptions& options,
                                                                   std::uint32_t n_consumers) {
  const std::string& dir = options.dir;
  if (dir.empty()) return make_error("stream dump: no directory given");
  if (n_consumers == 0) return make_error("stream dump: no workers to take streams from");
  if (options.block_bytes < kMinBlockBytes || options.block_bytes > kMaxBlockBytes || options.block_bytes % 16 != 0) {
    return make_error("stream dump: block size " + std::to_string(options.block_bytes) +
                      " must be a multiple of 16 between " + std::to_string(kMinBlockBytes) + " and " +
                      std::to_string(kMaxBlockBytes));
  }
  if (options.blocks_per_worker < 2) return make_error("stream dump: at least 2 blocks per worker are needed");
  if (options.max_open_files == 0) return make_error("stream dump: max_open_files must be at least 1");
  if (options.index_file.find('/') != std::string::npos) {
    return make_error("stream dump: index file name '" + options.index_file + "' must not contain '/'");
  }

  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const int err = errno;
    return make_error("stream dump directory " + dir + ": " + errno_text(err) +
                      (err == ENOENT ? " (create it first)" : ""));
  }
  // Writable? Only trying tells (read-only mounts, ACLs, root on NFS, ...).
  const std::string probe = ".sf-dump-probe-" + std::to_string(::getpid());
  const int pfd = ::openat(dir_fd, probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (pfd < 0) {
    const int err = errno;
    ::close(dir_fd);
    return make_error("stream dump directory " + dir + " is not writable: " + errno_text(err));
  }
  ::close(pfd);
  ::unlinkat(dir_fd, probe.c_str(), 0);

  std::FILE* index = nullptr;
  if (!options.index_file.empty()) {
    const int ifd = ::openat(dir_fd, options.index_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
    if (ifd >= 0) index = ::fdopen(ifd, "w");
    if (index == nullptr) {
      const int err = errno;
      if (ifd >= 0) ::close(ifd);
      ::close(dir_fd);
      return make_error("stream dump index " + dir + "/" + options.index_file + ": " + errno_text(err));
    }
    std::setvbuf(index, nullptr, _IOFBF, 1 << 16);
  }

  std::unique_ptr<StreamDumpWriter> w(new StreamDumpWriter(options, dir_fd, index));
  w->consumers_.reserve(n_consumers);
  for (std::uint32_t i = 0; i < n_consumers; ++i) {
    w->consumers_.push_back(std::make_unique<StreamDumpConsumer>(options.block_bytes, options.blocks_per_worker,
                                                                 options.on_full, &w->done_));
  }
  return w;
}

StreamDumpWriter::StreamDumpWriter(StreamDumpOptions options, int dir_fd, std::FILE* index)
    : options_(std::move(options)), dir_fd_(dir_fd), index_(index) {}

StreamDumpWriter::~StreamDumpWriter() {
  finish();
  ::close(dir_fd_);
}

void StreamDumpWriter::note_error(const std::string& what) noexcept {
  if (has_error_.load(std::memory_order_relaxed)) return;
  first_error_ = what;
  has_error_.store(true, std::memory_order_release);
  // One line, the first time: the counters tell the rest.
  std::fprintf(stderr, "stream dump: %s (further errors are counted)\n", what.c_str());
}

bool StreamDumpWriter::failed() const noexcept {
  return counters_.bytes_failed.get() != 0 || counters_.write_errors.get() != 0 || counters_.open_errors.get() != 0;
}

StreamDumpReport StreamDumpWriter::report() const {
  StreamDumpReport r;
  for (const auto& c : consumers_) {
    const StreamDumpCounters& k = c->counters();
    r.bytes_queued += k.bytes_queued.get();
    r.dropped_bytes += k.dropped_bytes.get();
    r.dropped_calls += k.dropped_calls.get();
    r.dropped_ends += k.dropped_ends.get();
    r.pool_empty += k.pool_empty.get();
  }
  r.bytes_written = counters_.bytes_written.get();
  r.bytes_failed = counters_.bytes_failed.get();
  const std::uint64_t done = r.bytes_written + r.bytes_failed;
  r.bytes_unwritten = r.bytes_queued > done ? r.bytes_queued - done : 0;
  r.write_errors = counters_.write_errors.get();
  r.open_errors = counters_.open_errors.get();
  r.files_created = counters_.files_created.get();
  r.files_reopened = counters_.files_reopened.get();
  r.fd_evictions = counters_.fd_evictions.get();
  r.streams_ended = counters_.streams_ended.get();
  r.streams_unfinished = counters_.streams_unfinished.get();
  if (has_error_.load(std::memory_order_acquire)) r.first_error = first_error_;
  return r;
}

void StreamDumpWriter::run() noexcept {
  unsigned idle_rounds = 0;
  for (;;) {
    std::uint64_t got = 0;
    bool all_closed = true;
    for (auto& c : consumers_) {
      // Read closed() before draining: a consumer closed before a full drain is done.
      const bool closed = c->closed();
      got += drain_consumer(*c);
      if (!closed) all_closed = false;
    }
    if (got != 0) {
      idle_rounds = 0;
      continue;
    }
    if (all_closed) break;
    if (stop_.load(std::memory_order_acquire)) {
      drain();
      break;
    }
    // Nothing queued: this is a control thread, it may sleep.
    if (++idle_rounds > 16) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  finish();
}

std::uint64_t StreamDumpWriter::drain() noexcept {
  std::uint64_t n = 0;
  for (auto& c : consumers_) n += drain_consumer(*c);
  return n;
}

std::uint64_t StreamDumpWriter::drain_consumer(StreamDumpConsumer& c) noexcept {
  std::uint64_t n = 0;
  StreamDumpBlock* b = nullptr;
  while (c.next_full(b)) {
    write_block(*b);
    c.recycle(b);
    ++n;
  }
  counters_.blocks.add(n);
  return n;
}

void StreamDumpWriter::write_block(const StreamDumpBlock& b) noexcept {
  std::size_t pos = 0;
  while (pos + sizeof(DumpRecordHeader) <= b.used) {
    const auto& h = *reinterpret_cast<const DumpRecordHeader*>(b.data + pos);
    pos += sizeof(DumpRecordHeader);
    if (h.length > b.used - pos) break;  // cannot happen: the consumer wrote it
    if (h.kind == DumpRecordKind::kData) {
      write_data(h, b.data + pos);
    } else {
      end_stream(h);
    }
    pos = dump_align_up(pos + h.length);
  }
}

StreamDumpWriter::Stream& StreamDumpWriter::stream_for(const DumpRecordHeader& h, const StreamId& id) {
  auto [it, inserted] = streams_.try_emplace(id);
  Stream& s = it->second;
  if (!inserted) return s;
  s.key = h.key;
  s.flow_id = h.flow_id;
  s.generation = h.generation;
  s.dir = h.dir;
  s.initiator = h.initiator != 0;
  char name[kStreamNameMax];
  const std::size_t n = format_stream_name(h.key, h.dir, h.generation, name, sizeof name);
  s.name.assign(name, n);
  // The same name earlier in this run (a tuple seen again after its flow
  // ended on a timeout): a suffix keeps the first file intact.
  const std::uint32_t uses = ++name_uses_[std::hash<std::string_view>{}(s.name)];
  if (uses > 1) s.name += "-n" + std::to_string(uses);
  return s;
}

void StreamDumpWriter::close_file(Stream& s) noexcept {
  if (s.fd < 0) return;
  ::close(s.fd);
  s.fd = -1;
  lru_.erase(s.lru);
  --open_files_;
}

bool StreamDumpWriter::ensure_open(Stream& s, const StreamId& id) noexcept {
  if (s.fd >= 0) {
    lru_.splice(lru_.begin(), lru_, s.lru);
    return true;
  }
  auto evict_oldest = [this]() {
    const StreamId victim = lru_.back();
    close_file(streams_.find(victim)->second);
    counters_.fd_evictions.inc();
  };
  if (open_files_ >= options_.max_open_files) evict_oldest();
  // First open truncates (a file of an earlier run); a reopen keeps what we wrote.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (s.created ? 0 : O_TRUNC);
  int fd;
  for (;;) {
    fd = ::openat(dir_fd_, s.name.c_str(), flags, kFileMode);
    if (fd >= 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if ((err == EMFILE || err == ENFILE) && open_files_ > 0) {
      evict_oldest();  // the process limit is below max_open_files: shrink the cache
      continue;
    }
    counters_.open_errors.inc();
    note_error("cannot open " + options_.dir + "/" + s.name + ": " + errno_text(err));
    return false;
  }
  if (s.created) {
    counters_.files_reopened.inc();
  } else {
    counters_.files_created.inc();
    s.created = true;
  }
  s.fd = fd;
  lru_.push_front(id);
  s.lru = lru_.begin();
  ++open_files_;
  return true;
}

void StreamDumpWriter::write_data(const DumpRecordHeader& h, const std::byte* bytes) noexcept {
  const StreamId id{h.flow_id, h.generation, h.dir};
  Stream& s = stream_for(h, id);
  // Where the previous delivery ended: a jump is a reassembly gap when the
  // reassembler says so, otherwise bytes this dump dropped (pool empty).
  if (h.offset > s.end) {
    if (h.gap_before != 0) {
      s.missed_bytes += h.offset - s.end;
    } else {
      s.dump_lost_bytes += h.offset - s.end;
    }
  }
  if (h.gap_before != 0) ++s.gaps;
  s.bytes += h.length;
  if (h.offset + h.length > s.end) s.end = h.offset + h.length;
  if (!ensure_open(s, id)) {
    ++s.write_errors;
    counters_.bytes_failed.add(h.length);
    return;
  }
  const char* p = reinterpret_cast<const char*>(bytes);
  std::size_t left = h.length;
  auto off = static_cast<off_t>(h.offset);
  while (left > 0) {
    const ssize_t n = ::pwrite(s.fd, p, left, off);
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
      off += n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    const int err = n < 0 ? errno : ENOSPC;  // a zero-byte write makes no progress: treat as full
    ++s.write_errors;
    counters_.write_errors.inc();
    note_error("write to " + options_.dir + "/" + s.name + " failed: " + errno_text(err));
    break;
  }
  counters_.bytes_written.add(h.length - left);
  counters_.bytes_failed.add(left);
}

void StreamDumpWriter::end_stream(const DumpRecordHeader& h) noexcept {
  const auto it = streams_.find(StreamId{h.flow_id, h.generation, h.dir});
  if (it == streams_.end()) {
    counters_.ends_without_data.inc();
    return;
  }
  close_file(it->second);
  write_index(it->second, stream_end_name(h.end_reason));
  counters_.streams_ended.inc();
  streams_.erase(it);
}

void StreamDumpWriter::write_index(const Stream& s, std::string_view end) noexcept {
  if (index_ == nullptr) return;
  char src[INET6_ADDRSTRLEN];
  char dst[INET6_ADDRSTRLEN];
  const bool src_is_lo = s.dir == kDirLoToHi;
  format_key_address(s.key, src_is_lo, src, sizeof src);
  format_key_address(s.key, !src_is_lo, dst, sizeof dst);
  const unsigned sport = src_is_lo ? s.key.port_lo : s.key.port_hi;
  const unsigned dport = src_is_lo ? s.key.port_hi : s.key.port_lo;
  // Names and addresses are digits, dots, colons and dashes: no JSON escaping needed.
  const int n = std::fprintf(
      index_,
      "{\"file\":\"%s\",\"flow_id\":%llu,\"generation\":%u,\"src_ip\":\"%s\",\"src_port\":%u,\"dst_ip\":\"%s\","
      "\"dst_port\":%u,\"initiator\":%s,\"bytes\":%llu,\"size\":%llu,\"gaps\":%llu,\"missed_bytes\":%llu,"
      "\"dump_lost_bytes\":%llu,\"write_errors\":%llu,\"end\":\"%.*s\"}\n",
      s.name.c_str(), static_cast<unsigned long long>(s.flow_id), s.generation, src, sport, dst, dport,
      s.initiator ? "true" : "false", static_cast<unsigned long long>(s.bytes),
      static_cast<unsigned long long>(s.end), static_cast<unsigned long long>(s.gaps),
      static_cast<unsigned long long>(s.missed_bytes), static_cast<unsigned long long>(s.dump_lost_bytes),
      static_cast<unsigned long long>(s.write_errors), static_cast<int>(end.size()), end.data());
  if (n < 0) {
    counters_.write_errors.inc();
    note_error("write to index " + options_.dir + "/" + options_.index_file + " failed: " + errno_text(errno));
  }
}

void StreamDumpWriter::finish() noexcept {
  if (finished_) return;
  finished_ = true;
  // Whatever is still queued (a caller that did not run()) goes out first.
  drain();
  // Streams without an end record, in flow order so the index is reproducible.
  std::vector<Stream*> open;
  open.reserve(streams_.size());
  for (auto& [id, s] : streams_) open.push_back(&s);
  std::sort(open.begin(), open.end(), [](const Stream* a, const Stream* b) {
    return a->flow_id != b->flow_id ? a->flow_id < b->flow_id : a->dir < b->dir;
  });
  for (Stream* s : open) {
    close_file(*s);
    write_index(*s, "none");
    counters_.streams_unfinished.inc();
  }
  streams_.clear();
  if (index_ != nullptr) {
    if (std::fclose(index_) != 0) {
      counters_.write_errors.inc();
      note_error("write to index " + options_.dir + "/" + options_.index_file + " failed: " + errno_text(errno));
    }
    index_ = nullptr;
  }
  done_.store(true, std::memory_order_release);
}

}  // namespace sf
