// HTTP/1.x head parsing: see http_parser.hpp. Single forward passes over the
// given bytes; every copy is bounded by its field.
#include "appmeta/http_parser.hpp"

#include <cstring>
#include <string_view>

namespace sf {
namespace {

constexpr const char* kMethods[] = {
    "GET",      "HEAD",   "POST",      "PUT",        "DELETE",     "CONNECT",  "OPTIONS", "TRACE",
    "PATCH",    "PROPFIND", "PROPPATCH", "MKCOL",    "COPY",       "MOVE",     "LOCK",    "UNLOCK",
    "SEARCH",   "REPORT", "MKCALENDAR", "MKACTIVITY", "CHECKOUT",  "MERGE",    "M-SEARCH", "NOTIFY",
    "SUBSCRIBE", "UNSUBSCRIBE"};

bool is_method(std::string_view tok) noexcept {
  for (const char* m : kMethods)
    if (tok == m) return true;
  return false;
}

bool is_digit(std::uint8_t c) noexcept { return c >= '0' && c <= '9'; }

// RFC 9110 tchar: what a header name may hold.
bool is_tchar(std::uint8_t c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool iequals(const std::uint8_t* s, std::size_t n, std::string_view lower) noexcept {
  if (n != lower.size()) return false;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c - 'A' + 'a');
    if (c != static_cast<std::uint8_t>(lower[i])) return false;
  }
  return true;
}

// Copies s[0, n) into dst (capacity cap + NUL) as tshark shows it: bytes
// >= 0x80 as U+FFFD. Stops on a whole character; returns whether all fit.
bool copy_field(const std::uint8_t* s, std::size_t n, char* dst, std::size_t cap, std::size_t& len) noexcept {
  len = 0;
  bool all = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (s[i] < 0x80) {
      if (len + 1 > cap) {
        all = false;
        break;
      }
      dst[len++] = static_cast<char>(s[i]);
    } else {
      if (len + 3 > cap) {
        all = false;
        break;
      }
      std::memcpy(dst + len, "\xEF\xBF\xBD", 3);
      len += 3;
    }
  }
  dst[len] = '\0';
  return all;
}

template <std::size_t Cap, typename Len>
void store(const std::uint8_t* s, std::size_t n, bool cut, char (&dst)[Cap], Len& len, bool& truncated) noexcept {
  std::size_t l = 0;
  const bool all = copy_field(s, n, dst, Cap - 1, l);
  len = static_cast<Len>(l);
  truncated = !all || cut;
}

void reset(HttpRequest& r) noexcept {
  r.method[0] = r.uri[0] = r.host[0] = r.user_agent[0] = '\0';
  r.method_len = 0;
  r.uri_len = r.host_len = r.user_agent_len = 0;
  r.uri_truncated = r.host_truncated = r.user_agent_truncated = false;
  r.has_host = r.has_user_agent = false;
  r.version_minor = 0;
}

}  // namespace

std::span<const char* const> http_request_methods() noexcept { return kMethods; }

HttpStatus probe_http_request(std::span<const std::uint8_t> first_bytes) noexcept {
  bool prefix = false;
  for (const char* m : kMethods) {
    const std::size_t ml = std::strlen(m);
    const std::size_t k = first_bytes.size() < ml + 1 ? first_bytes.size() : ml + 1;
    bool match = true;
    for (std::size_t i = 0; i < k && match; ++i)
      match = first_bytes[i] == static_cast<std::uint8_t>(i < ml ? m[i] : ' ');
    if (!match) continue;
    if (k == ml + 1) return HttpStatus::kOk;
    prefix = true;
  }
  return prefix ? HttpStatus::kNeedMore : HttpStatus::kNotHttp;
}

std::size_t http_head_length(std::span<const std::uint8_t> data) noexcept {
  const std::size_t n = data.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] != '\n') continue;
    if (i + 1 < n && data[i + 1] == '\n') return i + 2;
    if (i + 2 < n && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return 0;
}

HttpStatus parse_http_request(std::span<const std::uint8_t> head, bool complete, HttpRequest& out) noexcept {
  reset(out);
  const std::uint8_t* p = head.data();
  const std::size_t n = head.size();

  // Method: a known token, then SP.
  std::size_t sp1 = 0;
  while (sp1 < n && sp1 <= kHttpMethodMax && p[sp1] != ' ') ++sp1;
  if (sp1 == n) return probe_http_request(head) == HttpStatus::kNotHttp ? HttpStatus::kNotHttp : HttpStatus::kNeedMore;
  if (p[sp1] != ' ' || !is_method({reinterpret_cast<const char*>(p), sp1})) return HttpStatus::kNotHttp;
  std::memcpy(out.method, p, sp1);
  out.method[sp1] = '\0';
  out.method_len = static_cast<std::uint8_t>(sp1);

  std::size_t eol = sp1;
  while (eol < n && p[eol] != '\n') ++eol;
  if (eol == n && complete) return HttpStatus::kMalformed;
  const bool line_cut = eol == n;

  // Target: up to the next SP (or, in a cut line, to what is there).
  const std::size_t t0 = sp1 + 1;
  std::size_t t1 = t0;
  while (t1 < eol && p[t1] != ' ' && p[t1] != '\r') ++t1;
  if (line_cut) {
    store(p + t0, t1 - t0, t1 == eol, out.uri, out.uri_len, out.uri_truncated);
    return HttpStatus::kNeedMore;
  }
  if (t1 == t0) return HttpStatus::kMalformed;
  store(p + t0, t1 - t0, false, out.uri, out.uri_len, out.uri_truncated);

  // Version: exactly "HTTP/1.D", then the line end.
  static constexpr char kVersion[] = "HTTP/1.";
  std::size_t line_end = eol;
  if (line_end > t1 && p[line_end - 1] == '\r') --line_end;
  if (line_end == t1) {
    // "GET /" and the line end: an HTTP/0.9 simple request (RFC 1945 4.1),
    // still sent by probes and scripts; no headers follow.
    out.version_minor = kHttpVersion09;
    return HttpStatus::kOk;
  }
  if (line_end - t1 != 1 + 8 || p[t1] != ' ' || std::memcmp(p + t1 + 1, kVersion, 7) != 0 || !is_digit(p[t1 + 8]))
    return HttpStatus::kMalformed;
  out.version_minor = static_cast<std::uint8_t>(p[t1 + 8] - '0');

  // Header lines until the empty one.
  std::size_t pos = eol + 1;
  while (pos < n) {
    std::size_t le = pos;
    while (le < n && p[le] != '\n') ++le;
    const bool cut = le == n && !complete;  // the buffer ended inside this line
    std::size_t end = le;
    if (end > pos && p[end - 1] == '\r') --end;
    if (end == pos) break;  // the empty line: end of the head
    const std::size_t ls = pos;
    pos = le + 1;
    // An obs-fold continuation starts with SP/HT, which no header name does:
    // it is skipped like any line without "name:" (tshark skips it too).
    std::size_t colon = ls;
    while (colon < end && is_tchar(p[colon])) ++colon;
    if (colon == ls || colon == end || p[colon] != ':') continue;  // not "name:"
    std::size_t v = colon + 1;
    while (v < end && (p[v] == ' ' || p[v] == '\t')) ++v;
    if (!out.has_host && iequals(p + ls, colon - ls, "host")) {
      out.has_host = true;
      store(p + v, end - v, cut, out.host, out.host_len, out.host_truncated);
    } else if (!out.has_user_agent && iequals(p + ls, colon - ls, "user-agent")) {
      out.has_user_agent = true;
      store(p + v, end - v, cut, out.user_agent, out.user_agent_len, out.user_agent_truncated);
    }
  }
  return HttpStatus::kOk;
}

HttpStatus parse_http_status_line(std::span<const std::uint8_t> first_bytes, std::uint16_t& code) noexcept {
  code = 0;
  const std::uint8_t* p = first_bytes.data();
  const std::size_t n = first_bytes.size();
  static constexpr char kPrefix[] = "HTTP/1.";
  for (std::size_t i = 0; i < 7; ++i) {
    if (i == n) return HttpStatus::kNeedMore;
    if (p[i] != static_cast<std::uint8_t>(kPrefix[i])) return HttpStatus::kNotHttp;
  }
  // "HTTP/1." D SP NNN (SP | CR | LF)
  if (n < 8) return HttpStatus::kNeedMore;
  if (!is_digit(p[7])) return HttpStatus::kMalformed;
  if (n < 9) return HttpStatus::kNeedMore;
  if (p[8] != ' ') return HttpStatus::kMalformed;
  for (std::size_t i = 9; i < 12; ++i) {
    if (i == n) return HttpStatus::kNeedMore;
    if (!is_digit(p[i])) return HttpStatus::kMalformed;
  }
  if (n < 13) return HttpStatus::kNeedMore;
  if (p[12] != ' ' && p[12] != '\r' && p[12] != '\n') return HttpStatus::kMalformed;
  const std::uint16_t v = static_cast<std::uint16_t>((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
  if (v < 100) return HttpStatus::kMalformed;
  code = v;
  return HttpStatus::kOk;
}

}  // namespace sf
