// Host services: the matih_host_api table the runner hands to every plugin, and HostCall, the
// state of one step call that sits behind the matih_step_context a plugin receives.
//
// A plugin sees only the public head of the context (struct_size, host); the callbacks find the
// HostCall through a host-private tail checked by a magic number, so a foreign or stale pointer
// is refused instead of followed. Strings the callbacks return are [call] strings: they point
// into the StepCall or into storage owned by the HostCall, which lives until the on_* function
// returns. Secret values read or stored during the call are kept only to be redacted from log
// lines and messages, and are wiped (sodium_memzero) when the call ends.
//
// Thread safety: the table is immutable and shared; a HostCall belongs to the one thread that
// runs its call (the ABI allows callbacks only from that thread, during the call).
#pragma once

#include <matih/step_abi.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/step_kind.h"

namespace matih::runner {

// The host services table (ABI 1.2), [static] for the process's lifetime.
const matih_host_api* HostServicesTable();

// Secrets that plugins share with others: owner plugin name -> name patterns (a trailing '*'
// matches a prefix). Filled while plugins load, immutable afterwards.
class SharedSecrets {
 public:
  void Share(const std::string& owner, std::string pattern) {
    patterns_[owner].push_back(std::move(pattern));
  }
  bool Allows(const std::string& owner, std::string_view name) const;

 private:
  std::map<std::string, std::vector<std::string>> patterns_;
};

// What the calls of one plugin may reach beyond the StepCall: its secret namespace ("" is the
// legacy namespace shared by 1.0 and 1.1 plugins), the settings it declared as credentials (their
// values are redacted like secrets), and the secrets other plugins share. `shared` may be null
// (nothing is shared); it must outlive every call.
struct PluginScope {
  std::string secret_namespace;
  std::set<std::string, std::less<>> secret_settings;
  const SharedSecrets* shared = nullptr;
};

// What the callbacks write to, and what a plugin's [call] strings point into, for one call.
class HostCall {
 public:
  // `kind` names the step kind in log lines. `call`, `answer` and `scope` must outlive this
  // object; a null `scope` is a plugin without a namespace (legacy) that nobody shares with.
  HostCall(const StepCall& call, StepAnswer& answer, std::string_view kind,
           const PluginScope* scope = nullptr);
  ~HostCall();
  HostCall(const HostCall&) = delete;
  HostCall& operator=(const HostCall&) = delete;

  // The context to pass to the plugin's on_* function.
  matih_step_context* context() { return &context_.abi; }
  // The HostCall behind a context, or nullptr when `ctx` did not come from a HostCall.
  static HostCall* From(matih_step_context* ctx);

  const StepCall& call() const { return call_; }
  StepAnswer& answer() { return answer_; }
  const std::string& kind() const { return kind_; }
  const PluginScope& scope() const { return *scope_; }
  // The name under which the store keeps this plugin's secret `name`.
  std::string StoredSecretName(std::string_view name) const;

  // Keeps a copy alive until the call ends and returns it as a [call] string.
  matih_str Keep(std::string_view value);
  // Same, for a secret value: also remembered for Redact and wiped when the call ends.
  matih_str KeepSecret(std::string_view value);
  // Remembers a secret value the plugin stored, so it is redacted like one it read.
  void RememberSecret(std::string_view value);
  // `text` with every secret value seen during this call replaced by "[redacted]".
  std::string Redact(std::string_view text) const;
  // True when `text` holds a secret value seen during this call.
  bool ContainsSecret(std::string_view text) const;

 private:
  // Standard layout, so a matih_step_context* and a Context* are interconvertible.
  struct Context {
    matih_step_context abi;
    std::uint64_t magic;
    HostCall* self;
  };

  Context context_;
  const StepCall& call_;
  StepAnswer& answer_;
  std::string kind_;
  const PluginScope* scope_;
  std::deque<std::string> kept_;     // [call] strings; a deque never moves its elements
  std::deque<std::string> secrets_;  // wiped in the destructor
};

}  // namespace matih::runner
