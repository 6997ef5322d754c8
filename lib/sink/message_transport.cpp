#include "sink/message_transport.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "sink/tcp_transport.hpp"

namespace sf {

std::string_view transport_drop_name(TransportDrop r) noexcept {
  switch (r) {
#define SF_X(name) \
  case TransportDrop::name: return #name;
    SF_TRANSPORT_DROP_REASONS(SF_X)
#undef SF_X
    case TransportDrop::kCount: break;
  }
  return "unknown";
}

std::uint64_t steady_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // what libstdc++'s steady_clock reads
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

MessageTransport::~MessageTransport() = default;
void MessageTransport::set_stream_preamble(std::span<const std::uint8_t>) {}

namespace {

// UDP: one datagram per message, on a connected socket so the kernel
// reports ICMP errors (ECONNREFUSED) on a later send. Every failed send is
// counted; loss inside the network cannot be seen here: the IPFIX sequence
// numbers show it at the collector.
class UdpTransport final : public MessageTransport {
 public:
  explicit UdpTransport(int fd) : fd_(fd) {}
  ~UdpTransport() override { ::close(fd_); }

  void send(std::span<const std::uint8_t> msg, std::uint64_t) noexcept override {
    if (closed_) {
      drop(TransportDrop::shutdown);
      return;
    }
    for (;;) {
      const ssize_t r = ::send(fd_, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r == static_cast<ssize_t>(msg.size())) {
        counters_.messages_sent.inc();
        counters_.bytes_sent.add(msg.size());
        return;
      }
      if (r < 0 && errno == EINTR) continue;
      // EAGAIN/ENOBUFS (socket or device queue full), ECONNREFUSED (an
      // earlier datagram's ICMP: this one did not go), EMSGSIZE, ...
      drop(TransportDrop::send_error);
      return;
    }
  }
  void poll(std::uint64_t) noexcept override {}
  bool drain(std::uint64_t) noexcept override {
    closed_ = true;
    return true;  // nothing is ever held
  }
  std::uint64_t connection_epoch() const noexcept override { return 0; }
  bool stream() const noexcept override { return false; }

 private:
  int fd_;
  bool closed_ = false;
};

// File: whole messages appended. A write that fails part-way is cut back so
// the file keeps whole messages only.
class FileTransport final : public MessageTransport {
 public:
  explicit FileTransport(int fd) : fd_(fd) {}
  ~FileTransport() override { ::close(fd_); }

  void send(std::span<const std::uint8_t> msg, std::uint64_t) noexcept override {
    if (closed_) {
      drop(TransportDrop::shutdown);
      return;
    }
    const off_t start = ::lseek(fd_, 0, SEEK_END);
    std::size_t done = 0;
    while (done < msg.size()) {
      const ssize_t r = ::write(fd_, msg.data() + done, msg.size() - done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (done > 0 && start >= 0) (void)!::ftruncate(fd_, start);
        drop(TransportDrop::send_error);
        return;
      }
      done += static_cast<std::size_t>(r);
    }
    counters_.messages_sent.inc();
    counters_.bytes_sent.add(msg.size());
  }
  void poll(std::uint64_t) noexcept override {}
  bool drain(std::uint64_t) noexcept override {
    closed_ = true;
    return true;
  }
  std::uint64_t connection_epoch() const noexcept override { return 0; }
  bool stream() const noexcept override { return true; }

 private:
  int fd_;
  bool closed_ = false;
};

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

Result<HostPort> split_host_port(const std::string& url, std::string_view rest) {
  HostPort hp;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return make_error("transport URL '" + url + "': missing ']' after the IPv6 address");
    hp.host = std::string(rest.substr(1, close - 1));
    if (close + 1 >= rest.size() || rest[close + 1] != ':')
      return make_error("transport URL '" + url + "': expected ':PORT' after ']'");
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
      return make_error("transport URL '" + url + "': missing ':PORT' (expected HOST:PORT)");
    if (rest.find(':') != colon)
      return make_error("transport URL '" + url + "': an IPv6 address must be written in brackets, [ADDR]:PORT");
    hp.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  }
  if (hp.host.empty()) return make_error("transport URL '" + url + "': empty host");
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
    return make_error("transport URL '" + url + "': port must be a number 1..65535, got '" +
                      std::string(port) + "'");
  hp.port = static_cast<std::uint16_t>(v);
  return hp;
}

Result<std::vector<SockAddr>> resolve(const std::string& url, const HostPort& hp, int socktype) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  // Something that looks like an address literal is parsed, never sent to DNS.
  if (hp.host.find_first_not_of("0123456789.") == std::string::npos || hp.host.find(':') != std::string::npos)
    hints.ai_flags |= AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp.port);
  int rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
    // AI_ADDRCONFIG hides ::1 on a host with no global IPv6 address; ask again without it.
    hints.ai_flags &= ~AI_ADDRCONFIG;
    rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
  }
  if (rc != 0)
    return make_error(std::string("transport URL '") + url + "': cannot resolve '" + hp.host +
                      "': " + ::gai_strerror(rc));
  std::vector<SockAddr> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SockAddr s;
    std::memcpy(&s.ss, a->ai_addr, a->ai_addrlen);
    s.len = a->ai_addrlen;
    out.push_back(s);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return make_error("transport URL '" + url + "': no usable address for '" + hp.host + "'");
  return out;
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

Result<std::unique_ptr<MessageTransport>> MessageTransport::open(const std::string& url,
                                                                 const TransportOptions& o) {
  const std::string_view u = url;
  if (u.starts_with("file:")) {
    const std::string path(u.substr(5));
    if (path.empty()) return make_error("transport URL '" + url + "': empty file path (file:PATH)");
    if (path == "-") return make_error("transport URL '" + url + "': stdout is not allowed for binary messages");
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error("transport URL '" + url + "': cannot open '" + path + "': " + errno_text(errno));
    return std::unique_ptr<MessageTransport>(new FileTransport(fd));
  }
  const bool udp = u.starts_with("udp://");
  const bool tcp = u.starts_with("tcp://");
  if (!udp && !tcp)
    return make_error("transport URL '" + url + "': unknown scheme (expected udp://HOST:PORT, tcp://HOST:PORT or file:PATH)");
  auto hp = split_host_port(url, u.substr(6));
  if (!hp) return Error{hp.error()};
  auto addrs = resolve(url, hp.value(), udp ? SOCK_DGRAM : SOCK_STREAM);
  if (!addrs) return Error{addrs.error()};
  if (tcp) {
    if (o.buffer_bytes == 0) return make_error("transport URL '" + url + "': buffer_bytes must be > 0 for TCP");
    auto t = std::make_unique<TcpTransport>(std::move(addrs.value()), o);
    t->poll(steady_now_ns());  // first connect attempt now; a collector that is down is not an error
    return std::unique_ptr<MessageTransport>(std::move(t));
  }
  // UDP: the first address that takes a socket.
  int last_errno = 0;
  for (const SockAddr& a : addrs.value()) {
    const int fd = ::socket(a.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) {
      last_errno = errno;
      ::close(fd);
      continue;
    }
    return std::unique_ptr<MessageTransport>(new UdpTransport(fd));
  }
  return make_error("transport URL '" + url + "': cannot open a UDP socket: " + errno_text(last_errno));
}

}  // namespace sf
