// CliTest: a fixture for tests that drive the real matih-provisioner binary end to end.
//
// Each test gets its own throwaway database, a temporary folder holding a small step catalog of
// test.file steps (the test plugin), a 0600 secret-store key, a state folder for the plugin's
// files, and a config file tying them together. Cli() runs the binary with that config and an
// otherwise empty environment; Raw() runs it with nothing but what the test passes.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "support/test_database.h"

namespace matih::testing {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Fixtures whose tests never reach a database skip creating one (it is the slow part).
  virtual bool NeedsDatabase() const { return true; }

  // For suites whose tests leave the database as they found it (or do not care): call from
  // SetUp instead of CliTest::SetUp. The first test of the suite makes the folder and database
  // and runs `seed`; later tests reuse them, and with `check_unchanged` first assert that the
  // database still matches the seed, so a test that changed it is caught by its own check and
  // the next one fails loudly instead of passing on bad ground. Creating a database is most of
  // a test's time. (ctest runs each test in its own process, which then seeds its own.)
  void ShareSeed(const std::function<void()>& seed, bool check_unchanged);
  // Releases the shared seed; fixtures that use ShareSeed get this from CliTest.
  static void TearDownTestSuite();

  // The catalog: 4 steps of kind test.file in phases 0, 1, 7 (dedicated tiers only) and 8.
  // `params` replaces a step's params (a YAML flow mapping), by step number.
  std::string WriteCatalog(const std::map<int, std::string>& params = {},
                           const std::string& name = "catalog.yaml");
  // The config file: [database] url (when there is a database), [plugins] dir, [catalog] file, [secrets]
  // key_file, [targets] test.state_dir, then `extra` lines appended verbatim.
  std::string WriteConfig(const std::string& extra = "", const std::string& name = "runner.conf");
  std::string WriteFile(const std::string& name, const std::string& content);
  // The catalog of one step, the real step 1 (validate-request of plugins/validation) for every
  // tier, and a config using it (the built plugins, the service catalog): into catalog_ and config_.
  void UseRealStep1Only();

  CliResult Cli(const std::vector<std::string>& args, const CliEnv& env = {}) const;
  CliResult Raw(const std::vector<std::string>& args, const CliEnv& env = {}) const;

  // migrate; tenants add; run. Each asserts success (call through ASSERT_NO_FATAL_FAILURE).
  void Migrate();
  void AddTenant(const std::string& slug, const std::string& tier = "free");
  void AddActiveTenant(const std::string& slug, const std::string& tier = "free");

  // One value from a query on the test database ("" for NULL).
  std::string Query(const std::string& sql) const;
  std::string TenantStatus(const std::string& slug) const;
  // Every row of the runner's tables (tenants, steps, audit trail, runs, secrets), as text.
  std::string Snapshot() const;

  std::shared_ptr<TestDatabase> db_;  // shared only by fixtures that share one seeded database
  CliRunner cli_{MATIH_PROVISIONER_BIN};
  std::string dir_;        // the test's temporary folder
  std::string catalog_;    // its catalog file
  std::string config_;     // its config file
  std::string key_file_;   // its secret-store key
  std::string state_dir_;  // where test.file keeps its targets
  bool owns_dir_ = true;   // false when the folder is shared by a whole suite
};

// A TCP port on 127.0.0.1 that refuses connections for as long as the object lives (bound,
// never listening), so "database unreachable" tests never race another process for it.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace matih::testing
