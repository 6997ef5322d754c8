#include "sink/json_file_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace sf {

namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;

std::string errno_text(int e) { return std::strerror(e); }

std::string utc_stamp(std::uint64_t s) {
  const std::time_t t = static_cast<std::time_t>(s);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char b[80];  // room for any int GCC can imagine (-Wformat-truncation)
  std::snprintf(b, sizeof b, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return b;
}

// rename(2) that never replaces an existing file: a consumer may already
// have picked that name up.
int rename_noreplace(const std::string& from, const std::string& to) noexcept {
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
}

}  // namespace

struct JsonFileWriter::Impl {
  JsonFileOptions o;
  std::string dir, name, part_path;  // rotation only
  int fd = -1;                       // plain output
  bool own_fd = true;
  gzFile gz = nullptr;               // gzip output (owns its fd)
  std::vector<char> buf;
  std::uint64_t buf_lines = 0;
  std::uint64_t file_bytes = 0, file_lines = 0, file_lost_lines = 0;
  std::uint64_t start_s = 0;
  off_t good_size = 0;  // plain: bytes known written whole
  std::uint64_t seq = 0;
  bool closed = false;
};

JsonFileWriter::JsonFileWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->buf.reserve(kBufferBytes);
}

JsonFileWriter::~JsonFileWriter() { close(); }

bool JsonFileWriter::rotating() const noexcept { return impl_->o.rotate_bytes > 0 || impl_->o.rotate_seconds > 0; }

std::string JsonFileWriter::rotated_name(const std::string& name, std::uint64_t start_s, std::uint64_t seq,
                                         bool gzip) {
  char s[32];
  std::snprintf(s, sizeof s, "-%06llu", static_cast<unsigned long long>(seq));
  std::string out = name;
  out += '-';
  out += utc_stamp(start_s);
  out += s;
  out += gzip ? ".json.gz" : ".json";
  return out;
}

Result<std::unique_ptr<JsonFileWriter>> JsonFileWriter::open(const JsonFileOptions& o) {
  auto impl = std::make_unique<Impl>();
  impl->o = o;
  const bool rotate = o.rotate_bytes > 0 || o.rotate_seconds > 0;
  if (o.path.empty()) return make_error("JSON output: empty path");
  if (o.path == "-") {
    if (rotate) return make_error("JSON output: rotation needs a file path, not '-' (stdout)");
    impl->own_fd = false;
    if (o.gzip) {
      const int fd = ::dup(STDOUT_FILENO);
      impl->gz = fd >= 0 ? ::gzdopen(fd, "wb") : nullptr;
      if (impl->gz == nullptr) return make_error("JSON output: cannot gzip to stdout");
    } else {
      impl->fd = STDOUT_FILENO;
    }
    return std::unique_ptr<JsonFileWriter>(new JsonFileWriter(std::move(impl)));
  }
  if (!rotate) {
    const int fd = ::open(o.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return make_error("JSON output: cannot create '" + o.path + "': " + errno_text(errno));
    if (o.gzip) {
      impl->gz = ::gzdopen(fd, "wb");
      if (impl->gz == nullptr) {
        ::close(fd);
        return make_error("JSON output: cannot start gzip on '" + o.path + "'");
      }
    } else {
      impl->fd = fd;
    }
    return std::unique_ptr<JsonFileWriter>(new JsonFileWriter(std::move(impl)));
  }

  const auto slash = o.path.rfind('/');
  impl->dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : o.path.substr(0, slash));
  impl->name = slash == std::string::npos ? o.path : o.path.substr(slash + 1);
  for (const char* ext : {".json.gz", ".json"}) {
    if (impl->name.ends_with(ext)) {
      impl->name.resize(impl->name.size() - std::strlen(ext));
      break;
    }
  }
  if (impl->name.empty())
    return make_error("JSON output '" + o.path + "': rotation needs DIR/NAME, the name part is empty");
  struct stat st{};
  if (::stat(impl->dir.c_str(), &st) != 0)
    return make_error("JSON output '" + o.path + "': directory '" + impl->dir + "': " + errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    return make_error("JSON output '" + o.path + "': '" + impl->dir + "' is not a directory");
  if (::access(impl->dir.c_str(), W_OK) != 0)
    return make_error("JSON output '" + o.path + "': directory '" + impl->dir + "' is not writable: " +
                      errno_text(errno));
  impl->part_path = impl->dir + "/." + impl->name + ".part";

  // A part file an earlier run left (it died): publish what it holds rather
  // than truncate it.
  struct stat pst{};
  if (::stat(impl->part_path.c_str(), &pst) == 0) {
    if (pst.st_size == 0) {
      ::unlink(impl->part_path.c_str());
    } else {
      const std::string base = impl->dir + "/" + impl->name + "-" +
                               utc_stamp(static_cast<std::uint64_t>(pst.st_mtime)) + "-recovered";
      const char* ext = o.gzip ? ".json.gz" : ".json";
      bool done = false;
      for (int k = 1; k < 1000 && !done; ++k) {
        const std::string to = k == 1 ? base + ext : base + "-" + std::to_string(k) + ext;
        if (rename_noreplace(impl->part_path, to) == 0) done = true;
        else if (errno != EEXIST) break;
      }
      if (!done)
        return make_error("JSON output '" + o.path + "': cannot move aside the earlier run's '" +
                          impl->part_path + "': " + errno_text(errno));
    }
  }
  auto w = std::unique_ptr<JsonFileWriter>(new JsonFileWriter(std::move(impl)));
  if (!w->open_part())
    return make_error("JSON output '" + o.path + "': cannot create '" + w->impl_->part_path + "': " +
                      errno_text(errno));
  return w;
}

bool JsonFileWriter::open_part() noexcept {
  Impl& m = *impl_;
  m.file_bytes = m.file_lines = m.file_lost_lines = 0;
  m.good_size = 0;
  const int fd = ::open(m.part_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  if (m.o.gzip) {
    m.gz = ::gzdopen(fd, "wb");
    if (m.gz == nullptr) {
      ::close(fd);
      errno = ENOMEM;
      return false;
    }
  } else {
    m.fd = fd;
  }
  return true;
}

bool JsonFileWriter::flush_buffer() noexcept {
  Impl& m = *impl_;
  if (m.buf.empty()) return true;
  bool ok = true;
  if (m.gz != nullptr) {
    ok = ::gzwrite(m.gz, m.buf.data(), static_cast<unsigned>(m.buf.size())) == static_cast<int>(m.buf.size());
  } else if (m.fd >= 0) {
    std::size_t done = 0;
    while (done < m.buf.size()) {
      const ssize_t r = ::write(m.fd, m.buf.data() + done, m.buf.size() - done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ok = false;
        break;
      }
      done += static_cast<std::size_t>(r);
    }
    if (ok) {
      m.good_size += static_cast<off_t>(done);
    } else if (done > 0 && ::ftruncate(m.fd, m.good_size) == 0) {
      // Cut the partial line off (regular files; a pipe keeps it, nothing to do).
      ::lseek(m.fd, m.good_size, SEEK_SET);
    }
  } else {
    ok = false;  // no file: its creation failed
  }
  if (ok) {
    lines_written_ += m.buf_lines;
  } else {
    write_errors_ += m.buf_lines;
    m.file_lost_lines += m.buf_lines;
  }
  m.buf.clear();
  m.buf_lines = 0;
  return ok;
}

bool JsonFileWriter::publish() noexcept {
  Impl& m = *impl_;
  bool ok = flush_buffer();
  if (m.gz != nullptr) {
    if (::gzclose(m.gz) != Z_OK) ok = false;
    m.gz = nullptr;
  } else if (m.fd >= 0) {
    if (::close(m.fd) != 0) ok = false;
    m.fd = -1;
  } else {
    return false;  // the part file could not be created: nothing to publish
  }
  if (!ok) {
    // Closing lost what zlib or the kernel still held: count the file's
    // lines not counted yet.
    write_errors_ += m.file_lines - m.file_lost_lines;
    m.file_lost_lines = m.file_lines;
  }
  if (m.file_lines == 0) {
    ::unlink(m.part_path.c_str());
    return ok;
  }
  for (int tries = 0; tries < 1000; ++tries) {
    const std::string to = m.dir + "/" + rotated_name(m.name, m.start_s, ++m.seq, m.o.gzip);
    if (rename_noreplace(m.part_path, to) == 0) {
      ++files_completed_;
      return ok;
    }
    if (errno != EEXIST) break;
  }
  write_errors_ += m.file_lines - m.file_lost_lines;
  return false;
}

bool JsonFileWriter::write(const char* line, std::size_t n, std::uint64_t now_s) noexcept {
  Impl& m = *impl_;
  if (m.closed) {
    ++write_errors_;
    return false;
  }
  const bool add_nl = n == 0 || line[n - 1] != '\n';
  const std::size_t len = n + (add_nl ? 1 : 0);
  bool ok = true;
  if (rotating()) {
    const bool full = m.o.rotate_bytes > 0 && m.file_bytes + len > m.o.rotate_bytes;
    const bool old = m.o.rotate_seconds > 0 && now_s >= m.start_s + m.o.rotate_seconds;
    if (m.file_lines > 0 && (full || old)) {
      ok = publish();
      if (!open_part()) ok = false;
    } else if (m.fd < 0 && m.gz == nullptr && !open_part()) {
      ok = false;  // retry a part file whose creation failed
    }
    if (m.file_lines == 0) m.start_s = now_s;
  }
  if (m.buf.size() + len > kBufferBytes && !flush_buffer()) ok = false;
  try {
    m.buf.insert(m.buf.end(), line, line + n);  // a line over kBufferBytes grows it (control thread)
    if (add_nl) m.buf.push_back('\n');
  } catch (...) {
    ++write_errors_;
    return false;
  }
  ++m.buf_lines;
  ++m.file_lines;
  m.file_bytes += len;
  if (m.buf.size() >= kBufferBytes && !flush_buffer()) ok = false;
  return ok;
}

bool JsonFileWriter::tick(std::uint64_t now_s) noexcept {
  Impl& m = *impl_;
  if (m.closed || m.o.rotate_seconds == 0 || m.file_lines == 0 || now_s < m.start_s + m.o.rotate_seconds)
    return true;
  bool ok = publish();
  if (!open_part()) ok = false;
  return ok;
}

bool JsonFileWriter::flush() noexcept {
  Impl& m = *impl_;
  if (m.closed) return true;
  bool ok = flush_buffer();
  if (m.gz != nullptr && ::gzflush(m.gz, Z_SYNC_FLUSH) != Z_OK) ok = false;
  return ok;
}

bool JsonFileWriter::close() noexcept {
  Impl& m = *impl_;
  if (m.closed) return true;
  m.closed = true;
  if (rotating()) return publish();
  bool ok = flush_buffer();
  if (m.gz != nullptr) {
    if (::gzclose(m.gz) != Z_OK) ok = false;
    m.gz = nullptr;
  } else if (m.fd >= 0 && m.own_fd) {
    if (::close(m.fd) != 0) ok = false;
    m.fd = -1;
  }
  if (!ok) {
    write_errors_ += m.file_lines - m.file_lost_lines;
    m.file_lost_lines = m.file_lines;
  }
  return ok;
}

}  // namespace sf
