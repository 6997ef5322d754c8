#include "ipfix/ipfix_encoder.hpp"

#include <algorithm>
#include <cstring>

#include "flow/community_id.hpp"

namespace sf {

namespace {

enum FieldIn : std::uint8_t { kInV4 = 0x01, kInV6 = 0x02, kInUni = 0x04, kInBi = 0x08, kInMeta = 0x10 };
constexpr std::uint8_t kInAll = kInV4 | kInV6 | kInUni | kInBi;
constexpr std::uint8_t kInBoth = kInUni | kInBi;

struct MasterField {
  IpfixField f;
  std::uint8_t in;  // FieldIn: templates that hold it
};

// Every field of every template, in template order (the table in the header).
constexpr MasterField kFields[] = {
    {{6, 2, kIpfixPenReverse, IpfixValue::kRevTcpFlags}, kInV4 | kInV6 | kInBi},
    {{6, 2, 0, IpfixValue::kTcpFlags}, kInAll},
    {{8, 4, 0, IpfixValue::kSrcAddr4}, kInV4 | kInBoth},
    {{12, 4, 0, IpfixValue::kDstAddr4}, kInV4 | kInBoth},
    {{27, 16, 0, IpfixValue::kSrcAddr6}, kInV6 | kInBoth},
    {{28, 16, 0, IpfixValue::kDstAddr6}, kInV6 | kInBoth},
    {{7, 2, 0, IpfixValue::kSrcPort}, kInAll},
    {{11, 2, 0, IpfixValue::kDstPort}, kInAll},
    {{4, 1, 0, IpfixValue::kProto}, kInAll},
    {{60, 1, 0, IpfixValue::kIpVersion}, kInAll},
    {{136, 1, 0, IpfixValue::kEndReason}, kInAll},
    {{58, 2, 0, IpfixValue::kVlan}, kInAll},
    {{245, 2, 0, IpfixValue::kInnerVlan}, kInAll},
    {{148, 8, 0, IpfixValue::kFlowId}, kInAll},
    {{152, 8, 0, IpfixValue::kStartMs}, kInAll},
    {{153, 8, 0, IpfixValue::kEndMs}, kInAll},
    {{2, 8, 0, IpfixValue::kPackets}, kInAll},
    {{1, 8, 0, IpfixValue::kOctets}, kInAll},
    {{2, 8, kIpfixPenReverse, IpfixValue::kRevPackets}, kInV4 | kInV6 | kInBi},
    {{1, 8, kIpfixPenReverse, IpfixValue::kRevOctets}, kInV4 | kInV6 | kInBi},
    {{239, 1, 0, IpfixValue::kBiflowDirection}, kInV4 | kInV6 | kInBi},
    {{294, kIpfixVarLen, kIpfixPenCert, IpfixValue::kSslServerName}, kInAll | kInMeta},
    {{179, kIpfixVarLen, kIpfixPenCert, IpfixValue::kDnsQName}, kInAll | kInMeta},
    {{1, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kConnState}, kInAll | kInMeta},
    {{2, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kCommunityId}, kInAll | kInMeta},
    {{3, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kTcpHistory}, kInAll | kInMeta},
    {{4, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kServerName}, kInAll | kInMeta},
    {{5, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kServerNameSource}, kInAll | kInMeta},
    {{6, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kHttpHost}, kInAll | kInMeta},
    {{7, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kHttpMethod}, kInAll | kInMeta},
    {{8, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kHttpUri}, kInAll | kInMeta},
    {{9, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kHttpUserAgent}, kInAll | kInMeta},
    {{10, 2, kIpfixPenShardflow, IpfixValue::kHttpStatus}, kInAll | kInMeta},
    {{11, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kTlsJa4}, kInAll | kInMeta},
    {{12, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kTlsAlpn}, kInAll | kInMeta},
    {{13, 2, kIpfixPenShardflow, IpfixValue::kTlsClientVersion}, kInAll | kInMeta},
    {{14, 2, kIpfixPenShardflow, IpfixValue::kTlsServerVersion}, kInAll | kInMeta},
    {{15, 2, kIpfixPenShardflow, IpfixValue::kDnsQType}, kInAll | kInMeta},
    {{16, 2, kIpfixPenShardflow, IpfixValue::kDnsRcode}, kInAll | kInMeta},
    {{17, 4, kIpfixPenShardflow, IpfixValue::kGeneration}, kInAll | kInMeta},
    {{18, kIpfixVarLen, kIpfixPenShardflow, IpfixValue::kDirectionReason}, kInAll | kInMeta},
};
static_assert(std::size(kFields) <= kIpfixMaxFields);

constexpr std::uint16_t kNoRcode = 65535;

// Bounded big-endian writer: a write past the end marks it failed and writes nothing more.
class Out {
 public:
  Out(std::uint8_t* p, std::uint8_t* end) : p_(p), end_(end) {}
  void u8(std::uint8_t v) noexcept { put(&v, 1); }
  void u16(std::uint16_t v) noexcept {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    put(b, 2);
  }
  void u32(std::uint32_t v) noexcept {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) noexcept {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void put(const void* src, std::size_t n) noexcept {
    if (!ok_ || static_cast<std::size_t>(end_ - p_) < n) {
      ok_ = false;
      return;
    }
    std::memcpy(p_, src, n);
    p_ += n;
  }
  // RFC 7011 7: one length byte below 255, else 255 and a two-byte length.
  void text(std::string_view s, std::size_t cap) noexcept {
    const std::size_t n = std::min(s.size(), cap);
    if (n < 255) {
      u8(static_cast<std::uint8_t>(n));
    } else {
      u8(255);
      u16(static_cast<std::uint16_t>(n));
    }
    put(s.data(), n);
  }
  bool ok() const noexcept { return ok_; }
  std::uint8_t* pos() const noexcept { return p_; }

 private:
  std::uint8_t* p_;
  std::uint8_t* end_;
  bool ok_ = true;
};

void put_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  put_u16(p, static_cast<std::uint16_t>(v >> 16));
  put_u16(p + 2, static_cast<std::uint16_t>(v));
}

}  // namespace

struct IpfixEncoder::Values {
  const std::uint8_t* src_addr = nullptr;
  const std::uint8_t* dst_addr = nullptr;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint16_t tcp_flags = 0;
  std::uint16_t rev_tcp_flags = 0;
  std::uint16_t vlan = 0;
  std::uint16_t inner_vlan = 0;
  std::uint8_t proto = 0;
  std::uint8_t ip_version = 0;
  std::uint8_t end_reason = 0;
  std::uint64_t flow_id = 0;
  std::uint64_t start_ms = 0;
  std::uint64_t end_ms = 0;
  std::uint64_t packets = 0;
  std::uint64_t octets = 0;
  std::uint64_t rev_packets = 0;
  std::uint64_t rev_octets = 0;
  // Metadata.
  std::string_view sni, qname, conn_state, history, server_name, server_name_source, http_host, http_method,
      http_uri, http_user_agent, tls_ja4, tls_alpn, direction_reason;
  CommunityIdText community_id{};
  std::uint16_t http_status = 0;
  std::uint16_t tls_client_version = 0;
  std::uint16_t tls_server_version = 0;
  std::uint16_t dns_qtype = 0;
  std::uint16_t dns_rcode = kNoRcode;
  std::uint32_t generation = 0;
};

IpfixTemplate ipfix_template(IpfixMode mode, std::uint8_t ip_version, bool metadata) noexcept {
  const bool bi = mode == IpfixMode::kBiflow;
  const bool v6 = ip_version == 6;
  IpfixTemplate t;
  t.id = static_cast<std::uint16_t>(kIpfixTemplateIdBase + (bi ? 2 : 0) + (v6 ? 1 : 0) + (metadata ? 4 : 0));
  t.ip_version = v6 ? 6 : 4;
  const std::uint8_t want_version = v6 ? kInV6 : kInV4;
  const std::uint8_t want_mode = bi ? kInBi : kInUni;
  for (const MasterField& m : kFields) {
    if (!(m.in & want_version) || !(m.in & want_mode)) continue;
    if ((m.in & kInMeta) && !metadata) continue;
    t.fields[t.count++] = m.f;
  }
  return t;
}

std::uint8_t ipfix_end_reason(EndReason r) noexcept {
  switch (r) {
    case EndReason::idle: return 1;       // idleTimeout
    case EndReason::active: return 2;     // activeTimeout
    case EndReason::tcp_close: return 3;  // endOfFlowDetected
    case EndReason::eof:
    case EndReason::shutdown: return 4;   // forcedEnd
    case EndReason::evicted: return 5;    // lackOfResources
    case EndReason::kCount: break;
  }
  return 4;
}

IpfixEncoder::IpfixEncoder(const IpfixOptions& o, IpfixMessageSink& sink)
    : opt_(o),
      sink_(sink),
      max_bytes_(std::clamp(o.max_message_bytes, kIpfixMinMessageBytes, kIpfixMaxMessageBytes)),
      templates_{ipfix_template(o.mode, 4, o.metadata), ipfix_template(o.mode, 6, o.metadata)},
      buf_(new std::uint8_t[max_bytes_]),
      tmpl_buf_(new std::uint8_t[max_bytes_]) {
  template_set_len_ = write_template_set(tmpl_buf_.get() + kIpfixHeaderLen);
}

// Template Set (RFC 7011 3.4.1): set header, then per template its id, field
// count and field specifiers (enterprise bit + PEN when the PEN is not IANA's).
std::size_t IpfixEncoder::write_template_set(std::uint8_t* out) const noexcept {
  Out w(out, out + (max_bytes_ - kIpfixHeaderLen));
  w.u16(kIpfixTemplateSetId);
  w.u16(0);  // length, below
  for (const IpfixTemplate& t : templates_) {
    w.u16(t.id);
    w.u16(t.count);
    for (const IpfixField& f : t.view()) {
      w.u16(static_cast<std::uint16_t>(f.id | (f.pen != 0 ? 0x8000 : 0)));
      w.u16(f.length);
      if (f.pen != 0) w.u32(f.pen);
    }
  }
  const auto len = static_cast<std::size_t>(w.pos() - out);
  put_u16(out + 2, static_cast<std::uint16_t>(len));
  return len;  // both templates fit kIpfixMinMessageBytes (tested)
}

void IpfixEncoder::open_message() noexcept {
  const std::uint32_t now = export_time_s_;
  if (templates_ever_ && opt_.template_refresh_s != 0) {
    if (now < last_template_time_s_) last_template_time_s_ = now;  // the caller's clock went back
    if (now - last_template_time_s_ >= opt_.template_refresh_s) templates_due_ = true;
  }
  used_ = kIpfixHeaderLen;
  set_start_ = 0;
  set_id_ = 0;
  msg_records_ = 0;
  if (templates_due_) {
    std::memcpy(buf_.get() + used_, tmpl_buf_.get() + kIpfixHeaderLen, template_set_len_);
    used_ += template_set_len_;
    templates_due_ = false;
    templates_ever_ = true;
    last_template_time_s_ = now;
    ++template_sets_;
  }
}

namespace {
void write_header(std::uint8_t* p, std::size_t len, std::uint32_t export_time_s, std::uint64_t seq,
                  std::uint32_t domain) noexcept {
  put_u16(p, kIpfixVersion);
  put_u16(p + 2, static_cast<std::uint16_t>(len));
  put_u32(p + 4, export_time_s);
  put_u32(p + 8, static_cast<std::uint32_t>(seq));  // modulo 2^32 (RFC 7011 3.1)
  put_u32(p + 12, domain);
}
}  // namespace

void IpfixEncoder::emit(std::uint32_t export_time_s) noexcept {
  if (used_ == 0) return;
  if (set_start_ != 0) put_u16(buf_.get() + set_start_ + 2, static_cast<std::uint16_t>(used_ - set_start_));
  write_header(buf_.get(), used_, export_time_s, data_records_, opt_.observation_domain);
  sink_.message({buf_.get(), used_});
  data_records_ += msg_records_;
  ++messages_;
  used_ = 0;
  set_start_ = 0;
  msg_records_ = 0;
}

void IpfixEncoder::emit_templates_only() noexcept {
  const std::size_t len = kIpfixHeaderLen + template_set_len_;
  write_header(tmpl_buf_.get(), len, export_time_s_, data_records_, opt_.observation_domain);
  sink_.message({tmpl_buf_.get(), len});
  ++messages_;
  ++template_sets_;
  templates_ever_ = true;
  last_template_time_s_ = export_time_s_;
}

std::span<const std::uint8_t> IpfixEncoder::template_message() noexcept {
  const std::size_t len = kIpfixHeaderLen + template_set_len_;
  write_header(tmpl_buf_.get(), len, export_time_s_, data_records_, opt_.observation_domain);
  return {tmpl_buf_.get(), len};
}

void IpfixEncoder::force_templates() noexcept {
  if (used_ != 0 && msg_records_ != 0) {
    // Buffered records must not precede their templates on a new connection.
    emit_templates_only();
    return;
  }
  templates_due_ = true;
  if (used_ != 0) used_ = 0;  // an open message without records: reopen with the templates
}

void IpfixEncoder::flush(std::uint32_t export_time_s) noexcept {
  export_time_s_ = export_time_s;
  emit(export_time_s);
}

bool IpfixEncoder::try_write(const IpfixTemplate& t, const Values& v, std::size_t cap) noexcept {
  std::uint8_t* const base = buf_.get();
  const bool new_set = set_start_ == 0 || set_id_ != t.id;
  std::size_t start = used_;
  if (new_set) {
    // Close the open set; the new one starts here.
    if (set_start_ != 0) put_u16(base + set_start_ + 2, static_cast<std::uint16_t>(used_ - set_start_));
    start += kIpfixSetHeaderLen;
  }
  if (start > max_bytes_) return false;
  Out w(base + start, base + max_bytes_);
  for (const IpfixField& f : t.view()) {
    switch (f.value) {
      case IpfixValue::kRevTcpFlags: w.u16(v.rev_tcp_flags); break;
      case IpfixValue::kTcpFlags: w.u16(v.tcp_flags); break;
      case IpfixValue::kSrcAddr4: w.put(v.src_addr, 4); break;
      case IpfixValue::kDstAddr4: w.put(v.dst_addr, 4); break;
      case IpfixValue::kSrcAddr6: w.put(v.src_addr, 16); break;
      case IpfixValue::kDstAddr6: w.put(v.dst_addr, 16); break;
      case IpfixValue::kSrcPort: w.u16(v.src_port); break;
      case IpfixValue::kDstPort: w.u16(v.dst_port); break;
      case IpfixValue::kProto: w.u8(v.proto); break;
      case IpfixValue::kIpVersion: w.u8(v.ip_version); break;
      case IpfixValue::kEndReason: w.u8(v.end_reason); break;
      case IpfixValue::kVlan: w.u16(v.vlan); break;
      case IpfixValue::kInnerVlan: w.u16(v.inner_vlan); break;
      case IpfixValue::kFlowId: w.u64(v.flow_id); break;
      case IpfixValue::kStartMs: w.u64(v.start_ms); break;
      case IpfixValue::kEndMs: w.u64(v.end_ms); break;
      case IpfixValue::kPackets: w.u64(v.packets); break;
      case IpfixValue::kOctets: w.u64(v.octets); break;
      case IpfixValue::kRevPackets: w.u64(v.rev_packets); break;
      case IpfixValue::kRevOctets: w.u64(v.rev_octets); break;
      case IpfixValue::kBiflowDirection: w.u8(1); break;  // initiator: the source is the initiator
      case IpfixValue::kSslServerName: w.text(v.sni, cap); break;
      case IpfixValue::kDnsQName: w.text(v.qname, cap); break;
      case IpfixValue::kConnState: w.text(v.conn_state, cap); break;
      case IpfixValue::kCommunityId: w.text(std::string_view(v.community_id.data()), cap); break;
      case IpfixValue::kTcpHistory: w.text(v.history, cap); break;
      case IpfixValue::kServerName: w.text(v.server_name, cap); break;
      case IpfixValue::kServerNameSource: w.text(v.server_name_source, cap); break;
      case IpfixValue::kHttpHost: w.text(v.http_host, cap); break;
      case IpfixValue::kHttpMethod: w.text(v.http_method, cap); break;
      case IpfixValue::kHttpUri: w.text(v.http_uri, cap); break;
      case IpfixValue::kHttpUserAgent: w.text(v.http_user_agent, cap); break;
      case IpfixValue::kHttpStatus: w.u16(v.http_status); break;
      case IpfixValue::kTlsJa4: w.text(v.tls_ja4, cap); break;
      case IpfixValue::kTlsAlpn: w.text(v.tls_alpn, cap); break;
      case IpfixValue::kTlsClientVersion: w.u16(v.tls_client_version); break;
      case IpfixValue::kTlsServerVersion: w.u16(v.tls_server_version); break;
      case IpfixValue::kDnsQType: w.u16(v.dns_qtype); break;
      case IpfixValue::kDnsRcode: w.u16(v.dns_rcode); break;
      case IpfixValue::kGeneration: w.u32(v.generation); break;
      case IpfixValue::kDirectionReason: w.text(v.direction_reason, cap); break;
    }
  }
  if (!w.ok()) return false;  // a closed set's length is final either way
  if (new_set) {
    set_start_ = used_;
    set_id_ = t.id;
    put_u16(base + set_start_, t.id);
    put_u16(base + set_start_ + 2, 0);
  }
  used_ = static_cast<std::size_t>(w.pos() - base);
  ++msg_records_;
  return true;
}

void IpfixEncoder::append(const IpfixTemplate& t, const Values& v) noexcept {
  std::size_t cap = kIpfixTextMax;
  for (;;) {
    if (used_ == 0) open_message();
    if (try_write(t, v, cap)) {
      if (cap != kIpfixTextMax) ++records_text_cut_;
      return;
    }
    if (msg_records_ != 0 || used_ > kIpfixHeaderLen) {
      emit(export_time_s_);  // a record never spans messages: it goes first in the next one
      continue;
    }
    // Too big for an empty message: shorten every string until it fits.
    if (cap == 0) {
      ++records_dropped_;
      return;
    }
    cap /= 2;
  }
}

void IpfixEncoder::add(const FlowEvent& ev, const AppRecord* app, std::string_view server_name,
                       std::uint32_t export_time_s) noexcept {
  add(ev, app, server_name, {}, export_time_s);
}

void IpfixEncoder::add(const FlowEvent& ev, const AppRecord* app, std::string_view server_name,
                       std::string_view server_name_source, std::uint32_t export_time_s) noexcept {
  export_time_s_ = export_time_s;
  const FlowKey& k = ev.key;
  const IpfixTemplate& t = templates_[k.ip_version == 6 ? 1 : 0];
  const unsigned s = ev.initiator_dir & 1U;  // the initiator's packets travel in direction s

  Values v;
  v.proto = k.proto;
  v.ip_version = k.ip_version == 6 ? 6 : 4;
  v.end_reason = ipfix_end_reason(ev.end_reason);
  v.vlan = k.vlan_count >= 1 ? k.vlan_outer : 0;
  v.inner_vlan = k.vlan_count >= 2 ? k.vlan_inner : 0;
  v.flow_id = ev.flow_id;
  v.start_ms = ev.first_ts_ns / 1000000;
  v.end_ms = ev.last_ts_ns / 1000000;
  if (opt_.metadata) {
    v.conn_state = conn_state_name(ev.conn_state);
    v.direction_reason = direction_reason_name(ev.direction_reason);
    v.generation = ev.generation;
    community_id(first_packet_tuple(k, ev.initiator_dir, ev.icmp_type), opt_.community_id_seed, v.community_id);
    if (ev.tcp.bits & kTcpRecordState) {
      v.history = std::string_view(ev.tcp.history, std::min<std::size_t>(ev.tcp.history_len, kTcpHistoryMax));
    }
    v.server_name = server_name;
    v.server_name_source = server_name.empty() ? std::string_view{} : server_name_source;
    if (app != nullptr) {
      switch (app->kind) {
        case AppKind::kDns:
          if (app->dns.bits & AppDnsPart::kQuestion) {
            v.qname = app->dns.query.view();
            v.dns_qtype = app->dns.qtype;
          }
          if (app->dns.bits & AppDnsPart::kResponse) v.dns_rcode = app->dns.rcode;
          break;
        case AppKind::kTls:
          if (app->tls.bits & AppTlsPart::kClientHello) {
            if (app->tls.bits & AppTlsPart::kSni) v.sni = app->tls.sni.view();
            v.tls_alpn = app->tls.alpn.view();
            v.tls_client_version = app->tls.client_version;
            v.tls_ja4 = std::string_view(app->tls.ja4, strnlen(app->tls.ja4, sizeof app->tls.ja4));
          }
          if (app->tls.bits & AppTlsPart::kServerHello) v.tls_server_version = app->tls.server_version;
          break;
        case AppKind::kHttp:
          if (app->http.bits & AppHttpPart::kRequest) {
            v.http_method = app->http.method.view();
            if (app->http.bits & AppHttpPart::kHost) v.http_host = app->http.host.view();
            v.http_uri = app->http.uri.view();
            if (app->http.bits & AppHttpPart::kUserAgent) v.http_user_agent = app->http.user_agent.view();
          }
          if (app->http.bits & AppHttpPart::kResponse) v.http_status = app->http.status;
          break;
        case AppKind::kNone: break;
      }
    }
  }

  // One direction's view: src = the sender of direction dir.
  auto orient = [&](unsigned dir) noexcept {
    const bool src_is_lo = dir == kDirLoToHi;
    v.src_addr = src_is_lo ? k.addr_lo.data() : k.addr_hi.data();
    v.dst_addr = src_is_lo ? k.addr_hi.data() : k.addr_lo.data();
    v.src_port = src_is_lo ? k.port_lo : k.port_hi;
    v.dst_port = src_is_lo ? k.port_hi : k.port_lo;
    v.tcp_flags = ev.tcp_flags[dir];
    v.rev_tcp_flags = ev.tcp_flags[dir ^ 1U];
    v.packets = ev.packets[dir];
    v.octets = ev.bytes[dir];
    v.rev_packets = ev.packets[dir ^ 1U];
    v.rev_octets = ev.bytes[dir ^ 1U];
  };

  if (opt_.mode == IpfixMode::kBiflow) {
    orient(s);
    append(t, v);
    return;
  }
  for (const unsigned dir : {s, s ^ 1U}) {
    if (ev.packets[dir] == 0) continue;  // a direction without packets has no flow
    orient(dir);
    append(t, v);
  }
}

}  // namespace sf
