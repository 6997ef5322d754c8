// JSON lines into a file, stdout, or a directory of rotated files, on an
// exporter control thread.
//
// With rotation (rotate_bytes and/or rotate_seconds), lines go to a hidden
// DIR/.NAME.part; a complete file (size or age reached, or close()) is
// renamed atomically to DIR/NAME-YYYYmmddTHHMMSSZ-SEQ.json (.json.gz with
// gzip), so a consumer watching DIR only ever sees whole files of whole
// lines. NAME is the path's last component without ".json"/".json.gz"; the
// time is that of the file's first line (UTC), SEQ counts files from 1 (six
// digits); a name already taken is never overwritten (SEQ moves on). A
// .NAME.part left by an earlier run that died is published first as
// NAME-<its mtime>-recovered.json(.gz) (its last line may be cut).
//
// Lines are buffered and written whole; a line never spans files. A write
// that fails loses the buffered lines: they are counted in write_errors()
// (in lines), and a plain file is cut back to its last whole line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace sf {

struct JsonFileOptions {
  std::string path;  // "-" = stdout
  std::uint64_t rotate_bytes = 0;   // a file is complete when the next line would pass this (uncompressed bytes)
  std::uint32_t rotate_seconds = 0; // ... or when a line comes this long after the file's first line
  bool gzip = false;
};

class JsonFileWriter {
 public:
  // Checks the directory is writable at start (creates the file, or the .part file).
  static Result<std::unique_ptr<JsonFileWriter>> open(const JsonFileOptions& o);
  ~JsonFileWriter();  // close()
  JsonFileWriter(const JsonFileWriter&) = delete;
  JsonFileWriter& operator=(const JsonFileWriter&) = delete;

  // One whole record line (a missing final '\n' is added). now_s: epoch
  // seconds (capture time in capture mode), for age rotation and file names.
  // false = write error (counted).
  bool write(const char* line, std::size_t n, std::uint64_t now_s) noexcept;
  // Age rotation while no lines come (call once in a while): publishes the
  // current file when it is rotate_seconds old.
  bool tick(std::uint64_t now_s) noexcept;
  bool flush() noexcept;
  bool close() noexcept;  // finishes and publishes the current file
  std::uint64_t files_completed() const noexcept { return files_completed_; }
  std::uint64_t write_errors() const noexcept { return write_errors_; }
  std::uint64_t lines_written() const noexcept { return lines_written_; }  // handed to the OS/zlib

  // Exposed for tests: the name a file started at start_s gets.
  static std::string rotated_name(const std::string& name, std::uint64_t start_s, std::uint64_t seq, bool gzip);

 private:
  struct Impl;
  explicit JsonFileWriter(std::unique_ptr<Impl> impl);
  bool open_part() noexcept;
  bool publish() noexcept;
  bool flush_buffer() noexcept;
  bool rotating() const noexcept;

  std::unique_ptr<Impl> impl_;
  std::uint64_t files_completed_ = 0;
  std::uint64_t write_errors_ = 0;
  std::uint64_t lines_written_ = 0;
};

}  // namespace sf
