// StackEnv: connection settings of the local stack for tests.
//
// Reads the process environment first, then var/stack.env written by `scripts/stack up`. A test
// that needs a server calls Require(), which fails the test (never skips it) with a message
// saying how to start the stack.
#pragma once

#include <optional>
#include <string>

namespace matih::testing {

class StackEnv {
 public:
  static std::optional<std::string> Get(const std::string& key);
  // The value, or a fatal GoogleTest failure naming the key and `scripts/stack up`.
  static std::string Require(const std::string& key);
};

}  // namespace matih::testing
