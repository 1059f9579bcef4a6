#include "data/message_stream_step.h"

#include "data/nats_streams.h"
#include "data/stream_config.h"
#include "data/tenant_names.h"

namespace matih::plugins::data {

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
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void MessageStreamStep::apply(Context& ctx) {
  const std::string tier = ctx.tier(), name = StreamName(ctx.slug()), subjects = StreamSubjects(ctx.slug());
  const StreamLimits want = ParseStreamLimits(ctx.params_json(), "limits", &tier);
  auto nats = NatsJetStream::ForTenant(ctx);
  StreamInfoPtr info = ReadStream(ctx, *nats, name);
  if (!info || !StreamDifference(*info->Config, subjects, want).empty())
    PutStream(ctx, *nats, name, subjects, want, info != nullptr);
  ctx.set_output("stream", name);
  ctx.set_output("subjects", subjects);
}

void MessageStreamStep::remove(Context& ctx) {
  DeleteStream(ctx, *NatsJetStream::ForTenant(ctx), StreamName(ctx.slug()));
}

}  // namespace matih::plugins::data
