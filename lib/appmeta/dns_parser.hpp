// One DNS message (RFC 1035 wire format) into a fixed-size result: header,
// the first question, up to kDnsMaxAnswers answer RRs with their names as
// presentation text. Used for DNS over UDP 53, mDNS 5353, LLMNR 5355 and DNS
// over TCP (the caller strips the 2-byte length prefix). Pure C++: no DPDK,
// no allocation, no exceptions; hostile input ends in a status, never a trap.
//
// Name text is tshark's dns.qry.name / dns.resp.name presentation (4.0):
//  - labels joined with '.', no trailing dot; a '.' inside a label is copied
//    as is (tshark does not escape it either);
//  - the root name is "" (tshark shows "<Root>");
//  - printable ASCII is copied; \a \b \t \n \v \f \r are written as those
//    escapes, other control bytes and 0x7f as \ooo (3 octal digits);
//  - bytes >= 0x80 go through tshark's lenient UTF-8 reading: a complete
//    sequence is written as its code point re-encoded (so an overlong C1 81
//    becomes "A"), an incomplete one, a surrogate or a value past U+10FFFF as
//    one U+FFFD, a stray continuation byte or FE/FF as one U+FFFD each;
//    non-printable code points as \uXXXX (\UXXXXXXXX above U+FFFF). Where
//    tshark asks glib's tables (unassigned code points), we escape only the
//    C0/C1 controls, the format characters (Cf) of the BMP, the noncharacters
//    and the plane-14 tags, and copy the rest: an unassigned code point is
//    copied where tshark writes \uXXXX.
//  - a text longer than kDnsNameTextMax (only possible with escapes) is cut
//    at the last whole character that fits and counts in names_clipped.
//
// Compression pointers must point backward (before the pointer itself): a
// forward or self pointer is kMalformed, which also rules out pointers past
// the end. Loops made of backward pointers end at the 64-pointer or the
// 255-octet bound (kMalformed). Names of records that are not kept (answers
// past the bound, authority, additional, further questions) are only skipped
// in place: their label types and lengths are checked, their pointers are
// not followed.
//
// RDATA: A must have rdlength 4 and AAAA 16; CNAME/PTR/NS/DNAME must hold
// exactly one name. A kept answer that breaks this is not kept, counts in
// bad_rdata_records and makes the status kMalformed, but parsing goes on (the
// framing by rdlength is intact), so later answers are still filled in.
// Other types are kept with type/class/ttl only. The class is stored raw
// (mDNS's cache-flush / unicast-response top bit is not stripped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sf {

inline constexpr std::size_t kDnsNameTextMax = 255;  // presentation text bound (wire names are <= 255 octets)
inline constexpr std::size_t kDnsMaxAnswers = 16;    // answer RRs kept per message
inline constexpr std::size_t kDnsNamesArea = 1024;   // bytes for all name texts of one message
inline constexpr std::size_t kDnsMaxPointers = 64;   // compression pointers followed per name
inline constexpr std::size_t kDnsMaxCnameChain = 16; // names on the chain for_each_resolved_address walks

inline constexpr std::uint16_t kDnsTypeA = 1, kDnsTypeNs = 2, kDnsTypeCname = 5, kDnsTypePtr = 12,
                               kDnsTypeAaaa = 28, kDnsTypeDname = 39, kDnsTypeOpt = 41;

// kTruncated: the message ends inside a record (or before the records the
//   header announces): everything before it is filled in (header, question,
//   complete answers).
// kMalformed: a bad label type, compression loop, pointer out of range or
//   forward, name longer than 255 wire octets, fewer than 12 bytes, bad
//   RDATA of a kept answer: what was parsed before the bad part stays filled.
enum class DnsStatus : std::uint8_t { kOk, kTruncated, kMalformed };

struct DnsName {
  std::uint16_t off = 0;
  std::uint16_t len = 0;
};  // into DnsMessage::names

struct DnsAnswer {
  DnsName owner;
  std::uint16_t type;     // RR type (1 A, 28 AAAA, 5 CNAME, ...)
  std::uint16_t rclass;
  std::uint32_t ttl;
  std::uint8_t addr[16];  // A: first 4 bytes, AAAA: 16; else zero
  DnsName target;         // CNAME/PTR/NS/DNAME target name; else len 0
};
static_assert(sizeof(DnsAnswer) == 32);

// Only answers[0, answer_count) are meaningful; parse_dns_message sets every
// other field on each call (names[] beyond names_used is left as it was).
struct DnsMessage {
  std::uint16_t id, flags;
  bool response;                // QR bit
  std::uint8_t opcode, rcode;   // rcode: the 4-bit header RCODE
  std::uint16_t qdcount, ancount, nscount, arcount;
  bool has_question;            // the first question was parsed
  DnsName qname;
  std::uint16_t qtype, qclass;
  DnsAnswer answers[kDnsMaxAnswers];
  std::uint8_t answer_count;    // kept
  bool answers_truncated;       // an answer RR was present but not kept: bound or names area full
  std::uint8_t bad_rdata_records;  // kept-answer candidates dropped for bad RDATA (saturates at 255)
  std::uint8_t names_clipped;      // name texts cut at kDnsNameTextMax (saturates at 255)
  char names[kDnsNamesArea];
  std::uint16_t names_used;
  std::string_view name(DnsName n) const noexcept { return {names + n.off, n.len}; }
};
static_assert(sizeof(DnsMessage) <= 1600, "DnsMessage is meant to sit in a per-worker scratch slot");

// Never allocates or throws; bounded work: each kept name follows at most
// kDnsMaxPointers pointers and 255 octets; the whole message costs
// O(message size + kept records * 255).
DnsStatus parse_dns_message(std::span<const std::uint8_t> msg, DnsMessage& out) noexcept;

// ASCII case-insensitive equality of two name texts (DNS compares names so).
bool dns_name_equal(std::string_view a, std::string_view b) noexcept;

// The addresses the question name resolves to: walks from qname through the
// CNAME chain (case-insensitive, at most kDnsMaxCnameChain names, loop-safe)
// and calls fn(const DnsAnswer&) for each A/AAAA answer whose owner is on the
// chain, in answer order. Nothing without a question (mDNS responses);
// DNAME answers are not followed.
template <typename Fn>
void for_each_resolved_address(const DnsMessage& m, Fn&& fn) {
  if (!m.has_question) return;
  std::string_view chain[kDnsMaxCnameChain];
  std::size_t chain_len = 0;
  chain[chain_len++] = m.name(m.qname);
  // Each round appends the CNAME target of the last name, if any: at most
  // kDnsMaxCnameChain rounds of one pass over the kept answers.
  while (chain_len < kDnsMaxCnameChain) {
    const std::string_view last = chain[chain_len - 1];
    const DnsAnswer* next = nullptr;
    for (std::size_t i = 0; i < m.answer_count; ++i) {
      const DnsAnswer& a = m.answers[i];
      if (a.type == kDnsTypeCname && dns_name_equal(m.name(a.owner), last)) {
        next = &a;
        break;
      }
    }
    if (next == nullptr) break;
    const std::string_view target = m.name(next->target);
    bool seen = false;
    for (std::size_t j = 0; j < chain_len; ++j) seen = seen || dns_name_equal(chain[j], target);
    if (seen) break;  // a CNAME loop: the chain is complete
    chain[chain_len++] = target;
  }
  for (std::size_t i = 0; i < m.answer_count; ++i) {
    const DnsAnswer& a = m.answers[i];
    if (a.type != kDnsTypeA && a.type != kDnsTypeAaaa) continue;
    const std::string_view owner = m.name(a.owner);
    for (std::size_t j = 0; j < chain_len; ++j) {
      if (dns_name_equal(chain[j], owner)) {
        fn(a);
        break;
      }
    }
  }
}

}  // namespace sf
