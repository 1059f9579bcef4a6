#include "terraform/terraform_cli.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>

#include "common/settings.h"
#include "common/tenant_spec.h"
#include "terraform/process_group.h"
#include "terraform/terraform_db.h"

namespace matih::plugins::terraform {
namespace fs = std::filesystem;
namespace {

std::string Absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

// Writes `content` to `path` unless it already holds exactly that: a temporary file of this call
// renamed over it, so concurrent calls (several tenants at once) never see half a file.
void WriteFileIfChanged(const std::string& path, const std::string& content) {
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream have;
    if (in) have << in.rdbuf();
    if (in && have.str() == content) return;
  }
  static std::atomic<unsigned> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out)
      throw PermanentError("terraform: cannot write " + tmp + " (setting targets.terraform.work_dir)");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw PermanentError("terraform: cannot write " + path + ": " + ec.message());
  }
}

// The password of a libpq URL (postgresql://user:password@host/...), or "".
std::string UrlPassword(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const auto at = url.find('@', scheme + 3);
  const auto colon = url.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return "";
  return url.substr(colon + 1, at - colon - 1);
}

std::string SchemaFor(const std::string& prefix, const std::string& module) {
  std::string s = prefix + "_" + module;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

std::string FindTerraformBinary(const Context& ctx) {
  const std::string wanted = SettingOr(ctx, "terraform.binary", "terraform");
  std::vector<std::string> candidates;
  if (wanted.find('/') != std::string::npos) {
    candidates.push_back(wanted);
  } else {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty()) candidates.push_back(dir + "/" + wanted);
  }
  for (const auto& c : candidates)
    if (access(c.c_str(), X_OK) == 0 && fs::is_regular_file(c)) return Absolute(c);
  throw PermanentError("the `terraform` binary was not found ('" + wanted +
                       "', setting targets.terraform.binary): install Terraform >= 1.6 on this host (it is "
                       "not packaged for Debian) or point the setting at it; steps 50-54 need it");
}

TerraformCli::TerraformCli(const Context& ctx, std::string module,
                           std::vector<std::pair<std::string, std::string>> secret_vars)
    : ctx_(ctx), module_(std::move(module)) {
  binary_ = FindTerraformBinary(ctx);
  const std::string tier = ctx.tier();
  root_ = Absolute(SettingOr(ctx, "terraform.modules_dir", "config/terraform/local") + "/" + module_ + "/" +
                   tier);
  if (!fs::is_directory(root_))
    throw PermanentError("terraform: no root module for module '" + module_ + "' and tier '" + tier + "' (" +
                         root_ + "; setting targets.terraform.modules_dir)");
  work_dir_ = Absolute(SettingOr(ctx, "terraform.work_dir", "var/terraform"));
  tenant_dir_ = work_dir_ + "/tenants/" + ctx.slug() + "/" + module_;
  schema_ = SchemaFor(SettingOr(ctx, "terraform.state_schema_prefix", "matih_tfstate"), module_);
  workspace_ = "tenant-" + ctx.slug();
  database_url_ = DatabaseUrl(ctx);
  grace_ = std::chrono::milliseconds(1000 * ParseCount("terraform.kill_grace_seconds",
                                                       SettingOr(ctx, "terraform.kill_grace_seconds", "10")));
  timeout_ = std::chrono::seconds(
      ParseCount("terraform.timeout_seconds", SettingOr(ctx, "terraform.timeout_seconds", "1200")));

  std::error_code ec;
  for (const auto& dir : {work_dir_ + "/provider-mirror", work_dir_ + "/plugin-cache", tenant_dir_}) {
    fs::create_directories(dir, ec);
    if (ec)
      throw PermanentError("terraform: cannot create " + dir +
                           " (setting targets.terraform.work_dir): " + ec.message());
  }
  WriteFileIfChanged(work_dir_ + "/terraformrc",
                     "# Written by matih-terraform: providers only from an empty local mirror (no network).\n"
                     "provider_installation {\n  filesystem_mirror {\n    path = \"" +
                         work_dir_ + "/provider-mirror\"\n  }\n}\nplugin_cache_dir = \"" + work_dir_ +
                         "/plugin-cache\"\ndisable_checkpoint = true\n");
  WriteVarFile();

  const char* path = std::getenv("PATH");
  env_ = {"PATH=" + std::string(path ? path : "/usr/local/bin:/usr/bin:/bin"),
          "HOME=" + work_dir_,
          "TF_CLI_CONFIG_FILE=" + work_dir_ + "/terraformrc",
          "TF_IN_AUTOMATION=1",
          "TF_INPUT=0",
          "CHECKPOINT_DISABLE=1",
          "TF_DATA_DIR=" + tenant_dir_ + "/.terraform",
          "TF_PLUGIN_CACHE_DIR=" + work_dir_ + "/plugin-cache",
          "PG_CONN_STR=" + database_url_,
          "PG_SCHEMA_NAME=" + schema_};
  secrets_.push_back(database_url_);
  if (const std::string password = UrlPassword(database_url_); !password.empty())
    secrets_.push_back(password);
  for (auto& [name, value] : secret_vars) {
    env_.push_back("TF_VAR_" + name + "=" + value);
    if (!value.empty()) secrets_.push_back(value);
  }
  // The servers the local modules hand to a dedicated tenant (credentials: never on a command
  // line); modules without these variables ignore them.
  for (const auto& [setting, var] : {std::pair{"terraform.dedicated_database_url", "database_server_url"},
                                     std::pair{"terraform.dedicated_redis_url", "cache_server_url"},
                                     std::pair{"terraform.dedicated_nats_url", "messaging_server_url"}}) {
    if (auto url = ctx.setting(setting); url && !url->empty()) {
      env_.push_back(std::string("TF_VAR_") + var + "=" + *url);
      secrets_.push_back(*url);
      if (const std::string password = UrlPassword(*url); !password.empty()) secrets_.push_back(password);
    }
  }
  if (auto file = ctx.setting("terraform.dedicated_redis_password_file"); file && !file->empty()) {
    env_.push_back("TF_VAR_cache_password_file=" + *file);
    std::string password;  // the module puts it into an output: never into a log line
    std::getline(std::ifstream(*file), password);
    if (!password.empty()) secrets_.push_back(password);
  }
  if (auto url = ctx.setting("terraform.dedicated_chroma_url"); url && !url->empty())
    env_.push_back("TF_VAR_vector_server_url=" + *url);
}

void TerraformCli::WriteVarFile() {
  const auto spec = TenantSpec::Parse(ctx_.spec_json());
  nlohmann::json vars = {
      {"tenant_id", ctx_.tenant_id()},
      {"tenant_slug", ctx_.slug()},
      {"tier", ctx_.tier()},
      {"region", spec.region()},
      {"services", spec.services()},
      {"local_root", Absolute(SettingOr(ctx_, "terraform.local_root", work_dir_ + "/local"))}};
  WriteFileIfChanged(tenant_dir_ + "/matih.tfvars.json", vars.dump(2) + "\n");
}

std::string TerraformCli::Redact(std::string line) const {
  for (const auto& secret : secrets_) {
    for (size_t at; !secret.empty() && (at = line.find(secret)) != std::string::npos;)
      line.replace(at, secret.size(), "[redacted]");
  }
  return line;
}

TerraformCli::Run TerraformCli::Terraform(const std::vector<std::string>& args, bool log_stdout,
                                          bool allow_exit_2) {
  ProcessOptions options;
  options.program = binary_;
  options.args = args;
  options.env = env_;
  options.cwd = root_;
  options.grace = grace_;
  options.deadline = std::min(ctx_.deadline(), std::chrono::system_clock::now() + timeout_);
  options.should_stop = [this] { return ctx_.cancelled() ? std::string("cancelled") : std::string(); };
  Run run;
  std::vector<std::string> errors;
  options.on_line = [&](const std::string& raw, bool is_stderr) {
    if (!is_stderr) run.stdout_text += raw + "\n";
    if (!is_stderr && !log_stdout) return;
    std::string line = Redact(raw);
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    if (is_stderr) {
      errors.push_back(line);
      if (errors.size() > 6) errors.erase(errors.begin());
    }
    ctx_.log(is_stderr ? MATIH_LOG_WARN : MATIH_LOG_DEBUG, "terraform " + args.front() + ": " + line);
  };
  ProcessResult result;
  try {
    result = RunInProcessGroup(options);
  } catch (const std::system_error& e) {
    throw PermanentError("terraform: cannot start " + binary_ + ": " + e.what());
  }
  run.exit_code = result.exit_code;
  for (const auto& e : errors) run.last_error += (run.last_error.empty() ? "" : " ") + Trim(e);
  if (result.stopped == "cancelled")
    throw Error(MATIH_STATUS_CANCELLED, "terraform " + args.front() + " for tenant " + ctx_.slug() +
                                            " stopped: cancelled by the runner (process group " +
                                            std::to_string(result.pgid) + " ended)");
  if (!result.stopped.empty())
    throw Error(MATIH_STATUS_DEADLINE_EXCEEDED, "terraform " + args.front() + " for tenant " + ctx_.slug() +
                                                    " ran past the step's deadline (process group ended)");
  if (run.exit_code != 0 && !(allow_exit_2 && run.exit_code == 2)) Fail("terraform " + args.front(), run);
  return run;
}

void TerraformCli::Fail(const std::string& what, const Run& run) const {
  // Terraform says only "1": tell an unreachable state database (retry) from the rest (stop).
  if (!DatabaseReachable(database_url_))
    throw TransientError(what + " for tenant " + ctx_.slug() + ": the state database is unreachable");
  throw PermanentError(what + " for tenant " + ctx_.slug() + " (module " + module_ +
                       ") failed with exit code " + std::to_string(run.exit_code) + ": " +
                       run.last_error.substr(0, 600));
}

void TerraformCli::Init() {
  // On first use the pg backend creates its schema, its table and a sequence that every schema
  // shares, each with IF NOT EXISTS, and two inits at once collide on PostgreSQL's catalog
  // ("duplicate key ... pg_namespace_nspname_index"). Inits on one database take turns under a
  // session advisory lock in the two-int form (Terraform's own locks are single-bigint); closing
  // the session releases it. An init is a fraction of a second.
  constexpr const char* kInitLock = "SELECT pg_advisory_lock(1413892430, 0)";  // 'TFIN', 0
  std::unique_ptr<pqxx::connection> session;
  try {
    session = std::make_unique<pqxx::connection>(database_url_);
    pqxx::nontransaction(*session).exec(kInitLock);
  } catch (const std::exception&) {
    throw TransientError("terraform init for tenant " + ctx_.slug() + ": the state database is unreachable");
  }
  Terraform({"init", "-input=false", "-no-color", "-reconfigure"}, false);
}

void TerraformCli::SelectWorkspace(bool create) {
  if (create)
    Terraform({"workspace", "select", "-or-create", "-no-color", workspace_}, false);
  else
    Terraform({"workspace", "select", "-no-color", workspace_}, false);
}

PlanResult TerraformCli::Plan(bool save, bool lock_state) {
  std::vector<std::string> args = {"plan",
                                   "-input=false",
                                   "-no-color",
                                   "-detailed-exitcode",
                                   lock_state ? "-lock-timeout=30s" : "-lock=false",
                                   "-var-file=" + tenant_dir_ + "/matih.tfvars.json"};
  if (save) args.push_back("-out=" + plan_file());
  Run run = Terraform(args, true, true);
  PlanResult plan;
  plan.changes = run.exit_code == 2;
  static const std::regex kSummary(R"(Plan: (\d+) to add, (\d+) to change, (\d+) to destroy)");
  std::smatch m;
  if (std::regex_search(run.stdout_text, m, kSummary)) {
    plan.summary = m[0].str().substr(6);
  } else if (plan.changes) {
    plan.summary = "outputs or state differ (no resource changes)";
  }
  std::error_code ec;
  if (save && !plan.changes) {
    fs::remove(plan_file(), ec);
    fs::remove(plan_file() + ".serial", ec);
  } else if (save) {
    WriteFileIfChanged(plan_file() + ".serial",
                       std::to_string(StateSerial(database_url_, schema_, workspace_)));
  }
  return plan;
}

bool TerraformCli::SavedPlanIsCurrent() {
  if (!fs::exists(plan_file())) return false;
  std::ifstream in(plan_file() + ".serial");
  std::string planned;
  if (!(in >> planned)) return false;
  const std::string now = std::to_string(StateSerial(database_url_, schema_, workspace_));
  if (planned == now) return true;
  ctx_.warn("terraform: the state of " + workspace_ + " changed since the saved plan (serial " + planned +
            " -> " + now + "): planning again");
  return false;
}

void TerraformCli::ApplySavedPlan() {
  struct Consume {
    std::string path;
    ~Consume() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } consume{plan_file()}, consume_serial{plan_file() + ".serial"};
  Terraform({"apply", "-input=false", "-no-color", "-lock-timeout=30s", plan_file()}, true);
}

nlohmann::json TerraformCli::Outputs() {
  Run run = Terraform({"output", "-json", "-no-color"}, false);
  try {
    return nlohmann::json::parse(run.stdout_text.empty() ? "{}" : run.stdout_text);
  } catch (const std::exception&) {
    throw PermanentError("terraform output -json for tenant " + ctx_.slug() + " did not answer JSON");
  }
}

void TerraformCli::DestroyAndDeleteWorkspace() {
  Terraform({"destroy", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=30s",
             "-var-file=" + tenant_dir_ + "/matih.tfvars.json"},
            true);
  Terraform({"workspace", "select", "-no-color", "default"}, false);
  Terraform({"workspace", "delete", "-no-color", workspace_}, false);
  std::error_code ec;
  fs::remove_all(tenant_dir_, ec);
}

}  // namespace matih::plugins::terraform
