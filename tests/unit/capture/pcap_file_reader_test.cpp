// PcapFileReader on hand-made files: every case is also read by libpcap, and
// both must hand out the same packets and stop at the same place with the same
// error; the values the builder wrote are checked too.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "capture_test_util.hpp"

namespace sf::test {
namespace {

class PcapFileReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf_capture_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // Both readers open the file and agree on everything; returns what they read.
  static Outcome expect_same(const std::string& file) {
    const auto ref = read_with_libpcap(file);
    const auto got = read_with_reader(file);
    EXPECT_TRUE(ref.has_value()) << "libpcap cannot open " << file;
    EXPECT_TRUE(got.has_value()) << "the reader declined " << file;
    if (!ref || !got) return {};
    EXPECT_EQ(got->packets.size(), ref->packets.size());
    for (std::size_t i = 0; i < std::min(got->packets.size(), ref->packets.size()); ++i) {
      EXPECT_EQ(got->packets[i], ref->packets[i]) << "packet " << i;
    }
    EXPECT_EQ(got->error, ref->error);
    // LINKTYPE_RAW is the one value here whose DLT differs (DLT_RAW, 12 on Linux).
    EXPECT_EQ(got->dlt == 101 ? DLT_RAW : got->dlt, ref->dlt);
    EXPECT_EQ(got->linktype_ext, ref->linktype_ext);
    EXPECT_EQ(got->snaplen, ref->snaplen);
    return *got;
  }

  std::string dir_;
};

TEST_F(PcapFileReaderTest, EveryMagicAndByteOrder) {
  for (const std::uint32_t magic : {kMagicUsec, kMagicNsec}) {
    for (const bool big_endian : {false, true}) {
      SCOPED_TRACE(testing::Message() << std::hex << magic << (big_endian ? " big-endian" : " little-endian"));
      const auto file = PcapBuilder(magic, big_endian)
                            .record(1, 2, 60, 60)
                            .record(0x80000000u, 999999999u, 64, 1514)  // negative seconds, as libpcap widens them
                            .record(0xffffffffu, 0xffffffffu, 1, 1)
                            .write(path("magic.pcap"));
      const Outcome o = expect_same(file);
      ASSERT_EQ(o.packets.size(), 3u);
      EXPECT_TRUE(o.error.empty());
      const std::uint64_t frac_ns = magic == kMagicNsec ? 2 : 2000;
      EXPECT_EQ(o.packets[0].ts_ns, 1000000000ULL + frac_ns);
      EXPECT_EQ(o.packets[1].caplen, 64u);
      EXPECT_EQ(o.packets[1].len, 1514u);
      const auto r = PcapFileReader::open(file);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->nanosecond(), magic == kMagicNsec);
      EXPECT_EQ(r->swapped(), big_endian);
    }
  }
}

TEST_F(PcapFileReaderTest, HeaderOnlyIsACleanEmptyFile) {
  const Outcome o = expect_same(PcapBuilder(kMagicUsec, false).write(path("empty.pcap")));
  EXPECT_TRUE(o.packets.empty());
  EXPECT_TRUE(o.error.empty());
}

TEST_F(PcapFileReaderTest, TruncatedRecordHeaderStopsWithError) {
  const Outcome o = expect_same(PcapBuilder(kMagicUsec, false).record(1, 0, 60, 60).raw(7).write(path("t.pcap")));
  EXPECT_EQ(o.packets.size(), 1u);
  EXPECT_EQ(o.error, "truncated dump file; tried to read 16 header bytes, only got 7");
}

TEST_F(PcapFileReaderTest, TruncatedDataStopsWithError) {
  const Outcome o =
      expect_same(PcapBuilder(kMagicNsec, true).record(1, 0, 60, 60).record(2, 0, 100, 100, 40).write(path("t.pcap")));
  EXPECT_EQ(o.packets.size(), 1u);
  EXPECT_EQ(o.error, "truncated dump file; tried to read 100 captured bytes, only got 40");
}

TEST_F(PcapFileReaderTest, ZeroLengthPackets) {
  const Outcome o = expect_same(
      PcapBuilder(kMagicUsec, false).record(1, 0, 0, 0).record(2, 0, 0, 60).record(3, 0, 60, 60).write(path("z.pcap")));
  ASSERT_EQ(o.packets.size(), 3u);
  EXPECT_EQ(o.packets[1].caplen, 0u);
  EXPECT_EQ(o.packets[1].len, 60u);
  EXPECT_TRUE(o.error.empty());
}

// libpcap tolerates caplen > snaplen up to its maximum: it hands out snaplen
// bytes and skips the rest of the record.
TEST_F(PcapFileReaderTest, CaplenAboveSnaplenIsCutToSnaplen) {
  const Outcome o = expect_same(
      PcapBuilder(kMagicUsec, false, 64).record(1, 0, 100, 100).record(2, 0, 60, 60).write(path("s.pcap")));
  ASSERT_EQ(o.packets.size(), 2u);
  EXPECT_EQ(o.packets[0].caplen, 64u);
  EXPECT_EQ(o.packets[0].len, 100u);
  EXPECT_EQ(o.packets[1].caplen, 60u);
  EXPECT_TRUE(o.error.empty());
}

TEST_F(PcapFileReaderTest, CaplenAboveSnaplenTruncatedBeforeOrAfterSnaplen) {
  Outcome o = expect_same(PcapBuilder(kMagicUsec, false, 64).record(1, 0, 100, 100, 50).write(path("a.pcap")));
  EXPECT_EQ(o.error, "truncated dump file; tried to read 64 captured bytes, only got 50");
  o = expect_same(PcapBuilder(kMagicUsec, false, 64).record(1, 0, 100, 100, 80).write(path("b.pcap")));
  EXPECT_TRUE(o.packets.empty());
  EXPECT_EQ(o.error, "truncated dump file; tried to read 100 captured bytes, only got 80");
}

TEST_F(PcapFileReaderTest, CaplenAboveMaximumStopsWithError) {
  Outcome o = expect_same(
      PcapBuilder(kMagicUsec, false, 65535).record(1, 0, 60, 60).record(2, 0, 262145, 262145, 0).write(path("a.pcap")));
  EXPECT_EQ(o.packets.size(), 1u);
  EXPECT_EQ(o.error, "invalid packet capture length 262145, bigger than snaplen of 65535");
  o = expect_same(PcapBuilder(kMagicUsec, false, 300000).record(2, 0, 262145, 262145, 0).write(path("b.pcap")));
  EXPECT_EQ(o.error, "invalid packet capture length 262145, bigger than maximum of 262144");
  // Just at the maximum is a packet.
  o = expect_same(PcapBuilder(kMagicUsec, false, 0).record(2, 0, 262144, 262144).write(path("c.pcap")));
  EXPECT_EQ(o.packets.size(), 1u);
  EXPECT_TRUE(o.error.empty());
}

TEST_F(PcapFileReaderTest, BogusSnaplenMeansTheLinkTypeMaximum) {
  for (const std::uint32_t snaplen : {0u, 0x80000000u, 0xffffffffu}) {
    const Outcome o =
        expect_same(PcapBuilder(kMagicUsec, false, snaplen).record(1, 0, 70000, 70000).write(path("s.pcap")));
    EXPECT_EQ(o.snaplen, 262144);
    EXPECT_EQ(o.packets.size(), 1u);
  }
}

// Link types libpcap gives a larger maximum (D-Bus, USBPcap, EBHSCR).
TEST_F(PcapFileReaderTest, PerLinkTypeMaximum) {
  for (const std::uint32_t linktype : {231u, 249u, 279u}) {
    SCOPED_TRACE(linktype);
    expect_same(PcapBuilder(kMagicUsec, false, 0, linktype).record(1, 0, 300000, 300000).write(path("m.pcap")));
    expect_same(PcapBuilder(kMagicUsec, false, 0, linktype).record(1, 0, 8388609, 8388609, 0).write(path("m.pcap")));
  }
}

TEST_F(PcapFileReaderTest, FcsBitsLeaveTheLinkType) {
  // LINKTYPE_ETHERNET with "FCS present, 4 bytes" in the upper bits.
  const Outcome o =
      expect_same(PcapBuilder(kMagicUsec, false, 65535, 0x44000001u).record(1, 0, 64, 64).write(path("f.pcap")));
  EXPECT_EQ(o.dlt, 1);
  EXPECT_EQ(o.linktype_ext, static_cast<int>(0x44000000u));
  EXPECT_EQ(o.packets.size(), 1u);
}

TEST_F(PcapFileReaderTest, FilesForLibpcapAreDeclined) {
  // Shorter than a file header, or empty: libpcap reports those.
  PcapBuilder(kMagicUsec, false).write(path("short.pcap"));
  std::filesystem::resize_file(path("short.pcap"), 10);
  std::ofstream(path("zero.pcap")).close();
  // Kept for libpcap: pcapng, versions before 2.4, Kuznetzov's format, and
  // byte-swapped link types whose pseudo-headers libpcap rewrites.
  const unsigned char ng[] = {0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,  // SHB
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
                              1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0, 0, 20, 0, 0, 0};  // IDB
  std::ofstream(path("ng.pcapng"), std::ios::binary).write(reinterpret_cast<const char*>(ng), sizeof ng);
  PcapBuilder(kMagicUsec, false, 65535, 1, 2, 3).record(1, 0, 60, 60).write(path("v23.pcap"));
  PcapBuilder(0xa1b2cd34u, false).write(path("kuznetzov.pcap"));
  PcapBuilder(kMagicUsec, true, 65535, 113).record(1, 0, 60, 60).write(path("sll_be.pcap"));
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0600), 0);  // no writer: opening it would block
  std::filesystem::create_directory(path("dir"));
  for (const char* name : {"short.pcap", "zero.pcap", "ng.pcapng", "v23.pcap", "kuznetzov.pcap", "sll_be.pcap",
                           "fifo", "dir", "missing.pcap"}) {
    EXPECT_EQ(PcapFileReader::open(path(name)), nullptr) << name;
  }
  EXPECT_EQ(PcapFileReader::open("/dev/null"), nullptr);
  // Those libpcap does read, it still can: the fallback has something to read.
  for (const char* name : {"ng.pcapng", "v23.pcap", "sll_be.pcap"}) {
    EXPECT_TRUE(read_with_libpcap(path(name)).has_value()) << name;
  }
}

}  // namespace
}  // namespace sf::test
