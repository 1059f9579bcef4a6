#include "steps/step_harness.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "secrets/secret_key.h"
#include "secrets/sodium_secret_store.h"
#include "store/database.h"
#include "store/migrator.h"
#include "telemetry/logger.h"

namespace matih::testing {
namespace {

std::string RandomHex(size_t n) {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back("0123456789abcdef"[rng() % 16]);
  return out;
}

std::string NewUuid() {
  std::string h = RandomHex(32);
  h[12] = '4';
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20);
}

}  // namespace

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  std::string out;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  int status = ::pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const runner::StepKindRegistry& StepHarness::Kinds() {
  static std::unique_ptr<runner::PluginHost> host = [] {
    runner::Logger::Configure(runner::LogFormat::kText, spdlog::level::debug);
    runner::PluginHostOptions options;
    options.plugin_dirs = {MATIH_PLUGIN_DIR};
    auto loaded = runner::PluginHost::Load(options);
    if (!loaded.ok()) {
      ADD_FAILURE() << "cannot load plugins from " << MATIH_PLUGIN_DIR << ": " << loaded.status().ToString();
      return std::unique_ptr<runner::PluginHost>();
    }
    return std::move(loaded).value();
  }();
  if (!host) throw std::runtime_error("plugins not loaded");
  return *host;
}

const runner::StepCatalog& StepHarness::Catalog() {
  static runner::StepCatalog catalog = [] {
    auto loaded = runner::StepCatalog::LoadFile(std::string(MATIH_SOURCE_DIR) + "/config/catalog.yaml");
    if (!loaded.ok()) throw std::runtime_error("config/catalog.yaml: " + loaded.status().ToString());
    return std::move(loaded).value();
  }();
  return catalog;
}

StepHarness::StepHarness() {
  database_ = TestDatabase::Create();
  // The real secret store needs its table: apply the runner's migrations to the test database.
  runner::Database db(database_->url());
  auto migrated = runner::Migrator(db).Migrate();
  if (!migrated.ok()) throw std::runtime_error("migrations: " + migrated.status().ToString());
  auto key = runner::SecretKey::FromHex(RandomHex(64), "test");
  if (!key.ok()) throw std::runtime_error("secret key: " + key.status().ToString());
  secrets_ = std::make_unique<runner::SodiumSecretStore>(database_->url(), std::move(key).value());

  temp_dir_ = std::filesystem::temp_directory_path() / ("matih-steps-" + RandomHex(12));
  std::filesystem::create_directories(temp_dir_);
  const auto hash_key = temp_dir_ / "controlplane-hash.key";
  std::ofstream(hash_key) << RandomHex(64) << "\n";
  std::filesystem::permissions(hash_key,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  const std::string src = MATIH_SOURCE_DIR;
  settings_ = {
      {"tenant.regions", "eu-west,us-east"},
      {"tenant.reserved_slugs", "forbidden-name"},
      {"tenant.service_catalog", src + "/config/service-catalog.yaml"},
      {"controlplane.database_url", database_->url()},
      {"controlplane.hash_key_file", hash_key.string()},
      {"templates.dir", src + "/config/templates"},
      {"kubernetes.delivery", "gitops"},
      {"gitops.repository", (temp_dir_ / "gitops").string()},
      {"gitops.branch", "main"},
  };
}

StepHarness::~StepHarness() {
  std::error_code ec;
  std::filesystem::remove_all(temp_dir_, ec);
}

TestTenant StepHarness::MakeTenant(const std::string& tier, const std::string& prefix) {
  TestTenant t;
  t.view.id = NewUuid();
  t.view.slug = prefix + "-" + RandomHex(6);
  t.view.tier = tier;
  t.view.region = "eu-west";
  nlohmann::json spec = {{"display_name", "Acme Analytics"},
                         {"admin_email", "admin@" + t.view.slug + ".example.com"},
                         {"region", "eu-west"},
                         {"services", {"query-engine", "bi-service"}}};
  if (tier == "enterprise")
    spec["quotas"] = {{"cpu_requests", "64"},     {"cpu_limits", "128"}, {"memory_requests", "256Gi"},
                      {"memory_limits", "512Gi"}, {"pvcs", 200},         {"services", 400}};
  t.view.spec_json = spec.dump();
  return t;
}

const runner::CatalogStep& StepHarness::Step(const std::string& step) const {
  const auto* s = Catalog().FindByName(step);
  if (!s) throw std::runtime_error("no step " + step + " in config/catalog.yaml");
  return *s;
}

const runner::StepKind& StepHarness::KindOf(const std::string& step) const {
  const auto* kind = Kinds().Find(Step(step).kind);
  if (!kind) throw std::runtime_error("kind " + Step(step).kind + " of step " + step + " is not loaded");
  return *kind;
}

void StepHarness::SetParams(const std::string& step, const std::string& params_json) {
  params_override_[step] = params_json;
}

runner::StepCall StepHarness::CallFor(const std::string& step, const TestTenant& tenant) const {
  runner::StepCall call;
  call.tenant = tenant.view;
  call.step_number = Step(step).number;
  call.step_name = step;
  auto it = params_override_.find(step);
  call.params_json = it != params_override_.end() ? it->second : Step(step).params_json;
  call.run_id = "test-run-" + std::to_string(run_counter_++);
  call.deadline = std::chrono::system_clock::now() + std::chrono::seconds(60);
  call.outputs = &tenant.outputs;
  call.secrets = secrets_.get();
  call.settings = &settings_;
  return call;
}

runner::StepAnswer StepHarness::Observe(const std::string& step, TestTenant& tenant) {
  return KindOf(step).Observe(CallFor(step, tenant));
}

runner::StepAnswer StepHarness::Apply(const std::string& step, TestTenant& tenant) {
  auto answer = KindOf(step).Apply(CallFor(step, tenant));
  if (answer.status == MATIH_STATUS_OK) {
    std::lock_guard<std::mutex> lock(outputs_mu_);
    for (const auto& [k, v] : answer.outputs) tenant.outputs[step][k] = v;
  }
  return answer;
}

runner::StepAnswer StepHarness::Remove(const std::string& step, TestTenant& tenant) {
  auto answer = KindOf(step).Remove(CallFor(step, tenant));
  if (answer.status == MATIH_STATUS_OK) {
    std::lock_guard<std::mutex> lock(outputs_mu_);
    tenant.outputs.erase(step);
  }
  return answer;
}

}  // namespace matih::testing
