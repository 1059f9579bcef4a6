// YamlGuard: refuses YAML text that could hang, exhaust memory or silently lose data before it
// ever reaches a YAML::Node.
//
// yaml-cpp expands aliases when a document is walked, so a "billion laughs" of nested aliases
// grows without bound and a recursive alias never ends; duplicate keys keep the last value
// without a word. CheckYaml reads the text as a stream of parser events (nothing is expanded)
// and refuses a document that would expand to more than `max_nodes` nodes (aliases counted as
// what they stand for), an alias inside the node it names, nesting deeper than `max_depth` (through
// aliases too), text longer than `max_bytes`, and a key repeated in one mapping — each with the
// line it is on. Pure; safe to call from any thread.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"

namespace matih::runner {

struct YamlLimits {
  size_t max_bytes = 1024 * 1024;
  size_t max_depth = 32;
  size_t max_nodes = 100'000;
};

// OK, or InvalidArgument "<origin>: line N: ..." naming the first problem.
Status CheckYaml(const std::string& text, const std::string& origin, const YamlLimits& limits = {});

}  // namespace matih::runner
