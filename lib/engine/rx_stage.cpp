#include "engine/rx_stage.hpp"

#include <algorithm>
#include <span>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/compiler.hpp"
#include "common/tsan.hpp"
#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"
#include "flow/flow_key.hpp"
#include "packet/packet_parser.hpp"

namespace sf {

RxStage::RxStage(const RxOptions& opt, std::vector<rte_ring*> worker_rings, RxCounters& counters,
                 RxProgress& progress)
    : opt_(opt),
      rings_(std::move(worker_rings)),
      counters_(counters),
      progress_(progress),
      fragments_(opt.fragment_table_size, opt.fragment_timeout_ns),
      idle_(opt.idle_yield),
      per_worker_(rings_.size(), std::vector<rte_mbuf*>(opt.burst_size)),
      per_worker_n_(rings_.size(), 0),
      rejected_(opt.burst_size) {}

bool RxStage::classify(rte_mbuf* m) noexcept {
  PacketMeta* meta = packet_meta(m);
  ++seq_;
  meta->packet_id = (seq_ - 1) * opt_.n_rx + opt_.rx_index + 1;
  if (meta->ts_ns > clock_ns_) clock_ns_ = meta->ts_ns;
  meta->clock_ns = clock_ns_;

  if (SF_UNLIKELY(!opt_.link_supported)) {
    counters_.unsupported_link.inc();
    return false;
  }
  ParsedPacket p;
  const auto frame = std::span<const std::byte>(rte_pktmbuf_mtod(m, const std::byte*), m->data_len);
  const ParseResult res = parse_packet(frame, meta->wire_len, opt_.link, p);
  if (SF_UNLIKELY(res.status != ParseStatus::Ok)) {
    if (res.status == ParseStatus::NonIp) {
      counters_.non_ip.inc();
    } else {
      counters_.malformed[static_cast<unsigned>(res.reason)].inc();
    }
    return false;
  }

  NormalizedKey nk;
  std::uint32_t hash;
  bool has_l4 = true;
  std::uint8_t icmp_type = p.icmp_type;
  if (SF_UNLIKELY(p.is_fragment)) {
    if (p.first_fragment) {
      nk = normalize_flow_key(p, opt_.vlan_in_key);
      hash = flow_hash(nk.key, opt_.hash_seed);
      fragments_.remember(p, nk, hash, meta->ts_ns);
    } else {
      const FragmentTable::Hit hit = fragments_.lookup(p, meta->ts_ns);
      if (hit.key == nullptr) {
        counters_.fragments_unattributed.inc();
        return false;
      }
      counters_.fragments_attributed.inc();
      nk = *hit.key;
      hash = hit.hash;
      has_l4 = false;
      icmp_type = hit.icmp_type;
    }
  } else {
    nk = normalize_flow_key(p, opt_.vlan_in_key);
    hash = flow_hash(nk.key, opt_.hash_seed);
  }

  meta->key = nk.key;
  meta->dir = nk.dir;
  meta->hash = hash;
  meta->has_l4 = has_l4;
  meta->tcp_flags = has_l4 ? p.tcp_flags : 0;
  meta->icmp_type = icmp_type;
  meta->tcp_seq = p.tcp_seq;
  meta->ip_bytes = p.ip_bytes;
  meta->tcp_ack = p.tcp_ack;
  meta->tcp_window = p.tcp_window;
  meta->payload_offset = p.payload_offset;
  meta->payload_len = p.payload_len;
  // Later fragments carry no transport header: their bytes are not stream payload.
  const std::uint32_t captured = frame.size() > p.payload_offset ? static_cast<std::uint32_t>(frame.size() - p.payload_offset) : 0;
  meta->payload_caplen = has_l4 ? static_cast<std::uint16_t>(std::min<std::uint32_t>(p.payload_len, captured)) : 0;
  meta->payload = reinterpret_cast<const std::uint8_t*>(frame.data()) + p.payload_offset;
  return true;
}

// Classifies up to burst_size packets with headers prefetched ahead, counts
// them, frees what is not a flow's packet, and hands the rest to accept(m) in order.
template <typename Accept>
void RxStage::classify_chunk(rte_mbuf** pkts, std::uint16_t n, Accept&& accept) noexcept {
  constexpr std::uint16_t kPrefetchAhead = 4;  // a packet's parse takes less than a miss
  std::uint32_t n_rejected = 0;
  std::uint64_t bytes = 0;
  for (std::uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (std::uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    bytes += packet_meta(pkts[i])->wire_len;
    if (classify(pkts[i])) {
      accept(pkts[i]);
    } else {
      rejected_[n_rejected++] = pkts[i];
    }
  }
  counters_.packets_in.add(n);
  counters_.bytes_in.add(bytes);
  counters_.fragment_table_replaced.set(fragments_.replaced());
  if (n_rejected != 0) mbuf_free_burst(rejected_.data(), n_rejected);
}

std::uint16_t RxStage::classify_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  std::uint16_t kept = 0;
  for (std::uint16_t base = 0; base < n; base = static_cast<std::uint16_t>(base + opt_.burst_size)) {
    const auto chunk = static_cast<std::uint16_t>(std::min<std::uint32_t>(n - base, opt_.burst_size));
    classify_chunk(pkts + base, chunk, [&](rte_mbuf* m) { pkts[kept++] = m; });
  }
  progress_.clock_ns.store(clock_ns_, std::memory_order_release);
  return kept;
}

void RxStage::process_burst(rte_mbuf** pkts, std::uint16_t n) noexcept {
  // Staging arrays hold one burst: split anything larger.
  while (n > opt_.burst_size) {
    process_burst(pkts, static_cast<std::uint16_t>(opt_.burst_size));
    pkts += opt_.burst_size;
    n = static_cast<std::uint16_t>(n - opt_.burst_size);
  }
  const auto n_workers = static_cast<std::uint32_t>(rings_.size());
  classify_chunk(pkts, n, [&](rte_mbuf* m) {
    const std::uint32_t w = worker_for_hash(packet_meta(m)->hash, n_workers);
    per_worker_[w][per_worker_n_[w]++] = m;
  });
  dispatch();
  // After the enqueue: a worker that reads this clock and then finds its ring
  // empty has processed every packet up to it.
  if (seq_ != 0) {
    progress_.dispatched_through.store((seq_ - 1) * opt_.n_rx + opt_.rx_index + 1, std::memory_order_release);
  }
  progress_.clock_ns.store(clock_ns_, std::memory_order_release);
}

void RxStage::dispatch() noexcept {
  for (std::size_t w = 0; w < rings_.size(); ++w) {
    const std::uint32_t count = per_worker_n_[w];
    if (count == 0) continue;
    per_worker_n_[w] = 0;
    rte_mbuf** batch = per_worker_[w].data();
    sf_tsan_release(rings_[w]);
    std::uint32_t sent = rte_ring_sp_enqueue_burst(rings_[w], reinterpret_cast<void* const*>(batch), count, nullptr);
    if (SF_UNLIKELY(sent < count)) {
      if (opt_.wait_when_full) {
        counters_.ring_full_waits.inc();
        const std::uint64_t wait_start = rte_rdtsc();
        while (sent < count) {
          idle_.idle();
          sent += rte_ring_sp_enqueue_burst(rings_[w], reinterpret_cast<void* const*>(batch + sent), count - sent,
                                            nullptr);
        }
        idle_.busy();
        counters_.ring_wait_cycles.add(rte_rdtsc() - wait_start);
      } else {
        counters_.ring_full.add(count - sent);
        mbuf_free_burst(batch + sent, count - sent);
      }
    }
  }
}

}  // namespace sf
