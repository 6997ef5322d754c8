// Worker -> exporter hand-off with records of one slot and records of four
// (an AppRecord after the event): in drop mode a full channel refuses whole
// events only, the reader always gets whole events, and a fan-out to two
// exporters counts a full queue against that exporter alone. Expected counts
// are worked out from the slot sizes, not read back from the code.
#include <gtest/gtest.h>

#include <cstring>
#include <new>
#include <vector>

#include "export/export_channel.hpp"
#include "export/export_fanout.hpp"

namespace sf::test {
namespace {

// n events, every third with an AppRecord (kind kTls, its sni = the event's flow id as text).
std::vector<EventSlot> events(std::uint32_t n, std::uint64_t first_id = 1) {
  std::vector<EventSlot> slots;
  for (std::uint32_t i = 0; i < n; ++i) {
    slots.emplace_back();
    FlowEvent& ev = *new (slots.back().bytes) FlowEvent{};
    ev.flow_id = first_id + i;
    ev.packets[0] = 2;
    ev.seq = first_id + i;
    if (i % 3 == 0) {
      ev.app_slots = kAppRecordSlots;
      AppRecord app{};
      app.kind = AppKind::kTls;
      app.tls.sni.assign(std::to_string(ev.flow_id));
      for (std::uint32_t k = 0; k < kAppRecordSlots; ++k) slots.emplace_back();
      std::memcpy(slots[slots.size() - kAppRecordSlots].bytes, &app, sizeof app);
    }
  }
  return slots;
}

std::uint32_t count_events(const EventSlot* s, std::uint32_t n) {
  std::uint32_t e = 0;
  for (std::uint32_t i = 0; i < n; i += event_slots(s[i])) ++e;
  return e;
}

TEST(ExportChannel, AFullChannelRefusesWholeEventsAndTheReaderGetsWholeEvents) {
  auto ch = ExportChannel::create("t_x_whole", 64, 0, false);
  ASSERT_TRUE(ch) << ch.error();
  std::unique_ptr<ExportChannel> c(ch.value());
  // 30 events: 10 with an app record (4 slots) and 20 without: 60 slots.
  // The first 21 events take exactly 7*4 + 14*1 = 42 slots... write it out:
  // event i is 4 slots when i % 3 == 0. Cumulative slots after event k:
  // 1+..: 4,5,6,10,11,12,16,17,18,22,23,24,28,29,30,34,35,36,40,41,42,46,47,48,52,53,54,58,59,60.
  const std::vector<EventSlot> a = events(30);
  ASSERT_EQ(a.size(), 60U);
  EXPECT_EQ(c->emit_burst(a.data(), 60), 60U);
  // 4 slots left (capacity 64): the next batch's first event needs 4 (fits), the second 1 (does not).
  const std::vector<EventSlot> b = events(3, 100);
  EXPECT_EQ(c->emit_burst(b.data(), static_cast<std::uint32_t>(b.size())), 4U);
  // Read in odd-sized bursts: every burst ends on an event boundary, ids in order.
  std::vector<std::uint64_t> ids;
  EventSlot out[16];
  for (;;) {
    const std::uint32_t n = c->dequeue(out, 7);  // at most 4 slots + a tail of 3
    if (n == 0) break;
    ASSERT_LE(n, 7U);
    for (std::uint32_t i = 0; i < n; i += event_slots(out[i])) {
      ASSERT_LE(i + event_slots(out[i]), n) << "an event cut in two";
      const FlowEvent& ev = event_at(out[i]);
      ids.push_back(ev.flow_id);
      if (ev.app_slots != 0) {
        EXPECT_EQ(app_record_at(out[i])->tls.sni.view(), std::to_string(ev.flow_id));
      }
    }
  }
  ASSERT_EQ(ids.size(), 31U);
  for (std::uint64_t i = 0; i < 30; ++i) EXPECT_EQ(ids[i], i + 1);
  EXPECT_EQ(ids[30], 100U);
}

TEST(ExportFanout, AFullQueueCountsAgainstItsExporterOnly) {
  auto small = ExportChannel::create("t_x_small", 64, 0, false);
  auto large = ExportChannel::create("t_x_large", 1024, 0, false);
  ASSERT_TRUE(small && large);
  std::unique_ptr<ExportChannel> s(small.value()), l(large.value());
  ExportFanout f({s.get(), l.get()});
  const std::vector<EventSlot> a = events(30);        // 60 slots, 30 records, 60 packets
  const std::vector<EventSlot> b = events(30, 1000);  // the small one takes 4 more slots: one event
  EXPECT_EQ(f.emit_burst(a.data(), 60), 60U);
  EXPECT_EQ(f.emit_burst(b.data(), 60), 60U);  // offered to all: nothing is the tracker's loss
  EXPECT_EQ(f.counters().records_produced.get(), 60U);
  EXPECT_EQ(f.counters().packets_produced.get(), 120U);
  EXPECT_EQ(f.dropped(0).records.get(), 29U);  // 30 of b minus the one that fit
  EXPECT_EQ(f.dropped(0).packets.get(), 58U);
  EXPECT_EQ(f.dropped(1).records.get(), 0U);
  EventSlot out[1100];
  EXPECT_EQ(count_events(out, l->dequeue(out, 1100)), 60U);
  EXPECT_EQ(count_events(out, s->dequeue(out, 1100)), 31U);
  f.close();
  EXPECT_TRUE(s->closed() && l->closed());
}

}  // namespace
}  // namespace sf::test
