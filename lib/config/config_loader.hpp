// YAML → Config with validation. Every rejected key is reported as
// "key.path (line N): reason"; unknown keys, wrong types and out-of-range
// values are all errors, never ignored.
#pragma once

#include <string>

#include "common/result.hpp"
#include "config/config.hpp"

namespace sf {

// Loads a file; a missing/unreadable file is an error too.
Result<Config> load_config_file(const std::string& path);
// Loads YAML text (tests, and the empty document = all defaults).
Result<Config> load_config_text(const std::string& yaml_text);

}  // namespace sf
