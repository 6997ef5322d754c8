// The TCP transport (made by MessageTransport::open for "tcp://"). Messages
// live in one bounded byte ring from send() until the peer's kernel has
// acknowledged them:
//
//   keep_          head_            ack cursor_               tail_
//   | acked, kept   | acked? no ----- | written, unacked | unsent |
//
// head_ is always a message boundary (only whole messages are released), so
// a new connection re-sends from head_ and a message is never split between
// connections. What the peer acknowledged is read from SIOCOUTQ (bytes
// written but not yet acked: write_seq - snd_una, still valid after a reset).
// Any SOCK_STREAM address works; over AF_UNIX (tests) SIOCOUTQ counts the
// bytes the peer process has not read, so there nothing at all is lost.
//
// An ack is not a read: a collector killed with bytes in its socket's receive
// queue loses them although its kernel acknowledged them, and IPFIX over TCP
// has no application acknowledgement. Linux resets (RST) a connection closed
// with unread data, and closes it cleanly (FIN) only when everything was read,
// so acked messages are kept behind head_ (from keep_, at most
// replay_bytes, and only while the ring has room to spare) and a connection
// that ends in a reset or an error resends them too. The collector then sees
// duplicates of whole messages (same sequence numbers) rather than a gap; a
// peer that held more unread bytes than that window still loses the excess.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "sink/message_transport.hpp"

namespace sf {

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

class TcpTransport final : public MessageTransport {
 public:
  TcpTransport(std::vector<SockAddr> addrs, const TransportOptions& o);
  ~TcpTransport() override;

  void send(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept override;
  void poll(std::uint64_t now_ns) noexcept override;
  bool drain(std::uint64_t deadline_ns) noexcept override;
  std::uint64_t connection_epoch() const noexcept override { return epoch_; }
  bool stream() const noexcept override { return true; }
  void set_stream_preamble(std::span<const std::uint8_t> msg) override;

  // For tests and stats: bytes held (unacked + unsent), messages held.
  std::uint64_t buffered_bytes() const noexcept { return tail_ - head_; }
  std::size_t buffered_messages() const noexcept { return held_messages(); }
  // Acked messages kept for a resend after a reset (bytes).
  std::uint64_t replay_window_bytes() const noexcept { return head_ - keep_; }
  bool connected() const noexcept { return state_ == State::kConnected; }

 private:
  enum class State : std::uint8_t { kDown, kConnecting, kConnected, kClosed };

  void start_connect(std::uint64_t now_ns) noexcept;
  void check_connect(std::uint64_t now_ns) noexcept;
  void on_connected(std::uint64_t now_ns) noexcept;
  void connect_failed(std::uint64_t now_ns) noexcept;
  void connection_lost(std::uint64_t now_ns, bool peer_may_have_lost) noexcept;
  void trim_kept(std::uint64_t room_needed) noexcept;
  std::size_t held_messages() const noexcept { return static_cast<std::size_t>(keep_seq_ + lengths_.size() - head_seq_); }
  void check_peer_closed(std::uint64_t now_ns) noexcept;
  void write_pending(std::uint64_t now_ns) noexcept;
  void release_acked() noexcept;
  void close_fd() noexcept;
  // The ring's tail part: copy a whole message in (false: no room).
  bool ring_put(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept;
  bool spill_put(std::span<const std::uint8_t> msg) noexcept;
  // Moves spilled messages back into the ring while they fit, oldest first.
  void unspill(std::uint64_t now_ns) noexcept;
  bool spilled() const noexcept { return spill_read_ != spill_write_; }
  std::uint32_t len_of(std::uint64_t seq) const noexcept { return lengths_[seq - keep_seq_]; }

  std::vector<SockAddr> addrs_;
  std::size_t next_addr_ = 0;
  TransportOptions opts_;
  std::unique_ptr<std::uint8_t[]> ring_;
  std::uint64_t cap_;
  std::uint64_t replay_bytes_;
  // Logical byte offsets into the ring (position = offset % cap_).
  std::uint64_t keep_ = 0, head_ = 0, tail_ = 0;
  // Lengths of the kept and held messages; lengths_[0] is message keep_seq_,
  // the first not acknowledged is head_seq_.
  std::deque<std::uint32_t> lengths_;
  std::uint64_t keep_seq_ = 0, head_seq_ = 0;
  // First message never written whole (each message is counted sent once).
  std::uint64_t unsent_seq_ = 0;
  // The current connection's write position: bytes of ring written up to
  // cursor_, within message cursor_seq_ starting at cursor_msg_off_.
  std::uint64_t cursor_ = 0, cursor_seq_ = 0, cursor_msg_off_ = 0;
  std::uint64_t conn_start_ = 0;  // ring offset this connection started at (after the preamble)
  std::vector<std::uint8_t> preamble_;       // for the next connections
  std::vector<std::uint8_t> conn_preamble_;  // the one this connection started with
  std::size_t preamble_written_ = 0;         // of conn_preamble_, on this connection

  // Spill file (opts_.spill_bytes > 0): [u32 length][bytes] records from
  // spill_read_ to spill_write_; spill_msgs_ of them.
  int spill_fd_ = -1;
  std::uint64_t spill_read_ = 0, spill_write_ = 0, spill_msgs_ = 0;
  std::vector<std::uint8_t> spill_scratch_;  // one message on its way back

  int fd_ = -1;
  State state_ = State::kDown;
  std::uint64_t epoch_ = 0;
  std::uint64_t next_attempt_ns_ = 0, connect_started_ns_ = 0;
  std::uint32_t backoff_ms_;
  // TCP's unacked count stays right after a reset; a Unix socket's (used
  // by the tests: there it counts bytes the peer has not read) does not.
  bool outq_survives_reset_ = true;
};

}  // namespace sf
