// Every capture under ../shared/pcaps (malformed/ included) read by
// PcapFileReader and by libpcap: the same packets (ts, caplen, len, bytes),
// the same stop point and the same error. SKIP when the captures are absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "capture_test_util.hpp"

namespace sf::test {
namespace {

namespace fs = std::filesystem;

// Decided from the header alone, independently of the reader: classic pcap
// 2.4 in either precision, native order or byte-swapped Ethernet.
bool reader_should_accept(const fs::path& file) {
  unsigned char h[24] = {};
  std::ifstream(file, std::ios::binary).read(reinterpret_cast<char*>(h), sizeof h);
  const bool le = (h[0] == 0xd4 && h[1] == 0xc3 && h[2] == 0xb2 && h[3] == 0xa1) ||
                  (h[0] == 0x4d && h[1] == 0x3c && h[2] == 0xb2 && h[3] == 0xa1);
  const bool be = (h[0] == 0xa1 && h[1] == 0xb2 && h[2] == 0xc3 && h[3] == 0xd4) ||
                  (h[0] == 0xa1 && h[1] == 0xb2 && h[2] == 0x3c && h[3] == 0x4d);
  if (le) return h[4] == 2 && h[5] == 0 && h[6] == 4 && h[7] == 0;
  const bool ethernet_be = h[20] == 0 && h[21] == 0 && h[22] == 0 && h[23] == 1;
  if (be) return h[4] == 0 && h[5] == 2 && h[6] == 0 && h[7] == 4 && ethernet_be;
  return false;
}

TEST(RealCaptures, ReaderMatchesLibpcap) {
  const char* env = std::getenv("SF_PCAPS_DIR");
  const fs::path dir = env != nullptr ? env : "../shared/pcaps";
  if (!fs::is_directory(dir)) {
    std::printf("SKIP: %s not present: no real captures to compare with libpcap\n", dir.c_str());
    GTEST_SKIP() << "SKIP: " << dir << " not present";
  }
  std::vector<fs::path> files;
  for (const fs::path& sub : {dir, dir / "malformed"}) {
    if (!fs::is_directory(sub)) continue;
    for (const auto& e : fs::directory_iterator(sub)) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && (sub != dir || name.find(".pcap") != std::string::npos)) files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no captures under " << dir;

  std::size_t compared = 0, packets = 0, with_error = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    const auto ref = read_with_libpcap(file);
    const auto got = read_with_reader(file);
    EXPECT_EQ(got.has_value(), reader_should_accept(file) && ref.has_value());
    if (!got || !ref) continue;
    ++compared;
    packets += ref->packets.size();
    with_error += ref->error.empty() ? 0 : 1;
    // Same stop point: the same number of packets, then the same error (or none).
    ASSERT_EQ(got->packets.size(), ref->packets.size());
    for (std::size_t i = 0; i < ref->packets.size(); ++i) {
      ASSERT_EQ(got->packets[i], ref->packets[i]) << "packet " << i;
    }
    EXPECT_EQ(got->error, ref->error);
    EXPECT_EQ(got->dlt == 101 ? DLT_RAW : got->dlt, ref->dlt);
    EXPECT_EQ(got->linktype_ext, ref->linktype_ext);
    EXPECT_EQ(got->snaplen, ref->snaplen);
  }
  std::printf("compared %zu of %zu captures with libpcap: %zu packets, %zu stopped on damage\n", compared,
              files.size(), packets, with_error);
  EXPECT_GT(compared, 0u);
}

}  // namespace
}  // namespace sf::test
