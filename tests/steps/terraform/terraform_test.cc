// Steps 50-54 (plugins/terraform) with the real terraform binary, state in the stack's
// PostgreSQL (pg backend): plan, apply, a second apply writes nothing (same state serial), a
// hand-run terraform change is drift that apply repairs, destroy; the state lock never has two
// holders and a stale lower-epoch lock is taken over; a cancelled long terraform run ends its
// whole process group; an unreachable database is transient; a missing binary is named.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "steps/step_harness.h"

namespace matih::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool HaveTerraform() { return RunCommand("command -v terraform >/dev/null 2>&1") == 0; }

class Terraform : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveTerraform())
      GTEST_SKIP()
          << "the `terraform` binary is not on PATH (setting terraform.binary): steps 50-54 cannot run";
    url_ = harness_.database().url() +
           (harness_.database().url().find('?') == std::string::npos ? "?" : "&") + "sslmode=disable";
    auto& s = harness_.settings();
    s["terraform.database_url"] = url_;
    s["terraform.modules_dir"] = std::string(MATIH_SOURCE_DIR) + "/config/terraform/local";
    s["terraform.work_dir"] = harness_.TempPath("tf").string();
    s["terraform.local_root"] = harness_.TempPath("local").string();
    s["terraform.kill_grace_seconds"] = "2";
    tenant_ = StepHarness::MakeTenant("professional", "tf");
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
  }

  enum class Op { kObserve, kApply, kRemove };
  runner::StepAnswer Call(Op op, const std::string& step, TestTenant& tenant, int64_t epoch,
                          const std::atomic<bool>* cancel = nullptr,
                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
    runner::StepCall call;
    call.tenant = tenant.view;
    call.step_number = harness_.Step(step).number;
    call.step_name = step;
    call.params_json = params_.count(step) ? params_[step] : harness_.Step(step).params_json;
    call.run_id = "run-epoch-" + std::to_string(epoch);
    call.deadline = std::chrono::system_clock::now() + timeout;
    call.outputs = &tenant.outputs;
    call.secrets = &harness_.secrets();
    call.settings = &harness_.settings();
    call.lease_epoch = epoch;
    call.cancel = cancel;
    const auto& kind = harness_.KindOf(step);
    runner::StepAnswer answer = op == Op::kObserve ? kind.Observe(call)
                                : op == Op::kApply ? kind.Apply(call)
                                                   : kind.Remove(call);
    if (op == Op::kApply && answer.status == MATIH_STATUS_OK) {
      std::lock_guard<std::mutex> lock(outputs_mu_);
      for (const auto& [k, v] : answer.outputs) tenant.outputs[step][k] = v;
    }
    return answer;
  }
  runner::StepAnswer Apply(const std::string& step, int64_t epoch = 7) {
    return Call(Op::kApply, step, tenant_, epoch);
  }
  runner::StepAnswer Observe(const std::string& step, int64_t epoch = 7) {
    return Call(Op::kObserve, step, tenant_, epoch);
  }
  runner::StepAnswer Remove(const std::string& step, int64_t epoch = 7) {
    return Call(Op::kRemove, step, tenant_, epoch);
  }

  std::string Query1(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    auto rows = tx.exec(sql);
    if (rows.empty() || rows[0][0].is_null()) return "NULL";
    return rows[0][0].as<std::string>();
  }
  long long Serial(const std::string& schema = "matih_tfstate_dedicated") {
    if (Query1("SELECT to_regclass('" + schema + ".states')::text") == "NULL") return -1;
    const std::string data =
        Query1("SELECT data FROM " + schema + ".states WHERE name = 'tenant-" + tenant_.view.slug + "'");
    if (data == "NULL") return -1;
    return nlohmann::json::parse(data).value("serial", -1LL);
  }
  std::string Secret(const std::string& name) {
    auto value = harness_.secrets().Get(tenant_.view.id, "matih-terraform/" + name);
    return value.ok() ? value.value() : "";
  }
  std::string LockEpoch() {
    return Query1("SELECT lease_epoch::text FROM control_plane.terraform_state_locks WHERE tenant_id = '" +
                  tenant_.view.id + "'");
  }
  // Runs terraform by hand in the tenant's working folder of module `dedicated`.
  // `args` come after the step's -var-file, so a -var there wins over it.
  int HandTerraform(const std::string& command, const std::string& args, std::string* output) {
    const std::string work = harness_.settings()["terraform.work_dir"];
    const std::string tenant_dir = work + "/tenants/" + tenant_.view.slug + "/dedicated";
    const std::string cmd =
        "cd '" + std::string(MATIH_SOURCE_DIR) + "/config/terraform/local/dedicated/professional' && " +
        "env TF_CLI_CONFIG_FILE='" + work + "/terraformrc' TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 " +
        "TF_DATA_DIR='" + tenant_dir + "/.terraform' PG_CONN_STR='" + url_ +
        "' PG_SCHEMA_NAME=matih_tfstate_dedicated TF_VAR_cluster_token='" +
        Secret("terraform/dedicated/var/cluster_token") + "' terraform " + command +
        " -no-color -var-file='" + tenant_dir + "/matih.tfvars.json' " + args + " 2>&1";
    return RunCommand(cmd, output);
  }

  StepHarness harness_;
  TestTenant tenant_;
  std::string url_;
  std::map<std::string, std::string> params_;
  std::mutex outputs_mu_;
};

TEST_F(Terraform, PlanApplyIsIdempotentAndDestroyLeavesNothing) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe("terraform-apply").status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("acquire-terraform-state-lock").status) << "a free lock is at rest";
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock").status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("acquire-terraform-state-lock").status);
  auto plan = Apply("terraform-plan");
  ASSERT_EQ(MATIH_STATUS_OK, plan.status) << plan.message;
  EXPECT_EQ("3 to add, 0 to change, 0 to destroy", plan.outputs["plan_summary"]);
  auto drift = Observe("terraform-apply");
  EXPECT_EQ(MATIH_STATUS_DRIFTED, drift.status) << drift.message;

  auto apply = Apply("terraform-apply");
  ASSERT_EQ(MATIH_STATUS_OK, apply.status) << apply.message;
  EXPECT_EQ("aks-" + tenant_.view.slug, apply.outputs["cluster_name"]);
  EXPECT_EQ("eu-west", apply.outputs["cluster_region"]);
  EXPECT_EQ("secret:terraform/dedicated/output/kubeconfig", apply.outputs["kubeconfig"]);
  const std::string token = Secret("terraform/dedicated/var/cluster_token");
  ASSERT_EQ(40u, token.size());
  EXPECT_NE(std::string::npos, Secret("terraform/dedicated/output/kubeconfig").find(token));
  for (const auto& [k, v] : apply.outputs) EXPECT_EQ(std::string::npos, v.find(token)) << k;
  EXPECT_EQ(std::string::npos, apply.message.find(token));
  const fs::path cluster_dir = harness_.TempPath("local") / "clusters" / tenant_.view.slug;
  EXPECT_TRUE(fs::exists(cluster_dir / "cluster.yaml"));

  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("terraform-plan").status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("terraform-apply").status);
  const long long serial = Serial();
  ASSERT_GT(serial, 0);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-plan").status);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-apply").status);
  EXPECT_EQ(serial, Serial()) << "a second apply wrote a new state";

  // Another tenant sees nothing of this one.
  TestTenant other = StepHarness::MakeTenant("professional", "tf");
  EXPECT_EQ(MATIH_STATUS_ABSENT, Call(Op::kObserve, "terraform-apply", other, 7).status);

  ASSERT_EQ(MATIH_STATUS_OK, Remove("terraform-apply").status);
  EXPECT_EQ(-1, Serial());
  EXPECT_FALSE(fs::exists(cluster_dir));
  EXPECT_EQ("", Secret("terraform/dedicated/output/kubeconfig"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe("terraform-apply").status);
  EXPECT_EQ(MATIH_STATUS_OK, Remove("terraform-apply").status);
  EXPECT_EQ(MATIH_STATUS_OK, Remove("acquire-terraform-state-lock").status);
  EXPECT_EQ("NULL", LockEpoch());
}

TEST_F(Terraform, AiServicesAndClusterRegistrationReleaseTheLock) {
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock").status);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-plan").status);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-apply").status);
  auto ai = Apply("provision-ai-services");
  ASSERT_EQ(MATIH_STATUS_OK, ai.status) << ai.message;
  EXPECT_EQ("gpt-4o-mini", ai.outputs["ai_deployments"]);
  EXPECT_EQ(40u, Secret("terraform/ai-services/output/ai_api_key").size());
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("provision-ai-services").status);
  const long long ai_serial = Serial("matih_tfstate_ai_services");
  ASSERT_GT(ai_serial, 0);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("provision-ai-services").status);
  EXPECT_EQ(ai_serial, Serial("matih_tfstate_ai_services")) << "a second apply wrote a new state";

  EXPECT_EQ(MATIH_STATUS_ABSENT, Observe("register-dedicated-cluster").status);
  auto reg = Apply("register-dedicated-cluster");
  ASSERT_EQ(MATIH_STATUS_OK, reg.status) << reg.message;
  EXPECT_EQ("dedicated cluster aks-" + tenant_.view.slug + " (eu-west)", reg.outputs["placement"]);
  EXPECT_EQ("aks-" + tenant_.view.slug,
            Query1("SELECT cluster_name FROM control_plane.dedicated_clusters WHERE tenant_id = '" +
                   tenant_.view.id + "'"));
  EXPECT_EQ(Secret("terraform/dedicated/output/kubeconfig"), Secret("cluster/kubeconfig"));
  EXPECT_EQ("NULL", LockEpoch()) << "step 54 must release the state lock";
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("register-dedicated-cluster").status);
  const std::string row =
      "SELECT xmin::text FROM control_plane.dedicated_clusters WHERE tenant_id = '" + tenant_.view.id + "'";
  const std::string xmin = Query1(row);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("register-dedicated-cluster").status);
  EXPECT_EQ(xmin, Query1(row)) << "a second apply rewrote the registry row";

  // A hand change of the registry is drift. A claim fenced by a newer one changes nothing and
  // leaves the newer claim's lock alone; the newer claim repairs and releases.
  harness_.database().Exec("UPDATE control_plane.dedicated_clusters SET node_count = 99");
  auto drift = Observe("register-dedicated-cluster", 8);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, drift.status);
  EXPECT_NE(std::string::npos, drift.message.find("node_count"));
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock", 9).status);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe("acquire-terraform-state-lock", 8).status);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, Apply("register-dedicated-cluster", 8).status);
  EXPECT_EQ("99", Query1("SELECT node_count::text FROM control_plane.dedicated_clusters"));
  EXPECT_EQ("9", LockEpoch());
  ASSERT_EQ(MATIH_STATUS_OK, Apply("register-dedicated-cluster", 9).status);
  EXPECT_EQ("3", Query1("SELECT node_count::text FROM control_plane.dedicated_clusters"));
  EXPECT_EQ("NULL", LockEpoch());

  ASSERT_EQ(MATIH_STATUS_OK, Remove("register-dedicated-cluster").status);
  EXPECT_EQ("NULL", Query1("SELECT count(*) FILTER (WHERE true)::text FROM control_plane.dedicated_clusters "
                           "HAVING count(*) > 0"));
  EXPECT_EQ("", Secret("cluster/kubeconfig"));
  EXPECT_EQ(MATIH_STATUS_OK, Remove("register-dedicated-cluster").status);
  ASSERT_EQ(MATIH_STATUS_OK, Remove("provision-ai-services").status);
  EXPECT_EQ(-1, Serial("matih_tfstate_ai_services"));
  ASSERT_EQ(MATIH_STATUS_OK, Remove("terraform-apply").status);
}

TEST_F(Terraform, HandRunTerraformChangeIsDriftAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock").status);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-plan").status);
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-apply").status);
  std::string out;
  ASSERT_EQ(0, HandTerraform("apply -auto-approve -input=false", "-var region=hand-edited", &out)) << out;
  EXPECT_EQ("hand-edited", Query1("SELECT data::json->'outputs'->'cluster_region'->>'value' FROM "
                                  "matih_tfstate_dedicated.states WHERE name = 'tenant-" +
                                  tenant_.view.slug + "'"));

  auto drift = Observe("terraform-plan");
  ASSERT_EQ(MATIH_STATUS_DRIFTED, drift.status) << drift.message;
  EXPECT_NE(std::string::npos, drift.message.find("to change")) << drift.message;
  ASSERT_EQ(MATIH_STATUS_OK, Apply("terraform-plan").status);
  // Another hand change after the plan was saved: the saved plan is stale, step 52 plans again.
  ASSERT_EQ(0, HandTerraform("apply -auto-approve -input=false", "-var region=second-edit", &out)) << out;
  auto apply = Apply("terraform-apply");
  ASSERT_EQ(MATIH_STATUS_OK, apply.status) << apply.message;
  EXPECT_EQ("eu-west", apply.outputs["cluster_region"]);
  EXPECT_EQ("eu-west", Query1("SELECT data::json->'outputs'->'cluster_region'->>'value' FROM "
                              "matih_tfstate_dedicated.states WHERE name = 'tenant-" +
                              tenant_.view.slug + "'"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("terraform-apply").status);
  ASSERT_EQ(MATIH_STATUS_OK, Remove("terraform-apply").status);
}

TEST_F(Terraform, TwoConcurrentHoldersNeverBothGetTheLock) {
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> ok{0};
    std::vector<matih_status> statuses(2);
    std::thread a([&] { statuses[0] = Apply("acquire-terraform-state-lock", 10 + 2 * round).status; });
    std::thread b([&] { statuses[1] = Apply("acquire-terraform-state-lock", 11 + 2 * round).status; });
    a.join();
    b.join();
    for (auto s : statuses) ok += s == MATIH_STATUS_OK;
    EXPECT_EQ(1, ok.load()) << "round " << round << ": " << statuses[0] << " " << statuses[1];
    const std::string holder = LockEpoch();
    EXPECT_EQ(
        statuses[0] == MATIH_STATUS_OK ? std::to_string(10 + 2 * round) : std::to_string(11 + 2 * round),
        holder);
    ASSERT_EQ(MATIH_STATUS_OK, Remove("acquire-terraform-state-lock", 11 + 2 * round).status);
    EXPECT_EQ("NULL", LockEpoch());
  }
}

TEST_F(Terraform, StaleLowerEpochIsTakenOverAndHigherEpochWins) {
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock", 3).status);
  // Live lower epoch: busy (retry). Higher epoch held: this claim is stale.
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, Apply("acquire-terraform-state-lock", 4).status);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, Apply("acquire-terraform-state-lock", 2).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, Apply("terraform-plan", 4).status);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, Apply("terraform-plan", 2).status);
  EXPECT_EQ(-1, Serial()) << "a step without the lock changed the state";
  EXPECT_EQ("3", LockEpoch());

  harness_.database().Exec(
      "UPDATE control_plane.terraform_state_locks SET expires_at = now() - interval '1 second'");
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, Apply("acquire-terraform-state-lock", 2).status);
  auto taken = Apply("acquire-terraform-state-lock", 4);
  ASSERT_EQ(MATIH_STATUS_OK, taken.status) << taken.message;
  EXPECT_EQ("4", LockEpoch());
  EXPECT_EQ(MATIH_STATUS_DRIFTED, Observe("acquire-terraform-state-lock", 3).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, Observe("acquire-terraform-state-lock", 4).status);
  // The old holder's remove does not free the newer claim's lock.
  ASSERT_EQ(MATIH_STATUS_OK, Remove("acquire-terraform-state-lock", 3).status);
  EXPECT_EQ("4", LockEpoch());
}

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = content.rfind(')');
  return close != std::string::npos && close + 2 < content.size() && content[close + 2] == 'Z';
}

TEST_F(Terraform, CancelEndsTheWholeProcessGroup) {
  harness_.settings()["terraform.modules_dir"] = MATIH_TERRAFORM_TEST_MODULES;
  params_["terraform-apply"] = R"({"module": "slow"})";
  ASSERT_EQ(MATIH_STATUS_OK, Apply("acquire-terraform-state-lock").status);
  std::atomic<bool> cancel{false};
  runner::StepAnswer answer;
  std::thread run([&] { answer = Call(Op::kApply, "terraform-apply", tenant_, 7, &cancel); });
  const fs::path pid_file = harness_.TempPath("local") / "sleep.pid";
  const auto start = Clock::now();
  while (!fs::exists(pid_file) && Clock::now() - start < std::chrono::seconds(20))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(pid_file)) << "the provisioner never started";
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  ASSERT_FALSE(ProcessGone(pid));
  const auto cancelled_at = Clock::now();
  cancel = true;
  run.join();
  EXPECT_LT(Clock::now() - cancelled_at, std::chrono::seconds(8));
  EXPECT_EQ(MATIH_STATUS_CANCELLED, answer.status) << answer.message;
  EXPECT_TRUE(ProcessGone(pid)) << "the provisioner's sleep outlived the cancelled step";
  EXPECT_EQ("NULL", LockEpoch()) << "a cancelled step must release the state lock";
}

TEST_F(Terraform, DeadlineEndsTheWholeProcessGroup) {
  harness_.settings()["terraform.modules_dir"] = MATIH_TERRAFORM_TEST_MODULES;
  params_["terraform-apply"] = R"({"module": "slow"})";
  const auto start = Clock::now();
  auto answer = Call(Op::kApply, "terraform-apply", tenant_, 7, nullptr, std::chrono::seconds(4));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(12));
  EXPECT_EQ(MATIH_STATUS_DEADLINE_EXCEEDED, answer.status) << answer.message;
  const fs::path pid_file = harness_.TempPath("local") / "sleep.pid";
  ASSERT_TRUE(fs::exists(pid_file)) << "the provisioner never started";
  pid_t pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessGone(pid)) << "the provisioner's sleep outlived the step's deadline";
  // A deadline is retried by the runner: the claim keeps its lock.
  EXPECT_EQ("7", LockEpoch());
}

TEST_F(Terraform, ProviderOutsideTheEmptyMirrorFailsFast) {
  // The production modules need hashicorp/azurerm, which this machine cannot install: init must
  // fail at once (the CLI config's empty filesystem mirror) instead of reaching for the network.
  harness_.settings()["terraform.modules_dir"] = std::string(MATIH_SOURCE_DIR) + "/config/terraform/azurerm";
  const auto start = Clock::now();
  auto answer = Apply("terraform-plan");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("terraform init")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("azurerm")) << answer.message;
  EXPECT_EQ(std::string::npos, answer.message.find(url_)) << "the database URL leaked into a message";
  EXPECT_EQ("NULL", LockEpoch()) << "a failed step must release the state lock";
}

TEST_F(Terraform, ModulesAreFormattedAndTheLocalOnesValidate) {
  const std::string root = std::string(MATIH_SOURCE_DIR) + "/config/terraform";
  std::string out;
  EXPECT_EQ(0, RunCommand("terraform fmt -check -recursive '" + root + "' 2>&1", &out)) << out;
  const std::string rc = harness_.TempPath("validate.rc").string();
  std::ofstream(rc) << "provider_installation {\n  filesystem_mirror {\n    path = \""
                    << harness_.temp_dir().string() << "/empty-mirror\"\n  }\n}\n";
  for (const char* dir : {"local/dedicated/professional", "local/dedicated/enterprise",
                          "local/ai-services/professional", "local/ai-services/enterprise"}) {
    const std::string env =
        "TF_CLI_CONFIG_FILE='" + rc + "' CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_DATA_DIR='" +
        harness_.TempPath(std::string("validate-") + std::to_string(std::hash<std::string>{}(dir))).string() +
        "' ";
    EXPECT_EQ(0, RunCommand("cd '" + root + "/" + dir + "' && " + env +
                                "terraform init -backend=false -input=false " +
                                "-no-color >/dev/null 2>&1 && " + env + "terraform validate -no-color 2>&1",
                            &out))
        << dir << ": " << out;
  }
}

TEST_F(Terraform, UnreachableDatabaseIsTransient) {
  harness_.settings()["terraform.database_url"] = "postgresql://postgres@127.0.0.1:1/nowhere?sslmode=disable";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, Apply("acquire-terraform-state-lock").status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, Observe("terraform-apply").status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, Observe("register-dedicated-cluster").status);
}

TEST_F(Terraform, MissingBinaryIsAPermanentErrorNamingIt) {
  harness_.settings()["terraform.binary"] = "/nonexistent/terraform";
  auto answer = Observe("terraform-plan");
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("`terraform`")) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("terraform.binary")) << answer.message;
}

TEST_F(Terraform, BadParamsAreRefused) {
  const auto& kind = harness_.KindOf("terraform-apply");
  EXPECT_TRUE(kind.ValidateParams(R"({"module": "dedicated", "saved_plan": true})").ok());
  EXPECT_FALSE(kind.ValidateParams(R"({"module": "../etc"})").ok());
  EXPECT_FALSE(kind.ValidateParams(R"({"modul": "dedicated"})").ok());
  EXPECT_FALSE(kind.ValidateParams(R"({"secret_vars": "x"})").ok());
  EXPECT_FALSE(
      harness_.KindOf("acquire-terraform-state-lock").ValidateParams(R"({"secret_vars": ["x"]})").ok());
}

}  // namespace
}  // namespace matih::testing
