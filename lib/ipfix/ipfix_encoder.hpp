// IPFIX export of finished flows (RFC 7011 messages, RFC 5103 biflows).
//
// Decision: encoded by hand rather than with libfixbuf. RFC 7011 messages are
// simple fixed layouts (a header, sets, records laid out by templates we
// define ourselves), we need no collecting side, and libfixbuf brings GLib
// and its own allocation and threading model into an exporter that must not
// allocate per record. The encoder is checked by a test-only decoder that
// reads the bytes generically (round trip), by tshark's IPFIX dissector, and
// by nfdump's nfcapd (and later pmacct, by the integrator).
//
// Templates (docs/IPFIX.md says the same): ids 256 + 2*biflow + ipv6 + 4*metadata;
// an encoder sends the two of its mode (IPv4, IPv6). Fields in template order
// (PEN 0 = IANA):
//
//   PEN    id   len  name                        in        value
//   29305    6    2  reverseTcpControlBits       bi        responder's TCP flags (first: see below)
//   0        6    2  tcpControlBits              all       sender's / initiator's TCP flags
//   0        8    4  sourceIPv4Address           v4        sender / initiator
//   0       12    4  destinationIPv4Address      v4
//   0       27   16  sourceIPv6Address           v6
//   0       28   16  destinationIPv6Address      v6
//   0        7    2  sourceTransportPort         all       the key's ports (ICMP: as the JSON record)
//   0       11    2  destinationTransportPort    all
//   0        4    1  protocolIdentifier          all
//   0       60    1  ipVersion                   all
//   0      136    1  flowEndReason               all       idle 1, active 2, tcp_close 3, eof/shutdown 4, evicted 5
//   0       58    2  vlanId                      all       outer tag; 0 = untagged
//   0      245    2  dot1qCustomerVlanId         all       inner (C-)tag of QinQ; 0 = none
//   0      148    8  flowId                      all       FlowEvent::flow_id
//   0      152    8  flowStartMilliseconds       all
//   0      153    8  flowEndMilliseconds         all
//   0        2    8  packetDeltaCount            all       sender's / initiator's
//   0        1    8  octetDeltaCount             all       IP-layer bytes, as the JSON record
//   29305    2    8  reversePacketDeltaCount     bi        responder's
//   29305    1    8  reverseOctetDeltaCount      bi
//   0      239    1  biflowDirection             bi        1 = initiator (the source is the initiator)
//   6871   294  var  sslServerName               meta      TLS SNI (CERT/YAF element)
//   6871   179  var  dnsQName                    meta      DNS query name (CERT/YAF element)
//   32473    1  var  connState                   meta      Zeek conn_state text
//   32473    2  var  communityId                 meta      Community ID v1 text
//   32473    3  var  tcpHistory                  meta      Zeek history letters ("" without TCP state)
//   32473    4  var  serverName                  meta      server_name ("" if none)
//   32473    5  var  serverNameSource            meta      tls_sni / http_host / dns ("" if none)
//   32473    6  var  httpHost                    meta
//   32473    7  var  httpMethod                  meta
//   32473    8  var  httpUri                     meta
//   32473    9  var  httpUserAgent               meta
//   32473   10    2  httpStatusCode              meta      0 = no response
//   32473   11  var  tlsJa4                      meta
//   32473   12  var  tlsAlpn                     meta      protocols joined by ','
//   32473   13    2  tlsClientVersion            meta      0 = no ClientHello
//   32473   14    2  tlsServerVersion            meta      0 = no ServerHello
//   32473   15    2  dnsQueryType                meta      0 = no question
//   32473   16    2  dnsResponseCode             meta      65535 = no response
//   32473   17    4  flowGeneration              meta
//   32473   18  var  directionReason             meta      first_packet / syn / synack
//
// PEN 32473 is IANA's documentation PEN (RFC 5612): shardflow has no PEN of
// its own, so these elements are private to whoever reads this table.
// reverseTcpControlBits comes first because nfdump 1.7.1 stores it in the
// same field as tcpControlBits: the later one wins, so the initiator's flags
// must come last (checked with nfcapd). nfcapd skips the variable-length and
// enterprise elements cleanly (checked), so metadata rides in the flow's own
// record; IpfixOptions::metadata = false leaves it out. Uniflow records carry
// the flow's metadata in both directions' records, so each stands alone.
// VLAN: dot1qCustomerVlanId is the C-tag of a QinQ frame (IANA: "the inner
// tag's VLAN identifier"); postDot1qVlanId would mean a rewritten tag on egress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "appmeta/app_record.hpp"
#include "flow/flow_record.hpp"

namespace sf {

enum class IpfixMode : std::uint8_t { kUniflow, kBiflow };

struct IpfixOptions {
  IpfixMode mode = IpfixMode::kUniflow;
  std::uint32_t observation_domain = 1;
  std::uint32_t max_message_bytes = 1400;  // UDP: MTU-sized; TCP/file: up to 65535 (clamped to 1024..65535)
  std::uint32_t template_refresh_s = 60;   // UDP: templates are resent at least this often (0 = only at start / force_templates)
  bool metadata = true;                    // the variable-length and enterprise elements (see the table)
  std::uint16_t community_id_seed = 0;     // export.community_id_seed, as the JSON record
};

class IpfixMessageSink {  // where finished messages go (a UDP/TCP/file transport, or a test)
 public:
  virtual ~IpfixMessageSink() = default;
  virtual void message(std::span<const std::uint8_t> bytes) noexcept = 0;
};

inline constexpr std::uint16_t kIpfixVersion = 10;
inline constexpr std::uint16_t kIpfixTemplateSetId = 2;
inline constexpr std::uint16_t kIpfixTemplateIdBase = 256;
inline constexpr std::uint16_t kIpfixVarLen = 65535;
inline constexpr std::size_t kIpfixHeaderLen = 16;
inline constexpr std::size_t kIpfixSetHeaderLen = 4;
inline constexpr std::uint32_t kIpfixMinMessageBytes = 1024;  // both templates (524 bytes at most) and any record fit
inline constexpr std::uint32_t kIpfixMaxMessageBytes = 65535;
inline constexpr std::size_t kIpfixTextMax = 255;  // longest string emitted (the AppRecord's bound)
inline constexpr std::uint32_t kIpfixPenReverse = 29305;  // RFC 5103
inline constexpr std::uint32_t kIpfixPenCert = 6871;
inline constexpr std::uint32_t kIpfixPenShardflow = 32473;  // documentation PEN (RFC 5612)

// What a template field holds; the table in ipfix_encoder.cpp maps each to its element.
enum class IpfixValue : std::uint8_t {
  kRevTcpFlags, kTcpFlags, kSrcAddr4, kDstAddr4, kSrcAddr6, kDstAddr6, kSrcPort, kDstPort, kProto,
  kIpVersion, kEndReason, kVlan, kInnerVlan, kFlowId, kStartMs, kEndMs, kPackets, kOctets, kRevPackets,
  kRevOctets, kBiflowDirection,
  kSslServerName, kDnsQName, kConnState, kCommunityId, kTcpHistory, kServerName, kServerNameSource,
  kHttpHost, kHttpMethod, kHttpUri, kHttpUserAgent, kHttpStatus, kTlsJa4, kTlsAlpn, kTlsClientVersion,
  kTlsServerVersion, kDnsQType, kDnsRcode, kGeneration, kDirectionReason,
};

struct IpfixField {
  std::uint16_t id;      // element id, without the enterprise bit
  std::uint16_t length;  // kIpfixVarLen: variable length (RFC 7011 7)
  std::uint32_t pen;     // 0: IANA
  IpfixValue value;
};

inline constexpr std::size_t kIpfixMaxFields = 48;

struct IpfixTemplate {
  std::uint16_t id = 0;
  std::uint8_t ip_version = 0;
  std::uint8_t count = 0;
  IpfixField fields[kIpfixMaxFields];
  std::span<const IpfixField> view() const noexcept { return {fields, count}; }
};

// The template an encoder with these settings uses for one IP version.
IpfixTemplate ipfix_template(IpfixMode mode, std::uint8_t ip_version, bool metadata) noexcept;

// RFC 7011 flowEndReason of an EndReason.
std::uint8_t ipfix_end_reason(EndReason r) noexcept;

class IpfixEncoder {
 public:
  IpfixEncoder(const IpfixOptions& o, IpfixMessageSink& sink);  // one preallocated message buffer; no allocation afterwards

  // One finished flow: biflow = one data record (forward = initiator -> responder, reverse elements for
  // the other direction, RFC 5103 with PEN 29305); uniflow = one data record per direction that has
  // packets (standard elements only, src = that direction's sender), the initiator's first.
  // export_time_s: the message header's export time (the caller's clock). server_name: "" if none.
  void add(const FlowEvent& ev, const AppRecord* app, std::string_view server_name, std::uint32_t export_time_s) noexcept;
  // The same, with the JSON record's server_name_source ("tls_sni", "http_host", "dns").
  void add(const FlowEvent& ev, const AppRecord* app, std::string_view server_name,
           std::string_view server_name_source, std::uint32_t export_time_s) noexcept;
  void flush(std::uint32_t export_time_s) noexcept;  // emit the partial message, if any
  // The next message starts with all templates (a new TCP connection). If records are already
  // buffered, a message of templates only is emitted now, so they still come before any data.
  void force_templates() noexcept;
  // A message of the templates alone, built now (not emitted): a stream
  // transport's preamble for every new connection. Valid until the next call.
  std::span<const std::uint8_t> template_message() noexcept;
  std::uint64_t data_records() const noexcept { return data_records_; }  // records in emitted messages: the next sequence number (RFC 7011 3.1)
  std::uint64_t messages() const noexcept { return messages_; }
  std::uint64_t template_sets() const noexcept { return template_sets_; }  // template sets sent
  // Records whose strings were shortened so that the record fits an empty message.
  std::uint64_t records_text_cut() const noexcept { return records_text_cut_; }
  // Records that did not fit even without their strings (none: the fixed part of a record always fits).
  std::uint64_t records_dropped() const noexcept { return records_dropped_; }
  std::uint32_t max_message_bytes() const noexcept { return max_bytes_; }

  struct Values;  // one record's field values (ipfix_encoder.cpp)

 private:
  void open_message() noexcept;
  void emit(std::uint32_t export_time_s) noexcept;
  void emit_templates_only() noexcept;
  void append(const IpfixTemplate& t, const Values& v) noexcept;
  bool try_write(const IpfixTemplate& t, const Values& v, std::size_t text_cap) noexcept;
  std::size_t write_template_set(std::uint8_t* out) const noexcept;

  IpfixOptions opt_;
  IpfixMessageSink& sink_;
  std::uint32_t max_bytes_;
  IpfixTemplate templates_[2];  // IPv4, IPv6
  std::size_t template_set_len_ = 0;
  std::unique_ptr<std::uint8_t[]> buf_;        // the open message
  std::unique_ptr<std::uint8_t[]> tmpl_buf_;   // a message of templates only (force_templates)
  std::size_t used_ = 0;                       // 0: no message open
  std::size_t set_start_ = 0;                  // offset of the open data set's header; 0: none
  std::uint16_t set_id_ = 0;
  std::uint32_t msg_records_ = 0;
  bool templates_due_ = true;
  bool templates_ever_ = false;
  std::uint32_t last_template_time_s_ = 0;
  std::uint32_t export_time_s_ = 0;
  std::uint64_t data_records_ = 0;
  std::uint64_t messages_ = 0;
  std::uint64_t template_sets_ = 0;
  std::uint64_t records_text_cut_ = 0;
  std::uint64_t records_dropped_ = 0;
};

}  // namespace sf
