// run and plan.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/table.h"
#include "engine/batch_run.h"
#include "engine/step_executor.h"
#include "store/fleet_status.h"
#include "store/tenant_store.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace matih::runner {
namespace po = boost::program_options;
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop = true; }

// Tenants by status (every status, zero when none) and the oldest PENDING tenant, for the
// gauges: one aggregate query (store/fleet_status.h), never a load of every tenant.
// Read on the run's own connection (BatchRun::OnRunLink).
void SetTenantGauges(BatchRun& run, Metrics& metrics) {
  std::map<std::string, int> counts;
  for (TenantStatus s : AllTenantStatuses()) counts[ToString(s)] = 0;
  FleetStatusQuery::Gauges gauges;
  Status read = run.OnRunLink([&](pqxx::connection& c) {
    auto g = FleetStatusQuery::ReadGauges(c);
    if (!g.ok()) return g.status();
    gauges = std::move(*g);
    return Status::Ok();
  });
  if (!read.ok()) return;
  for (const auto& [status, n] : gauges.by_status) counts[status] = static_cast<int>(n);
  metrics.TenantsByStatus(counts);
  if (gauges.oldest_pending_created) metrics.OldestPending(*gauges.oldest_pending_created);
}

}  // namespace

int CmdRun(CommandContext& ctx, const Args& args) {
  RunOptions opts;
  opts.limit = ctx.config().run_limit;
  opts.workers = ctx.config().run_workers;
  std::string slug;
  po::options_description o("Options");
  o.add_options()("limit", po::value(&opts.limit), "claim at most N tenants (default: run.limit)")(
      "workers", po::value(&opts.workers), "work N tenants at once (default: run.workers)")(
      "tenant", po::value(&slug), "only this tenant; an ACTIVE one is checked for drift now")(
      "pending-only", "only onboarding, retries, rollbacks and deletions; no drift pass")(
      "drift-only", "only the drift pass over ACTIVE tenants")(
      "explain-claim",
      "print EXPLAIN ANALYZE of the claim statements (rolled back: claims nothing) and exit");
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(
          ctx,
          "run [--limit N] [--workers N] [--tenant SLUG] [--pending-only|--drift-only] [--explain-claim]",
          "One batch pass: claims due tenants, converges them, records everything, exits.", o, {}, args, vm,
          exit))
    return exit;
  if (vm.count("pending-only") && vm.count("drift-only"))
    return ctx.Fail(InvalidArgument("--pending-only and --drift-only exclude each other"));
  // An empty --tenant is a mistake (an unset shell variable), never "every tenant".
  if (vm.count("tenant") && slug.empty()) return ctx.Fail(InvalidArgument("--tenant needs a tenant slug"));
  // The same bounds as run.limit and run.workers in the config file: each worker holds database
  // connections, so the worker count is the runner's connection budget (README, "Configuration").
  if (opts.limit < 1 || opts.limit > kMaxRunLimit)
    return ctx.Fail(InvalidArgument("--limit must be between 1 and " + std::to_string(kMaxRunLimit)));
  if (opts.workers < 1 || opts.workers > kMaxRunWorkers)
    return ctx.Fail(InvalidArgument("--workers must be between 1 and " + std::to_string(kMaxRunWorkers)));
  opts.mode = vm.count("pending-only") ? ClaimMode::kPendingOnly
              : vm.count("drift-only") ? ClaimMode::kDriftOnly
                                       : ClaimMode::kAll;
  if (!slug.empty()) opts.slug = slug;
  opts.lease = ctx.config().lease;
  opts.heartbeat = ctx.config().heartbeat;
  opts.drift_interval = ctx.config().drift_interval;
  opts.db_reconnect = ctx.config().db_reconnect;
  // Naming one tenant means "look at it now": its drift pass is due whatever the interval.
  if (opts.slug) opts.drift_interval = Millis(0);

  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  if (vm.count("explain-claim")) {
    auto conn = (*db)->Connect();
    if (!conn.ok()) return ctx.Fail(conn.status());
    ClaimOptions claim{RunnerIdentity(), opts.limit, opts.lease, opts.drift_interval,
                       opts.mode,        opts.slug,  ""};
    auto plan = ClaimQuery::Explain(**conn, claim);
    if (!plan.ok()) return ctx.Fail(plan.status());
    ctx.out() << *plan;
    return kExitOk;
  }
  auto catalog = ctx.catalog();
  if (!catalog.ok()) return ctx.Fail(catalog.status());
  auto plugins = ctx.plugins();
  if (!plugins.ok()) return ctx.Fail(plugins.status());
  auto secrets = ctx.secrets(true);
  if (!secrets.ok()) return ctx.Fail(secrets.status());
  if (!slug.empty()) {
    auto t = TenantStore(**db).Get(slug);
    if (!t.ok()) return ctx.Fail(t.status());
  }

  Metrics metrics;
  if (!ctx.config().metrics_listen.empty())
    if (Status s = metrics.Serve(ctx.config().metrics_listen); !s.ok())
      return ctx.Fail(InvalidArgument(s.message()));

  ServiceDeps deps;
  deps.catalog = *catalog;
  deps.kinds = *plugins;
  deps.secrets = *secrets;
  deps.metrics = &metrics;
  deps.options = &ctx.config().engine;
  deps.settings = std::make_shared<const std::map<std::string, std::string>>(ctx.config().engine.settings);
  deps.run_id = NewUuid();
  deps.runner = RunnerIdentity();

  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  BatchRun run(**db, deps, opts);
  run.SetStopFlag(&g_stop);
  const bool progress = isatty(STDERR_FILENO) && ctx.config().log_format == LogFormat::kText;
  if (progress)
    run.OnProgress([&](int done, int total, int failures) {
      ctx.err() << "\r" << done << "/" << total << " tenants done, " << failures << " not ok"
                << (done == total ? "\n" : "") << std::flush;
    });
  auto summary = run.Execute();
  if (!summary.ok()) return ctx.Fail(summary.status());
  const int code = summary->database_lost                          ? kExitDatabase
                   : summary->failed() > 0                         ? kExitTenantFailed
                   : summary->not_ok() == 0 && !summary->must_exit ? kExitOk
                                                                   : kExitError;
  const Status finished = run.Finish(code);
  if (!finished.ok()) Logger::Error({deps.run_id, "", ""}, "exit code not recorded: " + finished.ToString());

  const bool success = code == kExitOk;
  // Not when the database could not be reached for the exit code: they would wait for it again.
  if (finished.ok()) SetTenantGauges(run, metrics);
  metrics.RunFinished(summary->seconds, success);
  if (!ctx.config().metrics_pushgateway.empty())
    if (Status s = metrics.Push(ctx.config().metrics_pushgateway, ctx.config().metrics_job, deps.runner);
        !s.ok())
      Logger::Warn({deps.run_id, "", ""}, "metrics not pushed: " + s.message());
  if (!ctx.config().metrics_textfile.empty())
    if (Status s = metrics.WriteTextfile(ctx.config().metrics_textfile); !s.ok())
      Logger::Warn({deps.run_id, "", ""}, "metrics textfile not written: " + s.message());

  if (ctx.config().log_format == LogFormat::kJson) {
    nlohmann::json j = {{"run_id", summary->run_id},
                        {"seconds", summary->seconds},
                        {"claim_seconds", summary->claim_seconds},
                        {"tenants", nlohmann::json::array()}};
    for (const auto& t : summary->tenants)
      j["tenants"].push_back({{"slug", t.slug},
                              {"status", ToString(t.final_status)},
                              {"outcome", ToString(t.outcome)},
                              {"error", t.error}});
    ctx.out() << j.dump() << "\n";
  } else if (summary->tenants.empty()) {
    ctx.out() << "run " << summary->run_id << ": no tenant was due\n";
  } else {
    Table table({"TENANT", "STATUS", "OUTCOME", "ERROR"});
    for (const auto& t : summary->tenants)
      table.Add({t.slug, ToString(t.final_status), ToString(t.outcome), t.error.substr(0, 100)});
    table.Print(ctx.out());
    ctx.out() << "run " << summary->run_id << ": " << summary->tenants.size() << " tenant(s), "
              << summary->tenants.size() - summary->not_ok() << " ok, " << summary->not_ok() << " not ok\n";
  }
  if (summary->database_lost)
    ctx.err() << "matih-provisioner: the database was lost for longer than run.db_reconnect ("
              << FormatDuration(opts.db_reconnect) << "); unfinished tenants are left to their leases\n";
  if (summary->must_exit) {
    // Abandoned in-process calls still run on threads nothing can stop: no static destructor
    // may run under them, so the process leaves here.
    ctx.err() << "matih-provisioner: " << StepExecutor::AbandonedCalls()
              << " step call(s) ignored their timeout and still run in this process; it stopped claiming "
                 "and leaves now (unfinished tenants are left to their leases)\n";
    ctx.out().flush();
    ctx.err().flush();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

int CmdPlan(CommandContext& ctx, const Args& args) {
  std::string slug, format = "table";
  po::options_description o("Options");
  int workers = ctx.config().run_workers;
  o.add_options()("slug", po::value(&slug), "the tenant")("all", "every tenant that is not DELETED")(
      "format", po::value(&format), "table | json")(
      "workers", po::value(&workers), "with --all: plan N tenants at once (default: run.workers)");
  po::positional_options_description pos;
  pos.add("slug", 1);
  po::variables_map vm;
  int exit = 0;
  if (!ParseArgs(ctx, "plan (SLUG|--all [--workers N]) [--format table|json]",
                 "Observes every step and shows what a run would change. Changes nothing.", o, pos, args, vm,
                 exit))
    return exit;
  if (!CheckFormat(ctx, format, exit)) return exit;
  if (slug.empty() == !vm.count("all"))
    return ctx.Fail(InvalidArgument("plan needs a SLUG or --all (not both)"));
  if (workers < 1 || workers > kMaxRunWorkers)
    return ctx.Fail(InvalidArgument("--workers must be between 1 and " + std::to_string(kMaxRunWorkers)));

  auto db = ctx.database();
  if (!db.ok()) return ctx.Fail(db.status());
  auto catalog = ctx.catalog();
  if (!catalog.ok()) return ctx.Fail(catalog.status());
  auto plugins = ctx.plugins();
  if (!plugins.ok()) return ctx.Fail(plugins.status());
  auto secrets = ctx.secrets(false);
  if (!secrets.ok()) return ctx.Fail(secrets.status());
  TenantStore store(**db);
  auto conn = (*db)->Connect();
  if (!conn.ok()) return ctx.Fail(conn.status());

  ServiceDeps deps;
  deps.catalog = *catalog;
  deps.kinds = *plugins;
  deps.secrets = *secrets;
  deps.options = &ctx.config().engine;
  deps.settings = std::make_shared<const std::map<std::string, std::string>>(ctx.config().engine.settings);
  deps.run_id = "plan-" + NewUuid();
  deps.runner = RunnerIdentity();
  nlohmann::json j = {{"tenants", nlohmann::json::array()}};
  // One tenant's plan, as its JSON object or its table text. Safe from several threads: each call
  // has its own service; the catalog, kinds and secret store are shared as in `run`.
  auto render = [&](const TenantRecord& t, std::map<int, StepRecord> records, nlohmann::json& tj,
                    std::string& text) {
    // Plan never flushes: the session only satisfies the service's constructor.
    TenantSession unused(**conn, Lease{t.id, "plan", -1}, t.status, deps.run_id, deps.runner);
    ProvisioningService service(deps, unused, t, std::move(records), nullptr);
    auto plan = service.Plan();
    if (format == "json") {
      tj = {{"slug", t.slug}, {"steps", nlohmann::json::array()}};
      for (const auto& p : plan)
        tj["steps"].push_back({{"number", p.number}, {"name", p.name}, {"state", p.state}, {"diff", p.diff}});
      return;
    }
    std::map<std::string, int> counts;
    for (const auto& p : plan) ++counts[p.state];
    std::ostringstream out;
    out << t.slug << " (" << ToString(t.status) << ", " << t.tier << "): ";
    bool first = true;
    for (const char* state : {"in_sync", "drifted", "absent", "error", "skipped"}) {
      out << (first ? "" : ", ") << counts[state] << " " << state;
      first = false;
    }
    out << "\n";
    Table table({"  #", "STEP", "STATE", "DIFF"});
    for (const auto& p : plan)
      if (p.state != "in_sync" && p.state != "skipped")
        table.Add({"  " + std::to_string(p.number), p.name, p.state, p.diff.substr(0, 120)});
    if (!table.empty()) table.Print(out);
    text = out.str();
  };
  auto emit = [&](const nlohmann::json& tj, const std::string& text) {
    if (format == "json")
      j["tenants"].push_back(tj);
    else
      ctx.out() << text;
  };
  if (!slug.empty()) {
    auto t = store.Get(slug);
    if (!t.ok()) return ctx.Fail(t.status());
    auto steps = store.Steps(t->id);
    if (!steps.ok()) return ctx.Fail(steps.status());
    std::map<int, StepRecord> records;
    for (auto& s : *steps) records[s.number] = s;
    nlohmann::json tj;
    std::string text;
    render(*t, std::move(records), tj, text);
    emit(tj, text);
  } else {
    // --all pages through the tenants by slug, reading each page's step rows in one statement
    // on one connection, and plans a page on `workers` threads; output keeps the slug order.
    // Memory and round trips stay flat whatever the fleet's size.
    constexpr size_t kPage = 500;
    std::string after;
    for (;;) {
      auto page = store.List(std::nullopt, after, kPage);
      if (!page.ok()) return ctx.Fail(page.status());
      if (page->empty()) break;
      after = page->back().slug;
      // The page's tenants to plan (deleted ones are left out), planned on `workers` threads and
      // printed in slug order.
      std::vector<const TenantRecord*> planned;
      std::vector<std::string> ids;
      for (const auto& t : *page)
        if (t.status != TenantStatus::kDeleted) {
          planned.push_back(&t);
          ids.push_back(t.id);
        }
      std::map<std::string, std::map<int, StepRecord>> steps;
      Status read = Guard("read steps", [&] {
        pqxx::nontransaction tx(**conn);
        steps = TenantStore::ReadStepsOf(tx, ids);
        return Status::Ok();
      });
      if (!read.ok()) return ctx.Fail(read);
      std::vector<std::map<int, StepRecord>> records(planned.size());
      for (size_t i = 0; i < planned.size(); ++i) records[i] = std::move(steps[planned[i]->id]);
      std::vector<nlohmann::json> page_json(planned.size());
      std::vector<std::string> page_text(planned.size());
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i; (i = next++) < planned.size();)
          render(*planned[i], std::move(records[i]), page_json[i], page_text[i]);
      };
      std::vector<std::thread> pool;
      for (int w = 1; w < std::min<int>(workers, static_cast<int>(planned.size())); ++w)
        pool.emplace_back(work);
      work();
      for (auto& th : pool) th.join();
      for (size_t i = 0; i < planned.size(); ++i) emit(page_json[i], page_text[i]);
      if (page->size() < kPage) break;
    }
  }
  if (format == "json") ctx.out() << j.dump(2) << "\n";
  return kExitOk;
}

}  // namespace matih::runner
