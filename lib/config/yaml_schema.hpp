// A small strict schema walker over yaml-cpp nodes: typed readers that write
// into struct fields and collect every error as "key.path (line N): reason"
// instead of stopping at the first one. yaml-cpp itself is lenient (no
// duplicate-key check, "1.5" converts to int 1), hence our own checks.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sf::config_detail {

struct U32Range {
  std::uint32_t min;
  std::uint32_t max;
  bool power_of_2 = false;
};

class SchemaReader {
 public:
  // Handles the value of one key: (key node, value node, dotted key path).
  using Handler = std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)>;
  struct Entry {
    std::string_view name;
    Handler handle;
  };
  using Entries = std::vector<Entry>;

  // Walks the document root: null (empty file) keeps all defaults.
  void read_root(const YAML::Node& root, const Entries& entries);

  // Handler factories; each writes its field only when the value is valid.
  Handler section(Entries entries);
  Handler u32(std::uint32_t& out, U32Range range);
  Handler boolean(bool& out);
  Handler string(std::string& out);
  Handler string_list(std::vector<std::string>& out);
  template <typename E>
  Handler enumeration(E& out, std::vector<std::pair<std::string_view, E>> choices);
  // A list of maps, each read into a T{} with the entries make(item) gives
  // (paths "key[i].name"); the list replaces the default when it is valid.
  template <typename T>
  Handler section_list(std::vector<T>& out, std::function<Entries(T&)> make);

  void error(const std::string& path, int line, const std::string& reason);
  void error_at(const std::string& path, const YAML::Node& key, const YAML::Node& value,
                const std::string& reason);
  const std::vector<std::string>& errors() const noexcept { return errors_; }

 private:
  void walk_map(const YAML::Node& map, const std::string& path, const Entries& entries);
  // Checks a value is a plain-or-quoted scalar; reports and returns false otherwise.
  bool expect_scalar(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                     std::string_view what);
  bool enum_choice(const YAML::Node& key, const YAML::Node& value, const std::string& path,
                   const std::vector<std::string_view>& names, std::size_t& index);

  std::vector<std::string> errors_;
};

// 1-based line of the node an error is about; -1 when unknown.
int node_line(const YAML::Node& node);
// Describes a node's kind for messages ("a map", "a list", "null", "'abc'").
std::string describe(const YAML::Node& node);

template <typename E>
SchemaReader::Handler SchemaReader::enumeration(
    E& out, std::vector<std::pair<std::string_view, E>> choices) {
  return [this, &out, choices = std::move(choices)](const YAML::Node& key, const YAML::Node& value,
                                                    const std::string& path) {
    std::vector<std::string_view> names;
    names.reserve(choices.size());
    for (const auto& c : choices) names.push_back(c.first);
    std::size_t index = 0;
    if (enum_choice(key, value, path, names, index)) out = choices[index].second;
  };
}

template <typename T>
SchemaReader::Handler SchemaReader::section_list(std::vector<T>& out, std::function<Entries(T&)> make) {
  return [this, &out, make = std::move(make)](const YAML::Node& key, const YAML::Node& value,
                                              const std::string& path) {
    if (value.IsNull()) {  // every item commented out
      out.clear();
      return;
    }
    if (!value.IsSequence()) {
      error_at(path, key, value, "expected a list of maps, got " + describe(value));
      return;
    }
    const std::size_t errors_before = errors_.size();
    std::vector<T> items;
    std::size_t i = 0;
    for (const YAML::Node& item : value) {
      const std::string item_path = path + "[" + std::to_string(i++) + "]";
      T t{};
      const Entries entries = make(t);
      if (!item.IsMap()) {
        error_at(item_path, key, item, "expected a map, got " + describe(item));
        continue;
      }
      walk_map(item, item_path, entries);
      items.push_back(std::move(t));
    }
    if (errors_.size() == errors_before) out = std::move(items);
  };
}

}  // namespace sf::config_detail
