#include "engine/batch_run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "engine/step_executor.h"
#include "store/db_link.h"
#include "store/in_sync_batch.h"
#include "store/tenant_session.h"
#include "telemetry/logger.h"
#include "telemetry/metrics.h"

namespace matih::runner {

int RunSummary::failed() const {
  int n = 0;
  for (const auto& t : tenants) n += t.bad_end() ? 1 : 0;
  return n;
}

int RunSummary::not_ok() const {
  int n = 0;
  for (const auto& t : tenants) n += t.ok() ? 0 : 1;
  return n;
}

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string RunnerIdentity() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

namespace {

// At most this many claimed tenants a worker takes at once and reads the step rows of in one
// round trip (fewer near the end of the queue, so that the workers finish together).
constexpr size_t kStepReadShare = 32;

// Closes the open `runs` rows of earlier runners of this host whose process is gone (a runner
// that died holding no lease; the others are closed when their leases are taken over). A pid that
// is alive again (reused) keeps its row open: never close a live run.
void CloseRunsOfDeadLocalRunners(pqxx::connection& conn, const std::string& self, const std::string& run_id) {
  const std::string host = self.substr(0, self.rfind(':'));
  (void)Guard("close runs of dead runners", [&] {
    pqxx::work tx(conn);
    for (const auto& r : tx.exec_params(
             "SELECT id::text, runner FROM matih.runs WHERE finished_at IS NULL AND id::text <> $2 "
             "AND runner LIKE $1 || ':%'",
             host, run_id)) {
      const std::string runner = r[1].as<std::string>();
      const std::string pid_text = runner.substr(host.size() + 1);
      if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
      const long pid = std::stol(pid_text);
      if (pid <= 0 || pid == static_cast<long>(getpid())) continue;
      if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      tx.exec_params(
          "UPDATE matih.runs SET finished_at = now(), closed_reason = 'the runner process (pid ' || $2 || "
          "') is gone; closed by run ' || $3 WHERE id::text = $1 AND finished_at IS NULL",
          r[0].as<std::string>(), pid_text, run_id);
    }
    tx.commit();
    return Status::Ok();
  });
}

}  // namespace

Result<RunSummary> BatchRun::Execute() {
  const auto started = std::chrono::steady_clock::now();
  RunSummary summary;
  summary.run_id = deps_.run_id;
  const LogFields log{deps_.run_id, "", ""};

  std::atomic<bool> db_gone{false};  // a link gave up on the database: the run winds down
  main_ = std::make_unique<DbLink>(db_, options_.db_reconnect);
  DbLink& main = *main_;
  if (Status s = main.OpenOnce(); !s.ok()) return s;
  const char* mode = options_.mode == ClaimMode::kPendingOnly ? "pending"
                     : options_.mode == ClaimMode::kDriftOnly ? "drift"
                                                              : "all";
  ClaimOptions claim{deps_.runner,  options_.limit, options_.lease, options_.drift_interval,
                     options_.mode, options_.slug,  deps_.run_id};
  claim.read_steps = false;  // the workers read them, a share at a time (below)
  std::vector<ClaimedTenant> claimed;
  const auto claim_sent = std::chrono::steady_clock::now();  // the leases run from (at most) here
  if (Status s = main.Retry([&](pqxx::connection& c) {
        auto got = ClaimQuery::Claim(c, claim);
        if (!got.ok()) return got.status();
        claimed = std::move(*got);
        return Status::Ok();
      });
      !s.ok())
    return s;
  summary.claim_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - claim_sent).count();
  if (options_.slug && claimed.empty()) {
    // Nothing was claimed and nothing is recorded: say why.
    std::string why;
    Status s = main.Retry([&](pqxx::connection& c) {
      auto w = ClaimQuery::WhyNotDue(c, claim);
      if (!w.ok()) return w.status();
      why = *w;
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return FailedPrecondition("tenant '" + *options_.slug + "' cannot be claimed now: " + why);
  }
  if (Status s = main.Retry([&](pqxx::connection& c) {
        return Guard("record run", [&] {
          pqxx::work tx(c);
          tx.exec_params(
              "INSERT INTO matih.runs (id, runner, mode) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
              deps_.run_id, deps_.runner, mode);
          tx.commit();
          return Status::Ok();
        });
      });
      !s.ok())
    return s;
  recorded_ = true;
  CloseRunsOfDeadLocalRunners(main.conn(), deps_.runner, deps_.run_id);
  const int total = static_cast<int>(claimed.size());
  Logger::Info(log, "claimed " + std::to_string(total) + " tenant(s) in " +
                        std::to_string(static_cast<long long>(summary.claim_seconds * 1000)) + " ms");

  // One cancel flag per tenant: raised when its lease is lost or cannot be renewed in time
  // (then `trouble` too: nothing more may be written), or when the runner is asked to stop.
  std::vector<std::unique_ptr<std::atomic<bool>>> cancel, trouble;
  for (int i = 0; i < total; ++i) {
    cancel.push_back(std::make_unique<std::atomic<bool>>(false));
    trouble.push_back(std::make_unique<std::atomic<bool>>(false));
  }

  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> queue;
  for (int i = 0; i < total; ++i) queue.push_back(i);
  std::vector<bool> finished(total, false);
  int done = 0, failures = 0;
  bool all_done = total == 0;
  summary.tenants.resize(total);

  // Extends the leases every `heartbeat` (again every 200 ms after a failure), and passes a stop
  // request on to the tenants within a fraction of a second. When no heartbeat has succeeded
  // for lease - margin, the lease may be about to expire: every unfinished tenant is cancelled.
  const Millis margin = std::min(options_.lease / 2, std::max(options_.heartbeat, options_.lease / 5));
  const Millis statement_timeout = std::max(Millis(100), std::min(options_.heartbeat, Millis(5'000)));
  std::thread heartbeat([&] {
    std::unique_ptr<pqxx::connection> hb_conn;
    auto last_ok = claim_sent;  // the claim itself set the leases
    auto next_beat = last_ok + options_.heartbeat;
    bool failing = false, expired = false;
    std::unique_lock<std::mutex> lock(mu);
    while (!all_done) {
      cv.wait_for(lock, Millis(100), [&] { return all_done; });
      if (all_done) break;
      // Past the cap of abandoned in-process calls the runner stops as if asked to (then leaves
      // with _exit: see RunSummary::must_exit).
      if ((stop_ && stop_->load()) || StepExecutor::MustStop())
        for (auto& c : cancel) c->store(true);
      const auto now = std::chrono::steady_clock::now();
      if (!expired && now >= last_ok + options_.lease - margin) {
        expired = true;
        Logger::Error(log, "no heartbeat succeeded for " +
                               FormatDuration(std::chrono::duration_cast<Millis>(now - last_ok)) +
                               "; the leases may expire: cancelling the work on every unfinished tenant");
        for (int i = 0; i < total; ++i)
          if (!finished[i]) {
            trouble[i]->store(true);
            cancel[i]->store(true);
          }
      }
      if (expired || now < next_beat) continue;
      next_beat = now + (failing ? Millis(200) : options_.heartbeat);
      const auto sent = now;  // a renewal that succeeds runs its leases from (at most) here
      std::vector<Lease> held;
      std::vector<int> index;
      for (int i = 0; i < total; ++i)
        if (!finished[i]) {
          held.push_back(claimed[i].lease);
          index.push_back(i);
        }
      lock.unlock();
      Status st = Status::Ok();
      if (!hb_conn) {
        auto c = db_.Connect();
        if (c.ok())
          hb_conn = std::move(*c);
        else
          st = c.status();
      }
      std::vector<std::string> lost;
      if (hb_conn) {
        auto r = ClaimQuery::Heartbeat(*hb_conn, held, options_.lease, statement_timeout);
        if (r.ok())
          lost = std::move(*r);
        else
          st = r.status();
        if (st.code() == Code::kUnavailable) hb_conn.reset();
      }
      lock.lock();
      if (!st.ok()) {
        if (!failing) Logger::Warn(log, "heartbeat failed: " + st.ToString() + "; retrying");
        failing = true;
        continue;
      }
      if (failing) Logger::Info(log, "heartbeat succeeded again");
      failing = false;
      last_ok = sent;
      for (const std::string& id : lost)
        for (int i : index)
          if (claimed[i].lease.tenant_id == id && !finished[i]) {
            Logger::Warn({deps_.run_id, claimed[i].tenant.slug, ""},
                         "lease lost; stopping work on this tenant");
            trouble[i]->store(true);
            cancel[i]->store(true);
          }
    }
  });

  // A worker holds the writes of the tenants it found in sync (store/in_sync_batch.h) and commits
  // them together: when the oldest has waited run.commit_interval, when the queue is empty, or
  // when the run is stopping. Such a tenant is finished for the heartbeat when it is held (its
  // lease is no longer renewed: the batch's row locks and the heartbeat's never cross), and is
  // reported once its commit has answered.
  auto report = [&](int i, const TenantOutcome& outcome) {
    std::lock_guard<std::mutex> lock(mu);
    summary.tenants[i] = outcome;
    finished[i] = true;
    ++done;
    if (!outcome.ok()) ++failures;
    if (outcome.database_lost) summary.database_lost = true;
    if (progress_) progress_(done, total, failures);
  };
  const int workers = std::max(1, std::min(options_.workers, std::max(total, 1)));
  auto worker = [&] {
    DbLink link(db_, options_.db_reconnect, &db_gone);
    Orchestrator orchestrator(deps_);
    InSyncBatch in_sync(deps_.run_id, deps_.runner);
    std::map<int, TenantOutcome> held;  // by claim index: the outcomes of the tenants in_sync holds
    auto commit_held = [&] {
      for (InSyncBatch::Answer& a : in_sync.Commit(link)) {
        TenantOutcome outcome = std::move(held[a.tag]);
        Status s = a.status;
        if (!s.ok() && s.reason() != Reason::kLeaseLost && s.code() != Code::kUnavailable) {
          // The batch failed as a whole: this tenant's writes go alone, as an unbatched pass's do.
          TenantSession alone(link, a.write.lease, outcome.final_status, deps_.run_id, deps_.runner);
          for (AuditEvent& e : a.write.events) alone.Audit(std::move(e));
          s = alone.Update({.last_error = "",
                            .observed_generation = a.write.observed_generation,
                            .mark_reconciled = true,
                            .release_lease = true,
                            .reset_crashes = true});
          if (s.ok()) s = alone.Flush();
          if (alone.lease_lost() && s.reason() != Reason::kLeaseLost)
            s = Status(Code::kAborted, s.message(), Reason::kLeaseLost);
        }
        if (s.ok()) {
          outcome.commits = 1;
        } else {
          const bool lost = s.reason() == Reason::kLeaseLost;
          outcome.outcome = lost ? Outcome::kLeaseLost : Outcome::kError;
          outcome.error = s.ToString();
          outcome.database_lost = !lost && s.code() == Code::kUnavailable;
          Logger::Error({deps_.run_id, outcome.slug, ""}, "tenant not finished: " + outcome.error);
        }
        if (deps_.metrics) deps_.metrics->TenantProcessed(ToString(outcome.outcome));
        report(a.tag, outcome);
      }
      held.clear();
    };
    // The worker's share of the queue, whose step rows it read in one round trip on its own link
    // (beside the other workers' work, instead of all of them in the claim).
    std::deque<int> share;
    auto take_share = [&] {
      {
        std::lock_guard<std::mutex> lock(mu);
        const size_t n = std::clamp<size_t>(queue.size() / static_cast<size_t>(workers), 1, kStepReadShare);
        for (size_t k = 0; k < n && !queue.empty(); ++k) {
          share.push_back(queue.front());
          queue.pop_front();
        }
      }
      std::vector<ClaimedTenant*> read;
      for (int i : share)
        if (!claimed[i].steps) read.push_back(&claimed[i]);
      // On failure the tenants stay without their rows: each reads its own (and reports the error).
      if (!read.empty() && !db_gone.load() && link.Open().ok())
        (void)link.Retry([&](pqxx::connection& conn) { return ClaimQuery::ReadSteps(conn, read); });
    };
    for (;;) {
      if (share.empty()) take_share();
      if (share.empty()) break;
      const int i = share.front();
      share.pop_front();
      ClaimedTenant& c = claimed[i];  // the heartbeat reads its lease: only its steps are taken
      TenantOutcome outcome;
      outcome.slug = c.tenant.slug;
      outcome.final_status = c.tenant.status;
      std::optional<InSyncWrite> write;
      if (db_gone.load()) {
        outcome.outcome = Outcome::kNotStarted;  // left to its lease: a later run takes it
        outcome.database_lost = true;
        outcome.error = "not started: the database was lost";
      } else if ((stop_ && stop_->load()) || trouble[i]->load() || StepExecutor::MustStop()) {
        outcome.outcome = Outcome::kNotStarted;  // its lease expires and a later run takes it
      } else if (Status s = link.Open(); !s.ok()) {
        outcome.outcome = Outcome::kError;
        outcome.error = s.ToString();
        outcome.database_lost = s.code() == Code::kUnavailable;
      } else {
        outcome = orchestrator.Process(link, c, cancel[i].get(), trouble[i].get(), &write);
      }
      if (write) {
        in_sync.Add(std::move(*write), i);
        held[i] = std::move(outcome);
        std::lock_guard<std::mutex> lock(mu);
        finished[i] = true;  // for the heartbeat only: reported after the commit
      } else {
        report(i, outcome);
      }
      if (in_sync.empty()) continue;
      bool last = share.empty();
      if (last) {
        std::lock_guard<std::mutex> lock(mu);
        last = queue.empty();
      }
      if (last || in_sync.Due(deps_.options->commit_interval) || (stop_ && stop_->load()) || db_gone.load())
        commit_held();
    }
    commit_held();
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    all_done = true;
  }
  cv.notify_all();
  heartbeat.join();

  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  summary.must_exit = StepExecutor::MustStop();
  if (summary.must_exit)
    Logger::Error(log,
                  std::to_string(StepExecutor::AbandonedCalls()) +
                      " in-process step calls did not return after their timeout and still run; "
                      "the runner claims nothing more and leaves (plugins.isolation = process stops them)");
  int ok = total - summary.not_ok();
  Status recorded = main.Retry([&](pqxx::connection& c) {
    return Guard("record run end", [&] {
      pqxx::work tx(c);
      tx.exec_params(
          "UPDATE matih.runs SET finished_at = now(), tenants_claimed = $2, tenants_ok = $3, "
          "tenants_failed = $4 WHERE id = $1",
          deps_.run_id, total, ok, summary.not_ok());
      tx.commit();
      return Status::Ok();
    });
  });
  if (!recorded.ok()) {
    Logger::Error(log, "run end not recorded: " + recorded.ToString());
    if (recorded.code() == Code::kUnavailable) summary.database_lost = true;
  }
  Logger::Info(log, "run finished: " + std::to_string(total) + " tenant(s), " + std::to_string(ok) + " ok, " +
                        std::to_string(summary.not_ok()) + " not ok, in " +
                        FormatDuration(Millis(static_cast<long long>(summary.seconds * 1000))));
  return summary;
}

Status BatchRun::OnRunLink(const std::function<Status(pqxx::connection&)>& body) {
  if (!main_) main_ = std::make_unique<DbLink>(db_, options_.db_reconnect);
  return main_->Retry(body);
}

Status BatchRun::Finish(int exit_code) {
  if (!recorded_) return Status::Ok();
  return OnRunLink([&](pqxx::connection& c) {
    return Guard("record run exit code", [&] {
      pqxx::work tx(c);
      tx.exec_params(
          "UPDATE matih.runs SET exit_code = $2, finished_at = COALESCE(finished_at, now()) WHERE id = $1",
          deps_.run_id, exit_code);
      tx.commit();
      return Status::Ok();
    });
  });
}

}  // namespace matih::runner
