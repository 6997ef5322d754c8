// Remembers, per RX lcore, which flow each fragmented datagram belongs to, so
// that later fragments (which carry no ports) reach the first fragment's flow.
// Bounded: a direct-mapped table where a colliding datagram replaces the older
// one (counted), and entries are forgotten after a timeout.
#pragma once

#include <cstdint>
#include <vector>

#include "flow/flow_key.hpp"
#include "packet/parsed_packet.hpp"

namespace sf {

class FragmentTable {
 public:
  FragmentTable(std::uint32_t size, std::uint64_t timeout_ns);

  // The first fragment of a datagram (offset 0) records its flow.
  void remember(const ParsedPacket& p, const NormalizedKey& nk, std::uint32_t hash,
                std::uint64_t now_ns) noexcept;

  // A later fragment: the flow of its datagram, or nullptr when the first
  // fragment was not seen (or was forgotten).
  struct Hit {
    const NormalizedKey* key;
    std::uint32_t hash;
    std::uint8_t icmp_type;  // the first fragment's, for a flow a later fragment starts
  };
  Hit lookup(const ParsedPacket& p, std::uint64_t now_ns) const noexcept;

  std::uint64_t replaced() const noexcept { return replaced_; }

 private:
  struct Entry {
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
    std::uint32_t frag_id = 0;
    std::uint8_t proto = 0;
    std::uint8_t ip_version = 0;  // 0 = empty
    std::uint8_t icmp_type = 0;
    std::uint32_t hash = 0;
    std::uint64_t seen_ns = 0;
    NormalizedKey key{};
  };

  std::uint32_t slot_of(const ParsedPacket& p) const noexcept;
  static bool matches(const Entry& e, const ParsedPacket& p) noexcept;
  // Capture files may go back in time a little; only a real gap expires an entry.
  bool live(const Entry& e, std::uint64_t now_ns) const noexcept {
    return !(now_ns > e.seen_ns && now_ns - e.seen_ns > timeout_ns_);
  }

  std::vector<Entry> entries_;
  std::uint32_t mask_;
  std::uint64_t timeout_ns_;
  std::uint64_t replaced_ = 0;
};

}  // namespace sf
