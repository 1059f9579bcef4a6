#include "data/message_stream_step.h"

#include <cstdint>

#include "data/nats_streams.h"
#include "data/step_params.h"
#include "data/tenant_names.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

struct StreamLimits {
  int64_t max_bytes = 0;
  int64_t max_age_seconds = 0;
  jsStorageType storage = js_FileStorage;
};

StreamLimits ParseLimits(std::string_view text, const std::string* tier) {
  const auto params = ParamsObject(text);
  RefuseUnknownKeys(params, {"limits", "storage"}, "");
  StreamLimits out;
  if (params.contains("storage")) {
    if (params["storage"] == "memory")
      out.storage = js_MemoryStorage;
    else if (params["storage"] != "file")
      throw InvalidArgument("param storage must be file or memory");
  }
  if (!params.contains("limits") || !params["limits"].is_object())
    throw InvalidArgument("param limits ({<tier>: {max_bytes, max_age_seconds}}) is required");
  const auto& limits = params["limits"];
  RefuseUnknownKeys(limits, {"free", "starter", "professional", "enterprise"}, "limits.");
  for (const char* t : kTiers) {
    const std::string where = std::string("limits.") + t + ".";
    if (!limits.contains(t) || !limits[t].is_object())
      throw InvalidArgument("param limits." + std::string(t) + " is missing");
    RefuseUnknownKeys(limits[t], {"max_bytes", "max_age_seconds"}, where);
    const int64_t bytes = IntegerIn(limits[t], "max_bytes", 1024, INT64_MAX, where);
    const int64_t age = IntegerIn(limits[t], "max_age_seconds", 1, INT64_MAX / kNanosPerSecond, where);
    if (tier && *tier == t) out.max_bytes = bytes, out.max_age_seconds = age;
  }
  if (tier && out.max_bytes == 0) throw InvalidArgument("unknown tier " + *tier);
  return out;
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

template <typename T>
void Compare(std::string& diff, const char* field, T have, T want) {
  if (have != want)
    AddNote(diff, std::string(field) + ": have " + std::to_string(have) + ", want " + std::to_string(want));
}

std::string Difference(const jsStreamConfig& have, const std::string& subjects, const StreamLimits& want) {
  std::string diff;
  std::string have_subjects;
  for (int i = 0; i < have.SubjectsLen; ++i) have_subjects += (i ? "," : "") + std::string(have.Subjects[i]);
  if (have_subjects != subjects)
    AddNote(diff, "subjects: have '" + have_subjects + "', want '" + subjects + "'");
  Compare<int64_t>(diff, "max_bytes", have.MaxBytes, want.max_bytes);
  Compare<int64_t>(diff, "max_age_seconds", have.MaxAge / kNanosPerSecond, want.max_age_seconds);
  if (have.MaxAge % kNanosPerSecond != 0) AddNote(diff, "max_age is not a whole number of seconds");
  if (have.Storage != want.storage)
    AddNote(diff, std::string("storage: want ") + (want.storage == js_FileStorage ? "file" : "memory"));
  if (have.Retention != js_LimitsPolicy) AddNote(diff, "retention is not limits");
  if (have.Discard != js_DiscardOld) AddNote(diff, "discard is not old");
  Compare<int64_t>(diff, "max_msgs", have.MaxMsgs, -1);
  return diff;
}

// The stream's info, or nullptr when it does not exist. The caller destroys it.
jsStreamInfo* Info(const Context& ctx, const NatsJetStream& nats, const std::string& name) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions options = nats.Options();
  natsStatus s = js_GetStreamInfo(&info, nats.js(), name.c_str(), &options, &code);
  if (s == NATS_NOT_FOUND) return nullptr;
  if (s != NATS_OK) nats.Fail(ctx, s, code, "read stream " + name);
  return info;
}

struct InfoDeleter {
  void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
};

}  // namespace

void MessageStreamStep::validate_params(std::string_view params_json) { ParseLimits(params_json, nullptr); }

Observation MessageStreamStep::observe(Context& ctx) {
  const std::string tier = ctx.tier(), name = StreamName(ctx.slug());
  const StreamLimits want = ParseLimits(ctx.params_json(), &tier);
  auto nats = NatsJetStream::ForTenant(ctx);
  std::unique_ptr<jsStreamInfo, InfoDeleter> info(Info(ctx, *nats, name));
  if (!info) return Observation::Absent();
  const std::string diff = Difference(*info->Config, StreamSubjects(ctx.slug()), want);
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void MessageStreamStep::apply(Context& ctx) {
  const std::string tier = ctx.tier(), name = StreamName(ctx.slug()), subjects = StreamSubjects(ctx.slug());
  const StreamLimits want = ParseLimits(ctx.params_json(), &tier);
  auto nats = NatsJetStream::ForTenant(ctx);
  std::unique_ptr<jsStreamInfo, InfoDeleter> info(Info(ctx, *nats, name));
  if (!info || !Difference(*info->Config, subjects, want).empty()) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subject_list[] = {subjects.c_str()};
    config.Name = name.c_str();
    config.Subjects = subject_list;
    config.SubjectsLen = 1;
    config.Retention = js_LimitsPolicy;
    config.Discard = js_DiscardOld;
    config.MaxMsgs = -1;
    config.MaxBytes = want.max_bytes;
    config.MaxAge = want.max_age_seconds * kNanosPerSecond;
    config.Storage = want.storage;
    config.Replicas = 1;
    jsStreamInfo* result = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    jsOptions options = nats->Options();
    natsStatus s = info ? js_UpdateStream(&result, nats->js(), &config, &options, &code)
                        : js_AddStream(&result, nats->js(), &config, &options, &code);
    if (s != NATS_OK) nats->Fail(ctx, s, code, (info ? "update stream " : "create stream ") + name);
    jsStreamInfo_Destroy(result);
  }
  ctx.set_output("stream", name);
  ctx.set_output("subjects", subjects);
}

void MessageStreamStep::remove(Context& ctx) {
  const std::string name = StreamName(ctx.slug());
  auto nats = NatsJetStream::ForTenant(ctx);
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions options = nats->Options();
  natsStatus s = js_DeleteStream(nats->js(), name.c_str(), &options, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) nats->Fail(ctx, s, code, "delete stream " + name);
}

}  // namespace matih::plugins::data
