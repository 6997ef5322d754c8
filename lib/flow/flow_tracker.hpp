// The per-worker flow logic over one FlowTable shard: account packets, start
// and end flows (timeouts, TCP connection reuse, eviction) and hand finished
// records to an EventSink. Owned and driven by exactly one worker lcore.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.hpp"
#include "flow/flow_table.hpp"
#include "flow/naming_gate.hpp"
#include "flow/packet_meta.hpp"
#include "flow/timer_wheel.hpp"
#include "appmeta/app_tracker.hpp"
#include "tcp/reassembler.hpp"
#include "metrics/lcore_counters.hpp"

namespace sf {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes finished records, in order: n slots holding whole events (each a
  // FlowEvent and its app_slots AppRecord slots). Returns how many slots were
  // queued, always whole events from the first: the rest are counted as dropped.
  virtual std::uint32_t emit_burst(const EventSlot* slots, std::uint32_t n) noexcept = 0;
  // No more records will come (the worker ended every flow).
  virtual void close() noexcept {}
};

struct FlowTimeouts {
  std::uint64_t tcp_idle_ns;
  std::uint64_t udp_idle_ns;
  std::uint64_t icmp_idle_ns;
  std::uint64_t other_idle_ns;
  std::uint64_t tcp_closed_ns;
  std::uint64_t tcp_establish_ns;
  std::uint64_t active_ns;  // 0 = off
  std::uint64_t tick_ns;

  static FlowTimeouts from_config(const TimeoutConfig& c) noexcept;
};

class FlowTracker {
 public:
  FlowTracker(std::unique_ptr<FlowTable> table, const FlowTimeouts& timeouts, OnTableFull on_full,
              std::uint16_t worker_id, EventSink& sink, WorkerCounters& counters);

  // Accounts a burst of packets, in order, and moves the clock to the newest
  // timestamp seen. Timers fire in advance_clock(), which the worker calls.
  void process_burst(const PacketMeta* const* metas, std::uint32_t n) noexcept;

  // Fires timers due at now_ns (a clock that never goes back is kept inside).
  void advance_clock(std::uint64_t now_ns) noexcept;

  // End of input: expire what timed out by now_ns, then end every remaining
  // flow (closed TCP connections as tcp_close, the rest with `reason`).
  void finish(std::uint64_t now_ns, EndReason reason) noexcept;

  // TCP stream reassembly for this worker's flows (owned by the caller; null = off).
  void set_reassembler(Reassembler* reassembler) noexcept { reasm_ = reassembler; }
  // Application metadata (owned by the caller; null = off). Its TCP side is a
  // stream consumer the caller registers with the reassembler.
  void set_app(AppTracker* app) noexcept { app_ = app; }
  // Records wait at the gate until the other workers caught up with their
  // flows' first packets (null = no ordering: live traffic, no DNS cache).
  void set_naming_gate(NamingGate* gate) noexcept { gate_ = gate; }
  // Every packet of this worker with id <= through is processed (its rings
  // were empty after RX had dispatched up to through).
  void publish_progress(std::uint64_t through) noexcept {
    if (through > done_through_) done_through_ = through;
    if (gate_ != nullptr) gate_->publish(done_through_);
  }

  const FlowTable& table() const noexcept { return *table_; }
  std::uint64_t now_ns() const noexcept { return now_ns_; }

 private:
  static constexpr std::uint32_t kExpiryBatch = 32;
  static constexpr std::uint32_t kEventBatch = 32;
  static constexpr std::uint32_t kPrefetchAhead = 8;  // packets whose flow state is requested ahead

  // known_absent: the key is certainly not in the table (a fresh miss).
  void process_one(const PacketMeta& m, std::int32_t pos, bool known_absent) noexcept;
  std::int32_t create_flow(const PacketMeta& m, std::uint32_t generation, bool known_absent) noexcept;
  void end_flow(std::uint32_t pos, EndReason reason) noexcept;
  void end_flow(std::uint32_t pos, EndReason reason, std::uint32_t hash) noexcept;  // hash: flow_hash of its key
  void emit_record(std::uint32_t pos, EndReason reason) noexcept;
  void track_tcp(std::uint32_t idx, FlowRecord& r, const PacketMeta& m) noexcept;
  void reassemble(std::uint32_t idx, const FlowRecord& r, const PacketMeta& m) noexcept;
  void end_streams(std::uint32_t idx, EndReason reason) noexcept;
  // Hands staged records to the sink: once per burst, tick or finish, so the
  // exporter's ring sees one enqueue per batch, not one per record.
  void flush_events() noexcept;
  void expire_batch(const std::uint32_t* due, std::uint32_t n) noexcept;
  [[gnu::cold]] bool make_room() noexcept;
  std::uint64_t idle_timeout(const FlowRecord& r) const noexcept;

  std::unique_ptr<FlowTable> table_;
  TimerWheel wheel_;
  FlowTimeouts timeouts_;
  OnTableFull on_full_;
  std::uint16_t worker_id_;
  EventSink& sink_;
  Reassembler* reasm_ = nullptr;
  WorkerCounters& counters_;
  AppTracker* app_ = nullptr;
  NamingGate* gate_ = nullptr;
  std::uint64_t done_through_ = 0;  // packet id up to which this worker is done
  std::uint64_t seq_ = 0;           // records numbered so far
  // Staged records: kEventBatch events at most, each with room for its AppRecord.
  EventSlot pending_[kEventBatch * (1 + kAppRecordSlots)];
  std::uint32_t n_pending_ = 0;         // slots
  std::uint32_t n_pending_events_ = 0;
  std::uint64_t now_ns_ = 0;
  bool clock_started_ = false;
  bool table_changed_ = false;  // an insert/remove happened since the last bulk lookup
};

}  // namespace sf
