#include "data/message_stream_step.h"

#include "data/nats_streams.h"
#include "data/stream_config.h"
#include "data/tenant_names.h"

namespace matih::plugins::data {

namespace {

// The outputs of apply, and of an observe that finds the stream in sync.
void SetOutputs(Context& ctx) {
  ctx.set_output("stream", StreamName(ctx.slug()));
  ctx.set_output("subjects", StreamSubjects(ctx.slug()));
}

}  // namespace

void MessageStreamStep::validate_params(std::string_view params_json) {
  ParseStreamLimits(params_json, "limits", nullptr);
}

Observation MessageStreamStep::observe(Context& ctx) {
  const std::string tier = ctx.tier(), name = StreamName(ctx.slug());
  const StreamLimits want = ParseStreamLimits(ctx.params_json(), "limits", &tier);
  auto nats = NatsJetStream::ForTenant(ctx);
  StreamInfoPtr info = ReadStream(ctx, *nats, name);
  if (!info) return Observation::Absent();
  const std::string diff = StreamDifference(*info->Config, StreamSubjects(ctx.slug()), want);
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx);
  return Observation::InSync();
}

void MessageStreamStep::apply(Context& ctx) {
  const std::string tier = ctx.tier(), name = StreamName(ctx.slug()), subjects = StreamSubjects(ctx.slug());
  const StreamLimits want = ParseStreamLimits(ctx.params_json(), "limits", &tier);
  auto nats = NatsJetStream::ForTenant(ctx);
  StreamInfoPtr info = ReadStream(ctx, *nats, name);
  if (!info || !StreamDifference(*info->Config, subjects, want).empty())
    PutStream(ctx, *nats, name, subjects, want, info != nullptr);
  SetOutputs(ctx);
}

void MessageStreamStep::remove(Context& ctx) {
  DeleteStream(ctx, *NatsJetStream::ForTenant(ctx), StreamName(ctx.slug()));
}

}  // namespace matih::plugins::data
