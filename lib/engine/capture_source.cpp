#include "engine/capture_source.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_mbuf.h>

#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"

namespace sf {

Result<std::unique_ptr<CaptureSource>> CaptureSource::open(const std::string& path) {
  // Unsupported link types stay with libpcap, whose DLT number and name the warning shows.
  if (auto mapped = PcapFileReader::open(path)) {
    if (const auto lt = link_type_from_pcap(static_cast<int>(mapped->linktype()))) {
      return std::unique_ptr<CaptureSource>(new CaptureSource(nullptr, std::move(mapped), *lt));
    }
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return make_error("cannot read capture " + path + ": " + std::strerror(errno));
  // libpcap reads through stdio; its default 4 KiB buffer costs a syscall every few packets.
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    std::fclose(f);
    return make_error("cannot read capture " + path + ": " + errbuf);
  }
  const int dlt = pcap_datalink(p);
  const auto lt = link_type_from_pcap(dlt);
  auto source = std::unique_ptr<CaptureSource>(new CaptureSource(p, nullptr, lt.value_or(LinkType::Ethernet)));
  if (!lt) {
    // Still read it: every frame is counted as unsupported_link, so the
    // accounting covers the whole file instead of the run failing blind.
    const char* name = pcap_datalink_val_to_name(dlt);
    source->link_supported_ = false;
    source->warning_ = "capture " + path + ": unsupported link type " + std::to_string(dlt) + " (" +
                       (name ? name : "unknown") +
                       "): every frame is counted as unsupported_link; supported: Ethernet, Linux SLL/SLL2, "
                       "raw IP, BSD loopback";
  }
  return source;
}

CaptureSource::~CaptureSource() {
  if (pcap_ != nullptr) pcap_close(pcap_);
}

// Copies rec_ into head, chaining segments for frames larger than one mbuf.
// False when the pool has no segment left: head is then back to one empty segment.
bool CaptureSource::fill_mbuf(rte_mempool* pool, rte_mbuf* head) noexcept {
  const std::byte* src = rec_.data;
  std::uint32_t left = rec_.caplen;
  rte_mbuf* seg = head;
  for (;;) {
    const std::uint32_t take = std::min<std::uint32_t>(left, rte_pktmbuf_tailroom(seg));
    std::memcpy(rte_pktmbuf_mtod(seg, char*), src, take);
    seg->data_len = static_cast<std::uint16_t>(take);
    if (seg != head) head->pkt_len += take; else head->pkt_len = take;
    src += take;
    left -= take;
    if (left == 0) break;
    rte_mbuf* next = rte_pktmbuf_alloc(pool);
    if (next == nullptr) {
      if (head->next != nullptr) rte_pktmbuf_free(head->next);
      rte_pktmbuf_reset(head);
      return false;
    }
    seg->next = next;
    head->nb_segs++;
    seg = next;
  }
  PacketMeta* meta = packet_meta(head);
  *meta = PacketMeta{};
  meta->ts_ns = rec_.ts_ns;
  meta->wire_len = std::max(rec_.orig_len, rec_.caplen);
  return true;
}

bool CaptureSource::next_from_pcap() noexcept {
  pcap_pkthdr* hdr = nullptr;
  const unsigned char* data = nullptr;
  const int rc = pcap_next_ex(pcap_, &hdr, &data);
  if (rc != 1) {
    // PCAP_ERROR_BREAK is the clean end; anything else a damaged or truncated file.
    if (rc != PCAP_ERROR_BREAK) error_ = pcap_geterr(pcap_);
    return false;
  }
  rec_.ts_ns = static_cast<std::uint64_t>(hdr->ts.tv_sec) * 1000000000ULL +
               static_cast<std::uint64_t>(hdr->ts.tv_usec);  // ns: opened with nano precision
  rec_.caplen = hdr->caplen;
  rec_.orig_len = hdr->len;
  rec_.data = reinterpret_cast<const std::byte*>(data);
  return true;
}

// False at the end of the file or where damage stops it (error_ then set);
// either way what was read so far is kept.
bool CaptureSource::next_record() noexcept {
  if (mapped_ == nullptr) return next_from_pcap();
  if (mapped_->next(rec_)) return true;
  if (mapped_->error()[0] != '\0') error_ = mapped_->error();
  return false;
}

std::uint16_t CaptureSource::read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept {
  if (eof_) return 0;
  // The whole burst in one trip to the pool; a short pool gives what it has.
  std::uint16_t have = mbuf_alloc_burst(pool, out, n);
  if (have == 0) {
    while (have < n && (out[have] = rte_pktmbuf_alloc(pool)) != nullptr) ++have;
  }
  std::uint16_t got = 0;
  while (got < have) {
    // And the lines the copy writes, a few packets ahead.
    if (got + kMbufWritePrefetchAhead < have) mbuf_prefetch_for_write(out[got + kMbufWritePrefetchAhead]);
    if (!pending_) {
      if (!next_record()) {
        eof_ = true;
        break;
      }
      pending_ = true;
    }
    if (!fill_mbuf(pool, out[got])) break;  // workers still hold the mbufs: the caller retries
    pending_ = false;
    ++got;
  }
  if (got < have) rte_pktmbuf_free_bulk(out + got, have - got);
  return got;
}

}  // namespace sf
