#include "traffic_source.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "dpdk/mbuf_burst.hpp"
#include "dpdk/mbuf_meta.hpp"
#include "packet/parsed_packet.hpp"

namespace sf::bench {

namespace {

constexpr std::uint32_t kEthLen = 14;
constexpr std::uint32_t kIpLen = 20;
constexpr std::uint32_t kTcpLen = 20;
constexpr std::uint32_t kMaxFrame = 1514;
constexpr std::uint64_t kMaxSlots = 1ULL << 24;  // slot → 10.0.0.0/8 host part

// Simple IMIX 7:4:1 of 64/594/1518-byte packets (sizes with FCS), interleaved.
constexpr std::uint16_t kImixPattern[12] = {60, 590, 60, 60, 590, 60, 1514, 60, 590, 60, 590, 60};

std::uint64_t splitmix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void put16(std::uint8_t* p, std::uint32_t v) noexcept {
  const auto be = __builtin_bswap16(static_cast<std::uint16_t>(v));
  std::memcpy(p, &be, 2);
}

void put32(std::uint8_t* p, std::uint32_t v) noexcept {
  const auto be = __builtin_bswap32(v);
  std::memcpy(p, &be, 4);
}

std::uint64_t wall_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::uint32_t TrafficSource::frame_len(PacketSize size, std::uint64_t i) noexcept {
  return size == PacketSize::k64 ? 60U : kImixPattern[i % 12];
}

TrafficSource::TrafficSource(const TrafficSpec& spec) : spec_(spec), rng_(splitmix(spec.seed) | 1) {
  build_templates();
  tcp_share16_ = static_cast<std::uint64_t>(std::clamp(spec_.tcp_share, 0.0, 1.0) * 65536.0);
  spec_.flows = std::clamp<std::uint64_t>(spec_.flows, 1, kMaxSlots);
  // A step near flows/phi, coprime with flows: consecutive packets land far
  // apart in the table, and every slot comes up once per `flows` packets.
  step_ = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(spec_.flows) * 0.6180339887));
  while (std::gcd(step_, spec_.flows) != 1) ++step_;
  step_ %= spec_.flows;
  if (tcp_share16_ != 0) tcp_next_seq_.assign(2 * spec_.flows, 1);
  if (step_ == 0) step_ = 1 % spec_.flows;
  warming_ = !spec_.all_new || spec_.warmup_s > 0;
}

void TrafficSource::prebuild(rte_mempool* pool) noexcept {
  // Every buffer of the pool gets a full-size frame once; payload bytes are
  // never rewritten afterwards (nothing on the flow path reads them).
  std::vector<rte_mbuf*> all;
  rte_mbuf* m;
  while ((m = rte_pktmbuf_alloc(pool)) != nullptr) {
    auto* d = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint32_t room = std::min<std::uint32_t>(rte_pktmbuf_tailroom(m), kMaxFrame);
    for (std::uint32_t i = 0; i < room; ++i) d[i] = static_cast<std::uint8_t>(i * 7 + 1);
    all.push_back(m);
  }
  for (rte_mbuf* b : all) rte_pktmbuf_free(b);
  prebuilt_ = true;
}

void TrafficSource::write_packet(rte_mbuf* m, std::uint64_t slot, std::uint64_t generation, bool reverse,
                                 std::uint64_t ts_ns) noexcept {
  // A multiplicative hash of the slot picks its protocol: fixed per flow, no table.
  const bool tcp = ((slot * 0x9e3779b97f4a7c15ULL) >> 48) < tcp_share16_;
  const std::uint32_t len = frame_len(spec_.size, sent_);
  auto* d = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint32_t a = ((10U + spec_.source_id) << 24) | static_cast<std::uint32_t>(slot & (kMaxSlots - 1));
  const std::uint32_t b = 0x64400000U | static_cast<std::uint32_t>(generation & 0x3fffffU);  // 100.64/10
  const std::uint32_t pa = 40000U + static_cast<std::uint32_t>((generation >> 22) & 0x3fffU);
  const std::uint32_t pb = tcp ? 443U : 53U;
  // The template holds everything constant (MACs, version, TTL, flags, window).
  std::memcpy(d, tcp ? tcp_template_ : udp_template_, kHeaderTemplateLen);
  std::uint8_t* ip = d + kEthLen;
  put16(ip + 2, len - kEthLen);
  put32(ip + 12, reverse ? b : a);
  put32(ip + 16, reverse ? a : b);
  std::uint8_t* l4 = ip + kIpLen;
  put32(l4, reverse ? (pb << 16 | pa) : (pa << 16 | pb));
  if (tcp) {
    if (spec_.all_new) {
      put32(l4 + 4, 1);  // every packet a new flow: one segment each, any sequence number
      put32(l4 + 8, 1);
    } else {
      std::uint32_t* next = &tcp_next_seq_[2 * slot];  // slot < flows here
      const unsigned side = reverse ? 1 : 0;
      put32(l4 + 4, next[side]);      // seq: in order
      put32(l4 + 8, next[side ^ 1]);  // ack: all the peer sent
      next[side] += len - kEthLen - kIpLen - kTcpLen;
    }
  } else {
    put16(l4 + 4, len - kEthLen - kIpLen);
  }
  m->data_len = static_cast<std::uint16_t>(len);
  m->pkt_len = len;
  PacketMeta* meta = packet_meta(m);
  meta->ts_ns = ts_ns;
  meta->wire_len = len;
}

void TrafficSource::build_templates() noexcept {
  for (const bool tcp : {false, true}) {
    std::uint8_t* d = tcp ? tcp_template_ : udp_template_;
    static constexpr std::uint8_t kEth[kEthLen] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
    std::memcpy(d, kEth, kEthLen);
    std::uint8_t* ip = d + kEthLen;
    ip[0] = 0x45;
    put32(ip + 4, 0x00004000U);  // id 0, DF
    ip[8] = 64;
    ip[9] = tcp ? ipproto::kTcp : ipproto::kUdp;
    // The IPv4 checksum stays 0: NICs offload it and the parser does not verify it.
    std::uint8_t* l4 = ip + kIpLen;
    if (tcp) {
      put32(l4 + 8, 1);  // ack
      l4[12] = 5 << 4;
      l4[13] = tcpflag::kAck | tcpflag::kPsh;
      put16(l4 + 14, 65535);
    }
  }
}

std::uint64_t TrafficSource::next_slot(std::uint64_t* generation) noexcept {
  if (spec_.all_new) {
    *generation = sent_ >> 24;
    return sent_ & (kMaxSlots - 1);
  }
  std::uint64_t slot;
  if (warming_) {
    slot = cursor_++;  // warm-up: every slot once, in order
  } else {
    slot = cursor_;
    cursor_ += step_;
    if (cursor_ >= spec_.flows) cursor_ -= spec_.flows;
  }
  *generation = base_gen_ + (slot < churn_cursor_ ? 1 : 0);
  return slot;
}

void TrafficSource::churn(std::uint64_t now_tsc) noexcept {
  if (spec_.new_flows_per_sec == 0 || spec_.all_new) return;
  const double elapsed = static_cast<double>(now_tsc - churn_start_tsc_) / static_cast<double>(tsc_hz_);
  const auto due = static_cast<std::uint64_t>(elapsed * static_cast<double>(spec_.new_flows_per_sec));
  std::uint64_t done = progress_.churned.load(std::memory_order_relaxed);
  while (done < due) {
    // Replace a run of slots at once: the next packets to them carry new tuples.
    const std::uint64_t take = std::min(due - done, spec_.flows - churn_cursor_);
    churn_cursor_ += take;
    done += take;
    if (churn_cursor_ == spec_.flows) {
      churn_cursor_ = 0;
      ++base_gen_;
    }
  }
  progress_.churned.store(done, std::memory_order_relaxed);
}

std::uint16_t TrafficSource::read_burst(rte_mempool* pool, rte_mbuf** out, std::uint16_t n) noexcept {
  if (eof_) return 0;
  if (!prebuilt_) {
    prebuild(pool);
    tsc_hz_ = rte_get_tsc_hz();
    start_tsc_ = rte_rdtsc();
    epoch_ns_ = wall_ns();
  }
  std::uint64_t now = rte_rdtsc();
  if (spec_.rate_pps != 0) {
    // Paced: wait until at least one packet is due, as an idle NIC queue would.
    for (;;) {
      const double elapsed = static_cast<double>(now - start_tsc_) / static_cast<double>(tsc_hz_);
      const auto due = static_cast<std::uint64_t>(elapsed * static_cast<double>(spec_.rate_pps));
      if (due > sent_) {
        n = static_cast<std::uint16_t>(std::min<std::uint64_t>(n, due - sent_));
        break;
      }
      rte_pause();
      now = rte_rdtsc();
    }
  }
  if (warming_) {
    const bool warm_done = spec_.all_new
                               ? static_cast<double>(now - start_tsc_) >= spec_.warmup_s * static_cast<double>(tsc_hz_)
                               : cursor_ >= spec_.flows;
    if (warm_done) {
      warming_ = false;
      cursor_ = 0;
      churn_start_tsc_ = now;
      progress_.measure_start_tsc.store(now, std::memory_order_release);
    } else if (!spec_.all_new) {
      n = static_cast<std::uint16_t>(std::min<std::uint64_t>(n, spec_.flows - cursor_));
    }
  } else {
    if (static_cast<double>(now - churn_start_tsc_) >= spec_.duration_s * static_cast<double>(tsc_hz_)) {
      eof_ = true;
      progress_.measure_end_tsc.store(now, std::memory_order_release);
      return 0;
    }
    churn(now);
  }
  if (mbuf_alloc_burst(pool, out, n) == 0) return 0;  // workers hold every mbuf: retry
  const auto ts_ns = epoch_ns_ + static_cast<std::uint64_t>(static_cast<double>(now - start_tsc_) * 1e9 /
                                                             static_cast<double>(tsc_hz_));
  constexpr std::uint16_t kAhead = kMbufWritePrefetchAhead;
  for (std::uint16_t i = 0; i < n && i < kAhead; ++i) mbuf_prefetch_for_write(out[i]);
  for (std::uint16_t i = 0; i < n; ++i) {
    if (i + kAhead < n) mbuf_prefetch_for_write(out[i + kAhead]);
    std::uint64_t generation;
    const std::uint64_t slot = next_slot(&generation);
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    write_packet(out[i], slot, generation, (rng_ & 1) != 0, ts_ns);
    ++sent_;
  }
  return n;
}

}  // namespace sf::bench
