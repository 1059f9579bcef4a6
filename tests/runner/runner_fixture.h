// RunnerFixture: a migrated throwaway database, the test plugin loaded through the real plugin
// host, the real secret store, and a small catalog of test.file steps whose params each test
// chooses. Tests drive the real engine (BatchRun, Orchestrator) and read the real tables.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/batch_run.h"
#include "engine/step_catalog.h"
#include "plugin_host/plugin_host.h"
#include "secrets/secret_store.h"
#include "store/database.h"
#include "store/tenant_store.h"
#include "support/test_database.h"
#include "telemetry/metrics.h"

namespace matih::testing {

using namespace matih::runner;

class RunnerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Catalog: steps 1 alpha, 2 beta (phase 0), 3 gamma, 4 delta (phase 1) for every tier, and
  // 5 cluster (phase 2) for professional only; flows free [0,1], professional [0,2,1].
  // `params` overrides a step's params by name, as a YAML flow mapping ("{fail: permanent}").
  void UseCatalog(const std::map<std::string, std::string>& params = {}, const std::string& retry = "");
  TenantRecord Add(const std::string& slug, const std::string& tier = "free",
                   const std::string& spec_json = "{}");
  Result<RunSummary> Run(RunOptions options = {});
  RunSummary RunOk(RunOptions options = {});

  TenantRecord Tenant(const std::string& slug);
  std::map<std::string, StepRecord> Steps(const std::string& slug);  // by step name
  std::vector<AuditRow> Audit(const std::string& slug);
  int CountEvents(const std::string& slug, const std::string& event);
  std::vector<std::string> Journal(const std::string& slug);
  int Calls(const std::string& slug, const std::string& step, const std::string& op);
  std::filesystem::path Target(const std::string& slug, const std::string& step) {
    return state_dir_ / slug / step;
  }
  void Sql(const std::string& sql) { db_->Exec(sql); }
  // A fingerprint of every row the runner owns, to show that something changed nothing.
  std::string Snapshot();

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Database> database_;
  std::unique_ptr<PluginHost> plugins_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<StepCatalog> catalog_;
  Metrics metrics_;
  EngineOptions engine_;
  std::filesystem::path state_dir_;
};

}  // namespace matih::testing
