// One worker's application metadata: which flows are DNS, TLS or HTTP, what
// their first messages said, and the assembly of messages that span
// segments. Owned and driven by the worker that owns the flows: DNS over UDP
// through on_udp() from the flow tracker, TCP through the reassembler (this
// is a StreamConsumer). The tracker takes each flow's AppRecord when the flow
// record is finished.
//
// Memory is fixed at start-up: a pool of per-flow slots (only flows that
// turned out to be DNS/TLS/HTTP take one) and a pool of assembly buffers
// (held only while a message that spans segments is incomplete). An empty
// pool is counted and the flow goes without metadata; nothing allocates
// after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "appmeta/app_config.hpp"
#include "appmeta/app_record.hpp"
#include "appmeta/tls_handshake_reader.hpp"
#include "dnscache/dns_cache.hpp"
#include "flow/flow_key.hpp"
#include "metrics/counter.hpp"
#include "tcp/stream_consumer.hpp"

namespace sf {

struct DnsMessage;
enum class DnsStatus : std::uint8_t;

#define SF_APP_COUNTERS(X)                                                                         \
  X(dns_messages) X(dns_malformed) X(dns_truncated) X(dns_cache_inserts) X(tls_client_hellos)   \
  X(tls_server_hellos) X(tls_malformed) X(tls_too_big) X(tls_incomplete) X(http_requests)       \
  X(http_responses) X(http_malformed) X(http_incomplete) X(streams_with_gaps) X(slots_exhausted) \
  X(buffers_exhausted)

struct alignas(64) AppCounters {
#define SF_X(name) Counter name;
  SF_APP_COUNTERS(SF_X)
#undef SF_X
};

class AppTracker final : public StreamConsumer {
 public:
  // table_capacity: the worker's flow table slots (flow_slot < table_capacity).
  // dns_cache: shared by all workers (null: answers are not cached).
  AppTracker(const AppConfig& config, std::uint32_t table_capacity, DnsCache* dns_cache, AppCounters& counters);
  ~AppTracker() override;
  AppTracker(const AppTracker&) = delete;
  AppTracker& operator=(const AppTracker&) = delete;

  // What a UDP flow is to us, kept by the caller in the flow's hot state
  // (FlowRecord::app_state), so a flow that is none of ours costs one call.
  enum UdpState : std::uint8_t { kUdpUndecided = 0, kUdpWanted = 1, kUdpDone = 2 };

  // One UDP payload (dir: its sender) of a flow in `state`; returns the new
  // state. The first payload decides: DNS on 53/5353/5355, or anywhere it
  // parses as a clean one-question DNS message (dnscrypt certificates,
  // resolvers on other ports); SSDP (HTTP over UDP 1900); else none.
  std::uint8_t on_udp(std::uint32_t flow_slot, const FlowKey& key, std::uint8_t dir,
                      std::span<const std::uint8_t> payload, std::uint64_t ts_ns, std::uint8_t state) noexcept;

  bool on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
               bool gap_before) noexcept override;
  void on_end(const StreamContext& ctx, StreamEnd reason) noexcept override;

  // Copies the flow's AppRecord to out (sizeof(AppRecord) bytes) if it has
  // one; release: the flow is over, its slot goes back to the pool.
  bool export_record(std::uint32_t flow_slot, unsigned char* out, bool release) noexcept;

  // The time of the segment being delivered (answers over TCP are cached as of it).
  void set_now(std::uint64_t ts_ns) noexcept { now_ns_ = ts_ns; }

  std::uint32_t slots_free() const noexcept { return n_free_slots_; }
  std::uint32_t buffers_free() const noexcept { return n_free_buffers_; }

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;
  static bool is_dns_port(std::uint16_t p) noexcept { return p == 53 || p == 5353 || p == 5355; }

  // What one direction of a TCP flow is being read as.
  enum class Reading : std::uint8_t { kNothing, kDnsTcp, kTlsClient, kTlsServer, kHttpRequest, kHttpStatus };
  struct DirState {
    Reading reading;
    std::uint8_t head_len;   // kHttpStatus: bytes in head
    std::uint8_t started;    // bytes of this direction were read
    std::uint8_t pad_[1];
    std::uint32_t buffer;    // assembly buffer, kNone = none
    std::uint32_t buffered;  // bytes in it
    std::uint8_t head[20];   // the status line's start: never needs a buffer
    TlsHandshakeReader tls;
  };
  struct Slot {
    AppRecord record;
    DirState dir[2];  // [0] client (initiator) side, [1] server side
  };

  Slot* slot_of(std::uint32_t flow_slot) noexcept {
    const std::uint32_t s = slot_index_[flow_slot];
    return s == kNone ? nullptr : &slots_[s];
  }
  Slot* take_slot(std::uint32_t flow_slot, AppKind kind) noexcept;
  std::uint32_t take_buffer() noexcept;
  std::uint8_t on_dns_udp(Slot* s, std::uint32_t flow_slot, const FlowKey& key, std::uint8_t dir,
                          std::uint64_t ts_ns, DnsStatus st) noexcept;
  std::uint8_t on_ssdp(Slot* s, std::uint32_t flow_slot, std::span<const std::uint8_t> payload) noexcept;
  void drop_buffer(DirState& d) noexcept;
  std::span<std::uint8_t> buffer(const DirState& d) noexcept;
  // Appends to d's buffer; false when the cap was reached (what fitted is in).
  bool append(DirState& d, std::span<const std::uint8_t> data) noexcept;

  void record_dns(Slot& s, const DnsMessage& m, bool over_tcp) noexcept;
  void cache_answers(const DnsMessage& m, const FlowKey& key, std::uint8_t sender_dir, std::uint64_t ts_ns) noexcept;
  bool read_dns_tcp(Slot& s, DirState& d, const StreamContext& ctx, std::span<const std::uint8_t> data) noexcept;
  bool read_tls(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept;
  bool read_http_request(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept;
  bool read_http_status(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept;
  void finish_http_request(Slot& s, std::span<const std::uint8_t> head, bool complete) noexcept;

  AppConfig config_;
  DnsCache* dns_cache_;
  AppCounters& counters_;
  DnsCacheWriterCounters dns_cache_counters_;
  std::unique_ptr<std::uint32_t[]> slot_index_;  // flow slot -> metadata slot
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<std::uint32_t[]> free_slots_;
  std::uint32_t n_free_slots_ = 0;
  std::unique_ptr<std::uint8_t[]> buffers_;
  std::unique_ptr<std::uint32_t[]> free_buffers_;
  std::uint32_t n_free_buffers_ = 0;
  // Messages are parsed here, not on the stack of the packet path.
  std::unique_ptr<DnsMessage> dns_scratch_;
  std::uint64_t now_ns_ = 0;

 public:
  const DnsCacheWriterCounters& dns_cache_counters() const noexcept { return dns_cache_counters_; }
};

}  // namespace sf
