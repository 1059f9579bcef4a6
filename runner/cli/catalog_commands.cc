// migrate, steps list, plugins verify.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
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
          "Loads every plugin from the plugin directories, reports what each exports, and checks the catalog "
          "against them.",
          o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  auto plugins = ctx.plugins(/*check_catalog=*/false);
  if (!plugins.ok()) return ctx.Fail(plugins.status());
  Status catalog_status;
  auto catalog = ctx.catalog();
  catalog_status = catalog.ok() ? (*catalog)->CheckKinds(**plugins) : catalog.status();
  std::vector<std::string> warnings;
  Status settings_status =
      (*plugins)->CheckSettings(ctx.config().engine.settings, ctx.config().engine.runner_settings, &warnings);
  if (format == "json") {
    nlohmann::json j = {{"plugins", nlohmann::json::array()}, {"catalog_ok", catalog_status.ok()}};
    if (!catalog_status.ok()) j["catalog_error"] = catalog_status.message();
    j["settings_ok"] = settings_status.ok();
    if (!settings_status.ok()) j["settings_error"] = settings_status.message();
    j["warnings"] = warnings;
    for (const auto& p : (*plugins)->plugins()) {
      nlohmann::json settings = nlohmann::json::array();
      for (const auto& s : p.settings)
        settings.push_back({{"name", s.name},
                            {"description", s.description},
                            {"required", s.required},
                            {"secret", s.secret},
                            {"set", ctx.config().engine.settings.count(s.name) > 0}});
      j["plugins"].push_back({{"file", p.file},
                              {"name", p.name},
                              {"version", p.version},
                              {"abi", p.abi_version},
                              {"kinds", p.kinds},
                              {"declares_settings", p.declares_settings},
                              {"settings", settings},
                              {"shared_secrets", p.shared_secrets}});
    }
    ctx.out() << j.dump(2) << "\n";
  } else {
    Table table({"PLUGIN", "VERSION", "ABI", "KINDS", "FILE"});
    for (const auto& p : (*plugins)->plugins()) {
      std::string kinds;
      for (const auto& k : p.kinds) kinds += (kinds.empty() ? "" : ", ") + k;
      table.Add({p.name, p.version, p.abi_version, kinds, p.file});
    }
    table.Print(ctx.out());
    Table settings({"PLUGIN", "SETTING", "REQUIRED", "SECRET", "SET", "DESCRIPTION"});
    bool any = false;
    for (const auto& p : (*plugins)->plugins()) {
      if (!p.declares_settings) {
        settings.Add({p.name, "(undeclared: plugin older than step ABI 1.2)", "", "", "", ""});
        any = true;
      }
      for (const auto& s : p.settings) {
        settings.Add({p.name, "targets." + s.name, s.required ? "yes" : "no", s.secret ? "yes" : "no",
                      ctx.config().engine.settings.count(s.name) ? "yes" : "no", s.description});
        any = true;
      }
    }
    if (any) {
      ctx.out() << "\n";
      settings.Print(ctx.out());
    }
    for (const auto& w : warnings) ctx.out() << "warning: " << w << "\n";
    ctx.out() << (catalog_status.ok() ? "catalog: every enabled step has its kind\n"
                                      : "catalog: " + catalog_status.message() + "\n");
    ctx.out() << (settings_status.ok() ? "settings: every [targets] key is declared by a plugin\n"
                                       : "settings: " + settings_status.message() + "\n");
  }
  if (!catalog_status.ok()) return ExitCodeFor(catalog_status);
  return settings_status.ok() ? kExitOk : ExitCodeFor(settings_status);
}

}  // namespace matih::runner
