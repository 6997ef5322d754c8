// Where an RX lcore gets its packets: a capture file, or (benchmarks) an
// in-memory traffic generator. Called once per burst, so a virtual call is
// free next to the per-packet work.
#pragma once

#include <cstdint>
#include <string>

#include "packet/link_type.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace sf {

class PacketSource {
 public:
  virtual ~PacketSource() = default;

  virtual LinkType link_type() const noexcept = 0;
  // False when the input's link type is not one the parser knows.
  virtual bool link_supported() const noexcept { return true; }
  // A problem found at open that does not stop the run (empty if none).
  virtual const std::string& warning() const noexcept { return empty_; }

  // Fills up to n mbufs from pool, with PacketMeta ts_ns and wire_len set.
  // Returns fewer than n when the pool is short (retry later) or at the end
  // of input (then eof() is true).
  virtual std::uint16_t read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept = 0;
  virtual bool eof() const noexcept = 0;
  // Set when reading stopped on an error rather than at a clean end.
  virtual const std::string& error() const noexcept { return empty_; }
  // True: timestamps are wall-clock time of a live-like source, so rings drop
  // rather than wait when full unless the config says otherwise.
  virtual bool live() const noexcept { return false; }

 private:
  std::string empty_;
};

}  // namespace sf
