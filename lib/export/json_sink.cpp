#include "export/json_sink.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <rte_log.h>

namespace sf {

Result<std::unique_ptr<JsonSink>> JsonSink::open(const JsonExportConfig& c, std::uint16_t community_id_seed) {
  JsonFileOptions o;
  o.path = c.path;
  o.rotate_bytes = std::uint64_t{c.rotate_mb} << 20;
  o.rotate_seconds = c.rotate_seconds;
  o.gzip = c.gzip;
  auto w = JsonFileWriter::open(o);
  if (!w) return make_error("JSON output " + c.path + ": " + w.error());
  return std::unique_ptr<JsonSink>(new JsonSink(std::move(w.value()), community_id_seed));
}

void JsonSink::settle() noexcept {
  const int err = errno;  // the failed write's, if one failed just now
  // A failed write loses the buffered lines, which are the oldest staged ones.
  const std::uint64_t errors = writer_->write_errors();
  for (; errors_seen_ < errors && !staged_.empty(); ++errors_seen_) {
    ++records_failed_;
    packets_failed_ += staged_.front();
    staged_.pop_front();
  }
  const std::uint64_t written = writer_->lines_written();
  for (; written_seen_ < written && !staged_.empty(); ++written_seen_) {
    ++records_ok_;
    packets_ok_ += staged_.front();
    staged_.pop_front();
  }
  if (records_failed_ != 0 && first_error_.empty()) {
    first_error_ = std::string("write failed: ") + std::strerror(err);
    RTE_LOG(ERR, USER1, "JSON export: %s; such records are counted as failed\n", first_error_.c_str());
  }
}

void JsonSink::write(const FlowEvent& ev, const AppRecord* app, const ServerName& server, std::uint64_t) noexcept {
  const std::uint64_t pkts = ev.packets[0] + ev.packets[1];
  char line[kJsonRecordMax];
  const std::size_t n = format_json_record(ev, app, server, seed_, line, sizeof line);
  if (n == 0) {  // cannot happen with kJsonRecordMax; counted rather than assumed
    ++records_failed_;
    packets_failed_ += pkts;
    return;
  }
  staged_.push_back(pkts);
  writer_->write(line, n, static_cast<std::uint64_t>(std::time(nullptr)));
  settle();
}

void JsonSink::tick(std::uint64_t) noexcept {
  writer_->tick(static_cast<std::uint64_t>(std::time(nullptr)));
  writer_->flush();
  settle();
}

void JsonSink::finish(std::uint64_t) noexcept {
  writer_->close();
  settle();
}

SinkReport JsonSink::report() const {
  SinkReport r;
  r.records_delivered = records_ok_;
  r.packets_delivered = packets_ok_;
  if (records_failed_ != 0) r.lost.push_back({"write_error", records_failed_, packets_failed_});
  if (!staged_.empty()) {
    std::uint64_t p = 0;
    for (std::uint64_t x : staged_) p += x;
    r.lost.push_back({"not_written", staged_.size(), p});
  }
  r.first_error = first_error_;
  return r;
}

}  // namespace sf
