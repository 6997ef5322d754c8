// Reassembly counters of one worker: written by that worker only, read by
// the stats core (relaxed, see Counter).
#pragma once

#include "metrics/counter.hpp"

namespace sf {

struct alignas(64) ReassemblyCounters {
  Counter pages_in_use;       // gauge: pool pages holding buffered bytes
  Counter pages_high_water;   // most pages in use at once
  Counter ooo_segments;       // segments that arrived ahead of a hole (buffered)
  Counter overlaps;           // segments overlapping buffered or delivered bytes
  Counter overlap_conflict_bytes;  // overlapping buffered bytes whose content differed
  Counter retransmitted_bytes;     // bytes below the delivered offset seen again
  Counter missed_bytes;            // bytes skipped: holes flushed, skipped or left at the end
  // Limit hits, by kind. The first three count segments that did not fit;
  // depth counts streams; flush_age counts flushes.
  Counter limit_pages_per_connection;
  Counter limit_pages_per_worker;
  Counter limit_above_hole;
  Counter limit_depth;
  Counter limit_flush_age;
  Counter out_of_window;  // segments too far from the expected sequence (dropped)
};

}  // namespace sf
