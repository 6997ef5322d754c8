// Classic pcap files read through a memory map: no syscall and no copy per
// packet, which is what makes capture-file mode cheaper than libpcap's stdio
// reads. It reads the files libpcap would read and stops where libpcap stops,
// with the same error text (sf-pcap.c, libpcap 1.10); what it does not handle
// (pcapng, other versions, pipes, ...) is left to libpcap by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "common/compiler.hpp"

namespace sf {

// One record, pointing into the mapping (valid while the reader lives).
struct PcapRecord {
  std::uint64_t ts_ns = 0;  // capture time, ns since the epoch, as CaptureSource computed it from libpcap's
  std::uint32_t caplen = 0;
  std::uint32_t orig_len = 0;
  const std::byte* data = nullptr;
};

class PcapFileReader {
 public:
  // nullptr when the file is not one this reader handles (not a regular file,
  // not classic pcap 2.4, too short, cannot be mapped, ...): libpcap decides
  // then, including which error to report.
  static std::unique_ptr<PcapFileReader> open(const std::string& path);
  ~PcapFileReader();
  PcapFileReader(const PcapFileReader&) = delete;
  PcapFileReader& operator=(const PcapFileReader&) = delete;

  // The file's LINKTYPE_ value without the upper 6 bits (FCS length etc.).
  std::uint32_t linktype() const noexcept { return linktype_; }
  // The upper 6 bits of the header's link type field (libpcap's linktype_ext).
  std::uint32_t linktype_ext() const noexcept { return linktype_ext_; }
  // The snapshot length libpcap uses: the header's, or the maximum for the
  // link type when the header's is 0 or above INT_MAX.
  std::uint32_t snaplen() const noexcept { return snaplen_; }
  bool nanosecond() const noexcept { return frac_to_ns_ == 1; }
  bool swapped() const noexcept { return swapped_; }

  // The next record: true; false at the end of the file or on damage (then
  // error() is set and nothing more is read).
  bool next(PcapRecord& rec) noexcept;
  bool eof() const noexcept { return done_; }
  const char* error() const noexcept { return error_; }

 private:
  static constexpr std::size_t kRecordHeaderLen = 16;
  // How far ahead of the cursor reads are prefetched: the hardware prefetcher
  // stops at page boundaries, and each record's header is only found by
  // reading the previous one. 8 KiB measured ~20% less CPU than none or 2 KiB.
  static constexpr std::size_t kReadAheadBytes = 8192;

  PcapFileReader() = default;
  std::uint32_t load32(const std::byte* p) const noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return swapped_ ? __builtin_bswap32(v) : v;
  }
  // libpcap widens the 32-bit time fields as signed in native-order files and
  // as unsigned in byte-swapped ones (its SWAPLONG yields an unsigned int).
  std::uint64_t widen(std::uint32_t v) const noexcept {
    return swapped_ ? v : static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(v)));
  }
  void take(PcapRecord& rec, std::uint32_t caplen, std::uint32_t stored_len) noexcept {
    rec.ts_ns = widen(load32(pos_)) * 1000000000ULL + widen(load32(pos_ + 4)) * frac_to_ns_;
    rec.caplen = caplen;
    rec.orig_len = load32(pos_ + 12);
    rec.data = pos_ + kRecordHeaderLen;
    pos_ += kRecordHeaderLen + stored_len;
  }
  void read_ahead() noexcept {
    const auto cursor = static_cast<std::size_t>(pos_ - map_);
    const std::size_t until = cursor + kReadAheadBytes < map_len_ ? cursor + kReadAheadBytes : map_len_;
    for (; prefetched_ < until; prefetched_ += kCacheLine) __builtin_prefetch(map_ + prefetched_, 0, 3);
  }
  SF_COLD bool next_slow(PcapRecord& rec) noexcept;
  SF_COLD bool fail(const char* fmt, unsigned long a, unsigned long b) noexcept;

  const std::byte* map_ = nullptr;
  std::size_t map_len_ = 0;
  const std::byte* pos_ = nullptr;
  const std::byte* end_ = nullptr;
  std::size_t prefetched_ = 0;  // read_ahead() has prefetched the mapping up to this offset
  std::uint32_t linktype_ = 0;
  std::uint32_t linktype_ext_ = 0;
  std::uint32_t snaplen_ = 0;
  std::uint32_t max_caplen_ = 0;   // libpcap's max_snaplen_for_dlt
  std::uint32_t fast_caplen_ = 0;  // min(snaplen_, max_caplen_): larger ones take next_slow
  std::uint32_t frac_to_ns_ = 1000;
  bool swapped_ = false;
  bool done_ = false;
  char error_[160] = {};
};

inline bool PcapFileReader::next(PcapRecord& rec) noexcept {
  const auto left = static_cast<std::size_t>(end_ - pos_);
  if (SF_UNLIKELY(left < kRecordHeaderLen)) return next_slow(rec);
  const std::uint32_t caplen = load32(pos_ + 8);
  if (SF_UNLIKELY(caplen > fast_caplen_ || caplen > left - kRecordHeaderLen)) return next_slow(rec);
  take(rec, caplen, caplen);
  read_ahead();
  return true;
}

}  // namespace sf
