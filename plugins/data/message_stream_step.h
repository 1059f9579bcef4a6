// data.message_stream (step 25, create-message-topics): the tenant's JetStream stream on the
// tier's NATS server (setting data.<shared|dedicated>.nats_url): stream "tenant-<slug>" capturing
// subjects "tenant.<slug>.>", limits retention, oldest messages discarded at the limits.
//
// Params (catalog):
//   limits   required  {<tier>: {max_bytes: n, max_age_seconds: n}} for every tier; max_bytes
//                      from 1 KiB, max_age_seconds from 1 (JetStream's own unlimited is not
//                      offered: a shared server needs bounds)
//   storage  optional  file (default) | memory
// observe: ABSENT without the stream, DRIFTED when subjects, limits, storage, retention or discard
// differ (a short diff). apply creates the stream, or updates it in place when its config differs
// (the same config again writes nothing; a storage change is refused by JetStream, a permanent
// error). remove deletes the stream and its messages. Isolation on a shared server is by subject
// namespace: the local stack's NATS runs without accounts (see the report of this plugin).
// Outputs: stream, subjects, set by apply and by an observe that finds the stream in sync. The
// kind is adoptable: the stream is named by the slug, and apply again writes nothing. Safe to call
// from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::data {

class MessageStreamStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::data
