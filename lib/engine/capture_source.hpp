// Packets from a capture file into mbufs, so the rest of the pipeline is the
// one a NIC feeds. Classic pcap files are read through a memory map
// (PcapFileReader); pcapng and whatever that reader declines go through
// libpcap. The capture's own timestamps are the clock; frames larger than one
// mbuf become segment chains.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "capture/pcap_file_reader.hpp"
#include "common/result.hpp"
#include "engine/packet_source.hpp"

struct pcap;

namespace sf {

class CaptureSource final : public PacketSource {
 public:
  static Result<std::unique_ptr<CaptureSource>> open(const std::string& path);
  ~CaptureSource() override;
  CaptureSource(const CaptureSource&) = delete;
  CaptureSource& operator=(const CaptureSource&) = delete;

  LinkType link_type() const noexcept override { return link_; }
  // False when the capture's link type is not one the parser knows.
  bool link_supported() const noexcept override { return link_supported_; }
  // Set at open for a capture that can be read but not decoded.
  const std::string& warning() const noexcept override { return warning_; }

  // Reads up to n packets into mbufs from pool, with PacketMeta ts_ns and
  // wire_len set. Returns fewer than n when the pool is short (retry later) or
  // at end of file (then eof() is true).
  std::uint16_t read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept override;

  bool eof() const noexcept override { return eof_; }
  // Set when reading stopped on an error (e.g. a truncated file) rather than at a clean end.
  const std::string& error() const noexcept override { return error_; }

 private:
  CaptureSource(pcap* p, std::unique_ptr<PcapFileReader> mapped, LinkType lt)
      : pcap_(p), mapped_(std::move(mapped)), link_(lt) {}
  bool next_record() noexcept;
  bool next_from_pcap() noexcept;
  bool fill_mbuf(rte_mempool* pool, rte_mbuf* head) noexcept;

  pcap* pcap_;                              // null when mapped_ reads the file
  std::unique_ptr<PcapFileReader> mapped_;  // null when libpcap reads it
  LinkType link_;
  bool link_supported_ = true;
  std::string warning_;
  bool eof_ = false;
  bool pending_ = false;  // rec_ holds a packet not yet turned into an mbuf
  PcapRecord rec_;        // points into the mapping or into libpcap's buffer
  std::string error_;
};

}  // namespace sf
