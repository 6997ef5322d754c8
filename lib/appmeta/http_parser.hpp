// HTTP/1.x heads: a probe for client streams, the head length, the request
// line plus the Host and User-Agent headers into a fixed-size result, and the
// response status code. Pure C++: no DPDK, no allocation, no exceptions.
//
// Field text is tshark's presentation (http.request.method, .uri, http.host,
// http.user_agent; checked with tshark 4.0 on crafted and real captures):
//  - a header value loses its leading spaces/tabs but keeps trailing ones
//    (tshark shows "Host:  a.example  " as "a.example  "; only the line's CR
//    is dropped); the URI is the raw request-target, not percent-decoded;
//  - each byte >= 0x80 is shown as U+FFFD (EF BF BD): tshark reads these
//    fields as ASCII; other bytes, control bytes included, are copied;
//  - obs-fold continuation lines are skipped, not joined (tshark shows only
//    the first line of a folded value); a line such as "Host : x" (space
//    before the colon) is not a Host header; of repeated Host / User-Agent
//    headers the first is kept (tshark lists them all).
// Copies stop at the bound on a whole character and set *_truncated; every
// text is also NUL-terminated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sf {

inline constexpr std::size_t kHttpMethodMax = 16, kHttpHostMax = 255, kHttpUriMax = 255, kHttpUserAgentMax = 255;

// HttpRequest::version_minor of a request line without a version (HTTP/0.9).
inline constexpr std::uint8_t kHttpVersion09 = 0xff;

enum class HttpStatus : std::uint8_t { kOk, kNeedMore, kNotHttp, kMalformed };

struct HttpRequest {
  char method[kHttpMethodMax + 1];
  std::uint8_t method_len;
  char uri[kHttpUriMax + 1];
  std::uint16_t uri_len;
  bool uri_truncated;
  char host[kHttpHostMax + 1];
  std::uint16_t host_len;
  bool host_truncated;
  bool has_host;
  char user_agent[kHttpUserAgentMax + 1];
  std::uint16_t user_agent_len;
  bool user_agent_truncated;
  bool has_user_agent;
  std::uint8_t version_minor;  // HTTP/1.x
};
static_assert(sizeof(HttpRequest) <= 1024, "HttpRequest is meant to sit in a per-worker scratch slot");

// The request methods probe_http_request and parse_http_request accept (case
// sensitive, as tshark): RFC 9110's GET HEAD POST PUT DELETE CONNECT OPTIONS
// TRACE, PATCH, WebDAV's PROPFIND PROPPATCH MKCOL COPY MOVE LOCK UNLOCK
// SEARCH REPORT MKCALENDAR MKACTIVITY CHECKOUT MERGE, and SSDP/GENA's
// M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE (HTTP over UDP 1900).
std::span<const char* const> http_request_methods() noexcept;

// Probe on the first bytes of a client stream: kOk = starts with a known
// method token + space, kNeedMore = too few bytes to tell (a prefix of a known
// method + space, or nothing), kNotHttp otherwise.
HttpStatus probe_http_request(std::span<const std::uint8_t> first_bytes) noexcept;

// Length of the request/response head including the final CRLFCRLF (or bare
// LFLF, or a mix: an empty line ends the head), or 0 if not (yet) complete.
std::size_t http_head_length(std::span<const std::uint8_t> data) noexcept;

// Parses a request head (request line + headers), stopping at its empty line.
// The request line must be "METHOD SP target SP HTTP/1.D" + (CR)LF with a
// known method (else kNotHttp) and a non-empty target (else kMalformed).
// complete=false: the caller ran out of buffer (byte cap) before the end of
// the head: parse what is there. kOk if the request line is complete; if it
// is not, kNeedMore with the method and the URI so far (uri_truncated). A
// cut last header line still gives its value so far, flagged truncated.
// complete=true and no line end at all: kMalformed.
HttpStatus parse_http_request(std::span<const std::uint8_t> head, bool complete, HttpRequest& out) noexcept;

// "HTTP/1.D NNN" followed by SP, CR or LF at the start of a server stream:
// kOk and code set (100..999); kNeedMore if too short to tell; kNotHttp if it
// does not start with "HTTP/1."; kMalformed otherwise ("HTTP/1.1 2x0",
// "HTTP/1.1 2000", code < 100). code is 0 unless kOk.
HttpStatus parse_http_status_line(std::span<const std::uint8_t> first_bytes, std::uint16_t& code) noexcept;

}  // namespace sf
