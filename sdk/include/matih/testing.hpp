// matih/testing.hpp - an in-memory host for testing a step plugin without the runner.
//
// Header-only, C++17, no test framework needed (it works inside GoogleTest or Catch2 as well as
// in a plain main()). It drives the plugin through its real C ABI table, exactly as the runner
// does: it calls matih_step_plugin_init with its own matih_host_api, then the on_* functions of
// the kind, so what passes here passes in the runner. It keeps, in memory:
//   - the tenant (id, slug, tier, spec JSON), the step's name and catalog params, the run id,
//     the lease epoch, and the runner's [targets] settings;
//   - the outputs of earlier steps and of this step, recorded as the runner records them
//     (a successful observe or apply adds to them, a successful remove clears them);
//   - a secret store per tenant with the runner's per-plugin namespaces (a 1.2 plugin reads and
//     writes "<plugin name>/<name>"; 1.0 and 1.1 plugins share a legacy namespace) and sharing
//     (shared_secret reads only names the owner shares); a store failure can be injected;
//   - a log sink capturing every line (secret values redacted as the runner redacts them);
//   - cancellation (an atomic flag, safe to set from another thread) and the call deadline;
//   - dry-run mode, in which apply and remove are refused as in `plan`.
// Answers are normalised as the runner does (an observe answering OK is an INTERNAL error, a
// message survives only with DRIFTED or an error, outputs survive only a successful call).
//
//   #include <matih/testing.hpp>
//   matih::testing::Host host(matih_step_plugin_init);      // the plugin linked into the test
//   // or: auto host = matih::testing::Host::Load("./my_plugin.so");
//   host.tenant("acme", "starter").setting("example.dir", "/tmp/x");
//   assert(host.observe("example.greeting").absent());
//   assert(host.apply("example.greeting").ok());
//   assert(host.observe("example.greeting").in_sync());
//
// Threads: one Host is driven from one thread at a time; only cancel() may be called from
// another thread while a call runs. The plugin's own threading rules (step.hpp) still apply.
#ifndef MATIH_TESTING_HPP_
#define MATIH_TESTING_HPP_

#include <matih/status_name.h>
#include <matih/step.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__has_include)
#if __has_include(<dlfcn.h>)
#include <dlfcn.h>
#define MATIH_TESTING_HAS_DLOPEN 1
#endif
#endif

// The entry point MATIH_PLUGIN defines, for a test that links the plugin's sources in.
extern "C" MATIH_PLUGIN_EXPORT const matih_plugin* matih_step_plugin_init(uint32_t host_major,
                                                                          uint32_t host_minor,
                                                                          const matih_host_api* host);

namespace matih::testing {

// The name of a status code: "IN_SYNC", "UNAVAILABLE", ...
inline const char* StatusName(matih_status s) { return matih_status_name(s); }

// What one call answered, after the runner's normalisation.
struct Answer {
  matih_status status = MATIH_STATUS_INTERNAL;
  std::string message;                        // the diff (DRIFTED) or the error; else empty
  std::map<std::string, std::string> outputs;  // set during the call; empty unless it succeeded

  bool ok() const { return status == MATIH_STATUS_OK; }
  bool in_sync() const { return status == MATIH_STATUS_IN_SYNC; }
  bool drifted() const { return status == MATIH_STATUS_DRIFTED; }
  bool absent() const { return status == MATIH_STATUS_ABSENT; }
  bool is_error() const { return status >= MATIH_STATUS_UNAVAILABLE; }
  // The runner retries these with backoff.
  bool transient() const {
    return status == MATIH_STATUS_UNAVAILABLE || status == MATIH_STATUS_ABORTED ||
           status == MATIH_STATUS_DEADLINE_EXCEEDED;
  }
  const char* name() const { return StatusName(status); }
  // "DRIFTED: file holds another greeting", for assertion messages.
  std::string describe() const { return message.empty() ? name() : std::string(name()) + ": " + message; }
};

// One captured log line.
struct LogLine {
  matih_log_level level = MATIH_LOG_INFO;
  std::string kind;  // the step kind that logged it
  std::string text;  // secret values replaced by "[redacted]"
};

class Host {
 public:
  // A host for the plugin whose entry point is `init` (linked into the test). Throws
  // std::runtime_error naming the problem when the plugin refuses or returns a bad table.
  explicit Host(matih_step_plugin_init_fn init) { Attach(init, "the linked plugin"); }

#ifdef MATIH_TESTING_HAS_DLOPEN
  // A host for the plugin in shared library `path`, loaded as the runner loads it (RTLD_NOW |
  // RTLD_LOCAL). The library stays loaded for the life of the process, as in the runner.
  static Host Load(const std::string& path) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      throw std::runtime_error("cannot load plugin " + path + ": " + (why ? why : "unknown error"));
    }
    void* symbol = ::dlsym(handle, MATIH_STEP_PLUGIN_INIT_SYMBOL);
    if (symbol == nullptr)
      throw std::runtime_error("plugin " + path + " does not export " MATIH_STEP_PLUGIN_INIT_SYMBOL);
    matih_step_plugin_init_fn init = nullptr;
    std::memcpy(&init, &symbol, sizeof init);
    return Host(init, path);
  }
#endif

  Host(Host&& other) noexcept = default;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // --- The plugin -----------------------------------------------------------------------------
  const matih_plugin& table() const { return *table_; }
  std::string plugin_name() const { return table_->name; }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < table_->kind_count; ++i) out.push_back(Kind(i).name);
    return out;
  }
  // The [targets] settings the plugin declared (ABI 1.2), by name.
  std::vector<std::string> declared_settings() const {
    std::vector<std::string> out;
    if (!Declares()) return out;
    for (size_t i = 0; i < table_->setting_count; ++i) {
      const auto* s = reinterpret_cast<const matih_setting*>(reinterpret_cast<const unsigned char*>(table_->settings) +
                                                             i * table_->setting_struct_size);
      out.push_back(s->name);
    }
    return out;
  }

  // --- What a call sees -----------------------------------------------------------------------
  // The tenant of the next calls. Switching tenants keeps each tenant's outputs and secrets.
  Host& tenant(std::string slug, std::string tier = "starter", std::string id = "") {
    tenant_slug_ = std::move(slug);
    tenant_tier_ = std::move(tier);
    tenant_id_ = id.empty() ? IdFor(tenant_slug_) : std::move(id);
    return *this;
  }
  Host& spec_json(std::string json) { spec_json_ = std::move(json); return *this; }
  Host& step(std::string name) { step_name_ = std::move(name); return *this; }
  Host& params(std::string json) { params_json_ = std::move(json); return *this; }
  Host& run_id(std::string id) { run_id_ = std::move(id); return *this; }
  Host& lease_epoch(int64_t epoch) { lease_epoch_ = epoch; return *this; }
  Host& setting(const std::string& key, std::string value) { settings_[key] = std::move(value); return *this; }
  Host& unset_setting(const std::string& key) { settings_.erase(key); return *this; }
  // An output of an earlier step (or of this step, as an earlier run recorded it).
  Host& output(const std::string& step_name, const std::string& key, std::string value) {
    outputs_[tenant_id_][step_name][key] = std::move(value);
    return *this;
  }
  // The outputs recorded for `step_name` (default: this step) of the current tenant.
  std::map<std::string, std::string> outputs(const std::string& step_name = "") const {
    auto t = outputs_.find(tenant_id_);
    if (t == outputs_.end()) return {};
    auto s = t->second.find(step_name.empty() ? step_name_ : step_name);
    return s == t->second.end() ? std::map<std::string, std::string>{} : s->second;
  }
  const std::string& tenant_id() const { return tenant_id_; }
  const std::string& slug() const { return tenant_slug_; }

  // --- Secrets of the current tenant --------------------------------------------------------
  // This plugin's secret `name` (in its own namespace), as the store holds it.
  std::optional<std::string> secret(const std::string& name) const { return Stored(tenant_id_, OwnName(name)); }
  Host& put_secret(const std::string& name, std::string value) {
    secrets_[tenant_id_][OwnName(name)] = std::move(value);
    return *this;
  }
  Host& erase_secret(const std::string& name) { secrets_[tenant_id_].erase(OwnName(name)); return *this; }
  // How many secrets the current tenant has, across all namespaces.
  size_t secret_count() const {
    auto t = secrets_.find(tenant_id_);
    return t == secrets_.end() ? 0 : t->second.size();
  }
  // A secret of another plugin `owner`, which shares names matching `pattern` ("x", "prefix*").
  Host& foreign_secret(const std::string& owner, const std::string& name, std::string value) {
    secrets_[tenant_id_][owner + "/" + name] = std::move(value);
    return *this;
  }
  Host& share(const std::string& owner, std::string pattern) {
    shared_[owner].push_back(std::move(pattern));
    return *this;
  }
  // Makes every secret-store call answer `status` (e.g. MATIH_STATUS_UNAVAILABLE: the database
  // is down); MATIH_STATUS_OK restores normal service.
  Host& fail_secret_store(matih_status status) { store_failure_ = status; return *this; }

  // --- Control --------------------------------------------------------------------------------
  // Asks running and later calls to stop (callback_is_cancelled answers 1). Thread-safe.
  void cancel(bool on = true) { cancelled_->store(on); }
  Host& deadline(std::chrono::system_clock::time_point when) { deadline_ = when; return *this; }
  Host& timeout(std::chrono::milliseconds from_now) { return deadline(std::chrono::system_clock::now() + from_now); }
  Host& no_deadline() { deadline_.reset(); return *this; }
  Host& dry_run(bool on = true) { dry_run_ = on; return *this; }
  // Lines below `level` are neither captured nor reported as enabled (default: everything).
  Host& log_level(matih_log_level level) { log_level_ = level; return *this; }

  // --- Captured log ---------------------------------------------------------------------------
  const std::vector<LogLine>& logs() const { return logs_; }
  bool logged(std::string_view fragment) const {
    for (const auto& l : logs_)
      if (l.text.find(fragment) != std::string::npos) return true;
    return false;
  }
  void clear_logs() { logs_.clear(); }

  // --- Calls ----------------------------------------------------------------------------------
  Answer observe(std::string_view kind) { return Invoke(kind, kObserve); }
  Answer apply(std::string_view kind) { return Invoke(kind, kApply); }
  Answer remove(std::string_view kind) { return Invoke(kind, kRemove); }
  // The kind's check of catalog params (ABI 1.1): OK, or an error with the reason.
  Answer validate_params(std::string_view kind, const std::string& params_json) {
    const matih_step_kind& k = FindKind(kind);
    Answer a;
    if (!MATIH_ABI_HAS_FIELD(&k, matih_step_kind, on_validate_params) || k.on_validate_params == nullptr) {
      a.status = MATIH_STATUS_OK;
      return a;
    }
    char error[1024] = {0};
    a.status = k.on_validate_params(k.kind_data, matih_str{params_json.data(), params_json.size()}, error, sizeof error);
    error[sizeof error - 1] = '\0';
    if (a.status != MATIH_STATUS_OK) a.message = error[0] ? error : "no reason given";
    if (a.status != MATIH_STATUS_OK && a.status < MATIH_STATUS_UNAVAILABLE) {
      a.message = "validate_params answered " + std::string(StatusName(a.status)) + ", which must be OK or an error";
      a.status = MATIH_STATUS_INTERNAL;
    }
    return a;
  }

 private:
  enum Op { kObserve, kApply, kRemove };
  static constexpr uint64_t kMagic = 0x6d61746968746573ULL;  // "matihtes"
  static constexpr size_t kMinRedacted = 4;                  // as the runner

  struct Call;
  // What the plugin's matih_step_context points at: standard layout, so the two pointers are
  // interconvertible; a foreign or stale context fails the magic check.
  struct Head {
    matih_step_context abi;
    uint64_t magic;
    Call* self;
  };
  // The state of one call.
  struct Call {
    Head head;
    Host* host;
    const matih_step_kind* kind;
    Answer* answer;
    std::deque<std::string> kept;     // [call] strings
    std::vector<std::string> secrets;  // values seen in this call, for redaction

    std::string Redact(std::string_view text) const {
      std::string out(text);
      for (const auto& s : secrets) {
        if (s.size() < kMinRedacted) continue;
        for (auto pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos)) {
          out.replace(pos, s.size(), "[redacted]");
          pos += 10;
        }
      }
      return out;
    }
    bool HoldsSecret(std::string_view text) const {
      for (const auto& s : secrets)
        if (s.size() >= kMinRedacted && text.find(s) != std::string_view::npos) return true;
      return false;
    }
    matih_str Keep(std::string_view v) {
      kept.emplace_back(v);
      return to_str(kept.back());
    }
  };

  Host(matih_step_plugin_init_fn init, const std::string& where) { Attach(init, where); }

  void Attach(matih_step_plugin_init_fn init, const std::string& where) {
    if (init == nullptr) throw std::runtime_error("no entry point given for " + where);
    table_ = init(MATIH_STEP_ABI_VERSION_MAJOR, MATIH_STEP_ABI_VERSION_MINOR, Api());
    if (table_ == nullptr) throw std::runtime_error(where + " returned no table from matih_step_plugin_init");
    if (!MATIH_ABI_HAS_FIELD(table_, matih_plugin, kind_struct_size))
      throw std::runtime_error(where + " returned a table too small for step ABI 1.0");
    if (table_->abi_major != MATIH_STEP_ABI_VERSION_MAJOR)
      throw std::runtime_error(where + " was built for step ABI " + std::to_string(table_->abi_major) + "." +
                               std::to_string(table_->abi_minor) + "; this SDK speaks " +
                               std::to_string(MATIH_STEP_ABI_VERSION_MAJOR) + ".x");
    if (table_->name == nullptr || *table_->name == '\0') throw std::runtime_error(where + " has no name");
    for (size_t i = 0; i < table_->kind_count; ++i) {
      const matih_step_kind& k = Kind(i);
      if (k.name == nullptr || !k.on_observe || !k.on_apply || !k.on_remove)
        throw std::runtime_error(where + ": step kind #" + std::to_string(i) +
                                 " lacks a name, on_observe, on_apply or on_remove");
    }
    if (Declares()) {
      namespace_ = table_->name;
      for (size_t i = 0; i < table_->shared_secret_count; ++i) shared_[namespace_].push_back(table_->shared_secrets[i]);
      for (size_t i = 0; i < table_->setting_count; ++i) {
        const auto* s = reinterpret_cast<const matih_setting*>(reinterpret_cast<const unsigned char*>(table_->settings) +
                                                               i * table_->setting_struct_size);
        if (s->flags & MATIH_SETTING_SECRET) secret_settings_.push_back(s->name);
      }
    }
  }

  bool Declares() const { return table_->abi_minor >= 2 && MATIH_ABI_HAS_FIELD(table_, matih_plugin, shared_secrets); }

  const matih_step_kind& Kind(size_t i) const {
    return *reinterpret_cast<const matih_step_kind*>(reinterpret_cast<const unsigned char*>(table_->kinds) +
                                                     i * table_->kind_struct_size);
  }
  const matih_step_kind& FindKind(std::string_view name) const {
    for (size_t i = 0; i < table_->kind_count; ++i)
      if (name == Kind(i).name) return Kind(i);
    std::string known;
    for (const auto& k : kinds()) known += (known.empty() ? "" : ", ") + k;
    throw std::runtime_error("plugin " + std::string(table_->name) + " has no step kind '" + std::string(name) +
                             "' (it has: " + known + ")");
  }

  std::string OwnName(const std::string& name) const { return namespace_.empty() ? name : namespace_ + "/" + name; }
  static std::string IdFor(const std::string& slug) {
    // A stable UUID-shaped id per slug, so two tenants never share one.
    uint64_t h = 1469598103934665603ULL;
    for (char c : slug) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", static_cast<unsigned>(h >> 32),
                  static_cast<unsigned>((h >> 16) & 0xffff), static_cast<unsigned>(h & 0xfff),
                  static_cast<unsigned>((h >> 12) & 0xfff), static_cast<unsigned long long>(h & 0xffffffffffffULL));
    return buf;
  }
  std::optional<std::string> Stored(const std::string& tenant, const std::string& stored) const {
    auto t = secrets_.find(tenant);
    if (t == secrets_.end()) return std::nullopt;
    auto s = t->second.find(stored);
    if (s == t->second.end()) return std::nullopt;
    return s->second;
  }
  bool Shares(const std::string& owner, std::string_view name) const {
    auto it = shared_.find(owner);
    if (it == shared_.end()) return false;
    for (const auto& p : it->second) {
      if (!p.empty() && p.back() == '*') {
        if (name.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
      } else if (name == p) {
        return true;
      }
    }
    return false;
  }

  Answer Invoke(std::string_view kind_name, Op op) {
    const matih_step_kind& kind = FindKind(kind_name);
    static const char* const kOpNames[] = {"observe", "apply", "remove"};
    Answer answer;
    if (dry_run_ && op != kObserve) {
      answer.status = MATIH_STATUS_FAILED_PRECONDITION;
      answer.message = std::string(kind.name) + ": " + kOpNames[op] + " refused in a dry run";
      return answer;
    }
    Call call{};
    call.head.abi.struct_size = sizeof(matih_step_context);
    call.head.abi.host = Api();
    call.head.abi.lease_epoch = lease_epoch_;
    call.head.magic = kMagic;
    call.head.self = &call;
    call.host = this;
    call.kind = &kind;
    call.answer = &answer;
    auto fn = op == kObserve ? kind.on_observe : op == kApply ? kind.on_apply : kind.on_remove;
    matih_status raw = MATIH_STATUS_INTERNAL;
    try {
      raw = fn(kind.kind_data, &call.head.abi);
    } catch (...) {
      answer.message = std::string(kind.name) + " let an exception escape from " + kOpNames[op];
      raw = MATIH_STATUS_INTERNAL;
    }
    call.head.magic = 0;
    const bool error = raw >= MATIH_STATUS_UNAVAILABLE && raw <= MATIH_STATUS_UNIMPLEMENTED;
    const bool fits = op == kObserve ? (raw == MATIH_STATUS_IN_SYNC || raw == MATIH_STATUS_DRIFTED ||
                                        raw == MATIH_STATUS_ABSENT)
                                     : raw == MATIH_STATUS_OK;
    if (error) {
      answer.status = raw;
      if (answer.message.empty())
        answer.message = std::string(kind.name) + " failed in " + kOpNames[op] + " with " + StatusName(raw) + " and no message";
    } else if (fits) {
      answer.status = raw;
      if (raw != MATIH_STATUS_DRIFTED) answer.message.clear();
      else if (answer.message.empty()) answer.message = std::string(kind.name) + " found drift but gave no diff";
    } else {
      answer.message = std::string(kind.name) + " answered " + StatusName(raw) + " (" + std::to_string(raw) +
                       ") from " + kOpNames[op] + ", which must answer " +
                       (op == kObserve ? "IN_SYNC, DRIFTED, ABSENT" : "OK") + " or an error";
      answer.status = MATIH_STATUS_INTERNAL;
    }
    answer.message = call.Redact(answer.message);
    if (answer.is_error()) {
      answer.outputs.clear();
      return answer;
    }
    // Record as the runner does: observe and apply add outputs, remove clears the step's.
    auto& recorded = outputs_[tenant_id_][step_name_];
    if (op == kRemove) {
      outputs_[tenant_id_].erase(step_name_);
    } else {
      for (const auto& [k, v] : answer.outputs) recorded[k] = v;
    }
    return answer;
  }

  // --- The host services table ------------------------------------------------------------------
  static Call* From(matih_step_context* ctx) {
    if (ctx == nullptr || ctx->host != Api()) return nullptr;
    static_assert(std::is_standard_layout_v<Head>, "Head must start with matih_step_context");
    auto* head = reinterpret_cast<Head*>(ctx);
    return head->magic == kMagic ? head->self : nullptr;
  }
  static bool Valid(matih_str s) { return s.data != nullptr || s.size == 0; }

  static const matih_host_api* Api() {
    static const matih_host_api api = [] {
      matih_host_api a{};
      a.struct_size = sizeof(matih_host_api);
      a.abi_major = MATIH_STEP_ABI_VERSION_MAJOR;
      a.abi_minor = MATIH_STEP_ABI_VERSION_MINOR;
      a.callback_log = [](matih_step_context* ctx, matih_log_level level, matih_str message, const char* file,
                          int32_t line) {
        Call* c = From(ctx);
        if (c == nullptr || !Valid(message) || level < c->host->log_level_) return;
        std::string text = c->Redact(to_view(message));
        if (file != nullptr) text += " (" + std::string(file) + ":" + std::to_string(line) + ")";
        c->host->logs_.push_back(LogLine{level, c->kind->name, std::move(text)});
      };
      a.callback_log_enabled = [](matih_step_context* ctx, matih_log_level level) -> int32_t {
        Call* c = From(ctx);
        return c != nullptr && level >= c->host->log_level_ ? 1 : 0;
      };
      a.callback_tenant_id = [](matih_step_context* ctx) { return Field(ctx, &Host::tenant_id_); };
      a.callback_tenant_slug = [](matih_step_context* ctx) { return Field(ctx, &Host::tenant_slug_); };
      a.callback_tenant_tier = [](matih_step_context* ctx) { return Field(ctx, &Host::tenant_tier_); };
      a.callback_tenant_spec_json = [](matih_step_context* ctx) { return Field(ctx, &Host::spec_json_); };
      a.callback_step_name = [](matih_step_context* ctx) { return Field(ctx, &Host::step_name_); };
      a.callback_step_params_json = [](matih_step_context* ctx) { return Field(ctx, &Host::params_json_); };
      a.callback_run_id = [](matih_step_context* ctx) { return Field(ctx, &Host::run_id_); };
      a.callback_get_setting = [](matih_step_context* ctx, matih_str key, matih_str* value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (value == nullptr || !Valid(key)) return MATIH_STATUS_INVALID_ARGUMENT;
        auto it = c->host->settings_.find(std::string(to_view(key)));
        if (it == c->host->settings_.end()) return MATIH_STATUS_NOT_FOUND;
        for (const auto& s : c->host->secret_settings_)
          if (s == it->first) c->secrets.push_back(it->second);
        *value = c->Keep(it->second);
        return MATIH_STATUS_OK;
      };
      a.callback_get_output = [](matih_step_context* ctx, matih_str step, matih_str key,
                                 matih_str* value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (value == nullptr || !Valid(step) || !Valid(key)) return MATIH_STATUS_INVALID_ARGUMENT;
        const std::string s(to_view(step)), k(to_view(key));
        if (s == c->host->step_name_) {
          auto it = c->answer->outputs.find(k);
          if (it != c->answer->outputs.end()) {
            *value = c->Keep(it->second);
            return MATIH_STATUS_OK;
          }
        }
        auto t = c->host->outputs_.find(c->host->tenant_id_);
        if (t == c->host->outputs_.end()) return MATIH_STATUS_NOT_FOUND;
        auto st = t->second.find(s);
        if (st == t->second.end()) return MATIH_STATUS_NOT_FOUND;
        auto it = st->second.find(k);
        if (it == st->second.end()) return MATIH_STATUS_NOT_FOUND;
        *value = c->Keep(it->second);
        return MATIH_STATUS_OK;
      };
      a.callback_set_output = [](matih_step_context* ctx, matih_str key, matih_str value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (!Valid(key) || !Valid(value) || key.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
        if (c->HoldsSecret(to_view(value))) {
          c->host->logs_.push_back(LogLine{MATIH_LOG_WARN, c->kind->name,
                                           "refused output '" + std::string(to_view(key)) +
                                               "': its value contains a secret"});
          return MATIH_STATUS_PERMISSION_DENIED;
        }
        c->answer->outputs[std::string(to_view(key))] = std::string(to_view(value));
        return MATIH_STATUS_OK;
      };
      a.callback_put_secret = [](matih_step_context* ctx, matih_str name, matih_str value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (!Valid(name) || !Valid(value) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
        c->secrets.emplace_back(to_view(value));
        Host& h = *c->host;
        if (h.dry_run_) return MATIH_STATUS_FAILED_PRECONDITION;
        if (h.store_failure_ != MATIH_STATUS_OK) return h.store_failure_;
        h.secrets_[h.tenant_id_][h.OwnName(std::string(to_view(name)))] = std::string(to_view(value));
        return MATIH_STATUS_OK;
      };
      a.callback_get_secret = [](matih_step_context* ctx, matih_str name, matih_str* value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (value == nullptr || !Valid(name) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
        return Read(*c, c->host->OwnName(std::string(to_view(name))), value);
      };
      a.callback_deadline_unix_ms = [](matih_step_context* ctx) -> int64_t {
        Call* c = From(ctx);
        using namespace std::chrono;
        const auto when = c && c->host->deadline_ ? *c->host->deadline_ : system_clock::time_point::max();
        return duration_cast<milliseconds>(when.time_since_epoch()).count();
      };
      a.callback_is_cancelled = [](matih_step_context* ctx) -> int32_t {
        Call* c = From(ctx);
        return c == nullptr || c->host->cancelled_->load() ? 1 : 0;
      };
      a.callback_is_dry_run = [](matih_step_context* ctx) -> int32_t {
        Call* c = From(ctx);
        return c == nullptr || c->host->dry_run_ ? 1 : 0;
      };
      a.callback_set_message = [](matih_step_context* ctx, matih_str message) {
        Call* c = From(ctx);
        if (c != nullptr && Valid(message)) c->answer->message = c->Redact(to_view(message));
      };
      a.callback_get_extension = [](const char*, uint32_t) -> const void* { return nullptr; };
      a.callback_delete_secret = [](matih_step_context* ctx, matih_str name) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (!Valid(name) || name.size == 0) return MATIH_STATUS_INVALID_ARGUMENT;
        Host& h = *c->host;
        if (h.dry_run_) return MATIH_STATUS_FAILED_PRECONDITION;
        if (h.store_failure_ != MATIH_STATUS_OK) return h.store_failure_;
        h.secrets_[h.tenant_id_].erase(h.OwnName(std::string(to_view(name))));
        return MATIH_STATUS_OK;
      };
      a.callback_get_shared_secret = [](matih_step_context* ctx, matih_str owner, matih_str name,
                                        matih_str* value) -> matih_status {
        Call* c = From(ctx);
        if (c == nullptr) return MATIH_STATUS_FAILED_PRECONDITION;
        if (value == nullptr || !Valid(owner) || !Valid(name) || owner.size == 0 || name.size == 0)
          return MATIH_STATUS_INVALID_ARGUMENT;
        const std::string o(to_view(owner));
        if (!c->host->Shares(o, to_view(name))) {
          c->host->logs_.push_back(LogLine{MATIH_LOG_WARN, c->kind->name,
                                           "plugin " + o + " does not share secret '" + std::string(to_view(name)) + "'"});
          return MATIH_STATUS_PERMISSION_DENIED;
        }
        return Read(*c, o + "/" + std::string(to_view(name)), value);
      };
      return a;
    }();
    return &api;
  }

  static matih_str Field(matih_step_context* ctx, std::string Host::*field) {
    Call* c = From(ctx);
    return c == nullptr ? matih_str{"", 0} : to_str(c->host->*field);
  }
  static matih_status Read(Call& c, const std::string& stored, matih_str* value) {
    Host& h = *c.host;
    if (h.store_failure_ != MATIH_STATUS_OK) return h.store_failure_;
    auto v = h.Stored(h.tenant_id_, stored);
    if (!v) return MATIH_STATUS_NOT_FOUND;
    c.secrets.push_back(*v);
    *value = c.Keep(*v);
    return MATIH_STATUS_OK;
  }

  const matih_plugin* table_ = nullptr;
  std::string namespace_;  // "" for plugins older than ABI 1.2 (the legacy namespace)
  std::vector<std::string> secret_settings_;
  std::string tenant_id_ = IdFor("acme");
  std::string tenant_slug_ = "acme";
  std::string tenant_tier_ = "starter";
  std::string spec_json_ = "{}";
  std::string step_name_ = "test-step";
  std::string params_json_ = "{}";
  std::string run_id_ = "test-run";
  int64_t lease_epoch_ = 0;
  std::map<std::string, std::string> settings_;
  // tenant id -> step name -> key -> value
  std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> outputs_;
  // tenant id -> stored name ("<plugin>/<name>", or "<name>" in the legacy namespace) -> value
  std::map<std::string, std::map<std::string, std::string>> secrets_;
  std::map<std::string, std::vector<std::string>> shared_;  // owner plugin -> shared patterns
  matih_status store_failure_ = MATIH_STATUS_OK;
  std::unique_ptr<std::atomic<bool>> cancelled_ = std::make_unique<std::atomic<bool>>(false);
  std::optional<std::chrono::system_clock::time_point> deadline_;
  bool dry_run_ = false;
  matih_log_level log_level_ = MATIH_LOG_TRACE;
  std::vector<LogLine> logs_;
};

}  // namespace matih::testing

#endif  // MATIH_TESTING_HPP_
