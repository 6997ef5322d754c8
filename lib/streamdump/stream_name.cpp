#include "streamdump/stream_name.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace sf {

namespace {

class NameWriter {
 public:
  NameWriter(char* out, std::size_t cap) : p_(out), end_(out + cap) {}
  void str(const char* s) noexcept {
    const std::size_t n = std::strlen(s);
    if (!ok_ || static_cast<std::size_t>(end_ - p_) <= n) {
      ok_ = false;
      return;
    }
    std::memcpy(p_, s, n);
    p_ += n;
  }
  void num(std::uint64_t v) noexcept {
    if (!ok_) return;
    const auto r = std::to_chars(p_, end_, v);
    if (r.ec != std::errc() || r.ptr == end_) {
      ok_ = false;
      return;
    }
    p_ = r.ptr;
  }
  // Terminates and returns the length, or 0 when the buffer was too small.
  std::size_t finish(char* begin) noexcept {
    if (!ok_ || p_ >= end_) return 0;
    *p_ = '\0';
    return static_cast<std::size_t>(p_ - begin);
  }

 private:
  char* p_;
  char* end_;
  bool ok_ = true;
};

}  // namespace

void format_key_address(const FlowKey& key, bool lo, char* out, std::size_t cap) noexcept {
  const auto& a = lo ? key.addr_lo : key.addr_hi;
  if (cap == 0) return;
  if (inet_ntop(key.ip_version == 6 ? AF_INET6 : AF_INET, a.data(), out, static_cast<socklen_t>(cap)) == nullptr) {
    out[0] = '\0';
  }
}

std::size_t format_stream_name(const FlowKey& key, std::uint8_t dir, std::uint32_t generation, char* out,
                               std::size_t cap) noexcept {
  if (cap == 0) return 0;
  const bool src_is_lo = dir == kDirLoToHi;
  char src[INET6_ADDRSTRLEN];
  char dst[INET6_ADDRSTRLEN];
  format_key_address(key, src_is_lo, src, sizeof src);
  format_key_address(key, !src_is_lo, dst, sizeof dst);
  NameWriter w(out, cap);
  w.str(src);
  w.str(".");
  w.num(src_is_lo ? key.port_lo : key.port_hi);
  w.str("-");
  w.str(dst);
  w.str(".");
  w.num(src_is_lo ? key.port_hi : key.port_lo);
  if (key.vlan_count > 0) {
    w.str("--");
    w.num(key.vlan_outer);
    if (key.vlan_count > 1) {
      w.str(".");
      w.num(key.vlan_inner);
    }
  }
  if (generation > 1) {
    w.str("-g");
    w.num(generation);
  }
  return w.finish(out);
}

std::string_view stream_end_name(std::uint8_t reason) noexcept {
  static constexpr std::string_view kNames[] = {
#define SF_X(name) #name,
      SF_STREAM_END_REASONS(SF_X)
#undef SF_X
  };
  return reason < std::size(kNames) ? kNames[reason] : std::string_view("none");
}

}  // namespace sf
