// StepHarness: runs the built-in step kinds of steps 1-13 the way the runner does, for tests.
//
// Loads the built plugins from MATIH_PLUGIN_DIR with the real PluginHost (once per process),
// reads each step's kind and params from config/catalog.yaml with the real StepCatalog, and gives
// every test a fresh throwaway PostgreSQL database holding the control-plane schema and the real
// encrypted secret store (SodiumSecretStore), plus a temporary folder for git repositories and
// key files. A TestTenant carries the outputs of its steps between calls, as the runner does.
//
// One harness per test; calls for different tenants may run on different threads at once.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/step_catalog.h"
#include "model/step_kind.h"
#include "plugin_host/plugin_host.h"
#include "secrets/secret_store.h"
#include "support/test_database.h"

namespace matih::testing {

struct TestTenant {
  runner::TenantView view;
  runner::TenantOutputs outputs;  // by step name, updated after every successful apply
};

class StepHarness {
 public:
  StepHarness();
  ~StepHarness();

  // A valid tenant of `tier` with a random id, slug "<prefix>-<random>", region eu-west.
  static TestTenant MakeTenant(const std::string& tier, const std::string& prefix = "acme");

  runner::StepAnswer Observe(const std::string& step, TestTenant& tenant);
  // Records the outputs in `tenant` when the apply succeeded.
  runner::StepAnswer Apply(const std::string& step, TestTenant& tenant);
  runner::StepAnswer Remove(const std::string& step, TestTenant& tenant);

  const runner::StepKind& KindOf(const std::string& step) const;
  const runner::CatalogStep& Step(const std::string& step) const;
  // Overrides the catalog params of `step` (JSON object) for this harness.
  void SetParams(const std::string& step, const std::string& params_json);

  std::map<std::string, std::string>& settings() { return settings_; }
  TestDatabase& database() { return *database_; }
  runner::SecretStore& secrets() { return *secrets_; }
  const std::filesystem::path& temp_dir() const { return temp_dir_; }
  // A new (empty) path under temp_dir().
  std::filesystem::path TempPath(const std::string& name) const { return temp_dir_ / name; }

  static const runner::StepKindRegistry& Kinds();
  static const runner::StepCatalog& Catalog();

 private:
  runner::StepCall CallFor(const std::string& step, const TestTenant& tenant) const;

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<runner::SecretStore> secrets_;
  std::filesystem::path temp_dir_;
  std::map<std::string, std::string> settings_;
  std::map<std::string, std::string> params_override_;
  mutable std::mutex outputs_mu_;
  mutable std::atomic<int> run_counter_{0};
};

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace matih::testing
