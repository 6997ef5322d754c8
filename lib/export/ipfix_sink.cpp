#include "export/ipfix_sink.hpp"

#include <ctime>

#include "ipfix/ipfix_encoder.hpp"
#include "sink/message_transport.hpp"

namespace sf {

namespace {

class IpfixSink final : public RecordSink, public IpfixMessageSink {
 public:
  IpfixSink(std::unique_ptr<MessageTransport> t, const IpfixOptions& o)
      : transport_(std::move(t)), encoder_(o, *this), epoch_(transport_->connection_epoch()) {
    // Messages re-sent on a new TCP connection (unacknowledged on the old
    // one) were built after templates the collector forgot with that
    // connection: every new connection starts with them.
    transport_->set_stream_preamble(encoder_.template_message());
  }

  void write(const FlowEvent& ev, const AppRecord* app, const ServerName& server, std::uint64_t now_ns) noexcept override {
    now_ns_ = now_ns;
    if (transport_->connection_epoch() != epoch_) {  // a new TCP connection starts with the templates
      epoch_ = transport_->connection_epoch();
      encoder_.force_templates();
    }
    ++open_records_;
    open_packets_ += ev.packets[0] + ev.packets[1];
    encoder_.add(ev, app, server.name, server.source != nullptr ? std::string_view(server.source) : std::string_view{},
                 static_cast<std::uint32_t>(std::time(nullptr)));
  }

  // The encoder finished a message: it holds the records added since the last one.
  void message(std::span<const std::uint8_t> bytes) noexcept override {
    in_flight_.push_back({open_records_, open_packets_});
    open_records_ = open_packets_ = 0;
    const TransportCounters& c = transport_->counters();
    const std::uint64_t full = c.dropped[0].get(), error = c.dropped[1].get();
    transport_->send(bytes, now_ns_);
    // A refused message is the one just offered (the tail); sent ones leave from the head.
    if (c.dropped[0].get() != full) lose_tail("buffer_full");
    if (c.dropped[1].get() != error) lose_tail("send_error");
    settle();
  }

  void tick(std::uint64_t now_ns) noexcept override {
    now_ns_ = now_ns;
    encoder_.flush(static_cast<std::uint32_t>(std::time(nullptr)));  // no record waits in a partial message
    transport_->poll(now_ns);
    settle();
  }

  void finish(std::uint64_t deadline_ns) noexcept override {
    encoder_.flush(static_cast<std::uint32_t>(std::time(nullptr)));
    transport_->drain(deadline_ns);
    settle();
    // What the transport gave up on at the deadline, oldest first.
    const std::uint64_t shut = transport_->counters().dropped[2].get();
    while (shut > shutdown_seen_ && !in_flight_.empty()) {
      ++shutdown_seen_;
      lose(in_flight_.front(), "shutdown");
      in_flight_.pop_front();
    }
  }

  SinkReport report() const override {
    SinkReport r;
    r.records_delivered = delivered_records_;
    r.packets_delivered = delivered_packets_;
    for (const SinkLoss& l : lost_) {
      if (l.records != 0) r.lost.push_back(l);
    }
    std::uint64_t pending = open_records_, pending_packets = open_packets_;
    for (const Weight& w : in_flight_) {
      pending += w.records;
      pending_packets += w.packets;
    }
    if (pending != 0) r.lost.push_back({"not_sent", pending, pending_packets});
    return r;
  }

 private:
  struct Weight {
    std::uint64_t records;
    std::uint64_t packets;
  };

  void lose(const Weight& w, const char* reason) noexcept {
    for (SinkLoss& l : lost_) {
      if (l.reason == reason) {
        l.records += w.records;
        l.packets += w.packets;
        return;
      }
    }
  }
  void lose_tail(const char* reason) noexcept {
    if (in_flight_.empty()) return;
    lose(in_flight_.back(), reason);
    in_flight_.pop_back();
  }
  // Messages the transport sent since the last look leave from the head.
  void settle() noexcept {
    const std::uint64_t sent = transport_->counters().messages_sent.get();
    while (sent > sent_seen_ && !in_flight_.empty()) {
      ++sent_seen_;
      delivered_records_ += in_flight_.front().records;
      delivered_packets_ += in_flight_.front().packets;
      in_flight_.pop_front();
    }
    sent_seen_ = sent;
  }

  std::unique_ptr<MessageTransport> transport_;
  IpfixEncoder encoder_;
  std::uint64_t epoch_;
  std::uint64_t now_ns_ = 0;
  std::uint64_t open_records_ = 0, open_packets_ = 0;  // added, not yet in a finished message
  std::deque<Weight> in_flight_;                       // finished messages the transport has not sent yet
  std::uint64_t sent_seen_ = 0, shutdown_seen_ = 0;
  std::uint64_t delivered_records_ = 0, delivered_packets_ = 0;
  std::vector<SinkLoss> lost_ = {{"buffer_full", 0, 0}, {"send_error", 0, 0}, {"shutdown", 0, 0}};
};

}  // namespace

Result<std::unique_ptr<RecordSink>> open_ipfix_sink(const IpfixExportConfig& c, std::uint16_t community_id_seed) {
  TransportOptions to;
  to.buffer_bytes = c.buffer_mb << 20;
  to.spill_bytes = std::uint64_t{c.spill_mb} << 20;
  to.spill_dir = c.spill_dir;
  auto t = MessageTransport::open(c.target, to);
  if (!t) return make_error(t.error());
  IpfixOptions o;
  o.mode = c.mode == IpfixRecordMode::Biflow ? IpfixMode::kBiflow : IpfixMode::kUniflow;
  o.observation_domain = c.observation_domain;
  o.template_refresh_s = c.template_refresh_s;
  o.metadata = c.metadata;
  o.community_id_seed = community_id_seed;
  o.max_message_bytes = c.max_message_bytes != 0 ? c.max_message_bytes : (t.value()->stream() ? 65535 : 1400);
  return std::unique_ptr<RecordSink>(new IpfixSink(std::move(t.value()), o));
}

}  // namespace sf
