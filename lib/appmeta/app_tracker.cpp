#include "appmeta/app_tracker.hpp"

#include <algorithm>
#include <cstring>
#include <new>

#include "appmeta/dns_parser.hpp"
#include "appmeta/http_parser.hpp"
#include "appmeta/tls_hello.hpp"

namespace sf {

AppTracker::AppTracker(const AppConfig& config, std::uint32_t table_capacity, DnsCache* dns_cache,
                       AppCounters& counters)
    : config_(config), dns_cache_(dns_cache), counters_(counters) {
  config_.flows_per_worker = std::max<std::uint32_t>(config_.flows_per_worker, 1);
  config_.buffers_per_worker = std::max<std::uint32_t>(config_.buffers_per_worker, 1);
  config_.buffer_bytes = std::max<std::uint32_t>(config_.buffer_bytes, 512);
  slot_index_ = std::make_unique<std::uint32_t[]>(table_capacity);
  std::fill_n(slot_index_.get(), table_capacity, kNone);
  slots_ = std::make_unique<Slot[]>(config_.flows_per_worker);
  free_slots_ = std::make_unique<std::uint32_t[]>(config_.flows_per_worker);
  for (std::uint32_t i = 0; i < config_.flows_per_worker; ++i) free_slots_[i] = config_.flows_per_worker - 1 - i;
  n_free_slots_ = config_.flows_per_worker;
  buffers_ = std::make_unique<std::uint8_t[]>(std::size_t{config_.buffers_per_worker} * config_.buffer_bytes);
  free_buffers_ = std::make_unique<std::uint32_t[]>(config_.buffers_per_worker);
  for (std::uint32_t i = 0; i < config_.buffers_per_worker; ++i) free_buffers_[i] = config_.buffers_per_worker - 1 - i;
  n_free_buffers_ = config_.buffers_per_worker;
  dns_scratch_ = std::make_unique<DnsMessage>();
}

AppTracker::~AppTracker() = default;

AppTracker::Slot* AppTracker::take_slot(std::uint32_t flow_slot, AppKind kind) noexcept {
  if (n_free_slots_ == 0) {
    counters_.slots_exhausted.inc();
    return nullptr;
  }
  const std::uint32_t s = free_slots_[--n_free_slots_];
  slot_index_[flow_slot] = s;
  Slot& slot = slots_[s];
  std::memset(static_cast<void*>(&slot), 0, sizeof slot);
  slot.record.kind = kind;
  slot.dir[0].buffer = slot.dir[1].buffer = kNone;
  return &slot;
}

std::uint32_t AppTracker::take_buffer() noexcept {
  if (n_free_buffers_ == 0) {
    counters_.buffers_exhausted.inc();
    return kNone;
  }
  return free_buffers_[--n_free_buffers_];
}

void AppTracker::drop_buffer(DirState& d) noexcept {
  if (d.buffer == kNone) return;
  free_buffers_[n_free_buffers_++] = d.buffer;
  d.buffer = kNone;
  d.buffered = 0;
}

std::span<std::uint8_t> AppTracker::buffer(const DirState& d) noexcept {
  if (d.buffer == kNone) return {};
  return {buffers_.get() + std::size_t{d.buffer} * config_.buffer_bytes, config_.buffer_bytes};
}

bool AppTracker::append(DirState& d, std::span<const std::uint8_t> data) noexcept {
  if (d.buffer == kNone) {
    d.buffer = take_buffer();
    if (d.buffer == kNone) return false;
  }
  const std::span<std::uint8_t> b = buffer(d);
  const std::size_t n = std::min<std::size_t>(data.size(), b.size() - d.buffered);
  std::memcpy(b.data() + d.buffered, data.data(), n);
  d.buffered += static_cast<std::uint32_t>(n);
  return n == data.size();
}

bool AppTracker::export_record(std::uint32_t flow_slot, unsigned char* out, bool release) noexcept {
  const std::uint32_t s = slot_index_[flow_slot];
  if (s == kNone) return false;
  Slot& slot = slots_[s];
  std::memcpy(out, &slot.record, sizeof(AppRecord));
  if (release) {
    drop_buffer(slot.dir[0]);
    drop_buffer(slot.dir[1]);
    slot_index_[flow_slot] = kNone;
    free_slots_[n_free_slots_++] = s;
  }
  return true;
}

// ---- DNS ----

void AppTracker::record_dns(Slot& s, const DnsMessage& m, bool over_tcp) noexcept {
  AppDnsPart& d = s.record.dns;
  if (over_tcp) d.bits |= AppDnsPart::kOverTcp;
  // The query from the first query; a response-only flow (capture started
  // late, mDNS announcements) takes it from the response's question.
  const bool take_question =
      m.has_question && (!(d.bits & AppDnsPart::kQuestion) || (!m.response && !(d.bits & AppDnsPart::kQuery)));
  if (take_question) {
    d.bits |= AppDnsPart::kQuestion;
    if (d.query.assign(m.name(m.qname))) d.bits |= AppDnsPart::kQueryTruncated;
    d.qtype = m.qtype;
  }
  if (!m.response) {
    d.bits |= AppDnsPart::kQuery;
    return;
  }
  if (d.bits & AppDnsPart::kResponse) return;  // the first response describes the flow
  d.bits |= AppDnsPart::kResponse;
  d.rcode = m.rcode;
  bool cut = m.answers_truncated;
  for (std::uint8_t i = 0; i < m.answer_count; ++i) {
    const DnsAnswer& a = m.answers[i];
    std::span<const char> bytes;
    if (a.type == 1) {
      bytes = {reinterpret_cast<const char*>(a.addr), 4};
    } else if (a.type == 28) {
      bytes = {reinterpret_cast<const char*>(a.addr), 16};
    } else if (a.type == 5) {
      const std::string_view t = m.name(a.target);
      bytes = {t.data(), t.size()};
    } else {
      continue;  // other types are not listed
    }
    if (d.answer_count == kAppDnsAnswersMax || d.data_used + bytes.size() > kAppDnsDataMax) {
      cut = true;
      break;
    }
    AppDnsAnswer& out = d.answers[d.answer_count++];
    out.type = a.type;
    out.ttl = a.ttl;
    out.off = d.data_used;
    out.len = static_cast<std::uint16_t>(bytes.size());
    std::memcpy(d.data + d.data_used, bytes.data(), bytes.size());
    d.data_used = static_cast<std::uint16_t>(d.data_used + bytes.size());
  }
  if (cut) d.bits |= AppDnsPart::kAnswersTruncated;
}

// A resolver's answer names the addresses for the client it went to (the
// receiver of this response). Only answers of the flow's own address family
// can key a later flow of that client.
void AppTracker::cache_answers(const DnsMessage& m, const FlowKey& key, std::uint8_t sender_dir,
                               std::uint64_t ts_ns) noexcept {
  if (dns_cache_ == nullptr || !m.response || m.rcode != 0 || !m.has_question) return;
  const std::uint16_t sender_port = sender_dir == kDirLoToHi ? key.port_lo : key.port_hi;
  if (sender_port != 53) return;  // mDNS/LLMNR answers are announcements to a group, not to a client
  const std::uint8_t* client = sender_dir == kDirLoToHi ? key.addr_hi.data() : key.addr_lo.data();
  const std::string_view name = m.name(m.qname);
  if (name.empty()) return;
  for_each_resolved_address(m, [&](const DnsAnswer& a) {
    if ((a.type == 1) != (key.ip_version == 4)) return;
    std::uint8_t server[16] = {};
    std::memcpy(server, a.addr, a.type == 1 ? 4 : 16);
    dns_cache_->insert(key.ip_version, client, server, name, a.ttl, ts_ns, dns_cache_counters_);
    counters_.dns_cache_inserts.inc();
  });
}

namespace {

// A first payload on any port that is a DNS message beyond doubt: opcode
// QUERY, one question, a query with no records but an EDNS OPT, and (the
// caller checks) a well-formed question of class IN/ANY. Random payloads
// fail the counts (2^-32 odds) long before the parse.
bool dns_header_plausible(std::span<const std::uint8_t> p) noexcept {
  if (p.size() < 17) return false;
  const bool response = (p[2] & 0x80) != 0;
  const unsigned opcode = (p[2] >> 3) & 0xF;
  const unsigned qd = (unsigned{p[4]} << 8) | p[5];
  const unsigned an = (unsigned{p[6]} << 8) | p[7];
  const unsigned ns = (unsigned{p[8]} << 8) | p[9];
  const unsigned ar = (unsigned{p[10]} << 8) | p[11];
  if (opcode != 0 || qd != 1) return false;
  return response ? an + ns + ar <= 64 : an == 0 && ns == 0 && ar <= 1;
}

}  // namespace

std::uint8_t AppTracker::on_udp(std::uint32_t flow_slot, const FlowKey& key, std::uint8_t dir,
                                std::span<const std::uint8_t> payload, std::uint64_t ts_ns,
                                std::uint8_t state) noexcept {
  if (state == kUdpUndecided) {  // no slot yet: the flow's first payload
    const bool dns_port = is_dns_port(key.port_lo) || is_dns_port(key.port_hi);
    if (!dns_port && (key.port_lo == 1900 || key.port_hi == 1900)) return on_ssdp(nullptr, flow_slot, payload);
    if (!dns_port && !dns_header_plausible(payload)) return kUdpDone;
    DnsMessage& m = *dns_scratch_;
    const DnsStatus st = parse_dns_message(payload, m);
    // Off the DNS ports the question must be whole and of class IN or ANY
    // (mDNS sets the top bit); what follows it may be cut or odd (dnscrypt
    // certificate queries carry padding where tshark, too, sees junk).
    if (!dns_port && (!m.has_question || m.qname.len == 0 || ((m.qclass & 0x7fff) != 1 && m.qclass != 255))) {
      return kUdpDone;
    }
    return on_dns_udp(nullptr, flow_slot, key, dir, ts_ns, st);
  }
  Slot* s = slot_of(flow_slot);
  if (s != nullptr && s->record.kind == AppKind::kHttp) return on_ssdp(s, flow_slot, payload);
  const DnsStatus st = parse_dns_message(payload, *dns_scratch_);
  return on_dns_udp(s, flow_slot, key, dir, ts_ns, st);
}

// The message is in dns_scratch_. A flow is described by its first query and
// first response; every response feeds the cache.
std::uint8_t AppTracker::on_dns_udp(Slot* s, std::uint32_t flow_slot, const FlowKey& key, std::uint8_t dir,
                                    std::uint64_t ts_ns, DnsStatus st) noexcept {
  const DnsMessage& m = *dns_scratch_;
  if (!m.has_question && m.answer_count == 0) {
    counters_.dns_malformed.inc();  // not DNS after all, or nothing usable (a header alone says nothing)
    // A flow whose first datagram is not DNS is not DNS, even on port 53: a
    // junk flood there is parsed once per flow, not once per packet.
    return s != nullptr ? kUdpWanted : kUdpDone;
  }
  counters_.dns_messages.inc();
  if (st == DnsStatus::kTruncated) counters_.dns_truncated.inc();
  if (st == DnsStatus::kMalformed) counters_.dns_malformed.inc();
  if (s == nullptr) s = take_slot(flow_slot, AppKind::kDns);
  if (s != nullptr) record_dns(*s, m, false);
  cache_answers(m, key, dir, ts_ns);
  if (dns_cache_ != nullptr) return kUdpWanted;
  const bool described = s == nullptr || ((s->record.dns.bits & AppDnsPart::kQuery) &&
                                          (s->record.dns.bits & AppDnsPart::kResponse));
  return described ? kUdpDone : kUdpWanted;
}

// SSDP: HTTP heads in datagrams (M-SEARCH/NOTIFY requests, "HTTP/1.1 200"
// answers); the first of each describes the flow.
std::uint8_t AppTracker::on_ssdp(Slot* s, std::uint32_t flow_slot, std::span<const std::uint8_t> payload) noexcept {
  std::uint16_t code = 0;
  const bool request = probe_http_request(payload) == HttpStatus::kOk;
  const bool status = !request && parse_http_status_line(payload, code) == HttpStatus::kOk;
  if (!request && !status) return s != nullptr ? kUdpWanted : kUdpDone;
  if (s == nullptr) s = take_slot(flow_slot, AppKind::kHttp);
  if (s == nullptr) return kUdpDone;
  AppHttpPart& h = s->record.http;
  if (request && !(h.bits & AppHttpPart::kRequest)) {
    const std::size_t len = http_head_length(payload);
    finish_http_request(*s, len != 0 ? payload.first(len) : payload, len != 0);
  } else if (status && !(h.bits & AppHttpPart::kResponse)) {
    counters_.http_responses.inc();
    h.bits |= AppHttpPart::kResponse;
    h.status = code;
  }
  return (h.bits & AppHttpPart::kRequest) && (h.bits & AppHttpPart::kResponse) ? kUdpDone : kUdpWanted;
}

// DNS over TCP: each direction's first message, after its 2-byte length.
bool AppTracker::read_dns_tcp(Slot& s, DirState& d, const StreamContext& ctx, std::span<const std::uint8_t> data) noexcept {
  const bool fits = append(d, data);
  const std::span<std::uint8_t> b = buffer(d);
  if (d.buffer == kNone) return false;
  if (d.buffered < 2) return true;
  const std::uint32_t len = (std::uint32_t{b[0]} << 8) | b[1];
  const bool whole = d.buffered >= 2 + len;
  if (!whole && fits && d.buffered < b.size()) return true;  // more to come
  DnsMessage& m = *dns_scratch_;
  const DnsStatus st = parse_dns_message(b.subspan(2, std::min<std::size_t>(len, d.buffered - 2)), m);
  if (!m.has_question && m.answer_count == 0) {
    counters_.dns_malformed.inc();
  } else {
    counters_.dns_messages.inc();
    if (st == DnsStatus::kTruncated) counters_.dns_truncated.inc();
    record_dns(s, m, true);
    cache_answers(m, *ctx.key, ctx.dir, now_ns_);
  }
  drop_buffer(d);
  return false;
}

// ---- TLS ----

bool AppTracker::read_tls(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept {
  // The reader needs room for the whole message even when it arrives in one
  // piece (its answer must not depend on how the stream was cut): without a
  // buffer the flow goes without (counted as buffers_exhausted).
  if (d.buffer == kNone) d.buffer = take_buffer();
  if (d.buffer == kNone) return false;
  TlsMessageView msg{};
  const TlsStatus st = tls_read_handshake(d.tls, buffer(d), data, &msg);
  if (st == TlsStatus::kNeedMore) return true;
  AppTlsPart& t = s.record.tls;
  if (st == TlsStatus::kOk && d.reading == Reading::kTlsClient && msg.type == kTlsClientHello) {
    TlsClientHello h;
    if (parse_tls_client_hello(msg.body, h) == TlsStatus::kOk) {
      counters_.tls_client_hellos.inc();
      t.bits |= AppTlsPart::kClientHello;
      t.client_version = h.max_version;
      if (h.has_sni) {
        t.bits |= AppTlsPart::kSni;
        if (t.sni.assign(std::string_view(h.sni, h.sni_len)) || h.sni_truncated) t.bits |= AppTlsPart::kSniTruncated;
      }
      if (t.alpn.assign(std::string_view(h.alpn, h.alpn_len)) || h.alpn_truncated) t.bits |= AppTlsPart::kAlpnTruncated;
      std::memcpy(t.ja4, h.ja4, sizeof t.ja4);
      t.ja4[kAppJa4Len] = '\0';
    } else {
      counters_.tls_malformed.inc();
    }
  } else if (st == TlsStatus::kOk && d.reading == Reading::kTlsServer && msg.type == kTlsServerHello) {
    std::uint16_t version = 0;
    if (parse_tls_server_hello(msg.body, version) == TlsStatus::kOk) {
      counters_.tls_server_hellos.inc();
      t.bits |= AppTlsPart::kServerHello;
      t.server_version = version;
    } else {
      counters_.tls_malformed.inc();
    }
  } else if (st == TlsStatus::kTooBig) {
    counters_.tls_too_big.inc();
  } else if (st == TlsStatus::kMalformed || st == TlsStatus::kOk) {
    counters_.tls_malformed.inc();  // kOk: a first message of the wrong type
  }
  drop_buffer(d);
  return false;
}

// ---- HTTP ----

void AppTracker::finish_http_request(Slot& s, std::span<const std::uint8_t> head, bool complete) noexcept {
  HttpRequest req;
  const HttpStatus st = parse_http_request(head, complete, req);
  if (st != HttpStatus::kOk) {
    counters_.http_malformed.inc();
    return;
  }
  counters_.http_requests.inc();
  AppHttpPart& h = s.record.http;
  h.bits |= AppHttpPart::kRequest;
  if (!complete) h.bits |= AppHttpPart::kHeadIncomplete;
  h.method.assign(std::string_view(req.method, req.method_len));
  if (h.uri.assign(std::string_view(req.uri, req.uri_len)) || req.uri_truncated) h.bits |= AppHttpPart::kUriTruncated;
  if (req.has_host) {
    h.bits |= AppHttpPart::kHost;
    if (h.host.assign(std::string_view(req.host, req.host_len)) || req.host_truncated) h.bits |= AppHttpPart::kHostTruncated;
  }
  if (req.has_user_agent) {
    h.bits |= AppHttpPart::kUserAgent;
    if (h.user_agent.assign(std::string_view(req.user_agent, req.user_agent_len)) || req.user_agent_truncated) {
      h.bits |= AppHttpPart::kUserAgentTruncated;
    }
  }
}

bool AppTracker::read_http_request(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept {
  if (d.buffered == 0 && d.buffer == kNone) {
    // Most request heads fit in their first segment: parse them in place.
    if (http_head_length(data) != 0) {
      finish_http_request(s, data, true);
      return false;
    }
  }
  const bool fits = append(d, data);
  if (d.buffer == kNone) {  // no buffer to be had: what this chunk has
    finish_http_request(s, data, false);
    return false;
  }
  const std::span<const std::uint8_t> b = buffer(d).first(d.buffered);
  const std::size_t len = http_head_length(b);
  if (len != 0 || !fits || d.buffered == config_.buffer_bytes) {
    if (len == 0) counters_.http_incomplete.inc();
    finish_http_request(s, len != 0 ? b.first(len) : b, len != 0);
    drop_buffer(d);
    return false;
  }
  return true;
}

bool AppTracker::read_http_status(Slot& s, DirState& d, std::span<const std::uint8_t> data) noexcept {
  const std::size_t n = std::min(data.size(), sizeof d.head - d.head_len);
  std::memcpy(d.head + d.head_len, data.data(), n);
  d.head_len = static_cast<std::uint8_t>(d.head_len + n);
  std::uint16_t code = 0;
  const HttpStatus st = parse_http_status_line(std::span<const std::uint8_t>(d.head, d.head_len), code);
  if (st == HttpStatus::kNeedMore && d.head_len < sizeof d.head) return true;
  if (st == HttpStatus::kOk) {
    counters_.http_responses.inc();
    s.record.http.bits |= AppHttpPart::kResponse;
    s.record.http.status = code;
  }
  return false;
}

// ---- TCP streams ----

bool AppTracker::on_data(const StreamContext& ctx, std::uint64_t offset, std::span<const std::uint8_t> data,
                         bool gap_before) noexcept {
  const unsigned side = ctx.dir == ctx.initiator_dir ? 0 : 1;
  const FlowKey& k = *ctx.key;
  const bool dns_port = k.port_lo == 53 || k.port_hi == 53;
  // A direction's first bytes that none of ours could start with are
  // declined before the per-flow lookup (a cache miss at scale): the client
  // side of TLS or HTTP, the server side of a TLS/HTTP answer, or DNS.
  if (offset == 0 && !gap_before && !data.empty() && !dns_port && data[0] != 0x16 &&
      probe_http_request(data) == HttpStatus::kNotHttp && (side == 0 || data[0] != 'H')) {
    return false;
  }
  Slot* s = slot_of(ctx.flow_slot);
  if (s == nullptr) {
    // Classify on the first bytes of the client's stream (DNS also on the server's).
    if (offset != 0 || gap_before || data.empty()) return false;
    if (dns_port) {
      s = take_slot(ctx.flow_slot, AppKind::kDns);
      if (s == nullptr) return false;
      s->dir[0].reading = s->dir[1].reading = Reading::kDnsTcp;
    } else if (side != 0) {
      return false;  // the server spoke first: none of ours
    } else if (data[0] == 0x16) {
      s = take_slot(ctx.flow_slot, AppKind::kTls);
      if (s == nullptr) return false;
      s->dir[0].reading = Reading::kTlsClient;
      s->dir[1].reading = Reading::kTlsServer;
    } else if (probe_http_request(data) == HttpStatus::kOk) {
      s = take_slot(ctx.flow_slot, AppKind::kHttp);
      if (s == nullptr) return false;
      s->dir[0].reading = Reading::kHttpRequest;
      s->dir[1].reading = Reading::kHttpStatus;
    } else {
      return false;
    }
  }
  DirState& d = s->dir[side];
  if (d.reading == Reading::kNothing) return false;
  if (gap_before || (!d.started && offset != 0)) {
    // Bytes of the message we wanted are missing: stop rather than parse garbage.
    counters_.streams_with_gaps.inc();
    drop_buffer(d);
    d.reading = Reading::kNothing;
    return false;
  }
  d.started = 1;
  bool more = false;
  switch (d.reading) {
    case Reading::kDnsTcp: more = read_dns_tcp(*s, d, ctx, data); break;
    case Reading::kTlsClient:
    case Reading::kTlsServer: more = read_tls(*s, d, data); break;
    case Reading::kHttpRequest: more = read_http_request(*s, d, data); break;
    case Reading::kHttpStatus: more = read_http_status(*s, d, data); break;
    case Reading::kNothing: break;
  }
  if (!more) d.reading = Reading::kNothing;
  return more;
}

void AppTracker::on_end(const StreamContext& ctx, StreamEnd) noexcept {
  Slot* s = slot_of(ctx.flow_slot);
  if (s == nullptr) return;
  DirState& d = s->dir[ctx.dir == ctx.initiator_dir ? 0 : 1];
  // A message cut short by the end of its stream: what there is of it.
  if (d.reading == Reading::kHttpRequest && d.buffered != 0) {
    counters_.http_incomplete.inc();
    finish_http_request(*s, buffer(d).first(d.buffered), false);
  } else if ((d.reading == Reading::kTlsClient || d.reading == Reading::kTlsServer) &&
             d.started) {
    counters_.tls_incomplete.inc();
  }
  drop_buffer(d);
  d.reading = Reading::kNothing;
}

}  // namespace sf
