#include "data/stream_config.h"

#include "data/step_params.h"

namespace matih::plugins::data {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

template <typename T>
void Compare(std::string& diff, const char* field, T have, T want) {
  if (have != want)
    AddNote(diff, std::string(field) + ": have " + std::to_string(have) + ", want " + std::to_string(want));
}

}  // namespace

StreamLimits ParseStreamLimits(std::string_view text, const char* key, const std::string* tier) {
  const auto params = ParamsObject(text);
  RefuseUnknownKeys(params, {key, "storage"}, "");
  StreamLimits out;
  if (params.contains("storage")) {
    if (params["storage"] == "memory")
      out.storage = js_MemoryStorage;
    else if (params["storage"] != "file")
      throw InvalidArgument("param storage must be file or memory");
  }
  if (!params.contains(key) || !params[key].is_object())
    throw InvalidArgument("param " + std::string(key) +
                          " ({<tier>: {max_bytes, max_age_seconds}}) is required");
  const auto& limits = params[key];
  const std::string prefix = std::string(key) + ".";
  RefuseUnknownKeys(limits, {"free", "starter", "professional", "enterprise"}, prefix);
  for (const char* t : kTiers) {
    const std::string where = prefix + t + ".";
    if (!limits.contains(t) || !limits[t].is_object())
      throw InvalidArgument("param " + prefix + t + " is missing");
    RefuseUnknownKeys(limits[t], {"max_bytes", "max_age_seconds"}, where);
    const int64_t bytes = IntegerIn(limits[t], "max_bytes", 1024, INT64_MAX, where);
    const int64_t age = IntegerIn(limits[t], "max_age_seconds", 1, INT64_MAX / kNanosPerSecond, where);
    if (tier && *tier == t) out.max_bytes = bytes, out.max_age_seconds = age;
  }
  if (tier && out.max_bytes == 0) throw InvalidArgument("unknown tier " + *tier);
  return out;
}

std::string StreamDifference(const jsStreamConfig& have, const std::string& subjects,
                             const StreamLimits& want) {
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

StreamInfoPtr ReadStream(const Context& ctx, const NatsJetStream& nats, const std::string& name) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions options = nats.Options();
  natsStatus s = js_GetStreamInfo(&info, nats.js(), name.c_str(), &options, &code);
  if (s == NATS_NOT_FOUND) return nullptr;
  if (s != NATS_OK) nats.Fail(ctx, s, code, "read stream " + name);
  return StreamInfoPtr(info);
}

void PutStream(const Context& ctx, const NatsJetStream& nats, const std::string& name,
               const std::string& subjects, const StreamLimits& limits, bool exists) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subject_list[] = {subjects.c_str()};
  config.Name = name.c_str();
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Retention = js_LimitsPolicy;
  config.Discard = js_DiscardOld;
  config.MaxMsgs = -1;
  config.MaxBytes = limits.max_bytes;
  config.MaxAge = limits.max_age_seconds * kNanosPerSecond;
  config.Storage = limits.storage;
  config.Replicas = 1;
  jsStreamInfo* result = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions options = nats.Options();
  natsStatus s = exists ? js_UpdateStream(&result, nats.js(), &config, &options, &code)
                        : js_AddStream(&result, nats.js(), &config, &options, &code);
  if (s != NATS_OK) nats.Fail(ctx, s, code, (exists ? "update stream " : "create stream ") + name);
  jsStreamInfo_Destroy(result);
}

void DeleteStream(const Context& ctx, const NatsJetStream& nats, const std::string& name) {
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions options = nats.Options();
  natsStatus s = js_DeleteStream(nats.js(), name.c_str(), &options, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) nats.Fail(ctx, s, code, "delete stream " + name);
}

}  // namespace matih::plugins::data
