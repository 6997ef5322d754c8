#include "export/json_record.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <cstring>

#include "appmeta/tls_hello.hpp"
#include "flow/community_id.hpp"

namespace sf {

namespace {

class Writer {
 public:
  Writer(char* buf, std::size_t cap) : p_(buf), end_(buf + cap) {}

  void raw(const char* s, std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n) {
      ok_ = false;
      return;
    }
    std::memcpy(p_, s, n);
    p_ += n;
  }
  void raw(const char* s) noexcept { raw(s, std::strlen(s)); }
  void u64(std::uint64_t v) noexcept {
    auto r = std::to_chars(p_, end_, v);
    if (r.ec != std::errc{}) {
      ok_ = false;
      return;
    }
    p_ = r.ptr;
  }
  // ns since the epoch → seconds with exactly 6 decimals (microseconds, truncated).
  void seconds(std::uint64_t ns) noexcept {
    const std::uint64_t us = ns / 1000;
    u64(us / 1000000);
    char frac[7];
    std::uint64_t f = us % 1000000;
    for (int i = 5; i >= 0; --i) {
      frac[i] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    frac[6] = '.';
    raw(&frac[6], 1);
    raw(frac, 6);
  }
  void key(const char* k) noexcept {
    raw(first_ ? "{\"" : ",\"");
    first_ = false;
    raw(k);
    raw("\":");
  }
  void str(const char* s) noexcept {
    raw("\"");
    raw(s);
    raw("\"");
  }
  // Only letters and '^' (history) or plain names go through here: nothing to escape.
  void str(std::string_view s) noexcept {
    raw("\"");
    raw(s.data(), s.size());
    raw("\"");
  }
  // Text from the wire (names, URIs, agents): any bytes. Quote, backslash and
  // control bytes and DEL are escaped; bytes >= 0x80 are written as \u00XX (read as
  // Latin-1), so every record is valid JSON whatever the traffic carried.
  void text(std::string_view s) noexcept {
    static constexpr char kHex[] = "0123456789abcdef";
    raw("\"");
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        if (p_ == end_) {
          ok_ = false;
          return;
        }
        *p_++ = ch;
      } else if (c == '"' || c == '\\') {
        const char esc[2] = {'\\', ch};
        raw(esc, 2);
      } else {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        raw(esc, 6);
      }
    }
    raw("\"");
  }
  void comma() noexcept { raw(","); }
  bool ok() const noexcept { return ok_; }
  char* pos() const noexcept { return p_; }

 private:
  char* p_;
  char* end_;
  bool ok_ = true;
  bool first_ = true;
};

void address(const FlowKey& k, const std::array<std::uint8_t, 16>& a, char out[INET6_ADDRSTRLEN]) noexcept {
  if (inet_ntop(k.ip_version == 6 ? AF_INET6 : AF_INET, a.data(), out, INET6_ADDRSTRLEN) == nullptr) out[0] = '\0';
}

std::string_view rcode_name(std::uint8_t rcode) noexcept {
  static constexpr std::string_view kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                                "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  return rcode < std::size(kNames) ? kNames[rcode] : std::string_view{};
}

void version_field(Writer& w, const char* key, std::uint16_t v) noexcept {
  char buf[7];
  w.key(key);
  w.str(tls_version_text(v, buf));
}

void dns_fields(Writer& w, const AppDnsPart& d) noexcept {
  if (d.bits & AppDnsPart::kQuestion) {
    w.key("dns_query"); w.text(d.query.view());
    w.key("dns_qtype"); w.u64(d.qtype);
  }
  if (!(d.bits & AppDnsPart::kResponse)) return;
  w.key("dns_rcode"); w.u64(d.rcode);
  if (const std::string_view n = rcode_name(d.rcode); !n.empty()) { w.key("dns_rcode_name"); w.str(n); }
  w.key("dns_answers");
  w.raw("[");
  for (std::uint8_t i = 0; i < d.answer_count; ++i) {
    if (i != 0) w.comma();
    const AppDnsAnswer& a = d.answers[i];
    if (a.type == 1 || a.type == 28) {
      std::array<std::uint8_t, 16> bytes{};
      for (std::uint16_t j = 0; j < a.len && j < 16; ++j) bytes[j] = static_cast<std::uint8_t>(d.data[a.off + j]);
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(a.type == 1 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text) == nullptr) text[0] = '\0';
      w.str(text);
    } else {
      w.text(std::string_view(d.data + a.off, a.len));
    }
  }
  w.raw("]");
  w.key("dns_ttls");
  w.raw("[");
  for (std::uint8_t i = 0; i < d.answer_count; ++i) {
    if (i != 0) w.comma();
    w.u64(d.answers[i].ttl);
  }
  w.raw("]");
  if (d.bits & AppDnsPart::kAnswersTruncated) { w.key("dns_answers_truncated"); w.raw("true"); }
}

void tls_fields(Writer& w, const AppTlsPart& t) noexcept {
  if (t.bits & AppTlsPart::kClientHello) {
    if (t.bits & AppTlsPart::kSni) { w.key("tls_sni"); w.text(t.sni.view()); }
    if (t.alpn.len != 0) {
      w.key("tls_alpn");
      w.raw("[");
      const std::string_view all = t.alpn.view();
      std::size_t start = 0;
      for (bool first = true; start <= all.size(); first = false) {
        std::size_t end = all.find(',', start);
        if (end == std::string_view::npos) end = all.size();
        if (!first) w.comma();
        w.text(all.substr(start, end - start));
        start = end + 1;
      }
      w.raw("]");
      if (t.bits & AppTlsPart::kAlpnTruncated) { w.key("tls_alpn_truncated"); w.raw("true"); }
    }
    version_field(w, "tls_client_version", t.client_version);
    w.key("tls_ja4"); w.str(std::string_view(t.ja4));
  }
  if (t.bits & AppTlsPart::kServerHello) version_field(w, "tls_version", t.server_version);
}

void http_fields(Writer& w, const AppHttpPart& h) noexcept {
  if (h.bits & AppHttpPart::kRequest) {
    w.key("http_method"); w.text(h.method.view());
    if (h.bits & AppHttpPart::kHost) { w.key("http_host"); w.text(h.host.view()); }
    w.key("http_uri"); w.text(h.uri.view());
    if (h.bits & AppHttpPart::kUriTruncated) { w.key("http_uri_truncated"); w.raw("true"); }
    if (h.bits & AppHttpPart::kUserAgent) { w.key("http_user_agent"); w.text(h.user_agent.view()); }
  }
  if (h.bits & AppHttpPart::kResponse) { w.key("http_status"); w.u64(h.status); }
}

}  // namespace

ServerName own_server_name(const AppRecord* app) noexcept {
  if (app == nullptr) return {};
  if (app->kind == AppKind::kTls && (app->tls.bits & AppTlsPart::kSni) && app->tls.sni.len != 0) {
    return {app->tls.sni.view(), "tls_sni"};
  }
  if (app->kind == AppKind::kHttp && (app->http.bits & AppHttpPart::kHost) && app->http.host.len != 0) {
    std::string_view host = app->http.host.view();
    // "name:port" -> name; "[v6]:port" -> v6 inside the brackets.
    if (!host.empty() && host.front() == '[') {
      const std::size_t close = host.find(']');
      if (close != std::string_view::npos) host = host.substr(1, close - 1);
    } else if (const std::size_t colon = host.rfind(':');
               colon != std::string_view::npos && host.find(':') == colon) {
      host = host.substr(0, colon);
    }
    if (!host.empty()) return {host, "http_host"};
  }
  return {};
}

void tcp_flags_letters(std::uint8_t flags, char out[9]) noexcept {
  static constexpr char kLetters[] = "CEUAPRSF";  // bit 7 .. bit 0
  int n = 0;
  for (int bit = 7; bit >= 0; --bit) {
    if (flags & (1U << bit)) out[n++] = kLetters[7 - bit];
  }
  out[n] = '\0';
}

std::size_t format_json_record(const FlowEvent& ev, const AppRecord* app, const ServerName& server,
                               std::uint16_t community_id_seed, char* buf, std::size_t cap) noexcept {
  const FlowKey& k = ev.key;
  // Orientation: src is the initiator.
  const unsigned s = ev.initiator_dir;  // packets in direction s were sent by the initiator
  const unsigned d = s ^ 1U;
  const bool src_is_lo = s == kDirLoToHi;
  char src_ip[INET6_ADDRSTRLEN];
  char dst_ip[INET6_ADDRSTRLEN];
  address(k, src_is_lo ? k.addr_lo : k.addr_hi, src_ip);
  address(k, src_is_lo ? k.addr_hi : k.addr_lo, dst_ip);
  char flags_src[9];
  char flags_dst[9];
  tcp_flags_letters(ev.tcp_flags[s], flags_src);
  tcp_flags_letters(ev.tcp_flags[d], flags_dst);
  const std::uint64_t duration_ns = ev.last_ts_ns >= ev.first_ts_ns ? ev.last_ts_ns - ev.first_ts_ns : 0;
  CommunityIdText cid;
  community_id(first_packet_tuple(k, ev.initiator_dir, ev.icmp_type), community_id_seed, cid);

  Writer w(buf, cap);
  w.key("flow_id"); w.u64(ev.flow_id);
  w.key("generation"); w.u64(ev.generation);
  w.key("proto"); w.u64(k.proto);
  w.key("ip_version"); w.u64(k.ip_version);
  w.key("src_ip"); w.str(src_ip);
  w.key("src_port"); w.u64(src_is_lo ? k.port_lo : k.port_hi);
  w.key("dst_ip"); w.str(dst_ip);
  w.key("dst_port"); w.u64(src_is_lo ? k.port_hi : k.port_lo);
  if (k.vlan_count >= 1) { w.key("vlan"); w.u64(k.vlan_outer); }
  if (k.vlan_count >= 2) { w.key("inner_vlan"); w.u64(k.vlan_inner); }
  w.key("community_id"); w.str(cid.data());
  w.key("first_ts"); w.seconds(ev.first_ts_ns);
  w.key("last_ts"); w.seconds(ev.last_ts_ns);
  // Duration from the microsecond-truncated stamps, so last_ts - first_ts == duration exactly.
  w.key("duration"); w.seconds((ev.last_ts_ns / 1000 - ev.first_ts_ns / 1000) * 1000 * (duration_ns != 0));
  w.key("src_packets"); w.u64(ev.packets[s]);
  w.key("src_bytes"); w.u64(ev.bytes[s]);
  w.key("dst_packets"); w.u64(ev.packets[d]);
  w.key("dst_bytes"); w.u64(ev.bytes[d]);
  w.key("tcp_flags_src"); w.str(flags_src);
  w.key("tcp_flags_dst"); w.str(flags_dst);
  w.key("conn_state"); w.str(conn_state_name(ev.conn_state));
  w.key("direction_reason"); w.str(direction_reason_name(ev.direction_reason));
  if (ev.tcp.bits & kTcpRecordState) {
    const TcpRecord& t = ev.tcp;
    w.key("history"); w.str(std::string_view(t.history, t.history_len));
    if (t.bits & kTcpRecordTruncated) { w.key("history_truncated"); w.raw("true"); }
    w.key("src_retrans_packets"); w.u64(t.retrans_packets[s]);
    w.key("src_retrans_bytes"); w.u64(t.retrans_bytes[s]);
    w.key("dst_retrans_packets"); w.u64(t.retrans_packets[d]);
    w.key("dst_retrans_bytes"); w.u64(t.retrans_bytes[d]);
    w.key("src_ooo_segments"); w.u64(t.ooo_segments[s]);
    w.key("dst_ooo_segments"); w.u64(t.ooo_segments[d]);
    w.key("src_zero_windows"); w.u64(t.zero_windows[s]);
    w.key("dst_zero_windows"); w.u64(t.zero_windows[d]);
    w.key("src_missed_bytes"); w.u64(t.missed_bytes[s]);
    w.key("dst_missed_bytes"); w.u64(t.missed_bytes[d]);
    w.key("missed_bytes"); w.u64(t.missed_bytes[0] + t.missed_bytes[1]);
    w.key("overlap_conflict_bytes"); w.u64(t.overlap_conflict_bytes[0] + t.overlap_conflict_bytes[1]);
    if (t.bits & kTcpRecordRtt) {
      w.key("rtt_synack_us"); w.u64(t.rtt_synack_us);
      w.key("rtt_ack_us"); w.u64(t.rtt_ack_us);
      w.key("rtt_us"); w.u64(std::uint64_t{t.rtt_synack_us} + t.rtt_ack_us);
    }
  }
  if (app != nullptr) {
    switch (app->kind) {
      case AppKind::kDns: dns_fields(w, app->dns); break;
      case AppKind::kTls: tls_fields(w, app->tls); break;
      case AppKind::kHttp: http_fields(w, app->http); break;
      case AppKind::kNone: break;
    }
  }
  if (!server.name.empty()) {
    w.key("server_name"); w.text(server.name);
    w.key("server_name_source"); w.str(server.source);
  }
  w.key("end_reason"); w.str(end_reason_name(ev.end_reason));
  w.key("worker"); w.u64(ev.worker);
  w.key("seq"); w.u64(ev.seq);
  w.raw("}\n");
  if (!w.ok()) return 0;
  return static_cast<std::size_t>(w.pos() - buf);
}

}  // namespace sf
