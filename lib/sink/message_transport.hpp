// Where IPFIX messages go: UDP datagrams, a TCP stream to a collector, or a
// file. Used on exporter control threads, never the datapath: syscalls are
// fine, but a slow or dead collector never blocks the caller (non-blocking
// sockets, a bounded buffer), and every message handed to send() ends up
// sent, buffered, or counted in dropped[] by reason.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "metrics/counter.hpp"

namespace sf {

struct TransportOptions {
  std::uint32_t buffer_bytes = 8u << 20;  // TCP: bytes kept while the collector is down or slow (bounded)
  std::uint32_t reconnect_min_ms = 100, reconnect_max_ms = 5000;  // TCP: exponential back-off between connect attempts
  std::uint32_t connect_timeout_ms = 10000;  // TCP: a connect still pending after this counts as failed
  // TCP: when the memory ring is full, messages go to a file in spill_dir (at
  // most spill_bytes) and come back into the ring, in order, as the
  // collector acknowledges; 0 = no spill (a full ring drops, counted). The
  // file is unlinked at once: it holds this run's backlog only.
  std::string spill_dir;
  std::uint64_t spill_bytes = 0;
  // TCP: acked messages kept (ring room permitting) and resent after a reset,
  // for the bytes a killed collector's kernel acked but its process never read
  // (at most its receive buffer: Linux tcp_rmem max, 6 MiB by default).
  std::uint32_t replay_bytes = 32u << 20;
};

#define SF_TRANSPORT_DROP_REASONS(X) X(buffer_full) X(send_error) X(shutdown)

enum class TransportDrop : std::uint8_t {
#define SF_X(name) name,
  SF_TRANSPORT_DROP_REASONS(SF_X)
#undef SF_X
  kCount
};
inline constexpr unsigned kTransportDropCount = static_cast<unsigned>(TransportDrop::kCount);
std::string_view transport_drop_name(TransportDrop r) noexcept;

// Written by the exporter thread that owns the transport, read by the stats
// core (relaxed, see Counter). Each send() is counted exactly once in
// messages_sent or dropped[]; messages_buffered counts those that had to wait
// (they are also counted later, as sent or dropped).
struct alignas(64) TransportCounters {
  Counter messages_sent;      // handed whole to the kernel (first time; TCP resends are messages_resent)
  Counter bytes_sent;         // bytes of those messages
  Counter messages_buffered;  // TCP: could not go out at once (collector down, socket full)
  Counter reconnects;         // TCP: connections established after the first
  Counter connect_failures;   // TCP: connect attempts that failed or timed out
  Counter dropped[kTransportDropCount];  // by TransportDrop
  // Added beyond the base interface:
  Counter messages_resent;    // TCP: unacknowledged messages written again on a new connection
  Counter connection_losses;  // TCP: established connections that broke (error, reset, peer closed)
  Counter unacked_at_shutdown;  // TCP: sent, but not acknowledged by the peer when drain() gave up
  Counter messages_spilled;   // TCP: written to the spill file (the ring was full)
  Counter spill_errors;       // TCP: spill file write/read failures (the message is dropped as buffer_full)
};
static_assert(sizeof(TransportCounters) == 128);

class MessageTransport {
 public:
  // "udp://HOST:PORT", "tcp://HOST:PORT" (IPv4/IPv6 literal or name, [v6]:port),
  // "file:PATH" (append; "-" not allowed). Names are resolved here, once
  // (a blocking lookup belongs at start-up, not in reconnects). A TCP
  // collector that is down is not an error: messages are buffered until it
  // comes up.
  static Result<std::unique_ptr<MessageTransport>> open(const std::string& url, const TransportOptions& o);
  virtual ~MessageTransport();
  MessageTransport(const MessageTransport&) = delete;
  MessageTransport& operator=(const MessageTransport&) = delete;

  // One whole message (never split between connections). Returns quickly.
  virtual void send(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept = 0;
  // Periodic work: reconnect when due, push buffered bytes. Call often.
  virtual void poll(std::uint64_t now_ns) noexcept = 0;
  // Shutdown: keep trying to deliver what is buffered until deadline (steady
  // clock ns); then count the rest as dropped(shutdown). Returns true if
  // everything went out (TCP: and was acknowledged by the peer). Later
  // send() calls count dropped(shutdown).
  virtual bool drain(std::uint64_t deadline_ns) noexcept = 0;
  // Increments on every new TCP connection (the IPFIX encoder must then
  // resend its templates first); constant for UDP/file.
  virtual std::uint64_t connection_epoch() const noexcept = 0;
  virtual bool stream() const noexcept = 0;  // TCP/file: messages up to 65535 bytes; UDP: keep them MTU-sized
  // TCP: bytes written first on every new connection, before any buffered
  // or resent message. Messages resent after a reconnect were encoded
  // against the old connection's templates, which a collector forgets with
  // the connection (RFC 7011 8.1), so the encoder puts its current template
  // set here and they stay decodable. Ignored by UDP and file. Copied.
  virtual void set_stream_preamble(std::span<const std::uint8_t> msg);

  const TransportCounters& counters() const noexcept { return counters_; }

 protected:
  MessageTransport() = default;
  void drop(TransportDrop r) noexcept { counters_.dropped[static_cast<unsigned>(r)].inc(); }
  TransportCounters counters_;
};

// Monotonic clock in ns: the clock drain() deadlines are on (std::chrono::steady_clock).
std::uint64_t steady_now_ns() noexcept;

}  // namespace sf
