// TerraformCli: runs the real terraform binary for one tenant and one module, the way every step
// of this plugin needs it: the module's root for the tenant's tier, state in PostgreSQL (pg
// backend, a schema per module, a workspace `tenant-<slug>` per tenant), no network, and each
// command a child in its own process group that the step's deadline and the runner's cancel end.
//
// Layout on disk (setting terraform.work_dir, default var/terraform):
//   terraformrc             our CLI config: a filesystem_mirror at provider-mirror/ (kept empty),
//                           so a provider that is not built in fails at once instead of
//                           downloading; plugin_cache_dir at plugin-cache/
//   tenants/<slug>/<module> TF_DATA_DIR, the -var-file and the saved plan of that tenant
// The root module is read in place (<terraform.modules_dir>/<module>/<tier>), never copied.
//
// Secrets: the database URL travels as PG_CONN_STR and secret variables as TF_VAR_<name>, both in
// the child's environment (never its command line); every output line is passed through the
// redaction of those values before it reaches the step's log.
// One object per step call, on the calling thread.
#pragma once

#include <matih/step.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins::terraform {

// The plan's resource counts: "2 to add, 0 to change, 1 to destroy" (no values, no secrets).
struct PlanResult {
  bool changes = false;  // -detailed-exitcode 2
  std::string summary;
};

class TerraformCli {
 public:
  // Checks the binary and the module root; PermanentError naming what is missing. `secret_vars`
  // are the module's sensitive variables with their values (from the secret store).
  TerraformCli(const Context& ctx, std::string module,
               std::vector<std::pair<std::string, std::string>> secret_vars);

  // The pg backend's schema of this module and the tenant's workspace name.
  const std::string& schema() const { return schema_; }
  const std::string& workspace() const { return workspace_; }
  std::string plan_file() const { return tenant_dir_ + "/tfplan"; }

  void Init();
  // Selects the tenant's workspace; creates it when `create`.
  void SelectWorkspace(bool create);
  // terraform plan -detailed-exitcode [-out=plan_file()]; `lock_state` false (observe) reads the
  // state without taking Terraform's own lock.
  PlanResult Plan(bool save, bool lock_state = true);
  // Whether a saved plan exists and was made against the state as it is now (same serial): a
  // hand-run terraform between step 51 and step 52 makes it stale, and step 52 plans again.
  bool SavedPlanIsCurrent();
  // Applies the saved plan (and deletes it, whatever the outcome: a plan is good for one apply).
  void ApplySavedPlan();
  // terraform output -json: {name: {sensitive, type, value}}. Never logged.
  nlohmann::json Outputs();
  // destroy, then the workspace itself.
  void DestroyAndDeleteWorkspace();

 private:
  struct Run {
    int exit_code = 0;
    std::string stdout_text;
    std::string last_error;  // the last stderr lines, redacted
  };
  Run Terraform(const std::vector<std::string>& args, bool log_stdout, bool allow_exit_2 = false);
  void WriteVarFile();
  std::string Redact(std::string line) const;
  [[noreturn]] void Fail(const std::string& what, const Run& run) const;

  const Context& ctx_;
  std::string module_;
  std::string binary_;
  std::string root_;
  std::string work_dir_;
  std::string tenant_dir_;
  std::string schema_;
  std::string workspace_;
  std::string database_url_;
  std::vector<std::string> env_;
  std::vector<std::string> secrets_;  // values to redact
  std::chrono::milliseconds grace_{10000};
  std::chrono::seconds timeout_{1200};
};

// The absolute path of the terraform binary of setting terraform.binary (default "terraform",
// looked up on PATH), or a PermanentError naming `terraform` and the setting.
std::string FindTerraformBinary(const Context& ctx);

}  // namespace matih::plugins::terraform
