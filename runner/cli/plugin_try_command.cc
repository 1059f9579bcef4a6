// plugins try: runs observe -> apply -> observe -> remove -> observe of one step kind against a
// scratch tenant, without a database (secrets in memory, outputs recorded as a run records them),
// and checks the kind behaves idempotently: the second observe IN_SYNC, the last one ABSENT.
//
// The kind is loaded by the same PluginHost as `run` (permission checks, SHA-256 pins), and its
// calls go through the same host services, so what passes here passes in a run. Main thread only.
#include <matih/status_name.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "cli/commands.h"
#include "cli/table.h"
#include "secrets/secret_store.h"

namespace matih::runner {
namespace po = boost::program_options;

namespace {

// The scratch tenant's secrets: in memory, gone when the command exits.
class MemorySecretStore final : public SecretStore {
 public:
  Status Put(const std::string& tenant_id, const std::string& name, std::string_view value) override {
    std::lock_guard lock(mu_);
    values_[tenant_id][name] = std::string(value);
    return Status::Ok();
  }
  Result<std::string> Get(const std::string& tenant_id, const std::string& name) override {
    std::lock_guard lock(mu_);
    auto t = values_.find(tenant_id);
    if (t == values_.end() || !t->second.count(name)) return NotFound("no secret " + name);
    return t->second.at(name);
  }
  Status Delete(const std::string& tenant_id, const std::string& name) override {
    std::lock_guard lock(mu_);
    values_[tenant_id].erase(name);
    return Status::Ok();
  }
  Status DeleteAll(const std::string& tenant_id) override {
    std::lock_guard lock(mu_);
    values_.erase(tenant_id);
    return Status::Ok();
  }
  size_t Count(const std::string& tenant_id) {
    std::lock_guard lock(mu_);
    auto t = values_.find(tenant_id);
    return t == values_.end() ? 0 : t->second.size();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> values_;
};

// The ABI's own name of a status, as plugin authors know it from step_abi.h.
std::string StatusName(matih_status s) {
  const std::string name = matih_status_name(s);
  return name == "UNKNOWN" ? "status " + std::to_string(s) : name;
}

struct TryStep {
  std::string operation;  // observe | apply | remove
  std::string expected;   // what idempotency needs, "" when anything but an error will do
  StepAnswer answer;
  bool met = true;
  std::string failure;  // the failed expectation, in words
};

}  // namespace

int CmdPluginsTry(CommandContext& ctx, const Args& args) {
  std::string kind_name, params = "{}", spec_file, slug = "try-tenant", tier = "starter", format = "table";
  std::string step_name = "try";
  std::vector<std::string> setting_args;
  po::options_description o("Options");
  o.add_options()("kind", po::value(&kind_name)->required(), "the step kind to try, e.g. example.greeting")(
      "params", po::value(&params), "the step's params, a JSON object (default {})")(
      "tenant-spec", po::value(&spec_file), "JSON file with the scratch tenant's spec")(
      "setting", po::value(&setting_args)->composing(),
      "a [targets] setting KEY=VALUE for the plugin; repeatable; wins over the config file")(
      "slug", po::value(&slug), "the scratch tenant's slug (default try-tenant)")(
      "tier", po::value(&tier), "the scratch tenant's tier (default starter)")(
      "step", po::value(&step_name), "the step name the kind sees (default try)")(
      "format", po::value(&format), "table | json");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx,
                 "plugins try --plugin-dir DIR --kind K [--params JSON] [--tenant-spec FILE] "
                 "[--setting K=V ...] [--format table|json]",
                 "Runs observe, apply, observe, remove, observe of one step kind against a scratch tenant, "
                 "with no database (secrets in memory), and prints each answer. Exits 0 only when the kind "
                 "is idempotent: the second observe IN_SYNC and the last ABSENT. Real targets are touched: "
                 "point the settings at a scratch target.",
                 o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;

  // Inputs first: a bad one changes nothing.
  auto params_json = nlohmann::json::parse(params, nullptr, false);
  if (!params_json.is_object())
    return ctx.Fail(InvalidArgument("--params must be a JSON object, not: " + params));
  std::map<std::string, std::string> settings = ctx.config().engine.settings;
  for (const std::string& kv : setting_args) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return ctx.Fail(InvalidArgument("--setting must be KEY=VALUE, not '" + kv + "'"));
    settings[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  TenantView tenant{"00000000-0000-4000-8000-00000000c0de", slug, tier, ctx.config().default_region, ""};
  nlohmann::json spec = {{"admin_email", "admin@" + slug + ".example"}, {"region", tenant.region}};
  if (!spec_file.empty()) {
    std::ifstream in(spec_file);
    if (!in) return ctx.Fail(InvalidArgument("cannot read tenant spec file " + spec_file));
    std::stringstream ss;
    ss << in.rdbuf();
    spec = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!spec.is_object())
      return ctx.Fail(InvalidArgument("tenant spec file " + spec_file + " does not hold a JSON object"));
    if (spec.contains("region") && spec["region"].is_string())
      tenant.region = spec["region"].get<std::string>();
  }
  tenant.spec_json = spec.dump();

  auto plugins = ctx.plugins(/*check_catalog=*/false);
  if (!plugins.ok()) return ctx.Fail(plugins.status());
  const StepKind* kind = (*plugins)->Find(kind_name);
  if (kind == nullptr) {
    std::string known;
    for (const StepKind* k : (*plugins)->All()) known += (known.empty() ? "" : ", ") + k->name();
    return ctx.Fail(InvalidArgument("no loaded plugin exports kind '" + kind_name +
                                    "' (loaded: " + (known.empty() ? "none" : known) + ")"));
  }
  if (Status s = kind->ValidateParams(params_json.dump()); !s.ok()) return ctx.Fail(s);
  // A --setting key no loaded plugin declares is a typo, refused as `run` refuses it in [targets]
  // (unless a loaded plugin is older than ABI 1.2 and cannot declare its settings).
  std::map<std::string, std::string> given;
  for (const std::string& kv : setting_args) given[kv.substr(0, kv.find('='))] = "";
  std::vector<std::string> warnings;
  if (Status s = (*plugins)->CheckSettings(given, ctx.config().engine.runner_settings, &warnings); !s.ok())
    return ctx.Fail(InvalidArgument("--setting: " + s.message()));
  for (const auto& w : warnings) ctx.err() << "matih-provisioner: warning: " << w << "\n";

  MemorySecretStore secrets;
  TenantOutputs outputs;
  const std::atomic<bool> never_cancelled{false};
  auto call_for = [&] {
    StepCall call;
    call.tenant = tenant;
    call.step_name = step_name;
    call.params_json = params_json.dump();
    call.run_id = "plugins-try";
    call.deadline = std::chrono::system_clock::now() + std::chrono::minutes(2);
    call.outputs = &outputs;
    call.cancel = &never_cancelled;
    call.secrets = &secrets;
    call.settings = &settings;
    return call;
  };
  // Records a successful answer's outputs as a run does: observe and apply add, remove clears.
  auto record = [&](const std::string& op, const StepAnswer& a) {
    if (a.is_error()) return;
    if (op == "remove") {
      outputs.erase(step_name);
      return;
    }
    for (const auto& [k, v] : a.outputs) outputs[step_name][k] = v;
  };

  std::vector<TryStep> steps;
  auto run = [&](const std::string& op, const std::string& expected, const std::string& why) {
    TryStep t{op, expected, {}, true, ""};
    const StepCall call = call_for();
    t.answer = op == "observe" ? kind->Observe(call) : op == "apply" ? kind->Apply(call) : kind->Remove(call);
    record(op, t.answer);
    const std::string got = StatusName(t.answer.status);
    if (t.answer.is_error()) {
      t.met = false;
      t.failure =
          op + " #" + std::to_string(steps.size() + 1) + " failed with " + got + ": " + t.answer.message;
    } else if (!expected.empty() && got != expected) {
      t.met = false;
      t.failure = op + " #" + std::to_string(steps.size() + 1) + " answered " + got +
                  (t.answer.message.empty() ? "" : " (" + t.answer.message + ")") + ", expected " + expected +
                  ": " + why;
    }
    steps.push_back(std::move(t));
    return steps.back().met;
  };

  bool applied = false;
  if (run("observe", "", "")) {
    applied = run("apply", "OK", "apply must converge the target");
    if (applied)
      run("observe", "IN_SYNC", "the kind is not idempotent: what apply made does not observe as in sync");
  }
  // Clean up whatever apply may have made, even when an expectation failed.
  if (applied || (steps.size() >= 2 && steps[1].operation == "apply")) {
    if (run("remove", "OK", "remove must undo apply"))
      run("observe", "ABSENT", "remove left something behind");
  }
  const size_t leftover_secrets = secrets.Count(tenant.id);
  if (!steps.empty() && steps[0].met && steps[0].answer.status != MATIH_STATUS_ABSENT)
    ctx.err() << "matih-provisioner: warning: the first observe found the scratch tenant's target "
              << StatusName(steps[0].answer.status)
              << ", not ABSENT: it existed before this try (and remove has now undone it)\n";

  std::vector<std::string> failures;
  for (const auto& t : steps)
    if (!t.met) failures.push_back(t.failure);
  if (failures.empty() && leftover_secrets > 0)
    failures.push_back("remove left " + std::to_string(leftover_secrets) +
                       " secret(s) of the scratch tenant");
  if (steps.size() < 5 && failures.empty()) failures.push_back("the sequence stopped early");

  if (format == "json") {
    nlohmann::json j = {{"kind", kind->name()},
                        {"plugin", kind->plugin_name()},
                        {"plugin_version", kind->plugin_version()},
                        {"file", kind->plugin_file()},
                        {"tenant", {{"id", tenant.id}, {"slug", tenant.slug}, {"tier", tenant.tier}}},
                        {"idempotent", failures.empty()},
                        {"failures", failures},
                        {"leftover_secrets", leftover_secrets},
                        {"steps", nlohmann::json::array()}};
    for (const auto& t : steps)
      j["steps"].push_back(
          {{"operation", t.operation},
           {"status", StatusName(t.answer.status)},
           {"expected", t.expected.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.expected)},
           {"ok", t.met},
           {"message", t.answer.message},
           {"outputs", t.answer.outputs}});
    ctx.out() << j.dump(2) << "\n";
  } else {
    Table table({"#", "OPERATION", "STATUS", "EXPECTED", "OK", "MESSAGE"});
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto& t = steps[i];
      table.Add({std::to_string(i + 1), t.operation, StatusName(t.answer.status),
                 t.expected.empty() ? "-" : t.expected, t.met ? "yes" : "NO", t.answer.message});
    }
    ctx.out() << "kind " << kind->name() << " (plugin " << kind->plugin_name() << " "
              << kind->plugin_version() << ", " << kind->plugin_file() << ") on scratch tenant "
              << tenant.slug << " (" << tenant.tier << ")\n";
    table.Print(ctx.out());
    if (failures.empty()) ctx.out() << "idempotent: yes\n";
  }
  if (failures.empty()) return kExitOk;
  for (const auto& f : failures)
    ctx.err() << "matih-provisioner: plugins try " << kind->name() << ": " << f << "\n";
  return kExitError;
}

}  // namespace matih::runner
