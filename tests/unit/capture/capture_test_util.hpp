// Reads a capture with libpcap (the independent reference) and with
// PcapFileReader into the same shape, and writes hand-made pcap files.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "capture/pcap_file_reader.hpp"

namespace sf::test {

struct Packet {
  std::uint64_t ts_ns = 0;
  std::uint32_t caplen = 0;
  std::uint32_t len = 0;
  std::vector<unsigned char> bytes;
  bool operator==(const Packet&) const = default;
};

struct Outcome {
  std::vector<Packet> packets;
  std::string error;  // empty: a clean end of file
  int dlt = 0;        // libpcap: pcap_datalink; reader: its LINKTYPE_ value
  int linktype_ext = 0;
  int snaplen = 0;
};

// nullopt when libpcap cannot open the file.
inline std::optional<Outcome> read_with_libpcap(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) return std::nullopt;
  Outcome o;
  o.dlt = pcap_datalink(p);
  o.linktype_ext = pcap_datalink_ext(p);
  o.snaplen = pcap_snapshot(p);
  pcap_pkthdr* h = nullptr;
  const unsigned char* d = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    // The same widening CaptureSource applies to libpcap's timeval.
    const std::uint64_t ts = static_cast<std::uint64_t>(h->ts.tv_sec) * 1000000000ULL +
                             static_cast<std::uint64_t>(h->ts.tv_usec);
    o.packets.push_back({ts, h->caplen, h->len, std::vector<unsigned char>(d, d + h->caplen)});
  }
  if (rc != PCAP_ERROR_BREAK) o.error = pcap_geterr(p);
  pcap_close(p);
  return o;
}

// nullopt when the reader declines the file (libpcap's then).
inline std::optional<Outcome> read_with_reader(const std::string& path) {
  auto r = PcapFileReader::open(path);
  if (r == nullptr) return std::nullopt;
  Outcome o;
  o.dlt = static_cast<int>(r->linktype());
  o.linktype_ext = static_cast<int>(r->linktype_ext());
  o.snaplen = static_cast<int>(r->snaplen());
  PcapRecord rec;
  while (r->next(rec)) {
    const auto* d = reinterpret_cast<const unsigned char*>(rec.data);
    o.packets.push_back({rec.ts_ns, rec.caplen, rec.orig_len, std::vector<unsigned char>(d, d + rec.caplen)});
  }
  EXPECT_TRUE(r->eof());
  EXPECT_FALSE(r->next(rec)) << "reads nothing after it stopped";
  o.error = r->error();
  return o;
}

// A classic pcap file built field by field, in either byte order.
class PcapBuilder {
 public:
  PcapBuilder(std::uint32_t magic, bool big_endian, std::uint32_t snaplen = 65535, std::uint32_t linktype = 1,
              std::uint16_t major = 2, std::uint16_t minor = 4)
      : big_endian_(big_endian) {
    u32(magic);
    u16(major);
    u16(minor);
    u32(0);  // thiszone
    u32(0);  // sigfigs
    u32(snaplen);
    u32(linktype);
  }
  // A record whose header says caplen, holding `stored` bytes of data (default: caplen).
  PcapBuilder& record(std::uint32_t sec, std::uint32_t frac, std::uint32_t caplen, std::uint32_t len,
                      std::optional<std::uint32_t> stored = std::nullopt) {
    u32(sec);
    u32(frac);
    u32(caplen);
    u32(len);
    for (std::uint32_t i = 0; i < stored.value_or(caplen); ++i) bytes_.push_back(static_cast<char>(i * 7 + sec));
    return *this;
  }
  PcapBuilder& raw(std::size_t n) {
    bytes_.append(n, '\x5a');
    return *this;
  }
  std::string write(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes_.data(), static_cast<std::streamsize>(bytes_.size()));
    return path;
  }

 private:
  void put(std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) {
      const int shift = 8 * (big_endian_ ? n - 1 - i : i);
      bytes_.push_back(static_cast<char>((v >> shift) & 0xff));
    }
  }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  bool big_endian_;
  std::string bytes_;
};

inline constexpr std::uint32_t kMagicUsec = 0xa1b2c3d4;
inline constexpr std::uint32_t kMagicNsec = 0xa1b23c4d;

}  // namespace sf::test
