// Packets from a capture file (pcap or pcapng, via libpcap) into mbufs, so the
// rest of the pipeline is the one a NIC feeds. The capture's own timestamps are
// the clock; frames larger than one mbuf become segment chains.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "engine/packet_source.hpp"

struct pcap;
struct pcap_pkthdr;

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
  CaptureSource(pcap* p, LinkType lt) : pcap_(p), link_(lt) {}
  rte_mbuf* to_mbuf(rte_mempool* pool) noexcept;

  pcap* pcap_;
  LinkType link_;
  bool link_supported_ = true;
  std::string warning_;
  bool eof_ = false;
  bool pending_ = false;  // hdr_/data_ hold a packet not yet turned into an mbuf
  const pcap_pkthdr* hdr_ = nullptr;
  const unsigned char* data_ = nullptr;
  std::string error_;
};

}  // namespace sf
