#include "capture/pcap_file_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

namespace sf {

namespace {

constexpr std::uint32_t kMagicUsec = 0xa1b2c3d4;
constexpr std::uint32_t kMagicNsec = 0xa1b23c4d;
constexpr std::size_t kFileHeaderLen = 24;
constexpr std::uint32_t kLinktypeMask = 0x03FFFFFF;  // libpcap's LT_LINKTYPE; the rest is LT_LINKTYPE_EXT
constexpr std::uint32_t kMaximumSnaplen = 262144;    // libpcap's MAXIMUM_SNAPLEN

// libpcap's max_snaplen_for_dlt (these LINKTYPE_ values equal their DLT_ values).
std::uint32_t max_caplen_for(std::uint32_t linktype) noexcept {
  switch (linktype) {
    case 231:  // DBUS
      return 128 * 1024 * 1024;
    case 279:  // EBHSCR
      return 8 * 1024 * 1024;
    case 249:  // USBPCAP
      return 1024 * 1024;
    default:
      return kMaximumSnaplen;
  }
}

// In a byte-swapped file libpcap rewrites some link types' pseudo-headers in
// place (SLL CAN ids, USB, NFLOG); those stay with libpcap. It leaves these alone.
bool swapped_file_readable(std::uint32_t linktype) noexcept {
  switch (linktype) {
    case 0:    // NULL
    case 1:    // Ethernet
    case 12:   // RAW (DLT_RAW on most BSDs)
    case 14:   // RAW (OpenBSD)
    case 101:  // RAW
    case 108:  // LOOP
    case 228:  // IPV4
    case 229:  // IPV6
      return true;
    default:
      return false;
  }
}

std::uint32_t load_host32(const unsigned char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint16_t load_host16(const unsigned char* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::unique_ptr<PcapFileReader> PcapFileReader::open(const std::string& path) {
  // Pipes, devices and files too short for a header: libpcap reads (or rejects)
  // them. stat first: opening a FIFO would wait for (or cut off) its writer.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return nullptr;
  unsigned char hdr[kFileHeaderLen];
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) < kFileHeaderLen ||
      pread(fd, hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr)) {
    ::close(fd);
    return nullptr;
  }
  const std::uint32_t magic = load_host32(hdr);
  const bool swapped = magic == __builtin_bswap32(kMagicUsec) || magic == __builtin_bswap32(kMagicNsec);
  const std::uint32_t host_magic = swapped ? __builtin_bswap32(magic) : magic;
  auto u16 = [&](std::size_t at) {
    const std::uint16_t v = load_host16(hdr + at);
    return swapped ? __builtin_bswap16(v) : v;
  };
  auto u32 = [&](std::size_t at) {
    const std::uint32_t v = load_host32(hdr + at);
    return swapped ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t snaplen = u32(16);
  const std::uint32_t linktype_field = u32(20);
  const std::uint32_t linktype = linktype_field & kLinktypeMask;
  // Versions before 2.4 may have caplen and len swapped; libpcap guesses, we don't.
  if ((host_magic != kMagicUsec && host_magic != kMagicNsec) || u16(4) != 2 || u16(6) != 4 ||
      (swapped && !swapped_file_readable(linktype))) {
    ::close(fd);
    return nullptr;
  }
  const auto len = static_cast<std::size_t>(st.st_size);
  // No MAP_POPULATE: it measured no faster on a cached file (the kernel maps
  // large folios per fault), reads a cold file whole before the first packet,
  // and reads a file larger than memory twice. MADV_SEQUENTIAL widens readahead.
  void* map = mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) return nullptr;
  madvise(map, len, MADV_SEQUENTIAL);

  auto r = std::unique_ptr<PcapFileReader>(new PcapFileReader());
  r->map_ = static_cast<const std::byte*>(map);
  r->map_len_ = len;
  r->pos_ = r->map_ + kFileHeaderLen;
  r->end_ = r->map_ + len;
  r->prefetched_ = kFileHeaderLen;
  r->swapped_ = swapped;
  r->frac_to_ns_ = host_magic == kMagicNsec ? 1 : 1000;
  r->linktype_ = linktype;
  r->linktype_ext_ = linktype_field & ~kLinktypeMask;
  r->max_caplen_ = max_caplen_for(linktype);
  // libpcap's pcap_adjust_snapshot.
  r->snaplen_ = (snaplen == 0 || snaplen > INT_MAX) ? r->max_caplen_ : snaplen;
  r->fast_caplen_ = r->snaplen_ < r->max_caplen_ ? r->snaplen_ : r->max_caplen_;
  return r;
}

PcapFileReader::~PcapFileReader() {
  munmap(const_cast<std::byte*>(map_), map_len_);
}

bool PcapFileReader::fail(const char* fmt, unsigned long a, unsigned long b) noexcept {
  std::snprintf(error_, sizeof error_, fmt, a, b);
  done_ = true;
  pos_ = end_;
  return false;
}

// The end of the file, damage, and what libpcap tolerates: the same checks in
// the same order as sf-pcap.c's pcap_next_packet, with its messages.
bool PcapFileReader::next_slow(PcapRecord& rec) noexcept {
  if (done_) return false;
  const auto left = static_cast<std::size_t>(end_ - pos_);
  if (left == 0) {
    done_ = true;
    return false;
  }
  if (left < kRecordHeaderLen) {
    return fail("truncated dump file; tried to read %lu header bytes, only got %lu", kRecordHeaderLen, left);
  }
  const std::uint32_t caplen = load32(pos_ + 8);
  const std::size_t data_left = left - kRecordHeaderLen;
  if (caplen > max_caplen_) {
    if (caplen > snaplen_) {
      return fail("invalid packet capture length %lu, bigger than snaplen of %lu", caplen, snaplen_);
    }
    return fail("invalid packet capture length %lu, bigger than maximum of %lu", caplen, max_caplen_);
  }
  if (caplen > snaplen_) {
    // Tolerated: libpcap hands out the first snaplen bytes and skips the rest.
    if (data_left < snaplen_) {
      return fail("truncated dump file; tried to read %lu captured bytes, only got %lu", snaplen_, data_left);
    }
    if (data_left < caplen) {
      return fail("truncated dump file; tried to read %lu captured bytes, only got %lu", caplen, data_left);
    }
    take(rec, snaplen_, caplen);
    return true;
  }
  if (data_left < caplen) {
    return fail("truncated dump file; tried to read %lu captured bytes, only got %lu", caplen, data_left);
  }
  take(rec, caplen, caplen);
  return true;
}

}  // namespace sf
