// conf/shardflow.yaml documents every key with its default: loading it must
// give exactly Config{}, and it must name every key the loader knows.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "config_test_util.hpp"

namespace sf::test {
namespace {

std::string shipped_path() {
  const char* dir = std::getenv("SF_CONF_DIR");
  return std::string(dir != nullptr ? dir : "conf") + "/shardflow.yaml";
}

void collect_leaves(const YAML::Node& node, const std::string& path,
                    std::vector<std::string>& out) {
  if (!node.IsMap()) {
    out.push_back(path);
    return;
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    collect_leaves(kv.second, path.empty() ? key : path + "." + key, out);
  }
}

TEST(ShippedConfig, LoadsToExactlyTheDefaults) {
  const Result<Config> r = load_config_file(shipped_path());
  ASSERT_TRUE(r.ok()) << r.error();
  expect_same_config(r.value(), Config{});
  EXPECT_TRUE(r->exports.json.path.empty());
  EXPECT_TRUE(r->read_path.empty());
}

TEST(ShippedConfig, NamesEveryKeyOnce) {
  std::vector<std::string> leaves;
  collect_leaves(YAML::LoadFile(shipped_path()), "", leaves);
  std::vector<std::string> want = all_leaf_keys();
  std::sort(leaves.begin(), leaves.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(leaves, want);
}

// The node at a dotted key ("a.b.c").
YAML::Node lookup(const YAML::Node& node, const std::string& key) {
  const std::size_t dot = key.find('.');
  if (dot == std::string::npos) return node[key];
  return lookup(node[key.substr(0, dot)], key.substr(dot + 1));
}

TEST(ShippedConfig, EveryKeyIsKnownToTheLoader) {
  // The key list used above is the loader's: each key loads on its own.
  const YAML::Node doc = YAML::LoadFile(shipped_path());
  for (const auto& key : all_leaf_keys()) {
    YAML::Emitter out;
    out << YAML::Flow << lookup(doc, key);
    EXPECT_EQ(load_error(nest(key, out.c_str())), "OK") << key << " = " << out.c_str();
  }
}

}  // namespace
}  // namespace sf::test
