// status: the fleet in one screen (tenants by status and tier, the oldest PENDING, FAILED and
// ROLLED_BACK tenants with their failing step, tenants past their drift interval, the last runs,
// leases held, the steps that failed most in the last 24 h). Reads aggregates only
// (store/fleet_status.h), so it answers in well under a second at 100,000 tenants.
//
// The JSON shape is a contract for scripts and dashboards (tests/cli/status_command_test.cc
// fixes it): keys are only ever added, never renamed or removed.
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "common/duration.h"
#include "store/fleet_status.h"

namespace matih::runner {
namespace po = boost::program_options;
namespace {

const char* const kTiers[] = {"free", "starter", "professional", "enterprise"};

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string Seconds(int64_t s) { return FormatDuration(Millis(s * 1000)); }

std::string Short(const std::string& s, size_t n) { return s.size() > n ? s.substr(0, n - 3) + "..." : s; }

nlohmann::json ToJson(const FleetStatus& fs, const FleetStatusOptions& o) {
  nlohmann::json by_status = nlohmann::json::object();
  nlohmann::json by_tier = nlohmann::json::object();
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& c : fs.counts) {
    by_status[c.status] = by_status.value(c.status, int64_t{0}) + c.count;
    by_tier[c.tier] = by_tier.value(c.tier, int64_t{0}) + c.count;
    pairs.push_back({{"status", c.status}, {"tier", c.tier}, {"count", c.count}});
  }
  nlohmann::json j;
  j["as_of"] = fs.as_of;
  j["tenants"] = {
      {"total", fs.total}, {"by_status", by_status}, {"by_tier", by_tier}, {"by_status_tier", pairs}};
  nlohmann::json oldest = nullptr;
  if (fs.oldest_pending)
    oldest = {{"slug", fs.oldest_pending->slug},
              {"tier", fs.oldest_pending->tier},
              {"created_at", fs.oldest_pending->created_at},
              {"waiting_seconds", fs.oldest_pending->waiting_seconds}};
  j["pending"] = {{"count", fs.pending}, {"oldest", oldest}};
  nlohmann::json troubled = nlohmann::json::array();
  for (const auto& t : fs.troubled) {
    nlohmann::json step = nullptr;
    if (t.step_number) step = {{"number", *t.step_number}, {"name", t.step_name}};
    troubled.push_back({{"slug", t.slug},
                        {"tier", t.tier},
                        {"status", t.status},
                        {"since", t.since},
                        {"failing_step", step},
                        {"last_error", t.last_error}});
  }
  j["failed"] = {{"count", fs.troubled_total}, {"tenants", troubled}};
  nlohmann::json overdue = nlohmann::json::array();
  for (const auto& t : fs.overdue)
    overdue.push_back(
        {{"slug", t.slug}, {"tier", t.tier}, {"last_reconciled_at", OrNull(t.last_reconciled_at)}});
  j["drift_overdue"] = {{"count", fs.overdue_total},
                        {"interval_seconds", o.drift_interval.count() / 1000},
                        {"tenants", overdue}};
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : fs.runs)
    runs.push_back({{"id", r.id},
                    {"runner", r.runner},
                    {"mode", r.mode},
                    {"started_at", r.started_at},
                    {"finished_at", OrNull(r.finished_at)},
                    {"duration_seconds", OrNull(r.seconds)},
                    {"tenants_claimed", r.tenants_claimed},
                    {"tenants_ok", r.tenants_ok},
                    {"tenants_failed", r.tenants_failed},
                    {"exit_code", OrNull(r.exit_code)},
                    {"outcome", r.outcome}});
  j["runs"] = runs;
  nlohmann::json leases = nlohmann::json::array();
  for (const auto& l : fs.leases)
    leases.push_back({{"owner", l.owner},
                      {"tenants", l.tenants},
                      {"earliest_expiry", l.earliest_expiry},
                      {"latest_expiry", l.latest_expiry}});
  j["leases"] = leases;
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : fs.failing_steps)
    steps.push_back(
        {{"number", s.step_number}, {"name", s.step_name}, {"failures", s.failures}, {"tenants", s.tenants}});
  j["failing_steps_24h"] = steps;
  return j;
}

void PrintTable(std::ostream& out, const FleetStatus& fs, const FleetStatusOptions& o) {
  out << "fleet at " << fs.as_of << ": " << fs.total << " tenant(s)\n\n";

  // Status x tier, the statuses that have tenants only.
  std::map<std::string, std::map<std::string, int64_t>> grid;
  std::map<std::string, int64_t> tier_total;
  for (const auto& c : fs.counts) {
    grid[c.status][c.tier] += c.count;
    tier_total[c.tier] += c.count;
  }
  Table counts({"STATUS", "FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE", "TOTAL"});
  for (const auto& [status, tiers] : grid) {
    std::vector<std::string> row{status};
    int64_t sum = 0;
    for (const char* tier : kTiers) {
      auto it = tiers.find(tier);
      row.push_back(std::to_string(it == tiers.end() ? 0 : it->second));
      sum += it == tiers.end() ? 0 : it->second;
    }
    row.push_back(std::to_string(sum));
    counts.Add(row);
  }
  if (counts.empty()) {
    out << "no tenants\n";
  } else {
    std::vector<std::string> total{"(all)"};
    for (const char* tier : kTiers) total.push_back(std::to_string(tier_total[tier]));
    total.push_back(std::to_string(fs.total));
    counts.Add(total);
    counts.Print(out);
  }

  out << "\nPENDING: " << fs.pending;
  if (fs.oldest_pending)
    out << "; oldest " << fs.oldest_pending->slug << " (" << fs.oldest_pending->tier << "), waiting "
        << Seconds(fs.oldest_pending->waiting_seconds) << " since " << fs.oldest_pending->created_at;
  out << "\n";

  out << "\nFAILED or ROLLED_BACK: " << fs.troubled_total;
  if (fs.troubled_total > static_cast<int64_t>(fs.troubled.size()))
    out << " (newest " << fs.troubled.size() << " shown; all: tenants list --status FAILED or ROLLED_BACK)";
  out << "\n";
  if (!fs.troubled.empty()) {
    Table t({"TENANT", "TIER", "STATUS", "SINCE", "FAILING STEP", "LAST ERROR"});
    for (const auto& x : fs.troubled)
      t.Add({x.slug, x.tier, x.status, x.since,
             x.step_number ? std::to_string(*x.step_number) + " " + x.step_name : "",
             Short(x.last_error, 80)});
    t.Print(out);
  }

  out << "\nPAST DRIFT INTERVAL (" << FormatDuration(o.drift_interval) << "): " << fs.overdue_total;
  if (fs.overdue_total > static_cast<int64_t>(fs.overdue.size()))
    out << " (longest overdue " << fs.overdue.size() << " shown)";
  out << "\n";
  if (!fs.overdue.empty()) {
    Table t({"TENANT", "TIER", "LAST RECONCILED"});
    for (const auto& x : fs.overdue)
      t.Add({x.slug, x.tier, x.last_reconciled_at.empty() ? "never" : x.last_reconciled_at});
    t.Print(out);
  }

  out << "\nLAST RUNS:";
  if (fs.runs.empty()) {
    out << " none recorded\n";
  } else {
    out << "\n";
    Table t({"STARTED", "DURATION", "OUTCOME", "EXIT", "CLAIMED", "OK", "FAILED", "MODE", "RUNNER"});
    for (const auto& r : fs.runs)
      t.Add({r.started_at,
             r.seconds ? FormatDuration(Millis(static_cast<long long>(*r.seconds * 1000))) : "-", r.outcome,
             r.exit_code ? std::to_string(*r.exit_code) : "-", std::to_string(r.tenants_claimed),
             std::to_string(r.tenants_ok), std::to_string(r.tenants_failed), r.mode, r.runner});
    t.Print(out);
  }

  out << "\nLEASES HELD:";
  if (fs.leases.empty()) {
    out << " none\n";
  } else {
    out << "\n";
    Table t({"RUNNER", "TENANTS", "EARLIEST EXPIRY", "LATEST EXPIRY"});
    for (const auto& l : fs.leases)
      t.Add({l.owner, std::to_string(l.tenants), l.earliest_expiry, l.latest_expiry});
    t.Print(out);
  }

  out << "\nSTEPS THAT FAILED MOST (24 h):";
  if (fs.failing_steps.empty()) {
    out << " none\n";
  } else {
    out << "\n";
    Table t({"#", "STEP", "FAILURES", "TENANTS"});
    for (const auto& s : fs.failing_steps)
      t.Add({std::to_string(s.step_number), s.step_name, std::to_string(s.failures),
             std::to_string(s.tenants)});
    t.Print(out);
  }
}

}  // namespace

int CmdStatus(CommandContext& ctx, const Args& args) {
  std::string format = "table";
  FleetStatusOptions options;
  options.drift_interval = ctx.config().drift_interval;
  po::options_description o("Options");
  o.add_options()("format", po::value(&format), "table | json")(
      "limit", po::value(&options.list_limit),
      "rows per list (failed, overdue tenants; failing steps); default 20");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "status [--format table|json] [--limit N]",
                 "The fleet at a glance: tenants by status and tier, the oldest PENDING, FAILED and\n"
                 "ROLLED_BACK tenants with their failing step, tenants past the drift interval\n"
                 "(run.drift_interval), the last runs, leases held, and the steps that failed most in\n"
                 "the last 24 hours.",
                 o, {}, args, vm, exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  if (options.list_limit < 1 || options.list_limit > 10000)
    return ctx.Fail(
        InvalidArgument("--limit must be between 1 and 10000, not " + std::to_string(options.list_limit)));
  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  auto fs = FleetStatusQuery::Read(**db, options);
  if (!fs.ok()) return ctx.Fail(fs.status());
  if (format == "json")
    ctx.out() << ToJson(*fs, options).dump(2) << "\n";
  else
    PrintTable(ctx.out(), *fs, options);
  return kExitOk;
}

}  // namespace matih::runner
