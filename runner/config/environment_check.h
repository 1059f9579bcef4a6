// EnvironmentCheck: refuses MATIH_* environment variables the runner does not know, so an
// operator's typo (MATIH_RUN_WORKRES=8) is an error naming the variable and the nearest known
// name instead of a setting silently left at its default.
//
// The rule, in order:
//   1. a runner setting's name (MATIH_SECTION_NAME of every config key), MATIH_CONFIG and
//      MATIH_SECRET_KEY are the runner's own: used;
//   2. the development scripts' own knobs (MATIH_JOBS, MATIH_PORT_BASE, ...; DevelopmentKnobs())
//      belong to scripts/ and are ignored;
//   3. when MATIH_STACK_ROOT is set (var/stack.env of the local stack sets it), every name that
//      $MATIH_STACK_ROOT/var/stack.env assigns belongs to the local stack and is ignored (one that
//      is also a runner setting, MATIH_DATABASE_URL, stays a setting by rule 1);
//   4. any other MATIH_* name is an error.
// Plugin settings are read from the config file's [targets] section only, never from the
// environment, so MATIH_TARGETS_* is unknown too (the message says where they go).
// Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace matih::runner {

// The development scripts' knobs that may be exported in a developer's shell.
const std::vector<std::string>& DevelopmentKnobs();

// `env`: the whole environment (name -> value). `known`: the runner's own variable names.
// Ok, or InvalidArgument naming the first unknown variable (in name order) and the nearest known
// name when one is close.
Status CheckEnvironment(const std::map<std::string, std::string>& env, const std::vector<std::string>& known);

// The known name nearest to `name` by edit distance (adjacent transpositions count one), or ""
// when none is within a third of the name's length after the MATIH_ prefix (and at most 3).
std::string NearestName(const std::string& name, const std::vector<std::string>& known);

// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace matih::runner
