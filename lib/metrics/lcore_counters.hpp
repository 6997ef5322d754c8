// Counter blocks, one per lcore, each on its own cache lines (no false sharing
// between the lcores that write them).
#pragma once

#include <array>

#include "flow/flow_record.hpp"
#include "metrics/counter.hpp"
#include "packet/parsed_packet.hpp"

namespace sf {

struct alignas(64) RxCounters {
  Counter packets_in;
  Counter bytes_in;  // wire bytes
  Counter non_ip;
  Counter unsupported_link;     // frames of a capture whose link type cannot be decoded
  std::array<Counter, kMalformedReasonCount> malformed;
  Counter fragments_attributed;
  Counter fragments_unattributed;
  Counter fragment_table_replaced;
  Counter ring_full;            // packets dropped: worker ring full
  Counter ring_full_waits;      // bursts that waited for room (wait mode)
  Counter mbuf_alloc_waits;     // capture source waited for free mbufs
  Counter capture_errors;       // read errors that ended the capture early
  Counter busy_cycles;          // TSC cycles in polls that found packets (utilisation)
  Counter ring_wait_cycles;     // of which waiting for ring room (wait mode)
};

struct alignas(64) WorkerCounters {
  Counter packets;              // dequeued from RX rings
  Counter table_full;           // packets refused: no room for a new flow
  Counter table_full_events;    // inserts that found the table full (evict or refuse)
  Counter flows_created;
  std::array<Counter, kEndReasonCount> records;  // records emitted by end reason
  Counter packets_exported;     // packets inside records handed to an exporter
  Counter export_dropped_records;
  Counter export_dropped_packets;
  Counter active_flows;         // gauge
  Counter timers_fired;
  Counter stale_lookups;        // bulk lookup results re-checked after a table change
  Counter busy_cycles;          // TSC cycles in polls that found packets (utilisation)
};

}  // namespace sf
