// A trivially correct reference for one direction of the reassembler: the
// stream as a map from offset to byte, one byte at a time, with the same
// rules written the plainest way (policy, FIN, depth, bytes above the hole,
// flush age, end). Pages are not modelled: differential runs give the
// reassembler enough of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tcp/reassembler.hpp"

namespace sf::test {

struct DeliveredByte {
  std::uint64_t offset;
  char c;
  bool gap;
  friend bool operator==(const DeliveredByte&, const DeliveredByte&) = default;
};

class ReferenceModel {
 public:
  explicit ReferenceModel(const ReassemblyConfig& config) : c_(config) {}

  // Bytes `data` at stream offset a (may be negative: before offset 0).
  void segment(std::int64_t a, const std::string& data, bool fin, std::uint64_t ts_ns) {
    if (ended_) return;
    if (depth_reached_) {
      if (fin) finish(StreamEnd::fin);
      return;
    }
    const std::int64_t a0 = a;
    std::int64_t b = a + static_cast<std::int64_t>(data.size());
    const auto next = static_cast<std::int64_t>(next_);
    if (fin && !fin_known_ && b >= next) {
      fin_known_ = true;
      fin_ = static_cast<std::uint64_t>(b);
    }
    if (fin_known_ && b > static_cast<std::int64_t>(fin_)) {
      ++out_of_window;
      b = std::max(a, static_cast<std::int64_t>(fin_));
    }
    overlapped_ = false;
    if (a < next) {
      const std::int64_t again = std::min(b, next) - a;
      if (again > 0) {
        retransmitted_bytes += static_cast<std::uint64_t>(again);
        ++retransmitted_packets;
        overlapped_ = true;
      }
      a = std::min(next, b);
    }
    if (b > a) {
      auto byte = [&](std::uint64_t o) { return data[static_cast<std::size_t>(static_cast<std::int64_t>(o) - a0)]; };
      const auto ua = static_cast<std::uint64_t>(a);
      const auto ub = static_cast<std::uint64_t>(b);
      if (ua == next_) {
        compare(ua, ub, byte, false);
        in_order(ua, ub, byte);
      } else {
        out_of_order(ua, ub, byte, ts_ns);
      }
    }
    if (overlapped_) ++overlaps;
    settle();
  }

  void flush(std::uint64_t now_ns) {
    const std::uint64_t after_ns = static_cast<std::uint64_t>(c_.flush_after_ms) * 1000000;
    if (after_ns == 0 || ended_) return;
    bool counted = false;
    for (;;) {
      bool any = false;
      std::uint64_t target = 0;
      for (const auto& [o, v] : buf_) {
        if (now_ns > v.ts && now_ns - v.ts > after_ns) {
          any = true;
          target = o;
        }
      }
      if (!any) break;
      if (!counted) {
        ++limit_flush_age;
        counted = true;
      }
      while (!buf_.empty() && buf_.begin()->first <= target) {
        if (!skip_hole_and_deliver_run()) {
          settle();
          return;
        }
      }
    }
    settle();
  }

  void end(StreamEnd reason) {
    if (ended_) return;
    if (!depth_reached_) {
      bool more = true;
      while (more && !buf_.empty()) more = skip_hole_and_deliver_run();
      if (more && fin_known_) skip_to(fin_);
    }
    finish(reason);
  }

  std::vector<DeliveredByte> delivered;
  std::vector<StreamEnd> ends;
  std::uint64_t missed_bytes = 0;
  std::uint64_t retransmitted_bytes = 0;
  std::uint64_t retransmitted_packets = 0;
  std::uint64_t conflict_bytes = 0;
  std::uint64_t overlaps = 0;
  std::uint64_t ooo_segments = 0;
  std::uint64_t out_of_window = 0;
  std::uint64_t limit_above_hole = 0;
  std::uint64_t limit_depth = 0;
  std::uint64_t limit_flush_age = 0;
  std::uint64_t next_offset() const { return next_; }
  std::uint64_t buffered() const { return buf_.size(); }

 private:
  struct Byte {
    char c;
    std::uint64_t ts;
  };

  // Conflicts, and under last-wins the overwrite of buffered bytes.
  template <typename ByteAt>
  std::uint64_t compare(std::uint64_t a, std::uint64_t b, ByteAt byte, bool overwrite) {
    std::uint64_t fresh = 0;
    for (std::uint64_t o = a; o < b; ++o) {
      const auto it = buf_.find(o);
      if (it == buf_.end()) {
        ++fresh;
        continue;
      }
      overlapped_ = true;
      if (it->second.c != byte(o)) {
        ++conflict_bytes;
        if (overwrite) it->second.c = byte(o);
      }
    }
    return fresh;
  }

  template <typename ByteAt>
  void in_order(std::uint64_t a, std::uint64_t b, ByteAt byte) {
    for (std::uint64_t o = a; o < b; ++o) {
      const auto it = buf_.find(o);
      char c = byte(o);
      if (it != buf_.end()) {
        if (c_.policy == OverlapPolicy::First) c = it->second.c;
        buf_.erase(it);
      }
      if (!deliver(c)) return;
    }
    drain();
  }

  template <typename ByteAt>
  void out_of_order(std::uint64_t a, std::uint64_t b, ByteAt byte, std::uint64_t ts) {
    ++ooo_segments;
    const std::uint64_t fresh = compare(a, b, byte, c_.policy == OverlapPolicy::Last);
    if (fresh == 0) return;
    for (bool first_try = true;; first_try = false) {
      const bool fits = c_.max_bytes_above_hole == 0 || buf_.size() + fresh <= c_.max_bytes_above_hole;
      if (fits) break;
      if (first_try) ++limit_above_hole;
      if (buf_.empty() || buf_.begin()->first >= a) {
        skip_to(a);
        in_order(a, b, byte);
        return;
      }
      if (!skip_hole_and_deliver_run()) return;
      if (next_ >= a) {
        if (next_ < b) in_order(next_, b, byte);
        return;
      }
    }
    for (std::uint64_t o = a; o < b; ++o) buf_.emplace(o, Byte{byte(o), ts});  // keeps what is there
  }

  bool deliver(char c) {
    if (fin_known_ && next_ >= fin_) return false;
    if (c_.depth_bytes != 0 && next_ - missed_bytes == c_.depth_bytes) {
      depth_reached_ = true;
      ++limit_depth;
      return false;
    }
    delivered.push_back(DeliveredByte{next_, c, gap_pending_});
    gap_pending_ = false;
    ++next_;
    return true;
  }

  bool drain() {
    for (auto it = buf_.begin(); it != buf_.end() && it->first == next_; it = buf_.begin()) {
      const char c = it->second.c;
      buf_.erase(it);
      if (!deliver(c)) return false;
    }
    return !(fin_known_ && next_ >= fin_);
  }

  bool skip_hole_and_deliver_run() {
    const std::uint64_t first = buf_.begin()->first;
    if (fin_known_ && fin_ <= first) {
      skip_to(fin_);
      return false;
    }
    skip_to(first);
    return drain();
  }

  void skip_to(std::uint64_t off) {
    if (off <= next_) return;
    missed_bytes += off - next_;
    next_ = off;
    gap_pending_ = true;
  }

  void settle() {
    if (fin_known_ && next_ >= fin_) {
      finish(StreamEnd::fin);
    } else if (depth_reached_) {
      buf_.clear();
    } else {
      buf_.erase(buf_.begin(), buf_.lower_bound(next_));
    }
  }

  void finish(StreamEnd reason) {
    if (ended_) return;
    ended_ = true;
    buf_.clear();
    ends.push_back(reason);
  }

  ReassemblyConfig c_;
  std::map<std::uint64_t, Byte> buf_;
  std::uint64_t next_ = 0;
  std::uint64_t fin_ = 0;
  bool fin_known_ = false;
  bool depth_reached_ = false;
  bool gap_pending_ = false;
  bool ended_ = false;
  bool overlapped_ = false;
};

}  // namespace sf::test
