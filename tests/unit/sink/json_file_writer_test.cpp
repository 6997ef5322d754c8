// JsonFileWriter into fresh directories under $TMPDIR. Expected names use
// 1700000000 s = 2023-11-14T22:13:20Z (UTC).
#include <dirent.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sink/json_file_writer.hpp"

namespace sf {
namespace {

constexpr std::uint64_t kT0 = 1700000000;  // 2023-11-14T22:13:20Z

class TempDir {
 public:
  TempDir() {
    const char* d = std::getenv("TMPDIR");
    std::string t = std::string(d != nullptr ? d : "/tmp") + "/sf-json-XXXXXX";
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    (void)!std::system(cmd.c_str());
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& n) const { return path_ + "/" + n; }

 private:
  std::string path_;
};

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string gunzip_file(const std::string& path) {
  gzFile g = ::gzopen(path.c_str(), "rb");
  std::string out;
  if (g == nullptr) return out;
  char b[8192];
  int n;
  while ((n = ::gzread(g, b, sizeof b)) > 0) out.append(b, static_cast<std::size_t>(n));
  ::gzclose(g);
  return out;
}

// A line of exactly `len` bytes including its '\n': {"n":I,"p":"xxx"}
std::string line_of(int i, std::size_t len) {
  std::string s = "{\"n\":" + std::to_string(i) + ",\"p\":\"";
  const std::size_t tail = 3;  // "}\n after the padding
  s.append(len - s.size() - tail, 'x');
  s += "\"}\n";
  return s;
}

std::unique_ptr<JsonFileWriter> open_ok(const JsonFileOptions& o) {
  auto r = JsonFileWriter::open(o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? std::move(r.value()) : nullptr;
}

std::string open_error(const JsonFileOptions& o) {
  auto r = JsonFileWriter::open(o);
  EXPECT_FALSE(r.ok()) << o.path;
  return r.ok() ? "" : r.error();
}

TEST(JsonFileWriter, RotatedName) {
  EXPECT_EQ(JsonFileWriter::rotated_name("flows", kT0, 1, false), "flows-20231114T221320Z-000001.json");
  EXPECT_EQ(JsonFileWriter::rotated_name("f", 0, 123456, true), "f-19700101T000000Z-123456.json.gz");
  EXPECT_EQ(JsonFileWriter::rotated_name("f", 951782400, 7, false), "f-20000229T000000Z-000007.json");  // leap day
}

TEST(JsonFileWriter, SizeRotationMakesFullFilesOfWholeLines) {
  TempDir dir;
  JsonFileOptions o;
  o.path = dir / "flows.json";
  o.rotate_bytes = 1000;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  std::string all;
  for (int i = 0; i < 95; ++i) {
    const std::string l = line_of(i, 100);
    all += l;
    ASSERT_TRUE(w->write(l.data(), l.size(), kT0));
  }
  // 9 files complete while running; the 10th is still hidden.
  EXPECT_EQ(w->files_completed(), 9u);
  auto names = list_dir(dir.path());
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], ".flows.part");
  ASSERT_TRUE(w->close());
  EXPECT_EQ(w->files_completed(), 10u);
  EXPECT_EQ(w->write_errors(), 0u);
  names = list_dir(dir.path());
  ASSERT_EQ(names.size(), 10u);
  std::string joined;
  for (int k = 0; k < 10; ++k) {
    char want[64];
    std::snprintf(want, sizeof want, "flows-20231114T221320Z-%06d.json", k + 1);
    EXPECT_EQ(names[static_cast<std::size_t>(k)], want);
    const std::string body = read_file(dir / names[static_cast<std::size_t>(k)]);
    EXPECT_EQ(body.size(), k < 9 ? 1000u : 500u) << want;
    EXPECT_EQ(body.back(), '\n');
    joined += body;
  }
  EXPECT_EQ(joined, all);
}

TEST(JsonFileWriter, VariedLinesNeverSpanFilesAndFilesAreFull) {
  TempDir dir;
  JsonFileOptions o;
  o.path = dir / "v";
  o.rotate_bytes = 1000;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  std::vector<std::string> lines;
  unsigned x = 12345;
  for (int i = 0; i < 400; ++i) {
    x = x * 1103515245u + 12345u;
    lines.push_back(line_of(i, 20 + (x >> 16) % 281));
  }
  lines.push_back(line_of(400, 2500));  // longer than a file: alone in its own
  lines.push_back(line_of(401, 50));
  for (const auto& l : lines) ASSERT_TRUE(w->write(l.data(), l.size(), kT0));
  ASSERT_TRUE(w->close());
  const auto names = list_dir(dir.path());
  ASSERT_EQ(names.size(), w->files_completed());
  std::size_t next = 0;
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string body = read_file(dir / names[k]);
    // Exactly the next lines in order, cut only at line ends.
    std::size_t off = 0;
    while (off < body.size()) {
      ASSERT_LT(next, lines.size());
      ASSERT_EQ(body.compare(off, lines[next].size(), lines[next]), 0) << names[k] << " line " << next;
      off += lines[next].size();
      ++next;
    }
    if (lines[next - 1].size() > 1000) {
      EXPECT_EQ(body, lines[next - 1]);  // the oversized line alone
    } else {
      EXPECT_LE(body.size(), 1000u) << names[k];
    }
    // Complete: the next line would not have fitted (the last file: closed).
    if (k + 1 < names.size() && body.size() <= 1000) {
      EXPECT_GT(body.size() + lines[next].size(), 1000u) << names[k];
    }
  }
  EXPECT_EQ(next, lines.size());
}

TEST(JsonFileWriter, TimeRotationWithAFakeClock) {
  TempDir dir;
  JsonFileOptions o;
  o.path = dir / "flows.json";
  o.rotate_seconds = 10;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  for (int k = 0; k < 35; ++k) {
    const std::string l = line_of(k, 60);
    ASSERT_TRUE(w->write(l.data(), l.size(), kT0 + static_cast<std::uint64_t>(k)));
  }
  EXPECT_EQ(w->files_completed(), 3u);
  EXPECT_TRUE(w->tick(kT0 + 39));  // the 4th file started at +30: not yet 10 s old
  EXPECT_EQ(w->files_completed(), 3u);
  EXPECT_TRUE(w->tick(kT0 + 40));
  EXPECT_EQ(w->files_completed(), 4u);
  ASSERT_TRUE(w->close());
  EXPECT_EQ(w->files_completed(), 4u);  // nothing left to publish
  const auto names = list_dir(dir.path());
  const std::vector<std::string> want = {
      "flows-20231114T221320Z-000001.json", "flows-20231114T221330Z-000002.json",
      "flows-20231114T221340Z-000003.json", "flows-20231114T221350Z-000004.json"};
  ASSERT_EQ(names, want);
  for (int f = 0; f < 4; ++f) {
    std::string expect;
    for (int k = f * 10; k < std::min(35, f * 10 + 10); ++k) expect += line_of(k, 60);
    EXPECT_EQ(read_file(dir / want[static_cast<std::size_t>(f)]), expect);
  }
}

TEST(JsonFileWriter, GzipRotation) {
  TempDir dir;
  JsonFileOptions o;
  o.path = dir / "flows.json.gz";
  o.rotate_bytes = 1000;
  o.gzip = true;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  std::string all;
  for (int i = 0; i < 25; ++i) {
    const std::string l = line_of(i, 100);
    all += l;
    ASSERT_TRUE(w->write(l.data(), l.size(), kT0));
  }
  ASSERT_TRUE(w->close());
  const auto names = list_dir(dir.path());
  ASSERT_EQ(names.size(), 3u);
  std::string joined;
  for (std::size_t k = 0; k < 3; ++k) {
    char want[64];
    std::snprintf(want, sizeof want, "flows-20231114T221320Z-%06zu.json.gz", k + 1);
    EXPECT_EQ(names[k], want);
    const std::string raw = read_file(dir / names[k]);
    ASSERT_GE(raw.size(), 2u);
    EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f);  // gzip magic (RFC 1952)
    EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
    const std::string body = gunzip_file(dir / names[k]);
    EXPECT_EQ(body.size(), k < 2 ? 1000u : 500u);
    joined += body;
  }
  EXPECT_EQ(joined, all);
}

TEST(JsonFileWriter, PlainAndGzipWithoutRotation) {
  TempDir dir;
  const std::string a = "{\"a\":1}\n", b = "{\"b\":2}";  // b without its newline: one is added
  {
    JsonFileOptions o;
    o.path = dir / "plain.json";
    auto w = open_ok(o);
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->write(a.data(), a.size(), kT0));
    EXPECT_TRUE(w->write(b.data(), b.size(), kT0));
    EXPECT_TRUE(w->flush());
    EXPECT_EQ(read_file(dir / "plain.json"), "{\"a\":1}\n{\"b\":2}\n");  // visible after flush
    EXPECT_TRUE(w->close());
    EXPECT_EQ(w->files_completed(), 0u);
  }
  {
    JsonFileOptions o;
    o.path = dir / "z.json.gz";
    o.gzip = true;
    auto w = open_ok(o);
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->write(a.data(), a.size(), kT0));
    EXPECT_TRUE(w->write(b.data(), b.size(), kT0));
    EXPECT_TRUE(w->close());
    EXPECT_EQ(gunzip_file(dir / "z.json.gz"), "{\"a\":1}\n{\"b\":2}\n");
  }
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{"plain.json", "z.json.gz"}));
}

TEST(JsonFileWriter, NothingWrittenPublishesNothing) {
  TempDir dir;
  JsonFileOptions o;
  o.path = dir / "flows.json";
  o.rotate_seconds = 60;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{".flows.part"});  // created at open: the check
  EXPECT_TRUE(w->close());
  EXPECT_TRUE(list_dir(dir.path()).empty());
  EXPECT_EQ(w->files_completed(), 0u);
}

TEST(JsonFileWriter, ExistingNamesAreNotOverwritten) {
  TempDir dir;
  { std::ofstream(dir / "flows-20231114T221320Z-000001.json") << "keep\n"; }
  JsonFileOptions o;
  o.path = dir / "flows.json";
  o.rotate_bytes = 100;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  const std::string l = line_of(0, 100);
  ASSERT_TRUE(w->write(l.data(), l.size(), kT0));
  ASSERT_TRUE(w->close());
  EXPECT_EQ(read_file(dir / "flows-20231114T221320Z-000001.json"), "keep\n");
  EXPECT_EQ(read_file(dir / "flows-20231114T221320Z-000002.json"), l);
}

TEST(JsonFileWriter, AnEarlierRunsPartFileIsPublishedNotLost) {
  TempDir dir;
  const std::string part = dir / ".flows.part";
  { std::ofstream(part) << "{\"old\":1}\n"; }
  timeval tv[2] = {{static_cast<time_t>(kT0), 0}, {static_cast<time_t>(kT0), 0}};
  ASSERT_EQ(::utimes(part.c_str(), tv), 0);
  JsonFileOptions o;
  o.path = dir / "flows.json";
  o.rotate_bytes = 1000;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  EXPECT_EQ(read_file(dir / "flows-20231114T221320Z-recovered.json"), "{\"old\":1}\n");
  EXPECT_EQ(read_file(part), "");  // this run's own, fresh
  EXPECT_TRUE(w->close());
}

TEST(JsonFileWriter, UnusableDirectoryIsAClearErrorAtOpen) {
  TempDir dir;
  JsonFileOptions o;
  o.rotate_bytes = 1000;
  o.path = dir / "missing/flows.json";
  std::string e = open_error(o);
  EXPECT_NE(e.find("directory '" + dir.path() + "/missing'"), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;

  { std::ofstream(dir / "afile") << "x"; }
  o.path = dir / "afile/flows.json";
  e = open_error(o);
  EXPECT_NE(e.find("is not a directory"), std::string::npos) << e;

  o.path = dir / "";
  e = open_error(o);
  EXPECT_NE(e.find("name part is empty"), std::string::npos) << e;

  o.path = "-";
  e = open_error(o);
  EXPECT_NE(e.find("rotation needs a file path"), std::string::npos) << e;

  JsonFileOptions plain;
  plain.path = dir / "missing/flows.json";
  e = open_error(plain);
  EXPECT_NE(e.find("cannot create"), std::string::npos) << e;
  EXPECT_NE(e.find("No such file or directory"), std::string::npos) << e;

  // /proc refuses new files even to root, whatever access(2) says.
  o.path = "/proc/sf-flows.json";
  e = open_error(o);
  EXPECT_NE(e.find("/proc"), std::string::npos) << e;
}

TEST(JsonFileWriter, ReadOnlyDirectoryIsAClearErrorAtOpen) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: directory permissions do not apply";
  TempDir dir;
  const std::string ro = dir / "ro";
  ASSERT_EQ(::mkdir(ro.c_str(), 0555), 0);
  JsonFileOptions o;
  o.path = ro + "/flows.json";
  o.rotate_seconds = 60;
  const std::string e = open_error(o);
  EXPECT_NE(e.find("is not writable"), std::string::npos) << e;
  EXPECT_NE(e.find("Permission denied"), std::string::npos) << e;
}

TEST(JsonFileWriter, DiskFullIsCountedPerLine) {
  JsonFileOptions o;
  o.path = "/dev/full";  // every write fails with ENOSPC
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  const std::string l = line_of(0, 100);
  for (int i = 0; i < 10; ++i) w->write(l.data(), l.size(), kT0);  // buffered: no error yet
  EXPECT_FALSE(w->flush());
  EXPECT_EQ(w->write_errors(), 10u);
  // Enough for a buffer flush inside write(): that write reports it.
  bool any_false = false;
  for (int i = 0; i < 1000; ++i) any_false |= !w->write(l.data(), l.size(), kT0);
  EXPECT_TRUE(any_false);
  EXPECT_FALSE(w->close());
  EXPECT_EQ(w->write_errors(), 1010u);
  EXPECT_EQ(w->lines_written(), 0u);
}

TEST(JsonFileWriter, GzipDiskFullIsCounted) {
  JsonFileOptions o;
  o.path = "/dev/full";
  o.gzip = true;
  auto w = open_ok(o);
  ASSERT_TRUE(w);
  const std::string l = line_of(0, 100);
  for (int i = 0; i < 10; ++i) w->write(l.data(), l.size(), kT0);
  EXPECT_FALSE(w->close());
  EXPECT_EQ(w->write_errors(), 10u);
}

}  // namespace
}  // namespace sf
