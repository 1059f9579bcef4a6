// migrate, steps list, plugins verify.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/plugin_verify_child.h"
#include "cli/table.h"
#include "store/migrator.h"

namespace matih::runner {
namespace po = boost::program_options;

int CmdMigrate(CommandContext& ctx, const Args& args) {
  po::options_description o("Options");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "migrate",
                 "Applies the schema migrations the database does not have yet. Safe to repeat.", o, {}, args,
                 vm, exit))
    return exit;
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  Migrator migrator(**db);
  auto applied = migrator.Migrate();
  if (!applied.ok()) return ctx.Fail(applied.status());
  if (applied->empty()) ctx.out() << "schema is up to date\n";
  for (const auto& name : *applied) ctx.out() << "applied " << name << "\n";
  return kExitOk;
}

int CmdStepsList(CommandContext& ctx, const Args& args) {
  std::string format = "table";
  po::options_description o("Options");
  o.add_options()("format", po::value(&format), "table | json");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "steps list [--format table|json]",
                 "The step catalog and the plugin serving each step.", o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  auto catalog = ctx.catalog();
  if (!catalog.ok()) return ctx.Fail(catalog.status());
  auto plugins = ctx.plugins(/*check_catalog=*/false);
  if (!plugins.ok()) return ctx.Fail(plugins.status());
  nlohmann::json j = nlohmann::json::array();
  Table table({"#", "STEP", "PHASE", "KIND", "TIERS", "PLUGIN", "VERSION", "ABI", "FILE"});
  for (const auto& s : (*catalog)->steps()) {
    const StepKind* kind = (*plugins)->Find(s.kind);
    std::string tiers;
    for (const auto& t : s.tiers) tiers += (tiers.empty() ? "" : ",") + t;
    std::string plugin = kind ? kind->plugin_name() : (s.enabled ? "(missing)" : "(disabled)");
    if (format == "json") {
      j.push_back(
          {{"number", s.number},
           {"name", s.name},
           {"phase", s.phase},
           {"kind", s.kind},
           {"tiers", s.tiers},
           {"enabled", s.enabled},
           {"plugin", kind ? nlohmann::json(kind->plugin_name()) : nlohmann::json(nullptr)},
           {"plugin_version", kind ? nlohmann::json(kind->plugin_version()) : nlohmann::json(nullptr)},
           {"abi", kind ? nlohmann::json(kind->abi_version()) : nlohmann::json(nullptr)},
           {"file", kind ? nlohmann::json(kind->plugin_file()) : nlohmann::json(nullptr)}});
    } else {
      table.Add({std::to_string(s.number), s.name, std::to_string(s.phase), s.kind, tiers, plugin,
                 kind ? kind->plugin_version() : "", kind ? kind->abi_version() : "",
                 kind ? kind->plugin_file() : ""});
    }
  }
  if (format == "json")
    ctx.out() << j.dump(2) << "\n";
  else
    table.Print(ctx.out());
  return kExitOk;
}

int CmdPluginsVerify(CommandContext& ctx, const Args& args) {
  std::string format = "table";
  po::options_description o("Options");
  o.add_options()("format", po::value(&format), "table | json");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(
          ctx, "plugins verify [--format table|json]",
          "Loads every plugin file of the plugin directories and gives each its verdict (ok, or refused and "
          "why), then checks the catalog, the [targets] settings and the key files against the plugins that "
          "loaded. Built-in plugins (those installed or built with this runner) load first, so a plugin "
          "from a directory the operator added that exports a built-in kind is refused as the newcomer. "
          "Exits 2 when any file was refused or a check failed.",
          o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  if (ctx.config().plugin_dirs.empty())
    return ctx.Fail(InvalidArgument(
        "no plugin directory configured: pass --plugin-dir or set plugins.dir in the config file"));
  // Every file, refusals included, so an operator sees the whole picture at once. The files load
  // in a child process (plugin_verify_child.h), so a plugin that crashes while loading gets its
  // verdict instead of ending this command; a run loads them as plugins.isolation says.
  PluginHostOptions options = ctx.plugin_options();
  auto catalog = ctx.catalog();
  const RunnerConfig& config = ctx.config();
  auto verified = VerifyPluginsInChild(
      options,
      [&](const PluginHost& host, PluginVerifyReport& report) {
        report.catalog = catalog.ok() ? (*catalog)->CheckKinds(host) : catalog.status();
        report.settings =
            host.CheckSettings(config.engine.settings, config.engine.runner_settings, &report.warnings);
        report.key_files = host.CheckKeyFiles(config.engine.settings);
      },
      options.workers.start_timeout);
  if (!verified.ok()) return ctx.Fail(verified.status());
  const PluginVerifyReport& report = *verified;
  int refused = 0;
  for (const auto& v : report.verdicts) refused += v.ok ? 0 : 1;
  const Status& catalog_status = report.catalog;
  const Status& settings_status = report.settings;
  const Status& key_files_status = report.key_files;
  const std::vector<std::string>& warnings = report.warnings;
  auto info_of = [&](const std::string& file) -> const LoadedPluginInfo* {
    for (const auto& p : report.plugins)
      if (p.file == file) return &p;
    return nullptr;
  };

  if (format == "json") {
    nlohmann::json j = {
        {"plugins", nlohmann::json::array()}, {"refused", refused}, {"catalog_ok", catalog_status.ok()}};
    if (!catalog_status.ok()) j["catalog_error"] = catalog_status.message();
    j["settings_ok"] = settings_status.ok();
    if (!settings_status.ok()) j["settings_error"] = settings_status.message();
    j["key_files_ok"] = key_files_status.ok();
    if (!key_files_status.ok()) j["key_files_error"] = key_files_status.message();
    j["warnings"] = warnings;
    for (const auto& v : report.verdicts) {
      nlohmann::json entry = {{"file", v.file},
                              {"origin", v.builtin ? "built-in" : "operator"},
                              {"verdict", v.ok ? "ok" : "refused"}};
      if (!v.ok) entry["reason"] = v.reason;
      if (const LoadedPluginInfo* p = info_of(v.file)) {
        nlohmann::json settings = nlohmann::json::array();
        for (const auto& s : p->settings)
          settings.push_back({{"name", s.name},
                              {"description", s.description},
                              {"required", s.required},
                              {"secret", s.secret},
                              {"key_file", s.key_file},
                              {"set", ctx.config().engine.settings.count(s.name) > 0}});
        entry.update({{"name", p->name},
                      {"version", p->version},
                      {"abi", p->abi_version},
                      {"kinds", p->kinds},
                      {"declares_settings", p->declares_settings},
                      {"settings", settings},
                      {"shared_secrets", p->shared_secrets}});
      }
      j["plugins"].push_back(entry);
    }
    ctx.out() << j.dump(2) << "\n";
  } else {
    Table table({"VERDICT", "ORIGIN", "PLUGIN", "VERSION", "ABI", "KINDS", "FILE"});
    for (const auto& v : report.verdicts) {
      const LoadedPluginInfo* p = info_of(v.file);
      std::string kinds;
      if (p)
        for (const auto& k : p->kinds) kinds += (kinds.empty() ? "" : ", ") + k;
      table.Add({v.ok ? "ok" : "refused", v.builtin ? "built-in" : "operator", p ? p->name : "",
                 p ? p->version : "", p ? p->abi_version : "", kinds, v.file});
    }
    table.Print(ctx.out());
    Table settings({"PLUGIN", "SETTING", "REQUIRED", "SECRET", "SET", "DESCRIPTION"});
    bool any = false;
    for (const auto& p : report.plugins) {
      if (!p.declares_settings) {
        settings.Add({p.name, "(undeclared: plugin older than step ABI 1.2)", "", "", "", ""});
        any = true;
      }
      for (const auto& s : p.settings) {
        settings.Add({p.name, "targets." + s.name + (s.key_file ? " (key file)" : ""),
                      s.required ? "yes" : "no", s.secret ? "yes" : "no",
                      ctx.config().engine.settings.count(s.name) ? "yes" : "no", s.description});
        any = true;
      }
    }
    if (any) {
      ctx.out() << "\n";
      settings.Print(ctx.out());
    }
    for (const auto& w : warnings) ctx.out() << "warning: " << w << "\n";
    ctx.out() << (refused == 0 ? "plugins: every file loaded\n"
                               : "plugins: " + std::to_string(refused) + " refused\n");
    ctx.out() << (catalog_status.ok() ? "catalog: every enabled step has its kind\n"
                                      : "catalog: " + catalog_status.message() + "\n");
    ctx.out() << (settings_status.ok() ? "settings: every [targets] key is declared by a plugin\n"
                                       : "settings: " + settings_status.message() + "\n");
    ctx.out() << (key_files_status.ok() ? "key files: every key file a plugin declares is sound\n"
                                        : "key files: " + key_files_status.message() + "\n");
  }
  // Why each file was refused, on stderr in both formats (the table and the JSON carry the verdicts).
  for (const auto& v : report.verdicts)
    if (!v.ok) ctx.err() << "matih-provisioner: refused " << v.file << ": " << v.reason << "\n";
  if (refused > 0) return kExitUsage;
  if (!catalog_status.ok()) return ExitCodeFor(catalog_status);
  if (!settings_status.ok()) return ExitCodeFor(settings_status);
  return ExitCodeFor(key_files_status);
}

}  // namespace matih::runner
