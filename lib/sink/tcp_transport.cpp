#include "sink/tcp_transport.hpp"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace sf {

namespace {

constexpr std::uint64_t kNsPerMs = 1'000'000;

void sleep_ms(int ms) noexcept {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000L};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

TcpTransport::TcpTransport(std::vector<SockAddr> addrs, const TransportOptions& o)
    : addrs_(std::move(addrs)),
      opts_(o),
      cap_(std::max<std::uint32_t>(o.buffer_bytes, 1)),
      replay_bytes_(o.replay_bytes),
      backoff_ms_(std::max<std::uint32_t>(o.reconnect_min_ms, 1)) {
  opts_.reconnect_min_ms = backoff_ms_;
  opts_.reconnect_max_ms = std::max(opts_.reconnect_max_ms, opts_.reconnect_min_ms);
  // Allocated once: the buffer bound is also the memory bound.
  ring_ = std::make_unique<std::uint8_t[]>(cap_);
  const sa_family_t f = addrs_.empty() ? AF_INET : addrs_[0].ss.ss_family;
  outq_survives_reset_ = f == AF_INET || f == AF_INET6;
  if (opts_.spill_bytes != 0) {
    std::string tmpl = (opts_.spill_dir.empty() ? std::string("/tmp") : opts_.spill_dir) + "/shardflow-spill-XXXXXX";
    spill_fd_ = ::mkstemp(tmpl.data());
    if (spill_fd_ >= 0) ::unlink(tmpl.c_str());  // gone with the process; nothing to clean up
    spill_scratch_.reserve(65536 + 4);
  }
}

TcpTransport::~TcpTransport() {
  close_fd();
  if (spill_fd_ >= 0) ::close(spill_fd_);
}

bool TcpTransport::spill_put(std::span<const std::uint8_t> msg) noexcept {
  if (spill_fd_ < 0 || spill_write_ - spill_read_ + 4 + msg.size() > opts_.spill_bytes) return false;
  const std::uint32_t len = static_cast<std::uint32_t>(msg.size());
  iovec iov[2] = {{const_cast<std::uint32_t*>(&len), 4}, {const_cast<std::uint8_t*>(msg.data()), msg.size()}};
  const ssize_t w = ::pwritev(spill_fd_, iov, 2, static_cast<off_t>(spill_write_));
  if (w != static_cast<ssize_t>(4 + msg.size())) {
    counters_.spill_errors.inc();
    return false;
  }
  spill_write_ += 4 + msg.size();
  ++spill_msgs_;
  counters_.messages_spilled.inc();
  counters_.messages_buffered.inc();
  return true;
}

void TcpTransport::unspill(std::uint64_t now_ns) noexcept {
  while (spilled()) {
    std::uint32_t len = 0;
    if (::pread(spill_fd_, &len, 4, static_cast<off_t>(spill_read_)) != 4 || len > 65535 + 65536) {
      counters_.spill_errors.inc();
      drop(TransportDrop::buffer_full);  // the file went bad: what it held is lost, counted per message
      for (; spill_msgs_ > 1; --spill_msgs_) drop(TransportDrop::buffer_full);
      spill_msgs_ = 0;
      spill_read_ = spill_write_ = 0;
      return;
    }
    trim_kept(len);  // kept acked messages give way
    if (len > cap_ - (tail_ - keep_)) return;  // not yet: wait for acks
    spill_scratch_.resize(len);
    if (::pread(spill_fd_, spill_scratch_.data(), len, static_cast<off_t>(spill_read_ + 4)) != static_cast<ssize_t>(len)) {
      counters_.spill_errors.inc();
      return;
    }
    spill_read_ += 4 + len;
    --spill_msgs_;
    // Already counted as buffered when it was spilled.
    ring_put(std::span<const std::uint8_t>(spill_scratch_.data(), len), now_ns);
    if (!spilled()) {  // empty again: start the file over
      spill_read_ = spill_write_ = 0;
      if (::ftruncate(spill_fd_, 0) != 0) counters_.spill_errors.inc();
    }
  }
}

void TcpTransport::set_stream_preamble(std::span<const std::uint8_t> msg) {
  preamble_.assign(msg.begin(), msg.end());
}

void TcpTransport::close_fd() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TcpTransport::send(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept {
  if (state_ == State::kClosed) {
    drop(TransportDrop::shutdown);
    return;
  }
  if (msg.empty()) {  // nothing to deliver
    counters_.messages_sent.inc();
    return;
  }
  const std::uint64_t n = msg.size();
  if (spilled() || n > cap_ - (tail_ - keep_)) {
    release_acked();  // acks may have arrived since the last poll
    unspill(now_ns);
    trim_kept(n);  // kept acked messages give way to new ones
    // Order: once messages wait in the spill file, new ones queue behind them.
    if (spilled() || n > cap_ - (tail_ - keep_)) {
      if (!spill_put(msg)) drop(TransportDrop::buffer_full);
      return;
    }
  }
  ring_put(msg, now_ns);
}

bool TcpTransport::ring_put(std::span<const std::uint8_t> msg, std::uint64_t now_ns) noexcept {
  const std::uint64_t n = msg.size();
  trim_kept(n);
  if (n > cap_ - (tail_ - keep_)) return false;
  try {
    lengths_.push_back(static_cast<std::uint32_t>(n));  // bounded by the ring: one per held message
  } catch (...) {
    drop(TransportDrop::buffer_full);
    return true;  // counted
  }
  const std::uint64_t pos = tail_ % cap_;
  const std::uint64_t first = std::min(n, cap_ - pos);
  std::memcpy(&ring_[pos], msg.data(), first);
  if (first < n) std::memcpy(&ring_[0], msg.data() + first, n - first);
  tail_ += n;
  const std::uint64_t seq = keep_seq_ + lengths_.size() - 1;
  write_pending(now_ns);
  if (unsent_seq_ <= seq) counters_.messages_buffered.inc();
  return true;
}

void TcpTransport::poll(std::uint64_t now_ns) noexcept {
  switch (state_) {
    case State::kClosed:
      return;
    case State::kDown:
      if (now_ns >= next_attempt_ns_) start_connect(now_ns);
      return;
    case State::kConnecting:
      check_connect(now_ns);
      return;
    case State::kConnected:
      check_peer_closed(now_ns);
      write_pending(now_ns);
      if (spilled()) {
        release_acked();
        unspill(now_ns);
      }
      return;
  }
}

void TcpTransport::start_connect(std::uint64_t now_ns) noexcept {
  // Several addresses (a name with A and AAAA records): one per attempt, in turn.
  const SockAddr& a = addrs_[next_addr_++ % addrs_.size()];
  fd_ = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    connect_failed(now_ns);
    return;
  }
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a.ss), a.len) == 0) {
    on_connected(now_ns);
  } else if (errno == EINPROGRESS) {
    state_ = State::kConnecting;
    connect_started_ns_ = now_ns;
  } else {
    connect_failed(now_ns);
  }
}

void TcpTransport::check_connect(std::uint64_t now_ns) noexcept {
  pollfd p{fd_, POLLOUT, 0};
  const int r = ::poll(&p, 1, 0);
  if (r > 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
      on_connected(now_ns);
    else
      connect_failed(now_ns);
  } else if (now_ns - connect_started_ns_ >= opts_.connect_timeout_ms * kNsPerMs) {
    connect_failed(now_ns);
  }
}

void TcpTransport::connect_failed(std::uint64_t now_ns) noexcept {
  counters_.connect_failures.inc();
  close_fd();
  state_ = State::kDown;
  next_attempt_ns_ = now_ns + backoff_ms_ * kNsPerMs;
  backoff_ms_ = std::min(backoff_ms_ * 2, opts_.reconnect_max_ms);
}

void TcpTransport::on_connected(std::uint64_t now_ns) noexcept {
  state_ = State::kConnected;
  ++epoch_;
  if (epoch_ > 1) counters_.reconnects.inc();
  backoff_ms_ = opts_.reconnect_min_ms;
  try {
    conn_preamble_ = preamble_;
  } catch (...) {
    conn_preamble_.clear();  // out of memory: the encoder's own template resend still follows the epoch
  }
  preamble_written_ = 0;
  // Everything not acknowledged goes again, from a message boundary.
  cursor_ = cursor_msg_off_ = conn_start_ = head_;
  cursor_seq_ = head_seq_;
  write_pending(now_ns);
}

void TcpTransport::connection_lost(std::uint64_t now_ns, bool peer_may_have_lost) noexcept {
  // TCP: SIOCOUTQ is write_seq - snd_una, which a reset leaves intact: the
  // last acks still count, and what they did not cover is resent.
  release_acked();
  // A reset or an error may have thrown away acked bytes the collector had
  // not read: resend the kept ones as well (duplicates rather than a gap).
  // (Not over AF_UNIX: there an unread byte is never counted as acked.)
  if (peer_may_have_lost && outq_survives_reset_) {
    head_ = keep_;
    head_seq_ = keep_seq_;
  }
  close_fd();
  counters_.connection_losses.inc();
  state_ = State::kDown;
  backoff_ms_ = opts_.reconnect_min_ms;
  // Not at once: a collector that accepts and closes must not make us spin.
  next_attempt_ns_ = now_ns + backoff_ms_ * kNsPerMs;
}

void TcpTransport::check_peer_closed(std::uint64_t now_ns) noexcept {
  // A collector never sends; reading is how a close (EOF) or reset shows
  // when we have nothing to write. Stray bytes are discarded.
  std::uint8_t sink[512];
  for (int i = 0; i < 16; ++i) {
    const ssize_t r = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // A clean close (EOF) means the peer had read everything it acked: Linux
    // resets a socket closed with unread data instead.
    connection_lost(now_ns, r != 0);
    return;
  }
}

void TcpTransport::write_pending(std::uint64_t now_ns) noexcept {
  if (state_ != State::kConnected) return;
  for (;;) {
    iovec iov[3];
    int n_iov = 0;
    const std::size_t pre_left = conn_preamble_.size() - preamble_written_;
    if (pre_left > 0) iov[n_iov++] = {conn_preamble_.data() + preamble_written_, pre_left};
    const std::uint64_t left = tail_ - cursor_;
    if (left > 0) {
      const std::uint64_t pos = cursor_ % cap_;
      const std::uint64_t first = std::min(left, cap_ - pos);
      iov[n_iov++] = {&ring_[pos], first};
      if (first < left) iov[n_iov++] = {&ring_[0], left - first};
    }
    if (n_iov == 0) break;
    msghdr mh{};
    mh.msg_iov = iov;
    mh.msg_iovlen = static_cast<std::size_t>(n_iov);
    const ssize_t r = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // socket full: the ring holds the rest
      // Writing after the peer's FIN draws a reset too, but the kernel then
      // reports EPIPE (reset in CLOSE_WAIT): the FIN says the peer had read
      // everything. ECONNRESET is a reset of an open connection.
      connection_lost(now_ns, errno != EPIPE);
      return;
    }
    std::uint64_t w = static_cast<std::uint64_t>(r);
    const std::uint64_t pre = std::min<std::uint64_t>(w, pre_left);
    preamble_written_ += pre;
    w -= pre;
    cursor_ += w;
    // Count each message once, when its last byte first reaches the kernel.
    while (cursor_seq_ < keep_seq_ + lengths_.size() && cursor_ >= cursor_msg_off_ + len_of(cursor_seq_)) {
      const std::uint32_t len = len_of(cursor_seq_);
      if (cursor_seq_ >= unsent_seq_) {
        counters_.messages_sent.inc();
        counters_.bytes_sent.add(len);
        unsent_seq_ = cursor_seq_ + 1;
      } else {
        counters_.messages_resent.inc();
      }
      cursor_msg_off_ += len;
      ++cursor_seq_;
    }
  }
  release_acked();
}

void TcpTransport::release_acked() noexcept {
  if (fd_ < 0 || state_ != State::kConnected) return;
  int outq = 0;
  if (::ioctl(fd_, SIOCOUTQ, &outq) != 0 || outq < 0) return;
  if (!outq_survives_reset_) {
    // A Unix peer that closes frees what it had not read, and our count
    // drops as if it had been consumed. The peer marks us shut down before
    // it frees, so a peer still there after the reading makes it good.
    std::uint8_t b;
    const ssize_t r = ::recv(fd_, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (!(r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))) return;
  }
  const std::uint64_t written = preamble_written_ + (cursor_ - conn_start_);
  const std::uint64_t unacked = std::min<std::uint64_t>(static_cast<std::uint64_t>(outq), written);
  const std::uint64_t acked = written - unacked;
  const std::uint64_t pre = conn_preamble_.size();
  const std::uint64_t ring_acked = conn_start_ + (acked > pre ? acked - pre : 0);
  while (held_messages() != 0 && head_ + len_of(head_seq_) <= ring_acked) {
    head_ += len_of(head_seq_);
    ++head_seq_;
  }
  trim_kept(0);
}

void TcpTransport::trim_kept(std::uint64_t room_needed) noexcept {
  // Oldest first: within replay_bytes_, and out of the way of new messages.
  while (keep_ < head_ && (head_ - keep_ > replay_bytes_ || room_needed > cap_ - (tail_ - keep_))) {
    keep_ += lengths_.front();
    lengths_.pop_front();
    ++keep_seq_;
  }
}

bool TcpTransport::drain(std::uint64_t deadline_ns) noexcept {
  if (state_ == State::kClosed) return held_messages() == 0;
  for (;;) {
    const std::uint64_t now = steady_now_ns();
    poll(now);
    if ((held_messages() == 0 && !spilled()) || now >= deadline_ns) break;
    // Wait for the socket (or the next connect attempt) rather than spin,
    // in slices short enough to notice acks and honour the deadline.
    const std::uint64_t left_ms = (deadline_ns - now + kNsPerMs - 1) / kNsPerMs;
    int ms = static_cast<int>(std::min<std::uint64_t>(left_ms, 10));
    if (state_ == State::kConnected || state_ == State::kConnecting) {
      const bool want_write = state_ == State::kConnecting || cursor_ < tail_ ||
                              preamble_written_ < conn_preamble_.size();
      if (!want_write) ms = std::min(ms, 1);  // all written: waiting for acks
      pollfd p{fd_, static_cast<short>(want_write ? POLLOUT : POLLIN), 0};
      ::poll(&p, 1, ms);
    } else {
      if (next_attempt_ns_ > now) {
        const std::uint64_t until = (next_attempt_ns_ - now + kNsPerMs - 1) / kNsPerMs;
        ms = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(ms), until));
      }
      sleep_ms(std::max(ms, 1));
    }
  }
  const bool ok = held_messages() == 0 && !spilled();
  for (; spill_msgs_ != 0; --spill_msgs_) drop(TransportDrop::shutdown);  // behind everything in the ring
  spill_read_ = spill_write_ = 0;
  const std::uint64_t end_seq = keep_seq_ + lengths_.size();
  for (std::uint64_t seq = head_seq_; seq < end_seq; ++seq) {
    if (seq >= unsent_seq_)
      drop(TransportDrop::shutdown);
    else
      counters_.unacked_at_shutdown.inc();
  }
  keep_seq_ = head_seq_ = end_seq;
  lengths_.clear();
  keep_ = head_ = tail_;
  close_fd();  // graceful: the kernel still sends what it holds
  state_ = State::kClosed;
  return ok;
}

}  // namespace sf
