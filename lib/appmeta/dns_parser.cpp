// DNS message parser: see dns_parser.hpp for the contract and the name text
// rules. Every read is checked against the message end first; the only
// loops are over message bytes, records (each at least 11 bytes), or bounded
// by kDnsMaxPointers / 255 octets.
#include "appmeta/dns_parser.hpp"

#include <cstring>

namespace sf {
namespace {

constexpr std::size_t kHeaderLen = 12;
constexpr std::size_t kRrFixedLen = 10;  // type, class, ttl, rdlength
constexpr std::size_t kMaxWireName = 255;
constexpr std::size_t kCacheSize = 1 + 2 * kDnsMaxAnswers;

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Presentation text of one name, built whole-characters-only into a
// fixed buffer: once a character does not fit, the text is clipped there.
struct NameText {
  char buf[kDnsNameTextMax];
  std::size_t len = 0;
  bool clipped = false;

  void put(const char* s, std::size_t n) noexcept {
    if (clipped) return;
    if (len + n > sizeof buf) {
      clipped = true;
      return;
    }
    std::memcpy(buf + len, s, n);
    len += n;
  }
  void put(char c) noexcept { put(&c, 1); }
};

// glib's g_unichar_isprint without its tables: the controls, the format
// characters, the noncharacters and the planes that hold nothing are
// "not printable"; every other code point is taken as printable.
bool printable_code_point(std::uint32_t cp) noexcept {
  if (cp < 0xA0) return false;  // C1 controls (ASCII is handled before)
  if (cp == 0xAD || (cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD || cp == 0x70F ||
      cp == 0x890 || cp == 0x891 || cp == 0x8E2 || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) ||
      cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB))
    return false;
  if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) return false;  // noncharacters
  if (cp == 0x110BD || cp == 0x110CD || (cp >= 0x13430 && cp <= 0x1343F) || (cp >= 0x1BCA0 && cp <= 0x1BCA3) ||
      (cp >= 0x1D173 && cp <= 0x1D17A))
    return false;
  if (cp >= 0x40000 && cp <= 0xDFFFF) return false;                     // planes 4-13: unassigned
  if (cp >= 0xE0000 && cp <= 0xEFFFF) return cp >= 0xE0100 && cp <= 0xE01EF;  // tags, variation selectors
  return true;
}

void put_replacement(NameText& t) noexcept { t.put("\xEF\xBF\xBD", 3); }

void put_utf8(NameText& t, std::uint32_t cp) noexcept {
  char b[4];
  std::size_t n;
  if (cp < 0x80) {
    b[0] = static_cast<char>(cp);
    n = 1;
  } else if (cp < 0x800) {
    b[0] = static_cast<char>(0xC0 | (cp >> 6));
    b[1] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = static_cast<char>(0xE0 | (cp >> 12));
    b[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[2] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = static_cast<char>(0xF0 | (cp >> 18));
    b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[3] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 4;
  }
  t.put(b, n);
}

void put_hex_escape(NameText& t, std::uint32_t cp) noexcept {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const std::size_t digits = cp > 0xFFFF ? 8 : 4;
  char b[10];
  b[0] = '\\';
  b[1] = cp > 0xFFFF ? 'U' : 'u';
  for (std::size_t i = 0; i < digits; ++i) b[2 + i] = kHex[(cp >> (4 * (digits - 1 - i))) & 0xF];
  t.put(b, 2 + digits);
}

void put_ascii(NameText& t, std::uint8_t c) noexcept {
  if (c >= 0x20 && c < 0x7F) {
    t.put(static_cast<char>(c));
    return;
  }
  static constexpr char kLetters[] = "abtnvfr";  // for 0x07..0x0d
  if (c >= 0x07 && c <= 0x0D) {
    const char e[2] = {'\\', kLetters[c - 0x07]};
    t.put(e, 2);
    return;
  }
  const char e[4] = {'\\', static_cast<char>('0' + (c >> 6)), static_cast<char>('0' + ((c >> 3) & 7)),
                     static_cast<char>('0' + (c & 7))};
  t.put(e, 4);
}

// One label's bytes, with tshark's lenient UTF-8 reading (see the header).
void put_label(NameText& t, const std::uint8_t* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n && !t.clipped) {
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      put_ascii(t, c);
      ++i;
      continue;
    }
    std::size_t need;
    std::uint32_t cp;
    if (c >= 0xC0 && c < 0xE0) {
      need = 1, cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c < 0xF0) {
      need = 2, cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c < 0xF8) {
      need = 3, cp = c & 0x07u;
    } else if (c >= 0xF8 && c < 0xFC) {
      need = 4, cp = c & 0x03u;
    } else if (c >= 0xFC && c < 0xFE) {
      need = 5, cp = c & 0x01u;
    } else {  // a stray continuation byte, FE, FF
      put_replacement(t);
      ++i;
      continue;
    }
    ++i;
    std::size_t got = 0;
    while (got < need && i < n && (s[i] & 0xC0) == 0x80) {
      cp = (cp << 6) | (s[i] & 0x3Fu);
      ++i;
      ++got;
    }
    if (got < need || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      put_replacement(t);
    } else if (cp < 0x80) {  // an overlong form: tshark shows what it encodes
      if (cp >= 0x20 && cp < 0x7F)
        t.put(static_cast<char>(cp));
      else
        put_hex_escape(t, cp);
    } else if (printable_code_point(cp)) {
      put_utf8(t, cp);
    } else {
      put_hex_escape(t, cp);
    }
  }
}

enum class Step : std::uint8_t { kOk, kTruncated, kMalformed, kNoRoom };

struct CacheEntry {
  std::uint16_t wire_off;  // where the name's first label is
  std::uint8_t hops;       // pointers followed from there
  bool clipped;
  DnsName text;
};

class Parser {
 public:
  Parser(std::span<const std::uint8_t> msg, DnsMessage& out) noexcept : m_(msg.data()), n_(msg.size()), out_(out) {}

  // Skips a name in place from pos: labels checked, a pointer ends it.
  Step skip_name(std::size_t& pos, std::size_t limit) const noexcept {
    std::size_t octets = 0;
    for (;;) {
      if (pos >= limit) return Step::kTruncated;
      const std::uint8_t len = m_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (pos + 1 >= limit) return Step::kTruncated;
        const std::size_t target = ((len & 0x3Fu) << 8) | m_[pos + 1];
        if (target >= pos) return Step::kMalformed;
        pos += 2;
        return Step::kOk;
      }
      if ((len & 0xC0) != 0) return Step::kMalformed;  // 0x40 (extended) and 0x80 label types
      octets += len + 1u;
      if (octets > kMaxWireName) return Step::kMalformed;
      ++pos;
      if (len == 0) return Step::kOk;
      if (pos + len > limit) return Step::kTruncated;
      pos += len;
    }
  }

  // Decodes the name at pos into the names area. pos moves past the name's
  // in-place part, which must end by `limit`. kNoRoom: the area is full.
  Step read_name(std::size_t& pos, std::size_t limit, DnsName& result) noexcept {
    NameText text;
    std::size_t cur = pos;
    std::size_t end = 0;
    bool jumped = false;
    std::size_t hops = 0;
    std::size_t octets = 0;
    std::size_t labels = 0;
    std::size_t first_label = SIZE_MAX;
    std::size_t hops_at_first = 0;
    // Reading past the end before any pointer is a cut message; after one,
    // the pointer led into bytes that are no name.
    const auto overrun = [&] { return jumped ? Step::kMalformed : Step::kTruncated; };
    for (;;) {
      const std::size_t bound = jumped ? n_ : limit;
      if (cur >= bound) return overrun();
      const std::uint8_t len = m_[cur];
      if ((len & 0xC0) == 0xC0) {
        if (cur + 1 >= bound) return overrun();
        const std::size_t target = ((len & 0x3Fu) << 8) | m_[cur + 1];
        if (target >= cur) return Step::kMalformed;  // forward, self, past the end
        if (++hops > kDnsMaxPointers) return Step::kMalformed;
        if (!jumped) end = cur + 2;
        jumped = true;
        if (labels == 0) {
          if (const CacheEntry* e = find(target); e != nullptr) {
            if (hops + e->hops > kDnsMaxPointers) return Step::kMalformed;
            result = e->text;
            if (e->clipped) bump(out_.names_clipped);
            pos = end;
            return Step::kOk;
          }
        }
        cur = target;
        continue;
      }
      if ((len & 0xC0) != 0) return Step::kMalformed;  // 0x40 (extended) and 0x80 label types
      octets += len + 1u;
      if (octets > kMaxWireName) return Step::kMalformed;
      if (len == 0) {
        if (!jumped) end = cur + 1;
        break;
      }
      if (cur + 1 + len > bound) return overrun();
      if (first_label == SIZE_MAX) {
        first_label = cur;
        hops_at_first = hops;
      }
      if (labels++ != 0) text.put('.');
      put_label(text, m_ + cur + 1, len);
      cur += 1 + len;
    }
    if (kDnsNamesArea - out_.names_used < text.len) return Step::kNoRoom;
    result.off = out_.names_used;
    result.len = static_cast<std::uint16_t>(text.len);
    std::memcpy(out_.names + out_.names_used, text.buf, text.len);
    out_.names_used = static_cast<std::uint16_t>(out_.names_used + text.len);
    if (text.clipped) bump(out_.names_clipped);
    if (first_label != SIZE_MAX && cache_len_ < kCacheSize)
      cache_[cache_len_++] = {static_cast<std::uint16_t>(first_label), static_cast<std::uint8_t>(hops - hops_at_first),
                              text.clipped, result};
    pos = end;
    return Step::kOk;
  }

  DnsStatus run() noexcept;

 private:
  const CacheEntry* find(std::size_t wire_off) const noexcept {
    for (std::size_t i = 0; i < cache_len_; ++i)
      if (cache_[i].wire_off == wire_off) return &cache_[i];
    return nullptr;
  }
  static void bump(std::uint8_t& counter) noexcept {
    if (counter != 0xFF) ++counter;
  }
  static DnsStatus status_of(Step s) noexcept {
    return s == Step::kMalformed ? DnsStatus::kMalformed : DnsStatus::kTruncated;
  }

  // Skips one RR (not kept): name, fixed part, rdata.
  Step skip_rr(std::size_t& pos) const noexcept {
    if (const Step s = skip_name(pos, n_); s != Step::kOk) return s;
    if (n_ - pos < kRrFixedLen) return Step::kTruncated;
    const std::size_t rdlen = be16(m_ + pos + 8);
    pos += kRrFixedLen;
    if (n_ - pos < rdlen) return Step::kTruncated;
    pos += rdlen;
    return Step::kOk;
  }

  Step keep_answer(std::size_t& pos) noexcept;

  const std::uint8_t* m_;
  std::size_t n_;
  DnsMessage& out_;
  CacheEntry cache_[kCacheSize];
  std::size_t cache_len_ = 0;
  bool keeping_ = true;  // answers still go into out_.answers
  bool bad_rdata_ = false;
};

// One answer RR into out_.answers[answer_count]; on any failure nothing of
// it stays (names area and cache rolled back). kNoRoom: the names area is
// full and pos is unchanged, so the caller skips the record instead.
Step Parser::keep_answer(std::size_t& pos) noexcept {
  const std::uint16_t names_before = out_.names_used;
  const std::size_t cache_before = cache_len_;
  const auto rollback = [&](Step s) {
    out_.names_used = names_before;
    cache_len_ = cache_before;
    return s;
  };
  std::size_t cur = pos;
  DnsAnswer& a = out_.answers[out_.answer_count];
  a = DnsAnswer{};
  if (const Step s = read_name(cur, n_, a.owner); s != Step::kOk) return rollback(s);
  if (n_ - cur < kRrFixedLen) return rollback(Step::kTruncated);
  a.type = be16(m_ + cur);
  a.rclass = be16(m_ + cur + 2);
  a.ttl = be32(m_ + cur + 4);
  const std::size_t rdlen = be16(m_ + cur + 8);
  cur += kRrFixedLen;
  if (n_ - cur < rdlen) return rollback(Step::kTruncated);
  const std::size_t rdata_end = cur + rdlen;
  bool good = true;
  switch (a.type) {
    case kDnsTypeA:
    case kDnsTypeAaaa:
      good = rdlen == (a.type == kDnsTypeA ? 4u : 16u);
      if (good) std::memcpy(a.addr, m_ + cur, rdlen);
      break;
    case kDnsTypeCname:
    case kDnsTypePtr:
    case kDnsTypeNs:
    case kDnsTypeDname: {
      std::size_t t = cur;
      const Step s = read_name(t, rdata_end, a.target);
      if (s == Step::kNoRoom) return rollback(s);
      good = s == Step::kOk && t == rdata_end;
      break;
    }
    default:
      break;
  }
  pos = rdata_end;
  if (!good) {
    bad_rdata_ = true;
    bump(out_.bad_rdata_records);
    return rollback(Step::kOk);
  }
  ++out_.answer_count;
  return Step::kOk;
}

DnsStatus Parser::run() noexcept {
  out_.id = out_.flags = 0;
  out_.response = false;
  out_.opcode = out_.rcode = 0;
  out_.qdcount = out_.ancount = out_.nscount = out_.arcount = 0;
  out_.has_question = false;
  out_.qname = {};
  out_.qtype = out_.qclass = 0;
  out_.answer_count = 0;
  out_.answers_truncated = false;
  out_.bad_rdata_records = 0;
  out_.names_clipped = 0;
  out_.names_used = 0;
  if (n_ < kHeaderLen) return DnsStatus::kMalformed;

  out_.id = be16(m_);
  out_.flags = be16(m_ + 2);
  out_.response = (out_.flags & 0x8000) != 0;
  out_.opcode = static_cast<std::uint8_t>((out_.flags >> 11) & 0xF);
  out_.rcode = static_cast<std::uint8_t>(out_.flags & 0xF);
  out_.qdcount = be16(m_ + 4);
  out_.ancount = be16(m_ + 6);
  out_.nscount = be16(m_ + 8);
  out_.arcount = be16(m_ + 10);

  std::size_t pos = kHeaderLen;
  for (std::size_t q = 0; q < out_.qdcount; ++q) {
    Step s;
    if (q == 0) {
      s = read_name(pos, n_, out_.qname);  // the area is empty: never kNoRoom
    } else {
      s = skip_name(pos, n_);
    }
    if (s != Step::kOk) return status_of(s);
    if (n_ - pos < 4) return DnsStatus::kTruncated;
    if (q == 0) {
      out_.qtype = be16(m_ + pos);
      out_.qclass = be16(m_ + pos + 2);
      out_.has_question = true;
    }
    pos += 4;
  }

  for (std::size_t i = 0; i < out_.ancount; ++i) {
    if (keeping_ && out_.answer_count == kDnsMaxAnswers) keeping_ = false;
    if (keeping_) {
      const Step s = keep_answer(pos);
      if (s == Step::kOk) continue;
      if (s != Step::kNoRoom) return status_of(s);
      keeping_ = false;  // names area full: this and later answers are skipped
    }
    out_.answers_truncated = true;
    if (const Step s = skip_rr(pos); s != Step::kOk) return status_of(s);
  }

  const std::size_t rest = std::size_t{out_.nscount} + out_.arcount;
  for (std::size_t i = 0; i < rest; ++i)
    if (const Step s = skip_rr(pos); s != Step::kOk) return status_of(s);
  return bad_rdata_ ? DnsStatus::kMalformed : DnsStatus::kOk;
}

}  // namespace

DnsStatus parse_dns_message(std::span<const std::uint8_t> msg, DnsMessage& out) noexcept {
  Parser p(msg, out);
  return p.run();
}

bool dns_name_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace sf
