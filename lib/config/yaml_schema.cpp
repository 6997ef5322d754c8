#include "config/yaml_schema.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <unordered_map>

namespace sf::config_detail {

namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

std::string join_path(const std::string& parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string p = parent;
  p += '.';
  p += name;
  return p;
}

std::string join_names(const SchemaReader::Entries& entries) {
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

// Edit distance, for "did you mean" on misspelt keys (names are short).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string unknown_key_reason(std::string_view name, const SchemaReader::Entries& entries) {
  std::string reason = "unknown key";
  std::size_t best = 3;  // suggest only close matches
  std::string_view suggestion;
  for (const auto& e : entries) {
    const std::size_t d = edit_distance(name, e.name);
    if (d < best) {
      best = d;
      suggestion = e.name;
    }
  }
  if (!suggestion.empty()) {
    reason += " (did you mean '";
    reason += suggestion;
    reason += "'?)";
  }
  reason += "; expected one of: " + join_names(entries);
  return reason;
}

enum class IntParse : std::uint8_t { kOk, kNotInteger, kNegative, kLeadingZero, kTooLarge };

bool digit_value(char c, unsigned base, unsigned& v) {
  if (c >= '0' && c <= '9') {
    v = static_cast<unsigned>(c - '0');
  } else if (c >= 'a' && c <= 'f') {
    v = static_cast<unsigned>(c - 'a') + 10;
  } else if (c >= 'A' && c <= 'F') {
    v = static_cast<unsigned>(c - 'A') + 10;
  } else {
    return false;
  }
  return v < base;
}

// YAML 1.2 core-schema integers: decimal, 0x hex, 0o octal, optional sign.
IntParse parse_unsigned(std::string_view s, std::uint64_t& out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && s[1] == 'o') {
    base = 8;
    s.remove_prefix(2);
  }
  if (s.empty()) return IntParse::kNotInteger;
  std::uint64_t v = 0;
  bool too_large = false;
  for (const char c : s) {
    unsigned d = 0;
    if (!digit_value(c, base, d)) return IntParse::kNotInteger;
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / base) too_large = true;
    v = v * base + d;
  }
  if (negative) return IntParse::kNegative;
  // YAML 1.1 reads 010 as octal 8, YAML 1.2 as decimal 10: refuse to guess.
  if (base == 10 && s.size() > 1 && s[0] == '0') return IntParse::kLeadingZero;
  if (too_large) return IntParse::kTooLarge;
  out = v;
  return IntParse::kOk;
}

std::string range_text(const U32Range& r) {
  return std::to_string(r.min) + ".." + std::to_string(r.max);
}

// Plain "true"/"false" and the YAML 1.1 spellings operators still write.
bool parse_bool(const std::string& s, bool& out) {
  static const std::array<std::string_view, 9> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                                        "YES",  "on",   "On",   "ON"};
  static const std::array<std::string_view, 9> kFalse = {"false", "False", "FALSE", "no", "No",
                                                         "NO",    "off",   "Off",   "OFF"};
  if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) {
    out = true;
    return true;
  }
  if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) {
    out = false;
    return true;
  }
  return false;
}

}  // namespace

int node_line(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return m.is_null() ? -1 : m.line + 1;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null (no value)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      break;
  }
  return "'" + node.Scalar() + "'";
}

void SchemaReader::error(const std::string& path, int line, const std::string& reason) {
  std::string msg = path;
  if (line > 0) msg += " (line " + std::to_string(line) + ")";
  msg += ": ";
  msg += reason;
  errors_.push_back(std::move(msg));
}

void SchemaReader::error_at(const std::string& path, const YAML::Node& key,
                            const YAML::Node& value, const std::string& reason) {
  // The value's own line, except where it is misleading: an empty value's mark
  // sits on the following line, and an alias's on its anchor.
  const int key_line = node_line(key);
  int line = node_line(value);
  if (value.IsNull() || line < key_line) line = key_line;
  error(path, line, reason);
}

void SchemaReader::read_root(const YAML::Node& root, const Entries& entries) {
  if (root.IsNull()) return;
  if (!root.IsMap()) {
    error("<document>", node_line(root),
          "the top level must be a map of sections (" + join_names(entries) + "), got " +
              describe(root));
    return;
  }
  walk_map(root, "", entries);
}

void SchemaReader::walk_map(const YAML::Node& map, const std::string& path,
                            const Entries& entries) {
  // yaml-cpp keeps duplicate keys as separate pairs: remember where each was seen.
  std::unordered_map<std::string, int> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;  // copies: it-> yields a temporary proxy
    const YAML::Node value = it->second;
    if (!key.IsScalar() || key.Scalar().empty()) {
      error(path.empty() ? "<document>" : path, node_line(key),
            "keys must be non-empty strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string child = join_path(path, name);
    const auto [prev, inserted] = seen.emplace(name, node_line(key));
    if (!inserted) {
      error(child, node_line(key),
            "duplicate key (first given on line " + std::to_string(prev->second) + ")");
      continue;
    }
    const auto entry = std::find_if(entries.begin(), entries.end(),
                                    [&](const Entry& e) { return e.name == name; });
    if (entry == entries.end()) {
      error(child, node_line(key), unknown_key_reason(name, entries));
      continue;
    }
    entry->handle(key, value, child);
  }
}

SchemaReader::Handler SchemaReader::section(Entries entries) {
  return [this, entries = std::move(entries)](const YAML::Node& key, const YAML::Node& value,
                                              const std::string& path) {
    // An empty section (every key commented out) keeps the defaults.
    if (value.IsNull()) return;
    if (!value.IsMap()) {
      error_at(path, key, value,
               "expected a map of keys (" + join_names(entries) + "), got " + describe(value));
      return;
    }
    walk_map(value, path, entries);
  };
}

bool SchemaReader::expect_scalar(const YAML::Node& key, const YAML::Node& value,
                                 const std::string& path, std::string_view what) {
  if (value.IsScalar()) return true;
  error_at(path, key, value, "expected " + std::string(what) + ", got " + describe(value));
  return false;
}

SchemaReader::Handler SchemaReader::u32(std::uint32_t& out, U32Range range) {
  return [this, &out, range](const YAML::Node& key, const YAML::Node& value,
                             const std::string& path) {
    const std::string what = "an unsigned integer (" + range_text(range) + ")";
    if (!expect_scalar(key, value, path, what)) return;
    const std::string& tag = value.Tag();
    if (tag == "!") {
      error_at(path, key, value, "expected " + what + ", got the quoted string " + describe(value));
      return;
    }
    if (tag != "?" && tag != std::string(kTagPrefix) + "int") {
      error_at(path, key, value, "expected " + what + ", got a value tagged " + tag);
      return;
    }
    std::uint64_t v = 0;
    switch (parse_unsigned(value.Scalar(), v)) {
      case IntParse::kOk:
        break;
      case IntParse::kNotInteger:
        error_at(path, key, value, "expected " + what + ", got " + describe(value));
        return;
      case IntParse::kNegative:
        error_at(path, key, value,
                 "must not be negative: expected " + what + ", got " + value.Scalar());
        return;
      case IntParse::kLeadingZero:
        error_at(path, key, value,
                 "leading zeros are ambiguous (octal in YAML 1.1), got " + value.Scalar());
        return;
      case IntParse::kTooLarge:
        v = std::numeric_limits<std::uint64_t>::max();
        break;
    }
    if (v < range.min || v > range.max) {
      error_at(path, key, value,
               "out of range: must be " + range_text(range) + ", got " + value.Scalar());
      return;
    }
    if (range.power_of_2 && (v & (v - 1)) != 0) {
      error_at(path, key, value, "must be a power of 2, got " + value.Scalar());
      return;
    }
    out = static_cast<std::uint32_t>(v);
  };
}

SchemaReader::Handler SchemaReader::boolean(bool& out) {
  return [this, &out](const YAML::Node& key, const YAML::Node& value, const std::string& path) {
    constexpr std::string_view kWhat = "a boolean (true or false)";
    if (!expect_scalar(key, value, path, kWhat)) return;
    bool v = false;
    if (value.Tag() == "!" || !parse_bool(value.Scalar(), v)) {
      error_at(path, key, value, "expected " + std::string(kWhat) + ", got " + describe(value));
      return;
    }
    out = v;
  };
}

SchemaReader::Handler SchemaReader::string(std::string& out) {
  return [this, &out](const YAML::Node& key, const YAML::Node& value, const std::string& path) {
    // "key:" with nothing after it reads as "not set", same as "".
    if (value.IsNull()) {
      out.clear();
      return;
    }
    if (!expect_scalar(key, value, path, "a string")) return;
    out = value.Scalar();
  };
}

SchemaReader::Handler SchemaReader::string_list(std::vector<std::string>& out) {
  return [this, &out](const YAML::Node& key, const YAML::Node& value, const std::string& path) {
    if (value.IsNull()) {  // every item commented out
      out.clear();
      return;
    }
    if (!value.IsSequence()) {
      error_at(path, key, value, "expected a list of strings, got " + describe(value));
      return;
    }
    std::vector<std::string> items;
    bool ok = true;
    std::size_t i = 0;
    for (const YAML::Node& item : value) {
      const std::string item_path = path + "[" + std::to_string(i++) + "]";
      if (!item.IsScalar()) {
        error_at(item_path, key, item, "expected a string, got " + describe(item));
        ok = false;
        continue;
      }
      items.push_back(item.Scalar());
    }
    if (ok) out = std::move(items);
  };
}

bool SchemaReader::enum_choice(const YAML::Node& key, const YAML::Node& value,
                               const std::string& path, const std::vector<std::string_view>& names,
                               std::size_t& index) {
  std::string list;
  for (const auto n : names) {
    if (!list.empty()) list += ", ";
    list += n;
  }
  if (!expect_scalar(key, value, path, "one of: " + list)) return false;
  const auto it = std::find(names.begin(), names.end(), value.Scalar());
  if (it == names.end()) {
    error_at(path, key, value, "expected one of: " + list + "; got " + describe(value));
    return false;
  }
  index = static_cast<std::size_t>(it - names.begin());
  return true;
}

}  // namespace sf::config_detail
