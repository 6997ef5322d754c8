// Incremental reader of the first TLS handshake message of a TCP stream: the
// ClientHello on the client side, the ServerHello on the server side. Bytes
// arrive in order in chunks of any size (one byte each is fine); the state is
// a small POD kept in the per-flow array, and a message split across chunks or
// records is assembled in a scratch buffer the caller owns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace sf {

enum class TlsStatus : std::uint8_t { kNeedMore, kOk, kNotTls, kMalformed, kTooBig };

// Largest record fragment accepted: 2^14 plaintext + 2048, the TLSCiphertext
// bound of RFC 5246 6.2.3 (a hello is never encrypted, but some stacks pad).
inline constexpr std::uint16_t kTlsMaxRecordLen = 16384 + 2048;

// Zero-initialised = start of stream. Strips record headers (content type 22,
// record versions 0x0300..0x0304), joins handshake fragments across records
// and chunks, and stops at the end of the first handshake message.
struct TlsHandshakeReader {
  std::uint32_t msg_len_;     // body length from the handshake header (24 bits)
  std::uint32_t msg_have_;    // body bytes copied to scratch so far
  std::uint16_t rec_left_;    // payload bytes left in the current record; 0 = between records
  std::uint8_t rec_hdr_[5];   // record header being read
  std::uint8_t rec_hdr_have_;
  std::uint8_t hs_hdr_[4];    // handshake header (may itself span records)
  std::uint8_t hs_hdr_have_;
  TlsStatus status_;          // kNeedMore while reading; else the final answer
  std::uint8_t records_;      // records started, saturating (the first one decides kNotTls)
};
static_assert(std::is_trivially_copyable_v<TlsHandshakeReader> && std::is_standard_layout_v<TlsHandshakeReader>);
static_assert(sizeof(TlsHandshakeReader) <= 32);

// body: the handshake message body (after the 4-byte header).
struct TlsMessageView {
  std::uint8_t type;
  std::span<const std::uint8_t> body;
};

// data: the next in-order stream bytes. scratch: the stream's assembly buffer,
// the same one on every call (its size is the byte cap).
//   kNeedMore  give me more bytes.
//   kOk        *out is the complete message; its body points into `data` when
//              the body lay whole in this chunk and one record (zero copy), else
//              into scratch; valid until the next call. Bytes after it are not read.
//   kNotTls    the stream does not start like TLS: first byte not 22, or the
//              first record's version or length is impossible. Decided on the
//              first byte that shows it, so e.g. "GET /" stops at the 'G'.
//   kMalformed a later record is not a handshake record or has a bad
//              version/length (handshake messages must not interleave with
//              other record types, RFC 8446 5.1).
//   kTooBig    the message body is larger than scratch, decided from the
//              handshake header whatever the chunking, so the answer never
//              depends on how the stream was cut.
// Once a status other than kNeedMore is returned, further calls return it
// again without reading and without writing *out. out may be null.
TlsStatus tls_read_handshake(TlsHandshakeReader& st, std::span<std::uint8_t> scratch,
                             std::span<const std::uint8_t> data, TlsMessageView* out) noexcept;

}  // namespace sf
