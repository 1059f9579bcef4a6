// tenants add | import | list | show, and history (one tenant's audit trail, or the fleet's, filtered).
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/table.h"
#include "cli/tenant_import_file.h"
#include "common/duration.h"
#include "engine/step_catalog.h"
#include "engine/tenant_request.h"
#include "store/audit_log.h"
#include "store/audit_search.h"
#include "store/tenant_store.h"

namespace matih::runner {
namespace po = boost::program_options;
namespace {

// The --spec file, read up to one byte past the limit: a huge file or a device such as /dev/zero
// is refused after 64 KiB, never read whole.
Result<std::string> ReadSpecFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument("spec file " + path + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read spec file " + path);
  std::string text(TenantRequestValidator::kMaxSpecBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return InvalidArgument("cannot read spec file " + path);
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > TenantRequestValidator::kMaxSpecBytes)
    return InvalidArgument("spec file " + path + " is larger than allowed; the limit is " +
                           std::to_string(TenantRequestValidator::kMaxSpecBytes) + " bytes");
  return text;
}

// A tenant's steps: its recorded rows, and a PENDING record for each catalog step without a row
// (never run: rows are made by the run that first works the step), by number.
std::vector<StepRecord> WithUnrecordedSteps(std::vector<StepRecord> recorded, const StepCatalog* catalog) {
  if (catalog == nullptr) return recorded;
  std::set<int> have;
  for (const auto& r : recorded) have.insert(r.number);
  for (const auto& step : catalog->steps()) {
    if (have.count(step.number)) continue;
    StepRecord pending;
    pending.number = step.number;
    pending.name = step.name;
    pending.phase = step.phase;
    recorded.push_back(std::move(pending));
  }
  std::sort(recorded.begin(), recorded.end(),
            [](const StepRecord& a, const StepRecord& b) { return a.number < b.number; });
  return recorded;
}

}  // namespace

int CmdTenantsAdd(CommandContext& ctx, const Args& args) {
  std::string slug, tier, email, region, spec_file;
  po::options_description o("Options");
  o.add_options()("slug", po::value(&slug)->required(),
                  "tenant slug: a lowercase RFC 1035 label, at most 40 characters")(
      "tier", po::value(&tier)->required(), "free | starter | professional | enterprise")(
      "admin-email", po::value(&email)->required(), "the tenant administrator's e-mail")(
      "region", po::value(&region), "region (default: tenants.default_region)")(
      "spec", po::value(&spec_file), "JSON file with the tenant's spec (services, quotas, ...)");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "tenants add --slug S --tier T --admin-email E [--region R] [--spec FILE]",
                 "Adds a PENDING tenant; the next run provisions it.", o, {}, args, vm, exit))
    return exit;
  auto catalog = ctx.catalog();
  if (!catalog.ok()) return ctx.Fail(catalog.status());
  if (vm.count("region") && region.empty()) return ctx.Fail(InvalidArgument("--region must not be empty"));
  TenantRequest req{slug, tier, region.empty() ? ctx.config().default_region : region, email, "{}"};
  if (!spec_file.empty()) {
    auto text = ReadSpecFile(spec_file);
    if (!text.ok()) return ctx.Fail(text.status());
    req.spec_json = std::move(*text);
  }
  std::string spec;
  TenantRequestValidator validator((*catalog)->Tiers(), ctx.config().regions);
  if (Status s = validator.Check(req, spec); !s.ok()) return ctx.Fail(s);
  if (Status s = ctx.CheckWithStep1({kUnsavedTenantId, req.slug, req.tier, req.region, spec}); !s.ok())
    return ctx.Fail(s);
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  TenantStore store(**db);
  auto added = store.Add({req.slug, req.tier, req.region, req.admin_email, spec}, ctx.actor());
  if (!added.ok()) return ctx.Fail(added.status());
  ctx.out() << "added tenant " << added->slug << " (" << added->tier << ", " << added->region
            << ") as PENDING; id " << added->id << "\n";
  return kExitOk;
}

int CmdTenantsImport(CommandContext& ctx, const Args& args) {
  std::string path, file_format, format = "table";
  bool skip_invalid = false;
  po::options_description o("Options");
  o.add_options()("file", po::value(&path)->required(), "the file to import; - for standard input")(
      "file-format", po::value(&file_format), "jsonl | csv (default: csv for a *.csv file, else jsonl)")(
      "skip-invalid", po::bool_switch(&skip_invalid),
      "import the valid lines and report the others, instead of importing nothing")(
      "format", po::value(&format), "the report: table | json");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(
          ctx, "tenants import FILE|- [--file-format jsonl|csv] [--skip-invalid] [--format table|json]",
          "Adds many PENDING tenants at once. Every line is checked as `tenants add` checks it "
          "(the same validator and step 1), then all of them are added in one transaction, or none: "
          "any bad line is listed with its number and nothing is written (exit 2), unless "
          "--skip-invalid. JSON lines: {\"slug\", \"tier\", \"admin_email\", \"region\"?, \"spec\"?}; CSV: a "
          "header line naming the columns slug,tier,admin_email[,region][,spec].",
          o, pos, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  auto file_kind =
      ParseImportFormat(!file_format.empty()                                               ? file_format
                        : path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0 ? "csv"
                                                                                           : "jsonl");
  if (!file_kind.ok()) return ctx.Fail(file_kind.status());
  auto catalog = ctx.catalog();
  if (!catalog.ok()) return ctx.Fail(catalog.status());

  Result<ImportFile> file = InvalidArgument("no input");
  if (path == "-") {
    file = ReadImportFile(std::cin, *file_kind, ctx.config().default_region);
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return ctx.Fail(InvalidArgument("import file " + path + " is a directory"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return ctx.Fail(InvalidArgument("cannot read import file " + path));
    file = ReadImportFile(in, *file_kind, ctx.config().default_region);
  }
  if (!file.ok()) return ctx.Fail(file.status());

  // Judge every line as `tenants add` would; a line is bad for its first problem. The runner's
  // own checks first, then step 1 on the lines that passed them, from run.workers threads at once
  // (each call of a kind is independent; in process isolation each thread has its own worker).
  TenantRequestValidator validator((*catalog)->Tiers(), ctx.config().regions);
  std::vector<ImportProblem> problems = file->problems;
  std::vector<NewTenant> candidates;
  std::vector<int> candidate_lines;
  std::map<std::string, int> first_line;
  for (const auto& [line, req] : file->tenants) {
    std::string spec;
    if (Status s = validator.Check(req, spec); !s.ok()) {
      problems.push_back({line, s.message()});
      continue;
    }
    if (auto [it, fresh] = first_line.emplace(req.slug, line); !fresh) {
      problems.push_back({line, "slug '" + req.slug + "' is on line " + std::to_string(it->second) + " too"});
      continue;
    }
    candidates.push_back({req.slug, req.tier, req.region, req.admin_email, spec});
    candidate_lines.push_back(line);
  }
  auto host = ctx.plugins(true);
  if (!host.ok()) return ctx.Fail(host.status());
  std::vector<Status> verdicts(candidates.size());
  {
    std::atomic<size_t> next{0};
    auto judge = [&] {
      for (size_t i = next++; i < candidates.size(); i = next++) {
        const NewTenant& t = candidates[i];
        verdicts[i] = CheckWithStep1(**catalog, **host, ctx.config().engine,
                                     {kUnsavedTenantId, t.slug, t.tier, t.region, t.spec_json});
      }
    };
    const size_t threads = std::min<size_t>(std::max(1, ctx.config().run_workers), candidates.size());
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) pool.emplace_back(judge);
    judge();
    for (auto& t : pool) t.join();
  }
  std::vector<NewTenant> good;
  std::vector<int> good_lines;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (verdicts[i].code() == Code::kInvalidArgument) {
      problems.push_back({candidate_lines[i], verdicts[i].message()});
      continue;
    }
    if (!verdicts[i].ok()) return ctx.Fail(verdicts[i]);  // step 1 could not judge (unreachable, ...)
    good.push_back(std::move(candidates[i]));
    good_lines.push_back(candidate_lines[i]);
  }
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  TenantStore store(**db);
  std::vector<std::string> slugs;
  for (const auto& t : good) slugs.push_back(t.slug);
  auto existing = store.Existing(slugs);
  if (!existing.ok()) return ctx.Fail(existing.status());
  if (!existing->empty()) {
    const std::set<std::string> taken(existing->begin(), existing->end());
    std::vector<NewTenant> kept;
    for (size_t i = 0; i < good.size(); ++i) {
      if (taken.count(good[i].slug))
        problems.push_back({good_lines[i], "tenant '" + good[i].slug + "' exists already"});
      else
        kept.push_back(std::move(good[i]));
    }
    good = std::move(kept);
  }
  std::sort(problems.begin(), problems.end(),
            [](const ImportProblem& a, const ImportProblem& b) { return a.line < b.line; });

  const bool refused = !problems.empty() && !skip_invalid;
  size_t imported = 0;
  if (!refused) {
    auto added = store.AddMany(good, ctx.actor());
    if (!added.ok()) return ctx.Fail(added.status());
    imported = *added;
  }
  if (format == "json") {
    nlohmann::json bad = nlohmann::json::array();
    for (const auto& p : problems) bad.push_back({{"line", p.line}, {"problem", p.what}});
    ctx.out() << nlohmann::json{{"imported", imported}, {"invalid", bad}}.dump(2) << "\n";
  } else {
    for (const auto& p : problems) ctx.err() << "line " << p.line << ": " << p.what << "\n";
  }
  if (refused)
    return ctx.Fail(InvalidArgument("nothing imported: " + std::to_string(problems.size()) + " of " +
                                    std::to_string(problems.size() + good.size()) +
                                    " lines are invalid (listed above; --skip-invalid imports the others)"));
  if (format != "json") {
    ctx.out() << "imported " << imported << (imported == 1 ? " tenant" : " tenants") << " as PENDING";
    if (!problems.empty()) ctx.out() << "; skipped " << problems.size() << " invalid (listed on stderr)";
    ctx.out() << "\n";
  }
  return kExitOk;
}

int CmdTenantsList(CommandContext& ctx, const Args& args) {
  std::string status_text, format = "table", after;
  size_t limit = 500;
  po::options_description o("Options");
  o.add_options()("status", po::value(&status_text), "only tenants in this status (e.g. ACTIVE, FAILED)")(
      "limit", po::value(&limit), "at most this many tenants, by slug (default 500, at most 100000)")(
      "after", po::value(&after), "the page after this slug (the hint under a full page names it)")(
      "format", po::value(&format), "table | json");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "tenants list [--status S] [--limit N] [--after SLUG] [--format table|json]",
                 "Lists tenants by slug, a page at a time.", o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  if (limit < 1 || limit > 100000) return ctx.Fail(InvalidArgument("--limit must be between 1 and 100000"));
  std::optional<TenantStatus> status;
  if (!status_text.empty()) {
    for (auto& c : status_text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    status = ParseTenantStatus(status_text);
    if (!status) return ctx.Fail(InvalidArgument("unknown status '" + ShownInMessage(status_text) + "'"));
  }
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  auto tenants = TenantStore(**db).List(status, after, limit + 1);  // one more: is there a next page?
  if (!tenants.ok()) return ctx.Fail(tenants.status());
  const bool more = tenants->size() > limit;
  if (more) tenants->pop_back();
  if (format == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : *tenants)
      j.push_back({{"slug", t.slug}, {"tier", t.tier}, {"status", ToString(t.status)}});
    ctx.out() << j.dump(2) << "\n";
  } else {
    Table table({"SLUG", "TIER", "REGION", "STATUS", "ATTEMPTS", "UPDATED", "LAST ERROR"});
    for (const auto& t : *tenants)
      table.Add({t.slug, t.tier, t.region, ToString(t.status), std::to_string(t.attempts),
                 t.updated_at.substr(0, 19), t.last_error.substr(0, 80)});
    if (table.empty())
      ctx.out() << "no tenants\n";
    else
      table.Print(ctx.out());
  }
  // The hint goes to stderr, so the JSON on stdout stays one array a program can read.
  if (more)
    ctx.err() << "more tenants follow: tenants list --after " << tenants->back().slug << " --limit " << limit
              << (status ? std::string(" --status ") + ToString(*status) : std::string()) << "\n";
  return kExitOk;
}

namespace {

// What a command of the form `NAME SLUG [--format table|json]` starts with.
struct TenantCommand {
  std::string format = "table";
  const Database* db = nullptr;
  TenantRecord tenant;
};

// Parses the arguments, opens the database and reads the tenant; false with `exit` set when the
// command should stop (help, bad usage, unknown tenant, database unreachable).
bool StartTenantCommand(CommandContext& ctx, const Args& args, const std::string& usage,
                        const std::string& summary, TenantCommand& cmd, int& exit) {
  std::string slug;
  po::options_description o("Options");
  o.add_options()("slug", po::value(&slug)->required(), "the tenant")("format", po::value(&cmd.format),
                                                                      "table | json");
  po::positional_options_description pos;
  pos.add("slug", 1);
  po::variables_map vm;
  if (!ParseArgs(ctx, usage, summary, o, pos, args, vm, exit)) return false;
  if (!CheckFormat(ctx, cmd.format, exit)) return false;
  auto db = ctx.database();
  if (!db.ok()) {
    exit = ctx.Fail(db.status());
    return false;
  }
  cmd.db = *db;
  auto t = TenantStore(*cmd.db).Get(slug);
  if (!t.ok()) {
    exit = ctx.Fail(t.status());
    return false;
  }
  cmd.tenant = std::move(*t);
  return true;
}

}  // namespace

int CmdTenantsShow(CommandContext& ctx, const Args& args) {
  TenantCommand cmd;
  int exit = 0;
  if (!StartTenantCommand(ctx, args, "tenants show SLUG [--format table|json]",
                          "Shows a tenant and all its steps.", cmd, exit))
    return exit;
  const std::string& format = cmd.format;
  const TenantRecord& t = cmd.tenant;
  TenantStore store(*cmd.db);
  auto recorded = store.Steps(t.id);
  if (!recorded.ok()) return ctx.Fail(recorded.status());
  // A step gets its row when a run first works it: the catalog's steps without one are PENDING.
  // Without the catalog (it does not load), only the recorded steps can be shown.
  auto catalog = ctx.catalog();
  if (!catalog.ok())
    ctx.err() << "note: the catalog did not load (" << catalog.status().message()
              << "); steps never run are not listed\n";
  const std::vector<StepRecord> steps =
      WithUnrecordedSteps(std::move(*recorded), catalog.ok() ? *catalog : nullptr);
  // Where the tenant lives: what its dedicated-cluster step recorded, else the shared targets.
  std::string placement = "shared cluster and servers";
  for (const auto& s : steps)
    if (s.status == StepStatus::kDone && s.outputs.count("placement")) placement = s.outputs.at("placement");
  if (format == "json") {
    nlohmann::json j = {{"slug", t.slug},
                        {"tier", t.tier},
                        {"placement", placement},
                        {"status", ToString(t.status)},
                        {"generation", t.generation},
                        {"region", t.region},
                        {"id", t.id},
                        {"attempts", t.attempts},
                        {"last_error", t.last_error},
                        {"steps", nlohmann::json::array()}};
    for (const auto& s : steps)
      j["steps"].push_back({{"number", s.number},
                            {"name", s.name},
                            {"phase", s.phase},
                            {"status", ToString(s.status)},
                            {"attempts", s.attempts},
                            {"last_error", s.last_error},
                            {"outputs", s.outputs}});
    ctx.out() << j.dump(2) << "\n";
    return kExitOk;
  }
  ctx.out() << "tenant      " << t.slug << "  (" << t.id << ")\n"
            << "tier        " << t.tier << "   region " << t.region << "\n"
            << "lives on    " << placement << "\n"
            << "status      " << ToString(t.status) << "   generation " << t.generation << " (observed "
            << t.observed_generation << ")   attempts " << t.attempts << "\n";
  if (!t.last_error.empty()) ctx.out() << "last error  " << t.last_error << "\n";
  if (!t.last_reconciled_at.empty()) ctx.out() << "reconciled  " << t.last_reconciled_at << "\n";
  if (!t.deletion_due_at.empty()) ctx.out() << "deletion at " << t.deletion_due_at << "\n";
  ctx.out() << "\n";
  Table table({"#", "STEP", "PHASE", "STATUS", "ATTEMPTS", "FINISHED", "LAST ERROR"});
  for (const auto& s : steps)
    table.Add({std::to_string(s.number), s.name, std::to_string(s.phase), ToString(s.status),
               std::to_string(s.attempts), s.finished_at.substr(0, 19), s.last_error.substr(0, 80)});
  table.Print(ctx.out());
  // What the steps recorded (ids, endpoints, where the tenant lives; plugins may never put a
  // secret in an output): the whole value in JSON, a shortened one here.
  Table outputs({"#", "STEP", "OUTPUT", "VALUE"});
  bool any = false;
  for (const auto& s : steps)
    for (const auto& [key, value] : s.outputs) {
      outputs.Add(
          {std::to_string(s.number), s.name, key, value.size() > 100 ? value.substr(0, 97) + "..." : value});
      any = true;
    }
  if (any) {
    ctx.out() << "\n";
    outputs.Print(ctx.out());
  }
  return kExitOk;
}

namespace {

nlohmann::json HistoryJson(const AuditRow& r) {
  nlohmann::json e = {{"seq", r.seq},
                      {"time", r.created_at},
                      {"event", r.event.event},
                      {"run_id", r.run_id},
                      {"runner", r.runner},
                      {"step_name", r.event.step_name},
                      {"plugin", r.event.plugin},
                      {"plugin_version", r.event.plugin_version},
                      {"details", r.event.details},
                      {"hash", r.hash}};
  e["step_number"] = r.event.step_number ? nlohmann::json(*r.event.step_number) : nlohmann::json(nullptr);
  return e;
}

std::vector<std::string> HistoryCells(const AuditRow& r) {
  std::string step =
      r.event.step_number ? std::to_string(*r.event.step_number) + " " + r.event.step_name : "";
  std::string plugin = r.event.plugin.empty() ? "" : r.event.plugin + " " + r.event.plugin_version;
  std::string details = r.event.details.empty() ? "" : r.event.details.dump();
  if (details.size() > 100) details = details.substr(0, 97) + "...";
  return {std::to_string(r.seq), r.created_at.substr(0, 19), r.event.event, step, plugin, details};
}

// history with filters or --all: AuditSearch, newest `limit` events shown oldest first.
int FilteredHistory(CommandContext& ctx, const AuditFilter& filter, const std::string& format) {
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  if (filter.slug)  // an unknown or malformed slug is "no tenant" (exit 2), never a query error
    if (auto t = TenantStore(**db).Get(*filter.slug); !t.ok()) return ctx.Fail(t.status());
  auto found = AuditSearch::Find(**db, filter);
  if (!found.ok()) return ctx.Fail(found.status());
  if (format == "json") {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& r : found->rows) {
      nlohmann::json e = HistoryJson(r.row);
      e["tenant"] = r.slug;
      events.push_back(std::move(e));
    }
    // Per-tenant history without filters stays a bare array; the filtered form says what it left out.
    ctx.out() << nlohmann::json{{"events", events}, {"left_out", found->left_out}}.dump(2) << "\n";
    return kExitOk;
  }
  if (found->left_out > 0)
    ctx.out() << "(" << found->left_out << " older matching event(s) not shown; narrow with --since, --step, "
              << "--event or raise --limit)\n";
  if (found->rows.empty()) {
    ctx.out() << "no matching events\n";
    return kExitOk;
  }
  Table table({"TENANT", "SEQ", "TIME", "EVENT", "STEP", "PLUGIN", "DETAILS"});
  for (const auto& r : found->rows) {
    auto cells = HistoryCells(r.row);
    cells.insert(cells.begin(), r.slug);
    table.Add(std::move(cells));
  }
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace

int CmdHistory(CommandContext& ctx, const Args& args) {
  std::string slug, format = "table", since, step, event;
  bool all = false;
  AuditFilter filter;
  po::options_description o("Options");
  o.add_options()("slug", po::value(&slug), "the tenant")("all", po::bool_switch(&all), "every tenant")(
      "since", po::value(&since), "only events newer than this (e.g. 12h, 7d); default 24h with --all")(
      "step", po::value(&step), "only events of this step (number or name)")(
      "event", po::value(&event), "only this event (e.g. step.failed), or a prefix ending in * (operator.*)")(
      "limit", po::value(&filter.limit), "at most this many events, the newest (default 1000)")(
      "format", po::value(&format), "table | json");
  po::positional_options_description pos;
  pos.add("slug", 1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx,
                 "history (SLUG | --all) [--since DURATION] [--step N] [--event E] [--limit N] "
                 "[--format table|json]",
                 "The audit trail, oldest first: one tenant's, or the whole fleet's with --all\n"
                 "(\"what changed last night\": history --all --since 12h).",
                 o, pos, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  if (all == !slug.empty())
    return ctx.Fail(InvalidArgument(all ? "history takes a tenant SLUG or --all, not both"
                                        : "history needs a tenant SLUG or --all"));
  bool filtered = all || !since.empty() || !step.empty() || !event.empty() || vm.count("limit");
  if (filtered) {
    if (!slug.empty()) filter.slug = slug;
    if (!since.empty() || all) {
      auto d = ParseDuration(since.empty() ? "24h" : since, "--since");
      if (!d.ok()) return ctx.Fail(d.status());
      filter.since = *d;
    }
    if (!step.empty()) {
      if (step.find_first_not_of("0123456789") == std::string::npos && step.size() < 6) {
        filter.step_number = std::stoi(step);
        if (*filter.step_number < kMinStepNumber || *filter.step_number > kMaxStepNumber)
          return ctx.Fail(InvalidArgument("--step " + step + ": step numbers are " +
                                          std::to_string(kMinStepNumber) + "-" +
                                          std::to_string(kMaxStepNumber)));
      } else
        filter.step_name = step;
    }
    if (!event.empty()) filter.event = event;
    if (filter.limit < 1) return ctx.Fail(InvalidArgument("--limit must be at least 1"));
    return FilteredHistory(ctx, filter, format);
  }

  TenantCommand cmd;
  if (!StartTenantCommand(ctx, {slug, "--format", format}, "history SLUG [--format table|json]",
                          "The tenant's audit trail, oldest first.", cmd, exit))
    return exit;
  auto rows = AuditLog::History(*cmd.db, cmd.tenant.id);
  if (!rows.ok()) return ctx.Fail(rows.status());
  if (format == "json") {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : *rows) j.push_back(HistoryJson(r));
    ctx.out() << j.dump(2) << "\n";
    return kExitOk;
  }
  Table table({"SEQ", "TIME", "EVENT", "STEP", "PLUGIN", "DETAILS"});
  for (const auto& r : *rows) table.Add(HistoryCells(r));
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace matih::runner
