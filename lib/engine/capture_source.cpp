#include "engine/capture_source.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_mbuf.h>

#include "dpdk/mbuf_meta.hpp"

namespace sf {

Result<std::unique_ptr<CaptureSource>> CaptureSource::open(const std::string& path) {
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
  auto source = std::unique_ptr<CaptureSource>(new CaptureSource(p, lt.value_or(LinkType::Ethernet)));
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

CaptureSource::~CaptureSource() { pcap_close(pcap_); }

rte_mbuf* CaptureSource::to_mbuf(rte_mempool* pool) noexcept {
  rte_mbuf* head = rte_pktmbuf_alloc(pool);
  if (head == nullptr) return nullptr;
  const unsigned char* src = data_;
  std::uint32_t left = hdr_->caplen;
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
      rte_pktmbuf_free(head);
      return nullptr;
    }
    seg->next = next;
    head->nb_segs++;
    seg = next;
  }
  PacketMeta* meta = packet_meta(head);
  *meta = PacketMeta{};
  meta->ts_ns = static_cast<std::uint64_t>(hdr_->ts.tv_sec) * 1000000000ULL +
                static_cast<std::uint64_t>(hdr_->ts.tv_usec);  // ns: opened with nano precision
  meta->wire_len = std::max(hdr_->len, hdr_->caplen);
  return head;
}

std::uint16_t CaptureSource::read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept {
  std::uint16_t got = 0;
  while (got < n && !eof_) {
    if (!pending_) {
      pcap_pkthdr* hdr = nullptr;
      const unsigned char* data = nullptr;
      const int rc = pcap_next_ex(pcap_, &hdr, &data);
      if (rc == PCAP_ERROR_BREAK) {
        eof_ = true;
        break;
      }
      if (rc != 1) {
        // A damaged or truncated file: stop here, keep what was read.
        error_ = pcap_geterr(pcap_);
        eof_ = true;
        break;
      }
      hdr_ = hdr;
      data_ = data;
      pending_ = true;
    }
    rte_mbuf* m = to_mbuf(pool);
    if (m == nullptr) break;  // workers still hold the mbufs: the caller counts and retries
    pending_ = false;
    out[got++] = m;
  }
  return got;
}

}  // namespace sf
