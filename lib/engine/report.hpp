// The end-of-run accounting: the --stats JSON (conservation figures) and the
// short human summary printed on exit.
#pragma once

#include <string>

#include "engine/engine.hpp"

namespace sf {

// {"packets_in": N, "dispositions": {...}, "records": {...}, ...}. The numeric
// leaves of "dispositions" sum to packets_in.
std::string stats_json(const EngineReport& r);
std::string summary_text(const EngineReport& r);

}  // namespace sf
