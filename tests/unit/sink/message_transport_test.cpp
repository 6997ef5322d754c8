// MessageTransport against collectors in this process (threads on
// 127.0.0.1). Messages carry their own counter and a filler derived from it,
// so the collector checks every byte and the order without trusting the
// transport: [0..1] 0x000a, [2..3] total length, [4..7] counter, then
// byte i = (counter * 7 + i) & 0xff (big endian, like an IPFIX header).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sink/message_transport.hpp"
#include "sink/tcp_transport.hpp"

namespace sf {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::uint32_t kPreambleCounter = 0xffffffffu;

Bytes make_msg(std::uint32_t counter, std::size_t size) {
  Bytes m(size);
  m[0] = 0x00;
  m[1] = 0x0a;
  m[2] = static_cast<std::uint8_t>(size >> 8);
  m[3] = static_cast<std::uint8_t>(size);
  m[4] = static_cast<std::uint8_t>(counter >> 24);
  m[5] = static_cast<std::uint8_t>(counter >> 16);
  m[6] = static_cast<std::uint8_t>(counter >> 8);
  m[7] = static_cast<std::uint8_t>(counter);
  for (std::size_t i = 8; i < size; ++i) m[i] = static_cast<std::uint8_t>(counter * 7 + i);
  return m;
}

std::size_t size_of(std::uint32_t counter) { return 16 + (counter * 37u) % 1000u; }

// Checks one framed message; returns its counter, or -1 when a byte is off.
long long check_msg(const std::uint8_t* p, std::size_t n) {
  if (n < 8 || p[0] != 0 || p[1] != 0x0a || ((std::size_t{p[2]} << 8) | p[3]) != n) return -1;
  const std::uint32_t c = (std::uint32_t{p[4]} << 24) | (std::uint32_t{p[5]} << 16) |
                          (std::uint32_t{p[6]} << 8) | p[7];
  for (std::size_t i = 8; i < n; ++i)
    if (p[i] != static_cast<std::uint8_t>(c * 7 + i)) return -1;
  return c;
}

std::uint16_t free_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::uint64_t ms(std::uint64_t n) { return n * 1'000'000; }

// Polls the transport until pred() or timeout; true when pred() held.
bool pump(MessageTransport& t, const std::function<bool()>& pred, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    t.poll(steady_now_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

struct Received {
  int conn;
  long long counter;  // -1: bytes did not match
};

// A TCP collector: one listener; accepts connections one after another and
// frames what it reads by the length field. close_when_quiet() reads until
// nothing came for 150 ms, then closes the connection and the listener (a
// collector that goes away without losing anything it was sent).
class Collector {
 public:
  explicit Collector(std::uint16_t port, int first_conn = 0) : conn_no_(first_conn) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bound_ = ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(lfd_, 4) == 0;
    th_ = std::thread([this] { run(); });
  }
  ~Collector() {
    stop_ = true;
    th_.join();
    if (cfd_ >= 0) ::close(cfd_);
    if (lfd_ >= 0) ::close(lfd_);
  }
  bool bound() const { return bound_; }
  void close_when_quiet() { close_req_ = true; }
  bool wait_closed(int timeout_ms) {
    for (int i = 0; i < timeout_ms && !closed_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return closed_;
  }
  std::vector<Received> got() {
    std::lock_guard<std::mutex> g(mu_);
    return got_;
  }
  std::size_t count() {
    std::lock_guard<std::mutex> g(mu_);
    return got_.size();
  }
  int connections() const { return conn_no_; }

 private:
  void run() {
    Bytes buf;
    auto last_data = std::chrono::steady_clock::now();
    while (!stop_ && !closed_) {
      if (close_req_ && std::chrono::steady_clock::now() - last_data > std::chrono::milliseconds(150)) {
        if (cfd_ >= 0) ::close(cfd_);
        ::close(lfd_);
        cfd_ = lfd_ = -1;
        closed_ = true;
        break;
      }
      if (cfd_ < 0) {
        pollfd p{lfd_, POLLIN, 0};
        if (::poll(&p, 1, 10) > 0) {
          cfd_ = ::accept(lfd_, nullptr, nullptr);
          if (cfd_ >= 0) ++conn_no_;
          buf.clear();
        }
        continue;
      }
      pollfd p{cfd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      std::uint8_t tmp[65536];
      const ssize_t r = ::read(cfd_, tmp, sizeof tmp);
      if (r <= 0) {
        ::close(cfd_);
        cfd_ = -1;
        continue;
      }
      last_data = std::chrono::steady_clock::now();
      buf.insert(buf.end(), tmp, tmp + r);
      std::size_t off = 0;
      while (buf.size() - off >= 4) {
        const std::size_t len = (std::size_t{buf[off + 2]} << 8) | buf[off + 3];
        if (len < 8) {  // framing lost: record it and stop this connection's parsing
          std::lock_guard<std::mutex> g(mu_);
          got_.push_back({conn_no_, -1});
          off = buf.size();
          break;
        }
        if (buf.size() - off < len) break;
        std::lock_guard<std::mutex> g(mu_);
        got_.push_back({conn_no_, check_msg(&buf[off], len)});
        off += len;
      }
      buf.erase(buf.begin(), buf.begin() + static_cast<long>(off));
    }
  }

  int lfd_ = -1, cfd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false}, close_req_{false}, closed_{false};
  std::atomic<int> conn_no_;
  std::mutex mu_;
  std::vector<Received> got_;
  std::thread th_;
};

std::unique_ptr<MessageTransport> open_ok(const std::string& url, const TransportOptions& o = {}) {
  auto r = MessageTransport::open(url, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? std::move(r.value()) : nullptr;
}

std::uint64_t dropped(const MessageTransport& t, TransportDrop d) {
  return t.counters().dropped[static_cast<unsigned>(d)].get();
}

TransportOptions fast_reconnect() {
  TransportOptions o;
  o.reconnect_min_ms = 10;
  o.reconnect_max_ms = 50;
  return o;
}

// ---- URLs ----

TEST(TransportUrl, BadUrlsGiveClearErrors) {
  const struct {
    const char* url;
    const char* expect;
  } cases[] = {
      {"", "unknown scheme"},
      {"http://127.0.0.1:80", "unknown scheme"},
      {"udp:127.0.0.1:4739", "unknown scheme"},
      {"udp://127.0.0.1", "missing ':PORT'"},
      {"udp://127.0.0.1:", "port must be a number 1..65535, got ''"},
      {"udp://127.0.0.1:0", "port must be a number 1..65535, got '0'"},
      {"tcp://127.0.0.1:65536", "port must be a number 1..65535, got '65536'"},
      {"tcp://127.0.0.1:47x9", "got '47x9'"},
      {"tcp://:4739", "empty host"},
      {"tcp://[]:4739", "empty host"},
      {"tcp://::1:4739", "must be written in brackets"},
      {"tcp://[::1:4739", "missing ']'"},
      {"tcp://[::1]4739", "expected ':PORT' after ']'"},
      {"udp://300.1.2.3:4739", "cannot resolve '300.1.2.3'"},
      {"file:", "empty file path"},
      {"file:-", "stdout is not allowed"},
      {"file:/nonexistent-sf-dir/x.ipfix", "No such file or directory"},
  };
  for (const auto& c : cases) {
    auto r = MessageTransport::open(c.url, {});
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_NE(r.error().find(c.expect), std::string::npos) << c.url << " -> " << r.error();
    EXPECT_NE(r.error().find(std::string("'") + c.url + "'"), std::string::npos) << r.error();
  }
}

TEST(TransportUrl, DropReasonNames) {
  EXPECT_EQ(transport_drop_name(TransportDrop::buffer_full), "buffer_full");
  EXPECT_EQ(transport_drop_name(TransportDrop::send_error), "send_error");
  EXPECT_EQ(transport_drop_name(TransportDrop::shutdown), "shutdown");
}

// ---- UDP ----

TEST(UdpTransport, EveryDatagramArrivesByteExact) {
  const int rfd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const int big = 4 << 20;
  ::setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(rfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(rfd, reinterpret_cast<sockaddr*>(&a), &len);

  std::vector<Received> got;
  std::thread rx([&] {
    std::uint8_t b[2048];
    for (;;) {
      pollfd p{rfd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) break;
      const ssize_t r = ::recv(rfd, b, sizeof b, 0);
      if (r <= 0) break;
      got.push_back({0, check_msg(b, static_cast<std::size_t>(r))});
      if (got.size() == 300) break;
    }
  });
  auto t = open_ok("udp://127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->stream());
  std::uint64_t bytes = 0;
  for (std::uint32_t i = 0; i < 300; ++i) {
    const Bytes m = make_msg(i, 16 + (i * 37u) % 1400u);
    bytes += m.size();
    t->send(m, steady_now_ns());
    if (i % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  rx.join();
  ::close(rfd);
  ASSERT_EQ(got.size(), 300u);
  for (std::uint32_t i = 0; i < 300; ++i) EXPECT_EQ(got[i].counter, i);  // loopback keeps order
  EXPECT_EQ(t->counters().messages_sent.get(), 300u);
  EXPECT_EQ(t->counters().bytes_sent.get(), bytes);
  EXPECT_EQ(dropped(*t, TransportDrop::send_error), 0u);
  EXPECT_EQ(t->connection_epoch(), 0u);
  EXPECT_TRUE(t->drain(steady_now_ns()));
  t->send(make_msg(1, 20), steady_now_ns());
  EXPECT_EQ(dropped(*t, TransportDrop::shutdown), 1u);
}

TEST(UdpTransport, RefusedDatagramsAreCounted) {
  // Nobody on the port: each datagram draws an ICMP port unreachable, which
  // the kernel reports on the next send (and that one does not go).
  auto t = open_ok("udp://127.0.0.1:" + std::to_string(free_port(SOCK_DGRAM)));
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 20; ++i) {
    t->send(make_msg(i, 100), steady_now_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  const auto& c = t->counters();
  EXPECT_EQ(c.messages_sent.get() + dropped(*t, TransportDrop::send_error), 20u);
  EXPECT_GE(dropped(*t, TransportDrop::send_error), 5u);
  EXPECT_GE(c.messages_sent.get(), 1u);  // the first one goes
}

TEST(UdpTransport, Ipv6Literal) {
  const int rfd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (rfd < 0 || ::bind(rfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (rfd >= 0) ::close(rfd);
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  socklen_t len = sizeof a;
  ::getsockname(rfd, reinterpret_cast<sockaddr*>(&a), &len);
  auto t = open_ok("udp://[::1]:" + std::to_string(ntohs(a.sin6_port)));
  ASSERT_TRUE(t);
  const Bytes m = make_msg(42, 300);
  t->send(m, steady_now_ns());
  std::uint8_t b[2048];
  pollfd p{rfd, POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 1000), 0);
  EXPECT_EQ(::recv(rfd, b, sizeof b, 0), 300);
  EXPECT_EQ(check_msg(b, 300), 42);
  ::close(rfd);
}

// ---- file ----

std::string temp_path(const char* tag) {
  const char* d = std::getenv("TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/sf-sink-" + tag + "-" + std::to_string(::getpid());
}

Bytes read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

TEST(FileTransport, AppendsWholeMessages) {
  const std::string path = temp_path("file");
  ::unlink(path.c_str());
  Bytes expect;
  {
    auto t = open_ok("file:" + path);
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->stream());
    for (std::uint32_t i = 0; i < 3; ++i) {
      const Bytes m = make_msg(i, size_of(i));
      expect.insert(expect.end(), m.begin(), m.end());
      t->send(m, 0);
    }
    EXPECT_EQ(t->counters().messages_sent.get(), 3u);
    EXPECT_TRUE(t->drain(0));
  }
  {
    auto t = open_ok("file:" + path);  // append, not truncate
    ASSERT_TRUE(t);
    const Bytes m = make_msg(3, size_of(3));
    expect.insert(expect.end(), m.begin(), m.end());
    t->send(m, 0);
  }
  EXPECT_EQ(read_all(path), expect);
  ::unlink(path.c_str());
}

TEST(FileTransport, WriteErrorsAreCounted) {
  auto t = open_ok("file:/dev/full");
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 5; ++i) t->send(make_msg(i, 100), 0);
  EXPECT_EQ(dropped(*t, TransportDrop::send_error), 5u);
  EXPECT_EQ(t->counters().messages_sent.get(), 0u);
}

// ---- TCP ----

TEST(TcpTransport, BuffersUntilTheCollectorListensThenDeliversInOrderOnce) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), fast_reconnect());
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->stream());
  EXPECT_EQ(t->connection_epoch(), 0u);
  constexpr std::uint32_t kN = 500;
  std::uint64_t bytes = 0;
  for (std::uint32_t i = 0; i < kN; ++i) {
    const Bytes m = make_msg(i, size_of(i));
    bytes += m.size();
    t->send(m, steady_now_ns());
    t->poll(steady_now_ns());
  }
  const auto& c = t->counters();
  EXPECT_EQ(c.messages_buffered.get(), kN);
  EXPECT_EQ(c.messages_sent.get(), 0u);
  EXPECT_GE(c.connect_failures.get(), 1u);

  Collector col(port);
  ASSERT_TRUE(col.bound());
  ASSERT_TRUE(pump(*t, [&] { return col.count() >= kN; }, 5000)) << col.count();
  EXPECT_TRUE(t->drain(steady_now_ns() + ms(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto got = col.got();
  ASSERT_EQ(got.size(), kN);
  for (std::uint32_t i = 0; i < kN; ++i) {
    EXPECT_EQ(got[i].counter, i);
    EXPECT_EQ(got[i].conn, 1);
  }
  EXPECT_EQ(c.messages_sent.get(), kN);
  EXPECT_EQ(c.bytes_sent.get(), bytes);
  EXPECT_EQ(c.messages_resent.get(), 0u);
  EXPECT_EQ(c.reconnects.get(), 0u);
  EXPECT_EQ(t->connection_epoch(), 1u);
  for (unsigned d = 0; d < kTransportDropCount; ++d) EXPECT_EQ(c.dropped[d].get(), 0u) << d;
}

TEST(TcpTransport, CollectorRestartMidStreamLosesNothing) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), fast_reconnect());
  ASSERT_TRUE(t);
  // Templates go first on every connection.
  const Bytes preamble = make_msg(kPreambleCounter, 40);
  t->set_stream_preamble(preamble);
  constexpr std::uint32_t kFirst = 400, kN = 1000;
  std::vector<Received> got1;
  {
    Collector col(port);
    ASSERT_TRUE(col.bound());
    ASSERT_TRUE(pump(*t, [&] { return t->connection_epoch() == 1; }, 2000));
    for (std::uint32_t i = 0; i < kFirst; ++i) {
      t->send(make_msg(i, size_of(i)), steady_now_ns());
      t->poll(steady_now_ns());
    }
    ASSERT_TRUE(pump(*t, [&] { return col.count() >= kFirst + 1; }, 3000));
    col.close_when_quiet();  // reads everything, then closes socket and listener
    ASSERT_TRUE(col.wait_closed(3000));
    got1 = col.got();
  }
  // The first send after the close writes into the dead connection (peer
  // resets it): those bytes are never acked and must be sent again.
  for (std::uint32_t i = kFirst; i < kFirst + 100; ++i) {
    t->send(make_msg(i, size_of(i)), steady_now_ns());
    t->poll(steady_now_ns());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  Collector col2(port, 1);
  ASSERT_TRUE(col2.bound());
  for (std::uint32_t i = kFirst + 100; i < kN; ++i) {
    t->send(make_msg(i, size_of(i)), steady_now_ns());
    t->poll(steady_now_ns());
  }
  ASSERT_TRUE(t->drain(steady_now_ns() + ms(3000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto got2 = col2.got();

  // First connection: the preamble, then 0..kFirst-1 in order.
  ASSERT_EQ(got1.size(), kFirst + 1);
  EXPECT_EQ(got1[0].counter, kPreambleCounter);
  for (std::uint32_t i = 0; i < kFirst; ++i) EXPECT_EQ(got1[i + 1].counter, i);
  // Second: the preamble, then in order from where the acks stopped: all of
  // the first connection was read and acked, so nothing of it comes again.
  ASSERT_GE(got2.size(), 2u);
  EXPECT_EQ(got2[0].counter, kPreambleCounter);
  EXPECT_EQ(got2[1].counter, kFirst);
  std::set<long long> seen;
  for (const auto& r : got1) seen.insert(r.counter);
  std::size_t dups = 0;
  for (std::size_t k = 1; k < got2.size(); ++k) {
    EXPECT_EQ(got2[k].counter, static_cast<long long>(kFirst + k - 1));
    if (!seen.insert(got2[k].counter).second) ++dups;
  }
  EXPECT_EQ(got2.size(), kN - kFirst + 1);
  EXPECT_EQ(seen.size(), kN + 1);  // every counter and the preamble
  EXPECT_EQ(dups, 0u);
  const auto& c = t->counters();
  std::printf("restart: %zu duplicates at the collector, %llu messages resent, %llu connection losses\n", dups,
              static_cast<unsigned long long>(c.messages_resent.get()),
              static_cast<unsigned long long>(c.connection_losses.get()));
  EXPECT_GE(c.messages_resent.get(), 1u);
  EXPECT_EQ(c.messages_sent.get(), kN);
  EXPECT_EQ(c.connection_losses.get(), 1u);
  EXPECT_EQ(c.reconnects.get(), 1u);
  EXPECT_EQ(t->connection_epoch(), 2u);
  for (unsigned d = 0; d < kTransportDropCount; ++d) EXPECT_EQ(c.dropped[d].get(), 0u) << d;
}

// A collector killed with bytes in its receive queue: its kernel acked them,
// its process never read them, and closing such a socket sends a reset. The
// transport resends its kept acked messages after a reset, so the next
// collector gets them again (duplicates, never a gap); with no replay window
// (the old behaviour) they are gone.
struct KilledCollectorRun {
  std::vector<Received> second;  // what the restarted collector got
  std::uint64_t resent = 0;
};

KilledCollectorRun kill_collector_with_unread_data(std::uint32_t replay_bytes, std::uint32_t n_read,
                                                   std::uint32_t n_unread) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  TransportOptions o = fast_reconnect();
  o.replay_bytes = replay_bytes;
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), o);
  KilledCollectorRun run;
  if (!t) return run;
  t->set_stream_preamble(make_msg(kPreambleCounter, 40));
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(lfd, 4), 0);
  EXPECT_TRUE(pump(*t, [&] { return t->connection_epoch() == 1; }, 2000));
  const int cfd = ::accept(lfd, nullptr, nullptr);
  EXPECT_GE(cfd, 0);
  // Messages of 100 bytes: read the preamble and the first n_read exactly.
  for (std::uint32_t i = 0; i < n_read + n_unread; ++i) t->send(make_msg(i, 100), steady_now_ns());
  std::vector<std::uint8_t> buf(40 + 100 * std::size_t{n_read});
  std::size_t got = 0;
  while (got < buf.size()) {
    t->poll(steady_now_ns());
    const ssize_t r = ::recv(cfd, buf.data() + got, buf.size() - got, MSG_DONTWAIT);
    if (r > 0) got += static_cast<std::size_t>(r);
    else std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(check_msg(buf.data(), 40), static_cast<long long>(kPreambleCounter));
  // Everything acked (released from the ring), the rest unread in cfd's queue.
  EXPECT_TRUE(pump(*t, [&] { return static_cast<TcpTransport&>(*t).buffered_bytes() == 0; }, 3000));
  int unread = 0;
  ::ioctl(cfd, FIONREAD, &unread);
  EXPECT_EQ(unread, static_cast<int>(100 * n_unread));
  ::close(cfd);  // unread data: the kernel resets the connection
  ::close(lfd);
  EXPECT_TRUE(pump(*t, [&] { return t->counters().connection_losses.get() == 1; }, 3000));
  {
    Collector col2(port, 1);
    EXPECT_TRUE(col2.bound());
    EXPECT_TRUE(pump(*t, [&] { return t->connection_epoch() == 2; }, 3000));
    EXPECT_TRUE(t->drain(steady_now_ns() + ms(3000)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    run.second = col2.got();
  }
  run.resent = t->counters().messages_resent.get();
  EXPECT_EQ(t->counters().messages_sent.get(), n_read + n_unread);
  return run;
}

TEST(TcpTransport, CollectorKilledWithUnreadDataGetsThemAgainAfterTheReset) {
  constexpr std::uint32_t kRead = 30, kUnread = 50;
  const KilledCollectorRun run = kill_collector_with_unread_data(1u << 20, kRead, kUnread);
  // The preamble, then every kept message from the first: 0..79 (the first 30 are duplicates
  // of what the first collector read; the window of 1 MiB holds them all).
  ASSERT_EQ(run.second.size(), 1u + kRead + kUnread);
  EXPECT_EQ(run.second[0].counter, static_cast<long long>(kPreambleCounter));
  for (std::uint32_t i = 0; i < kRead + kUnread; ++i) EXPECT_EQ(run.second[i + 1].counter, i);
  EXPECT_EQ(run.resent, kRead + kUnread);
}

TEST(TcpTransport, ReplayWindowBoundsWhatIsResentAfterAReset) {
  constexpr std::uint32_t kRead = 30, kUnread = 50;
  // 2000 bytes: the last 20 messages of 100 bytes are kept, so 30 of the 50 unread are lost.
  const KilledCollectorRun run = kill_collector_with_unread_data(2000, kRead, kUnread);
  ASSERT_EQ(run.second.size(), 1u + 20u);
  EXPECT_EQ(run.second[0].counter, static_cast<long long>(kPreambleCounter));
  for (std::uint32_t i = 0; i < 20; ++i) EXPECT_EQ(run.second[i + 1].counter, kRead + kUnread - 20 + i);
  // No window: what the killed collector's kernel acked is lost (a sequence gap upstream).
  const KilledCollectorRun none = kill_collector_with_unread_data(0, kRead, kUnread);
  ASSERT_EQ(none.second.size(), 1u);
  EXPECT_EQ(none.resent, 0u);
}

// The same ring over a Unix stream socket, where SIOCOUTQ counts bytes the
// peer has not *read* yet: a collector can then close in the middle of a
// message, with unread data queued, and nothing may be lost. This is the
// partial-write path: messages of 30000 bytes against a peer that reads in
// 7000-byte bites.
struct UnixCollectorRun {
  std::vector<long long> counters;  // whole messages read, in order
  std::size_t bytes_read = 0;
};

UnixCollectorRun unix_collect(int lfd, std::size_t stop_after_bytes, int quiet_ms) {
  UnixCollectorRun run;
  pollfd lp{lfd, POLLIN, 0};
  if (::poll(&lp, 1, 3000) <= 0) return run;
  const int c = ::accept(lfd, nullptr, nullptr);
  Bytes buf;
  std::uint8_t tmp[7000];
  for (;;) {
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, quiet_ms) <= 0) break;
    const std::size_t want = std::min(sizeof tmp, stop_after_bytes - run.bytes_read);
    const ssize_t r = ::read(c, tmp, want);
    if (r <= 0) break;
    run.bytes_read += static_cast<std::size_t>(r);
    buf.insert(buf.end(), tmp, tmp + r);
    std::size_t off = 0;
    while (buf.size() - off >= 4) {
      const std::size_t len = (std::size_t{buf[off + 2]} << 8) | buf[off + 3];
      if (len < 8 || buf.size() - off < len) break;
      run.counters.push_back(check_msg(&buf[off], len));
      off += len;
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<long>(off));
    if (run.bytes_read >= stop_after_bytes) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ::close(c);  // with unread data queued: the peer sees a reset
  return run;
}

int unix_listen(const std::string& path) {
  ::unlink(path.c_str());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(TcpTransport, MessageInFlightAtABreakIsResentWholeFromABoundary) {
  const std::string path = temp_path("unix");
  SockAddr sa;
  auto* un = reinterpret_cast<sockaddr_un*>(&sa.ss);
  un->sun_family = AF_UNIX;
  std::snprintf(un->sun_path, sizeof un->sun_path, "%s", path.c_str());
  sa.len = sizeof(sockaddr_un);
  TcpTransport t({sa}, fast_reconnect());

  constexpr std::uint32_t kN = 100, kSize = 30000;
  constexpr std::size_t kStop = 500'000;  // 16 whole messages and part of the 17th
  const int lfd = unix_listen(path);
  ASSERT_GE(lfd, 0);
  UnixCollectorRun run1;
  std::thread c1([&] { run1 = unix_collect(lfd, kStop, 1000); });
  std::uint32_t next = 0;
  // Keep the ring fed while the first collector reads, then until it is gone.
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (t.counters().connection_losses.get() == 0 && std::chrono::steady_clock::now() < end) {
    if (next < kN && t.buffered_bytes() < 400'000) t.send(make_msg(next++, kSize), steady_now_ns());
    t.poll(steady_now_ns());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  c1.join();
  ::close(lfd);
  ASSERT_EQ(t.counters().connection_losses.get(), 1u);
  ASSERT_EQ(run1.bytes_read, kStop);
  ASSERT_EQ(run1.counters.size(), 16u);
  for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ(run1.counters[i], static_cast<long long>(i));

  const int lfd2 = unix_listen(path);
  ASSERT_GE(lfd2, 0);
  UnixCollectorRun run2;
  std::thread c2([&] { run2 = unix_collect(lfd2, SIZE_MAX, 500); });
  while (next < kN) {
    if (t.buffered_bytes() < 400'000) t.send(make_msg(next++, kSize), steady_now_ns());
    t.poll(steady_now_ns());
  }
  EXPECT_TRUE(t.drain(steady_now_ns() + ms(5000)));
  c2.join();
  ::close(lfd2);
  ::unlink(path.c_str());

  // The second connection starts on a message boundary at or before the
  // message that was cut (16), and goes on in order to the end.
  ASSERT_FALSE(run2.counters.empty());
  const long long first = run2.counters[0];
  EXPECT_LE(first, 16);
  EXPECT_GE(first, 0);
  ASSERT_EQ(run2.counters.size(), kN - static_cast<std::size_t>(first));
  for (std::size_t k = 0; k < run2.counters.size(); ++k)
    EXPECT_EQ(run2.counters[k], first + static_cast<long long>(k));
  EXPECT_EQ(run2.bytes_read, run2.counters.size() * kSize);  // nothing but whole messages
  std::printf("unix break: resent from message %lld (%lld duplicates of messages read whole before the break)\n",
              first, 16 - first);
  EXPECT_EQ(t.counters().messages_sent.get(), kN);
  EXPECT_EQ(t.connection_epoch(), 2u);
  for (unsigned d = 0; d < kTransportDropCount; ++d) EXPECT_EQ(t.counters().dropped[d].get(), 0u) << d;
}

TEST(TcpTransport, BufferBoundDropsExactlyTheOverflow) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  TransportOptions o = fast_reconnect();
  o.buffer_bytes = 10000;  // exactly 100 messages of 100 bytes
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 130; ++i) t->send(make_msg(i, 100), steady_now_ns());
  t->send(make_msg(999, 10001), steady_now_ns());  // never fits
  const auto& c = t->counters();
  EXPECT_EQ(c.messages_buffered.get(), 100u);
  EXPECT_EQ(dropped(*t, TransportDrop::buffer_full), 31u);
  Collector col(port);
  ASSERT_TRUE(col.bound());
  ASSERT_TRUE(pump(*t, [&] { return col.count() >= 100; }, 5000));
  // Room again once the collector acked: this one goes.
  t->send(make_msg(100, 100), steady_now_ns());
  EXPECT_TRUE(t->drain(steady_now_ns() + ms(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto got = col.got();
  ASSERT_EQ(got.size(), 101u);
  for (std::uint32_t i = 0; i <= 100; ++i) EXPECT_EQ(got[i].counter, i);
  EXPECT_EQ(c.messages_sent.get(), 101u);
  EXPECT_EQ(dropped(*t, TransportDrop::buffer_full), 31u);
}

// With a spill file, what does not fit the ring waits on disk and comes back
// in order once the collector is up; only a full spill drops (counted exactly).
TEST(TcpTransport, SpillsBeyondTheRingAndReplaysInOrder) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  TransportOptions o = fast_reconnect();
  o.buffer_bytes = 10000;            // 100 messages of 100 bytes in memory
  o.spill_bytes = 300 * (100 + 4);   // 300 more on disk (4-byte length each)
  o.spill_dir = "/tmp";
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 420; ++i) t->send(make_msg(i, 100), steady_now_ns());
  const auto& c = t->counters();
  EXPECT_EQ(c.messages_spilled.get(), 300u);
  EXPECT_EQ(c.messages_buffered.get(), 400u);
  EXPECT_EQ(dropped(*t, TransportDrop::buffer_full), 20u);  // 420 - 100 in memory - 300 on disk
  EXPECT_EQ(c.spill_errors.get(), 0u);
  Collector col(port);
  ASSERT_TRUE(col.bound());
  ASSERT_TRUE(pump(*t, [&] { return col.count() >= 400; }, 10000)) << col.count();
  t->send(make_msg(400, 100), steady_now_ns());  // behind the replayed ones
  EXPECT_TRUE(t->drain(steady_now_ns() + ms(3000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto got = col.got();
  ASSERT_EQ(got.size(), 401u);
  for (std::uint32_t i = 0; i <= 400; ++i) EXPECT_EQ(got[i].counter, i) << i;
  EXPECT_EQ(c.messages_sent.get(), 401u);
}

// A collector that never comes: at the deadline the spilled messages are
// dropped as shutdown, like those in memory.
TEST(TcpTransport, SpilledMessagesAreCountedAtAFailedDrain) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  TransportOptions o = fast_reconnect();
  o.buffer_bytes = 1000;
  o.spill_bytes = 1 << 20;
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 50; ++i) t->send(make_msg(i, 100), steady_now_ns());
  EXPECT_FALSE(t->drain(steady_now_ns() + ms(200)));
  const auto& c = t->counters();
  EXPECT_EQ(c.messages_spilled.get(), 40u);
  EXPECT_EQ(dropped(*t, TransportDrop::shutdown), 50u);
  EXPECT_EQ(c.messages_sent.get() + dropped(*t, TransportDrop::shutdown) + dropped(*t, TransportDrop::buffer_full), 50u);
}

TEST(TcpTransport, DrainHonoursItsDeadlineWithADeadCollector) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), fast_reconnect());
  ASSERT_TRUE(t);
  for (std::uint32_t i = 0; i < 10; ++i) t->send(make_msg(i, 200), steady_now_ns());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(t->drain(steady_now_ns() + ms(300)));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_GE(took.count(), 299);
  EXPECT_LE(took.count(), 450);
  EXPECT_EQ(dropped(*t, TransportDrop::shutdown), 10u);
  EXPECT_GE(t->counters().connect_failures.get(), 3u);  // it kept trying (10, 20, 40 ms ... back-off)
  t->send(make_msg(10, 200), steady_now_ns());
  EXPECT_EQ(dropped(*t, TransportDrop::shutdown), 11u);
  EXPECT_EQ(t->counters().messages_sent.get(), 0u);
}

TEST(TcpTransport, DrainWithACollectorThatDoesNotReadAccountsForEveryMessage) {
  // Accepts, never reads: its window fills, then our socket, then the ring.
  const std::uint16_t port = free_port(SOCK_STREAM);
  const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const int small = 16 * 1024;  // a small window (inherited by the accepted socket)
  ::setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), fast_reconnect());
  ASSERT_TRUE(t);
  ASSERT_TRUE(pump(*t, [&] { return t->connection_epoch() == 1; }, 2000));
  constexpr std::uint32_t kN = 8000;  // 8 MB: more than the two sockets hold, less than the ring
  for (std::uint32_t i = 0; i < kN; ++i) {
    t->send(make_msg(i, 1000), steady_now_ns());
    t->poll(steady_now_ns());
  }
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(t->drain(steady_now_ns() + ms(200)));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_GE(took.count(), 199);
  EXPECT_LE(took.count(), 350);
  const auto& c = t->counters();
  const std::uint64_t shut = dropped(*t, TransportDrop::shutdown);
  EXPECT_EQ(c.messages_sent.get() + shut, kN);  // each one: sent, or dropped at shutdown
  EXPECT_GE(shut, 1u);
  EXPECT_GE(c.unacked_at_shutdown.get(), 1u);  // sent into a full window: never acked
  EXPECT_LE(c.unacked_at_shutdown.get(), c.messages_sent.get());
  EXPECT_EQ(dropped(*t, TransportDrop::buffer_full), 0u);
  ::close(lfd);
}

TEST(TcpTransport, BackOffDoublesUpToTheMaximum) {
  const std::uint16_t port = free_port(SOCK_STREAM);
  TransportOptions o;
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 80;
  auto t = open_ok("tcp://127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(t);
  // Fake clock: attempt at 0 (open, on the real clock: re-base on it),
  // then due at +20, +40 (after 60), +80 (140), +80 (220), +80 (300).
  const std::uint64_t base = steady_now_ns();
  const auto failures = [&] { return t->counters().connect_failures.get(); };
  // Refused connects on loopback fail at once or on the next poll; poll twice per instant.
  auto at = [&](std::uint64_t m) {
    t->poll(base + ms(m));
    t->poll(base + ms(m));
  };
  at(0);
  const std::uint64_t f0 = failures();
  ASSERT_GE(f0, 1u);
  at(19);
  EXPECT_EQ(failures(), f0);
  at(21);
  EXPECT_EQ(failures(), f0 + 1);
  at(59);
  EXPECT_EQ(failures(), f0 + 1);
  at(62);
  EXPECT_EQ(failures(), f0 + 2);
  at(140);
  EXPECT_EQ(failures(), f0 + 2);
  at(143);
  EXPECT_EQ(failures(), f0 + 3);
  at(222);
  EXPECT_EQ(failures(), f0 + 3);
  at(224);
  EXPECT_EQ(failures(), f0 + 4);
}

}  // namespace
}  // namespace sf
