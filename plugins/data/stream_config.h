// The JetStream stream config this plugin's stream steps converge (steps 25 and 45): per-tier
// limits read from catalog params, the short diff against a stream's current config, and the
// create-or-update / delete calls on the tier's server (nats_streams.h). Limits retention, oldest
// messages discarded at the limits, no message-count limit, one replica.
// Functions only; safe from any thread.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <matih/step.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "data/nats_streams.h"

namespace matih::plugins::data {

struct StreamLimits {
  int64_t max_bytes = 0;
  int64_t max_age_seconds = 0;
  jsStorageType storage = js_FileStorage;
};

// Parses params {<key>: {<tier>: {max_bytes, max_age_seconds}} for all four tiers, storage:
// file|memory (default file)}; unknown keys refused. With `tier`, returns that tier's limits.
// InvalidArgument naming the param otherwise.
StreamLimits ParseStreamLimits(std::string_view params_json, const char* key, const std::string* tier);

// "" when `have` matches subjects and limits, else a short "; "-separated diff.
std::string StreamDifference(const jsStreamConfig& have, const std::string& subjects,
                             const StreamLimits& want);

struct StreamInfoDeleter {
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;

// The stream's info, or null when it does not exist.
StreamInfoPtr ReadStream(const Context& ctx, const NatsJetStream& nats, const std::string& name);
// Creates the stream (`exists` false) or updates it in place.
void PutStream(const Context& ctx, const NatsJetStream& nats, const std::string& name,
               const std::string& subjects, const StreamLimits& limits, bool exists);
// Deletes the stream and its messages; fine when absent.
void DeleteStream(const Context& ctx, const NatsJetStream& nats, const std::string& name);

}  // namespace matih::plugins::data
