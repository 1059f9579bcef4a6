#include "plugin_host/host_services.h"

#include <sodium.h>

#include <chrono>
#include <cstddef>
#include <type_traits>

#include "secrets/secret_store.h"
#include "telemetry/logger.h"

namespace matih::runner {
namespace {

const PluginScope kLegacyScope{};

constexpr std::uint64_t kContextMagic = 0x6d61746968637478ULL;  // "matihctx"
// Shorter secret values are not redacted: replacing every "1" or "ab" in a message would
// destroy it and hide nothing worth hiding.
constexpr std::size_t kMinRedactedSize = 4;

std::string_view View(matih_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
matih_str Str(std::string_view s) { return matih_str{s.data(), s.size()}; }
// A string argument from a plugin: NULL data with a nonzero size is malformed.
bool Valid(matih_str s) { return s.data != nullptr || s.size == 0; }

spdlog::level::level_enum LevelOf(matih_log_level level) {
  switch (level) {
    case MATIH_LOG_TRACE: return spdlog::level::trace;
    case MATIH_LOG_DEBUG: return spdlog::level::debug;
    case MATIH_LOG_INFO: return spdlog::level::info;
    case MATIH_LOG_WARN: return spdlog::level::warn;
    case MATIH_LOG_ERROR: return spdlog::level::err;
    default: return spdlog::level::info;
  }
}

LogFields FieldsOf(const HostCall& hc) {
  const StepCall& c = hc.call();
  return LogFields{c.run_id,
                   c.tenant.slug.empty() ? std::string_view(c.tenant.id) : std::string_view(c.tenant.slug),
                   c.step_name};
}

// Every callback runs under this: a callback must never let an exception (say, bad_alloc)
// unwind into plugin code, and a context that is not ours is refused.
template <typename Fallback, typename Body>
auto Guard(matih_step_context* ctx, Fallback fallback, Body&& body) noexcept -> decltype(fallback) {
  HostCall* hc = HostCall::From(ctx);
  if (hc == nullptr) return fallback;
  try {
    return body(*hc);
  } catch (...) {
    return fallback;
  }
}

void Log(matih_step_context* ctx, matih_log_level level, matih_str message, const char* file, int32_t line) {
  HostCall* hc = HostCall::From(ctx);
  if (hc == nullptr || !Valid(message)) return;
  try {
    auto spd_level = LevelOf(level);
    if (!Logger::Enabled(spd_level)) return;
    std::string text = "[" + hc->kind() + "] " + hc->Redact(View(message));
    if (file != nullptr) text += " (" + std::string(file) + ":" + std::to_string(line) + ")";
    Logger::Log(spd_level, FieldsOf(*hc), text);
  } catch (...) {
    // Losing a log line is better than unwinding into the plugin.
  }
}

int32_t LogEnabled(matih_step_context* ctx, matih_log_level level) {
  return Guard(ctx, int32_t{0}, [&](HostCall&) { return Logger::Enabled(LevelOf(level)) ? 1 : 0; });
}

template <const std::string TenantView::*Field>
matih_str TenantField(matih_step_context* ctx) {
  return Guard(ctx, matih_str{"", 0}, [](HostCall& hc) { return Str(hc.call().tenant.*Field); });
}

template <const std::string StepCall::*Field>
matih_str CallField(matih_step_context* ctx) {
  return Guard(ctx, matih_str{"", 0}, [](HostCall& hc) { return Str(hc.call().*Field); });
}

matih_status GetSetting(matih_step_context* ctx, matih_str key, matih_str* value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (value == nullptr || !Valid(key)) return MATIH_STATUS_INVALID_ARGUMENT;
    const auto* settings = hc.call().settings;
    if (settings == nullptr) return MATIH_STATUS_NOT_FOUND;
    auto it = settings->find(std::string(View(key)));
    if (it == settings->end()) return MATIH_STATUS_NOT_FOUND;
    // A credential the plugin declared: redacted from its log lines, messages and outputs.
    if (hc.scope().secret_settings.count(it->first)) hc.RememberSecret(it->second);
    *value = Str(it->second);
    return MATIH_STATUS_OK;
  });
}

matih_status GetOutput(matih_step_context* ctx, matih_str step_name, matih_str key, matih_str* value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (value == nullptr || !Valid(step_name) || !Valid(key)) return MATIH_STATUS_INVALID_ARGUMENT;
    const std::string step(View(step_name));
    const std::string name(View(key));
    // What this call has set wins over what an earlier run recorded for the same step.
    if (step == hc.call().step_name) {
      auto it = hc.answer().outputs.find(name);
      if (it != hc.answer().outputs.end()) {
        *value = hc.Keep(it->second);  // a later set_output would replace the map's string
        return MATIH_STATUS_OK;
      }
    }
    const TenantOutputs* outputs = hc.call().outputs;
    if (outputs == nullptr) return MATIH_STATUS_NOT_FOUND;
    auto step_it = outputs->find(step);
    if (step_it == outputs->end()) return MATIH_STATUS_NOT_FOUND;
    auto it = step_it->second.find(name);
    if (it == step_it->second.end()) return MATIH_STATUS_NOT_FOUND;
    *value = Str(it->second);
    return MATIH_STATUS_OK;
  });
}

matih_status SetOutput(matih_step_context* ctx, matih_str key, matih_str value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (!Valid(key) || !Valid(value) || key.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
    const std::string name(View(key));
    // Outputs are shown to operators. A value holding a secret of this call is refused, and
    // only the key is named.
    if (hc.ContainsSecret(View(value))) {
      Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] refused output '" + hc.Redact(name) +
                                     "': its value contains a secret; secrets belong in the secret store");
      return MATIH_STATUS_PERMISSION_DENIED;
    }
    hc.answer().outputs[name] = std::string(View(value));
    return MATIH_STATUS_OK;
  });
}

matih_status PutSecret(matih_step_context* ctx, matih_str name, matih_str value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (!Valid(name) || !Valid(value) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
    hc.RememberSecret(View(value));
    const StepCall& call = hc.call();
    // Planning must change nothing, and storing a secret is a change.
    if (call.dry_run) return MATIH_STATUS_FAILED_PRECONDITION;
    if (call.secrets == nullptr) {
      Logger::Warn(FieldsOf(hc),
                   "[" + hc.kind() + "] cannot store a secret: this runner has no secret store");
      return MATIH_STATUS_FAILED_PRECONDITION;
    }
    // A runner's call is fenced by its lease: taken over, the write is refused and changes nothing.
    const std::string stored = hc.StoredSecretName(View(name));
    Status s = call.lease_owner.empty() ? call.secrets->Put(call.tenant.id, stored, View(value))
                                        : call.secrets->PutFenced({call.lease_owner, call.lease_epoch},
                                                                  call.tenant.id, stored, View(value));
    if (!s.ok()) {
      Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] " + hc.Redact(s.ToString()));
      return static_cast<matih_status>(s.code());
    }
    return MATIH_STATUS_OK;
  });
}

// Reads `stored_name` of the call's tenant into a [call] value. Only NotFound means absent; any
// other failure of the store is reported with its own code.
matih_status ReadSecret(HostCall& hc, const std::string& stored_name, matih_str* value) {
  const StepCall& call = hc.call();
  if (call.secrets == nullptr) {
    Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] cannot read a secret: this runner has no secret store");
    return MATIH_STATUS_FAILED_PRECONDITION;
  }
  Result<std::string> secret = call.secrets->Get(call.tenant.id, stored_name);
  if (!secret.ok()) {
    if (secret.status().code() != Code::kNotFound) {
      Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] " + secret.status().ToString());
    }
    return static_cast<matih_status>(secret.status().code());
  }
  *value = hc.KeepSecret(*secret);
  sodium_memzero(secret->data(), secret->size());
  return MATIH_STATUS_OK;
}

matih_status GetSecret(matih_step_context* ctx, matih_str name, matih_str* value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (value == nullptr || !Valid(name) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
    return ReadSecret(hc, hc.StoredSecretName(View(name)), value);
  });
}

matih_status DeleteSecret(matih_step_context* ctx, matih_str name) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (!Valid(name) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
    const StepCall& call = hc.call();
    if (call.dry_run) return MATIH_STATUS_FAILED_PRECONDITION;
    if (call.secrets == nullptr) {
      Logger::Warn(FieldsOf(hc),
                   "[" + hc.kind() + "] cannot delete a secret: this runner has no secret store");
      return MATIH_STATUS_FAILED_PRECONDITION;
    }
    const std::string stored = hc.StoredSecretName(View(name));
    Status s = call.lease_owner.empty()
                   ? call.secrets->Delete(call.tenant.id, stored)
                   : call.secrets->DeleteFenced({call.lease_owner, call.lease_epoch}, call.tenant.id, stored);
    if (!s.ok()) {
      Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] " + s.ToString());
      return static_cast<matih_status>(s.code());
    }
    return MATIH_STATUS_OK;
  });
}

matih_status GetSharedSecret(matih_step_context* ctx, matih_str owner, matih_str name, matih_str* value) {
  return Guard(ctx, matih_status{MATIH_STATUS_FAILED_PRECONDITION}, [&](HostCall& hc) -> matih_status {
    if (value == nullptr || !Valid(owner) || !Valid(name) || owner.size == 0 || name.size == 0)
      return MATIH_STATUS_INVALID_ARGUMENT;
    const std::string owner_name(View(owner));
    const SharedSecrets* shared = hc.scope().shared;
    if (shared == nullptr || !shared->Allows(owner_name, View(name))) {
      Logger::Warn(FieldsOf(hc), "[" + hc.kind() + "] plugin " + owner_name + " does not share secret '" +
                                     std::string(View(name)) + "'");
      return MATIH_STATUS_PERMISSION_DENIED;
    }
    return ReadSecret(hc, owner_name + "/" + std::string(View(name)), value);
  });
}

int64_t DeadlineUnixMs(matih_step_context* ctx) {
  return Guard(ctx, int64_t{0}, [](HostCall& hc) -> int64_t {
    auto since_epoch = hc.call().deadline.time_since_epoch();
    // A StepCall without a deadline (the epoch) means none: answer "far in the future" rather
    // than "long past", which would make every step give up at once. The latest time a
    // system_clock can hold (year 2262), not INT64_MAX: a plugin converts the value back into
    // its own clock's nanoseconds, and that must not overflow.
    if (since_epoch.count() == 0) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::time_point::max().time_since_epoch())
          .count();
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  });
}

int32_t IsCancelled(matih_step_context* ctx) {
  // An unknown context answers "cancelled": the plugin should stop rather than carry on blind.
  return Guard(ctx, int32_t{1}, [](HostCall& hc) -> int32_t {
    const auto* cancel = hc.call().cancel;
    return cancel != nullptr && cancel->load(std::memory_order_relaxed) ? 1 : 0;
  });
}

int32_t IsDryRun(matih_step_context* ctx) {
  return Guard(ctx, int32_t{1}, [](HostCall& hc) -> int32_t { return hc.call().dry_run ? 1 : 0; });
}

void SetMessage(matih_step_context* ctx, matih_str message) {
  HostCall* hc = HostCall::From(ctx);
  if (hc == nullptr || !Valid(message)) return;
  try {
    hc->answer().message = hc->Redact(View(message));
  } catch (...) {
  }
}

const void* GetExtension(const char* /*name*/, uint32_t /*version*/) {
  // No extensions yet; the callback exists so 1.1 plugins can ask without guessing.
  return nullptr;
}

const matih_host_api kHostApi = [] {
  matih_host_api api{};
  api.struct_size = sizeof(matih_host_api);
  api.abi_major = MATIH_STEP_ABI_VERSION_MAJOR;
  api.abi_minor = MATIH_STEP_ABI_VERSION_MINOR;
  api.callback_log = &Log;
  api.callback_log_enabled = &LogEnabled;
  api.callback_tenant_id = &TenantField<&TenantView::id>;
  api.callback_tenant_slug = &TenantField<&TenantView::slug>;
  api.callback_tenant_tier = &TenantField<&TenantView::tier>;
  api.callback_tenant_spec_json = &TenantField<&TenantView::spec_json>;
  api.callback_step_name = &CallField<&StepCall::step_name>;
  api.callback_step_params_json = &CallField<&StepCall::params_json>;
  api.callback_run_id = &CallField<&StepCall::run_id>;
  api.callback_get_setting = &GetSetting;
  api.callback_get_output = &GetOutput;
  api.callback_set_output = &SetOutput;
  api.callback_put_secret = &PutSecret;
  api.callback_get_secret = &GetSecret;
  api.callback_deadline_unix_ms = &DeadlineUnixMs;
  api.callback_is_cancelled = &IsCancelled;
  api.callback_is_dry_run = &IsDryRun;
  api.callback_set_message = &SetMessage;
  api.callback_get_extension = &GetExtension;
  api.callback_delete_secret = &DeleteSecret;
  api.callback_get_shared_secret = &GetSharedSecret;
  return api;
}();

}  // namespace

const matih_host_api* HostServicesTable() { return &kHostApi; }

bool SharedSecrets::Allows(const std::string& owner, std::string_view name) const {
  auto it = patterns_.find(owner);
  if (it == patterns_.end()) return false;
  for (const std::string& pattern : it->second) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (name.substr(0, pattern.size() - 1) == std::string_view(pattern).substr(0, pattern.size() - 1))
        return true;
    } else if (name == pattern) {
      return true;
    }
  }
  return false;
}

HostCall::HostCall(const StepCall& call, StepAnswer& answer, std::string_view kind, const PluginScope* scope)
    : call_(call), answer_(answer), kind_(kind), scope_(scope ? scope : &kLegacyScope) {
  static_assert(std::is_standard_layout_v<Context>, "Context must start with matih_step_context");
  context_.abi.struct_size = sizeof(matih_step_context);
  context_.abi.host = HostServicesTable();
  context_.abi.lease_epoch = call.lease_epoch;
  context_.magic = kContextMagic;
  context_.self = this;
}

HostCall::~HostCall() {
  context_.magic = 0;
  for (std::string& s : secrets_) sodium_memzero(s.data(), s.size());
}

HostCall* HostCall::From(matih_step_context* ctx) {
  if (ctx == nullptr || ctx->host != HostServicesTable()) return nullptr;
  auto* full = reinterpret_cast<Context*>(ctx);
  return full->magic == kContextMagic ? full->self : nullptr;
}

std::string HostCall::StoredSecretName(std::string_view name) const {
  if (scope_->secret_namespace.empty()) return std::string(name);
  return scope_->secret_namespace + "/" + std::string(name);
}

matih_str HostCall::Keep(std::string_view value) {
  kept_.emplace_back(value);
  return Str(kept_.back());
}

matih_str HostCall::KeepSecret(std::string_view value) {
  secrets_.emplace_back(value);
  return Str(secrets_.back());
}

void HostCall::RememberSecret(std::string_view value) { secrets_.emplace_back(value); }

bool HostCall::ContainsSecret(std::string_view text) const {
  for (const std::string& secret : secrets_) {
    if (secret.size() >= kMinRedactedSize && text.find(secret) != std::string_view::npos) return true;
  }
  return false;
}

std::string HostCall::Redact(std::string_view text) const {
  std::string out(text);
  for (const std::string& secret : secrets_) {
    if (secret.size() < kMinRedactedSize) continue;
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "[redacted]");
      pos += sizeof("[redacted]") - 1;
    }
  }
  return out;
}

}  // namespace matih::runner
