// JSON lines: one record per line into a file, stdout, or rotated files
// (sink/json_file_writer.hpp: published by atomic rename, optional gzip).
// A record counts as delivered once its line was handed to the OS (or zlib);
// a failed write loses exactly the lines still buffered, counted with their
// packets.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "config/config.hpp"
#include "export/record_sink.hpp"
#include "sink/json_file_writer.hpp"

namespace sf {

class JsonSink final : public RecordSink {
 public:
  // Opens the output now, so a bad path is a start-up error rather than a lost run.
  static Result<std::unique_ptr<JsonSink>> open(const JsonExportConfig& c, std::uint16_t community_id_seed);

  void write(const FlowEvent& ev, const AppRecord* app, const ServerName& server, std::uint64_t now_ns) noexcept override;
  void tick(std::uint64_t now_ns) noexcept override;
  void finish(std::uint64_t deadline_ns) noexcept override;
  SinkReport report() const override;
  bool failed() const noexcept override { return records_failed_ != 0; }

 private:
  JsonSink(std::unique_ptr<JsonFileWriter> w, std::uint16_t seed) : writer_(std::move(w)), seed_(seed) {}
  // Moves lines the writer wrote or lost since the last look out of staged_, oldest first.
  void settle() noexcept;

  std::unique_ptr<JsonFileWriter> writer_;
  std::uint16_t seed_;
  std::deque<std::uint64_t> staged_;  // packets of each line given to the writer, not yet written or lost
  std::uint64_t written_seen_ = 0, errors_seen_ = 0;
  std::uint64_t records_ok_ = 0, packets_ok_ = 0, records_failed_ = 0, packets_failed_ = 0;
  std::string first_error_;
};

}  // namespace sf
