// matih/step.hpp - the header-only C++ layer over matih/step_abi.h.
//
// A plugin is one short file:
//
//   #include <matih/step.hpp>
//
//   class Greeting final : public matih::Step {
//    public:
//     matih::Observation observe(matih::Context& ctx) override { ... }
//     void apply(matih::Context& ctx) override { ... }
//     void remove(matih::Context& ctx) override { ... }
//   };
//
//   MATIH_PLUGIN("example", "1.0.0") {
//     plugin.add<Greeting>("example.greeting", "Writes a greeting file per tenant");
//   }
//
// Errors are C++ exceptions inside the plugin and status codes at the boundary: throw
// matih::TransientError for what a retry may fix, matih::PermanentError (or any other
// std::exception) for what it will not. Nothing ever escapes a plugin's entry points.
//
// Threads: one Step object serves every call of its kind, possibly from several threads at once
// (one tenant per call). Keep per-call state on the stack; guard shared state yourself.
#ifndef MATIH_STEP_HPP_
#define MATIH_STEP_HPP_

#include <matih/step_abi.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace matih {

// An error a plugin throws; `code()` becomes the status the host sees.
class Error : public std::runtime_error {
 public:
  Error(matih_status code, const std::string& message) : std::runtime_error(message), code_(code) {}
  matih_status code() const noexcept { return code_; }

 private:
  matih_status code_;
};

// The target was unreachable or busy: the host retries with backoff.
class TransientError : public Error {
 public:
  explicit TransientError(const std::string& message) : Error(MATIH_STATUS_UNAVAILABLE, message) {}
};

// Retrying will not help: the host stops this tenant's flow.
class PermanentError : public Error {
 public:
  explicit PermanentError(const std::string& message,
                          matih_status code = MATIH_STATUS_FAILED_PRECONDITION)
      : Error(code, message) {}
};

// The tenant's spec or the step's params are wrong.
class InvalidArgument : public PermanentError {
 public:
  explicit InvalidArgument(const std::string& message)
      : PermanentError(message, MATIH_STATUS_INVALID_ARGUMENT) {}
};

// What observe found.
struct Observation {
  enum class State { kInSync, kDrifted, kAbsent };
  State state = State::kAbsent;
  std::string diff;  // short, human-readable; only for kDrifted; never a secret

  static Observation InSync() { return {State::kInSync, {}}; }
  static Observation Absent() { return {State::kAbsent, {}}; }
  static Observation Drifted(std::string diff) { return {State::kDrifted, std::move(diff)}; }
};

inline std::string_view to_view(matih_str s) { return s.data ? std::string_view(s.data, s.size) : std::string_view(); }
inline matih_str to_str(std::string_view s) { return matih_str{s.data(), s.size()}; }

// One step call for one tenant. Wraps the host services; valid only during the call.
class Context {
 public:
  explicit Context(matih_step_context* ctx) : ctx_(ctx), host_(ctx->host) {}

  // The tenant and the step.
  std::string tenant_id() const { return std::string(to_view(host_->callback_tenant_id(ctx_))); }
  std::string slug() const { return std::string(to_view(host_->callback_tenant_slug(ctx_))); }
  std::string tier() const { return std::string(to_view(host_->callback_tenant_tier(ctx_))); }
  std::string spec_json() const { return std::string(to_view(host_->callback_tenant_spec_json(ctx_))); }
  std::string step_name() const { return std::string(to_view(host_->callback_step_name(ctx_))); }
  std::string params_json() const { return std::string(to_view(host_->callback_step_params_json(ctx_))); }
  std::string run_id() const { return std::string(to_view(host_->callback_run_id(ctx_))); }

  // A runner setting from its [targets] section, or nullopt.
  std::optional<std::string> setting(std::string_view key) const {
    matih_str value{};
    if (host_->callback_get_setting(ctx_, to_str(key), &value) != MATIH_STATUS_OK) return std::nullopt;
    return std::string(to_view(value));
  }
  // A setting that must exist; a missing one is a permanent error naming it.
  std::string required_setting(std::string_view key) const {
    auto value = setting(key);
    if (!value) throw PermanentError("missing runner setting targets." + std::string(key));
    return *value;
  }

  // An output of an earlier step (or of this step from an earlier run), or nullopt.
  std::optional<std::string> output(std::string_view step_name, std::string_view key) const {
    matih_str value{};
    if (host_->callback_get_output(ctx_, to_str(step_name), to_str(key), &value) != MATIH_STATUS_OK)
      return std::nullopt;
    return std::string(to_view(value));
  }
  // Records an output of this step. Outputs are visible to operators: never a secret.
  void set_output(std::string_view key, std::string_view value) {
    check(host_->callback_set_output(ctx_, to_str(key), to_str(value)), "set output");
  }

  // Secrets of this tenant in the host's encrypted store.
  void put_secret(std::string_view name, std::string_view value) {
    check(host_->callback_put_secret(ctx_, to_str(name), to_str(value)), "store secret");
  }
  // The secret, or nullopt when it does not exist. Any other answer of the store (a wrong or
  // rotated key, the database down) is an error, never "absent": a step that took it for absent
  // would issue a new credential over a live one.
  std::optional<std::string> secret(std::string_view name) const {
    matih_str value{};
    return read_secret(host_->callback_get_secret(ctx_, to_str(name), &value), value, name);
  }
  // Deletes a secret of this plugin's namespace; fine when it is absent (ABI 1.2 hosts).
  void delete_secret(std::string_view name) {
    if (!MATIH_ABI_HAS_FIELD(host_, matih_host_api, callback_delete_secret) || !host_->callback_delete_secret)
      throw PermanentError("this runner cannot delete secrets (its step ABI is older than 1.2)");
    check(host_->callback_delete_secret(ctx_, to_str(name)), "delete secret");
  }
  // A secret that plugin `owner` shares (its shared_secrets), or nullopt when it does not exist.
  std::optional<std::string> shared_secret(std::string_view owner, std::string_view name) const {
    if (!MATIH_ABI_HAS_FIELD(host_, matih_host_api, callback_get_shared_secret) ||
        !host_->callback_get_shared_secret)
      throw PermanentError("this runner cannot share secrets between plugins (its step ABI is older than 1.2)");
    matih_str value{};
    return read_secret(host_->callback_get_shared_secret(ctx_, to_str(owner), to_str(name), &value), value,
                       std::string(owner) + "/" + std::string(name));
  }

  // The fencing token of the runner's lease on this tenant (grows with every claim), or 0 when
  // the call holds no lease (plan, tests) or the host is older than ABI 1.2.
  int64_t lease_epoch() const {
    return MATIH_ABI_HAS_FIELD(ctx_, matih_step_context, lease_epoch) ? ctx_->lease_epoch : 0;
  }

  std::chrono::system_clock::time_point deadline() const {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(host_->callback_deadline_unix_ms(ctx_)));
  }
  bool cancelled() const { return host_->callback_is_cancelled(ctx_) != 0; }
  // Throws CANCELLED when the host asked the step to stop; call it between long operations.
  void check_cancelled() const {
    if (cancelled()) throw Error(MATIH_STATUS_CANCELLED, "cancelled by the host");
  }
  bool dry_run() const { return host_->callback_is_dry_run(ctx_) != 0; }

  bool log_enabled(matih_log_level level) const { return host_->callback_log_enabled(ctx_, level) != 0; }
  void log(matih_log_level level, std::string_view message, const char* file = nullptr, int line = 0) const {
    host_->callback_log(ctx_, level, to_str(message), file, line);
  }
  void debug(std::string_view m) const { log(MATIH_LOG_DEBUG, m); }
  void info(std::string_view m) const { log(MATIH_LOG_INFO, m); }
  void warn(std::string_view m) const { log(MATIH_LOG_WARN, m); }

  // Optional host extension (ABI 1.1), or nullptr.
  const void* extension(const char* name, uint32_t version) const {
    if (!MATIH_ABI_HAS_FIELD(host_, matih_host_api, callback_get_extension) || !host_->callback_get_extension)
      return nullptr;
    return host_->callback_get_extension(name, version);
  }

  matih_step_context* raw() const { return ctx_; }

 private:
  static void check(matih_status status, const char* what) {
    if (status != MATIH_STATUS_OK) throw Error(status, std::string("host refused to ") + what);
  }
  static std::optional<std::string> read_secret(matih_status status, matih_str value, std::string_view name) {
    if (status == MATIH_STATUS_OK) return std::string(to_view(value));
    if (status == MATIH_STATUS_NOT_FOUND) return std::nullopt;
    // The store's own code: a transient one (database down) is retried, any other stops here.
    throw Error(status, "the secret store could not read secret '" + std::string(name) +
                            "' (status " + std::to_string(status) + "); it was not treated as absent");
  }
  matih_step_context* ctx_;
  const matih_host_api* host_;
};

// The base class of a step kind.
class Step {
 public:
  virtual ~Step() = default;
  // Reads the target and changes nothing.
  virtual Observation observe(Context& ctx) = 0;
  // Converges the target; safe to repeat.
  virtual void apply(Context& ctx) = 0;
  // Undoes apply; succeeds when the target is already absent.
  virtual void remove(Context& ctx) = 0;
  // Checks catalog params (a JSON object) at catalog load; throw InvalidArgument to refuse.
  virtual void validate_params(std::string_view /*params_json*/) {}
};

namespace detail {

// Turns whatever `body` throws into a status and a message; nothing crosses the ABI.
template <typename Body>
matih_status guard(matih_step_context* ctx, Body&& body) noexcept {
  auto say = [ctx](const char* what) {
    if (ctx && ctx->host) ctx->host->callback_set_message(ctx, matih_str{what, std::strlen(what)});
  };
  try {
    return body();
  } catch (const Error& e) {
    say(e.what());
    return e.code();
  } catch (const std::exception& e) {
    say(e.what());
    return MATIH_STATUS_INTERNAL;
  } catch (...) {
    say("unknown exception in plugin");
    return MATIH_STATUS_INTERNAL;
  }
}

template <typename T>
matih_status on_observe(void* data, matih_step_context* ctx) {
  return guard(ctx, [&] {
    Context c(ctx);
    Observation o = static_cast<T*>(data)->observe(c);
    switch (o.state) {
      case Observation::State::kInSync:
        return MATIH_STATUS_IN_SYNC;
      case Observation::State::kDrifted:
        ctx->host->callback_set_message(ctx, to_str(o.diff));
        return MATIH_STATUS_DRIFTED;
      case Observation::State::kAbsent:
        break;
    }
    return MATIH_STATUS_ABSENT;
  });
}

template <typename T>
matih_status on_apply(void* data, matih_step_context* ctx) {
  return guard(ctx, [&] {
    Context c(ctx);
    static_cast<T*>(data)->apply(c);
    return MATIH_STATUS_OK;
  });
}

template <typename T>
matih_status on_remove(void* data, matih_step_context* ctx) {
  return guard(ctx, [&] {
    Context c(ctx);
    static_cast<T*>(data)->remove(c);
    return MATIH_STATUS_OK;
  });
}

template <typename T>
matih_status on_validate_params(void* data, matih_str params, char* error, size_t error_size) {
  try {
    static_cast<T*>(data)->validate_params(to_view(params));
    return MATIH_STATUS_OK;
  } catch (const std::exception& e) {
    if (error && error_size > 0) {
      std::strncpy(error, e.what(), error_size - 1);
      error[error_size - 1] = '\0';
    }
    if (const auto* err = dynamic_cast<const Error*>(&e)) return err->code();
    return MATIH_STATUS_INVALID_ARGUMENT;
  } catch (...) {
    if (error && error_size > 0) std::strncpy(error, "unknown exception in plugin", error_size - 1);
    if (error && error_size > 0) error[error_size - 1] = '\0';
    return MATIH_STATUS_INTERNAL;
  }
}

}  // namespace detail

// The plugin's table of kinds, filled by the MATIH_PLUGIN body. Owns the Step objects.
class Plugin {
 public:
  Plugin(const char* name, const char* version) : name_(name), version_(version) {}

  // Registers step kind `kind` implemented by T (default-constructed once).
  template <typename T, typename... Args>
  T& add(const char* kind, const char* description, Args&&... args) {
    auto step = std::make_unique<T>(std::forward<Args>(args)...);
    T& ref = *step;
    matih_step_kind k{};
    k.struct_size = sizeof(matih_step_kind);
    k.name = kind;
    k.description = description;
    k.kind_data = step.get();
    k.on_observe = &detail::on_observe<T>;
    k.on_apply = &detail::on_apply<T>;
    k.on_remove = &detail::on_remove<T>;
    k.on_validate_params = &detail::on_validate_params<T>;
    steps_.push_back(std::move(step));
    kinds_.push_back(k);
    return ref;
  }

  // Declares that kind `kind` (added before) has adoptable objects: MATIH_KIND_ADOPTABLE in
  // step_abi.h says what that promises. Throws std::invalid_argument for a kind not added.
  void adoptable(const char* kind) {
    for (matih_step_kind& k : kinds_) {
      if (std::string_view(k.name) == kind) {
        k.flags |= MATIH_KIND_ADOPTABLE;
        return;
      }
    }
    throw std::invalid_argument(std::string("adoptable: no kind ") + kind + " was added");
  }

  // Declares a runner setting this plugin reads (a key under [targets], e.g. "dns.api_url"), so
  // the host refuses unknown keys and `plugins verify` lists it. `flags`: MATIH_SETTING_*.
  void setting(const char* name, const char* description, uint32_t flags = 0) {
    matih_setting s{};
    s.struct_size = sizeof(matih_setting);
    s.flags = flags;
    s.name = name;
    s.description = description;
    settings_.push_back(s);
  }
  // Lets other plugins read this plugin's secret `name` (a trailing '*' shares a prefix).
  void share_secret(const char* name) { shared_secrets_.push_back(name); }

  // The host services, for code that runs outside a step call (rarely needed).
  const matih_host_api* host() const { return host_; }
  // The ABI version the host announced when it loaded the plugin.
  uint32_t host_abi_major() const { return host_abi_major_; }
  uint32_t host_abi_minor() const { return host_abi_minor_; }

  const matih_plugin* finish(uint32_t host_abi_major, uint32_t host_abi_minor, const matih_host_api* host) {
    host_ = host;
    host_abi_major_ = host_abi_major;
    host_abi_minor_ = host_abi_minor;
    table_.struct_size = sizeof(matih_plugin);
    table_.abi_major = MATIH_STEP_ABI_VERSION_MAJOR;
    table_.abi_minor = MATIH_STEP_ABI_VERSION_MINOR;
    table_.name = name_;
    table_.version = version_;
    table_.kind_count = kinds_.size();
    table_.kinds = kinds_.data();
    table_.kind_struct_size = sizeof(matih_step_kind);
    table_.setting_count = settings_.size();
    table_.settings = settings_.empty() ? nullptr : settings_.data();
    table_.setting_struct_size = sizeof(matih_setting);
    table_.shared_secret_count = shared_secrets_.size();
    table_.shared_secrets = shared_secrets_.empty() ? nullptr : shared_secrets_.data();
    return &table_;
  }

 private:
  const char* name_;
  const char* version_;
  const matih_host_api* host_ = nullptr;
  uint32_t host_abi_major_ = 0;
  uint32_t host_abi_minor_ = 0;
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<matih_setting> settings_;
  std::vector<const char*> shared_secrets_;
  std::vector<matih_step_kind> kinds_;
  matih_plugin table_{};
};

}  // namespace matih

#if defined(__GNUC__) || defined(__clang__)
#define MATIH_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define MATIH_PLUGIN_EXPORT
#endif

// Defines the plugin's entry point. The body that follows registers kinds (and declares settings
// and shared secrets) on `plugin`; it runs once, when the host loads the plugin, and may read
// plugin.host_abi_minor() to register only what the host can serve. A plugin whose ABI major
// differs from the host's answers its table anyway, so the host can name both versions in its
// refusal; the body is not run then.
#define MATIH_PLUGIN(plugin_name, plugin_version)                                                 \
  static void matih_register_kinds(::matih::Plugin& plugin);                                      \
  extern "C" MATIH_PLUGIN_EXPORT const matih_plugin* matih_step_plugin_init(                      \
      uint32_t host_major, uint32_t host_minor, const matih_host_api* host) {                     \
    static std::unique_ptr<::matih::Plugin> instance; /* freed when the plugin is unloaded */     \
    if (instance) return instance->finish(host_major, host_minor, host);                          \
    try {                                                                                         \
      auto p = std::make_unique<::matih::Plugin>(plugin_name, plugin_version);                    \
      p->finish(host_major, host_minor, host);                                                    \
      if (host_major == MATIH_STEP_ABI_VERSION_MAJOR) matih_register_kinds(*p);                   \
      instance = std::move(p);                                                                    \
      return instance->finish(host_major, host_minor, host);                                      \
    } catch (...) {                                                                               \
      return nullptr;                                                                             \
    }                                                                                             \
  }                                                                                               \
  static void matih_register_kinds(::matih::Plugin& plugin)

#endif  // MATIH_STEP_HPP_
