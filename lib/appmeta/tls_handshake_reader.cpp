#include "appmeta/tls_handshake_reader.hpp"

#include <cstring>

#include "common/compiler.hpp"

namespace sf {

namespace {

constexpr std::uint8_t kContentHandshake = 22;

TlsStatus finish(TlsHandshakeReader& st, TlsStatus s) noexcept {
  st.status_ = s;
  return s;
}

// A bad byte in the first record header means this is not TLS at all; in a
// later one it means a TLS stream that breaks its own framing.
TlsStatus reject(TlsHandshakeReader& st) noexcept {
  return finish(st, st.records_ == 0 ? TlsStatus::kNotTls : TlsStatus::kMalformed);
}

}  // namespace

TlsStatus tls_read_handshake(TlsHandshakeReader& st, std::span<std::uint8_t> scratch,
                             std::span<const std::uint8_t> data, TlsMessageView* out) noexcept {
  if (st.status_ != TlsStatus::kNeedMore) return st.status_;
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  while (n != 0) {
    if (st.rec_left_ == 0) {
      // Record header, checked byte by byte so that a non-TLS stream is
      // rejected on the first byte that cannot be TLS.
      const std::uint8_t b = *p++;
      --n;
      const std::uint8_t i = st.rec_hdr_have_++;
      st.rec_hdr_[i] = b;
      if ((i == 0 && b != kContentHandshake) || (i == 1 && b != 3) || (i == 2 && b > 4)) return reject(st);
      if (i == 4) {
        const std::uint16_t len = static_cast<std::uint16_t>(st.rec_hdr_[3] << 8 | b);
        if (len == 0 || len > kTlsMaxRecordLen) return reject(st);  // RFC 8446 5.1: no empty handshake fragments
        st.rec_left_ = len;
        st.rec_hdr_have_ = 0;
        if (st.records_ != 0xFF) ++st.records_;
      }
      continue;
    }
    if (st.hs_hdr_have_ < 4) {
      st.hs_hdr_[st.hs_hdr_have_++] = *p++;
      --n;
      --st.rec_left_;
      if (st.hs_hdr_have_ == 4) {
        st.msg_len_ = static_cast<std::uint32_t>(st.hs_hdr_[1]) << 16 | static_cast<std::uint32_t>(st.hs_hdr_[2]) << 8 |
                      st.hs_hdr_[3];
        if (st.msg_len_ > scratch.size()) return finish(st, TlsStatus::kTooBig);
        if (st.msg_len_ == 0) {
          if (out != nullptr) *out = {st.hs_hdr_[0], {}};
          return finish(st, TlsStatus::kOk);
        }
      }
      continue;
    }
    const std::size_t need = st.msg_len_ - st.msg_have_;
    std::size_t take = n < st.rec_left_ ? n : st.rec_left_;
    if (take > need) take = need;
    if (st.msg_have_ == 0 && take == need) {
      // The whole body is here, inside one record: hand it out in place.
      if (out != nullptr) *out = {st.hs_hdr_[0], {p, need}};
      return finish(st, TlsStatus::kOk);
    }
    std::memcpy(scratch.data() + st.msg_have_, p, take);
    st.msg_have_ += static_cast<std::uint32_t>(take);
    st.rec_left_ = static_cast<std::uint16_t>(st.rec_left_ - take);
    p += take;
    n -= take;
    if (st.msg_have_ == st.msg_len_) {
      if (out != nullptr) *out = {st.hs_hdr_[0], {scratch.data(), st.msg_len_}};
      return finish(st, TlsStatus::kOk);
    }
  }
  return TlsStatus::kNeedMore;
}

}  // namespace sf
