#include "support/stack_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

namespace matih::testing {
namespace {

const std::map<std::string, std::string>& FileValues() {
  static std::once_flag once;
  static std::map<std::string, std::string> values;
  std::call_once(once, [] {
    std::ifstream in(std::string(MATIH_SOURCE_DIR) + "/var/stack.env");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      auto eq = line.find('=');
      if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    }
  });
  return values;
}

}  // namespace

std::optional<std::string> StackEnv::Get(const std::string& key) {
  if (const char* v = std::getenv(key.c_str()); v && *v) return std::string(v);
  auto it = FileValues().find(key);
  if (it != FileValues().end()) return it->second;
  return std::nullopt;
}

std::string StackEnv::Require(const std::string& key) {
  auto v = Get(key);
  if (!v) {
    ADD_FAILURE() << key << " is not set and var/stack.env does not have it: start the local stack with "
                  << "`scripts/stack up` (scripts/test does this)";
    return {};
  }
  return *v;
}

}  // namespace matih::testing
