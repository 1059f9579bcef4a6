#include "engine/batch_run.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "telemetry/logger.h"

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

Result<RunSummary> BatchRun::Execute() {
  const auto started = std::chrono::steady_clock::now();
  RunSummary summary;
  summary.run_id = deps_.run_id;
  const LogFields log{deps_.run_id, "", ""};

  auto conn = db_.Connect();
  if (!conn.ok()) return conn.status();
  const char* mode = options_.mode == ClaimMode::kPendingOnly ? "pending"
                     : options_.mode == ClaimMode::kDriftOnly ? "drift"
                                                              : "all";
  if (Status s = Guard("record run",
                       [&] {
                         pqxx::work tx(**conn);
                         tx.exec_params("INSERT INTO matih.runs (id, runner, mode) VALUES ($1, $2, $3)",
                                        deps_.run_id, deps_.runner, mode);
                         tx.commit();
                         return Status::Ok();
                       });
      !s.ok())
    return s;

  ClaimOptions claim{deps_.runner,  options_.limit, options_.lease, options_.drift_interval,
                     options_.mode, options_.slug};
  auto claimed = ClaimQuery::Claim(**conn, claim);
  if (!claimed.ok()) return claimed.status();
  const int total = static_cast<int>(claimed->size());
  Logger::Info(log, "claimed " + std::to_string(total) + " tenant(s)");

  // One cancel flag per tenant: raised when its lease is lost or the runner is asked to stop.
  std::vector<std::unique_ptr<std::atomic<bool>>> cancel;
  for (int i = 0; i < total; ++i) cancel.push_back(std::make_unique<std::atomic<bool>>(false));

  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> queue;
  for (int i = 0; i < total; ++i) queue.push_back(i);
  std::vector<bool> finished(total, false);
  int done = 0, failures = 0;
  bool all_done = total == 0;
  summary.tenants.resize(total);

  // Extends the leases every `heartbeat`, and passes a stop request on to the tenants within a
  // fraction of a second.
  std::thread heartbeat([&] {
    auto hb_conn = db_.Connect();
    auto next_beat = std::chrono::steady_clock::now() + options_.heartbeat;
    std::unique_lock<std::mutex> lock(mu);
    while (!all_done) {
      cv.wait_for(lock, Millis(200), [&] { return all_done; });
      if (all_done) break;
      if (stop_ && stop_->load())
        for (auto& c : cancel) c->store(true);
      if (std::chrono::steady_clock::now() < next_beat) continue;
      next_beat = std::chrono::steady_clock::now() + options_.heartbeat;
      std::vector<Lease> held;
      for (int i = 0; i < total; ++i)
        if (!finished[i]) held.push_back((*claimed)[i].lease);
      lock.unlock();
      if (!hb_conn.ok()) hb_conn = db_.Connect();
      if (hb_conn.ok()) {
        auto lost = ClaimQuery::Heartbeat(**hb_conn, held, options_.lease);
        if (!lost.ok()) {
          Logger::Warn(log, "heartbeat failed: " + lost.status().ToString());
          if (lost.status().code() == Code::kUnavailable) hb_conn = db_.Connect();
        } else {
          for (const std::string& id : *lost)
            for (int i = 0; i < total; ++i)
              if ((*claimed)[i].lease.tenant_id == id) {
                Logger::Warn({deps_.run_id, (*claimed)[i].tenant.slug, ""},
                             "lease lost; stopping work on this tenant");
                cancel[i]->store(true);
              }
        }
      }
      lock.lock();
    }
  });

  auto worker = [&] {
    auto wconn = db_.Connect();
    Orchestrator orchestrator(deps_);
    for (;;) {
      int i;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (queue.empty()) return;
        i = queue.front();
        queue.pop_front();
      }
      const ClaimedTenant& c = (*claimed)[i];
      TenantOutcome outcome;
      if (!wconn.ok()) wconn = db_.Connect();
      if (!wconn.ok()) {
        outcome.slug = c.tenant.slug;
        outcome.final_status = c.tenant.status;
        outcome.outcome = "error";
        outcome.error = wconn.status().ToString();
      } else if (stop_ && stop_->load()) {
        outcome.slug = c.tenant.slug;
        outcome.final_status = c.tenant.status;
        outcome.outcome = "not_started";  // its lease expires and a later run takes it
      } else {
        outcome = orchestrator.Process(**wconn, c, cancel[i].get());
        if (outcome.outcome == "error" && outcome.error.find("database connection lost") != std::string::npos)
          wconn = db_.Connect();
      }
      std::lock_guard<std::mutex> lock(mu);
      summary.tenants[i] = outcome;
      finished[i] = true;
      ++done;
      if (!outcome.ok()) ++failures;
      if (progress_) progress_(done, total, failures);
    }
  };
  std::vector<std::thread> pool;
  int workers = std::max(1, std::min(options_.workers, std::max(total, 1)));
  for (int w = 0; w < workers; ++w) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    all_done = true;
  }
  cv.notify_all();
  heartbeat.join();

  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int ok = total - summary.not_ok();
  (void)Guard("record run end", [&] {
    pqxx::work tx(**conn);
    tx.exec_params(
        "UPDATE matih.runs SET finished_at = now(), tenants_claimed = $2, tenants_ok = $3, tenants_failed = "
        "$4 "
        "WHERE id = $1",
        deps_.run_id, total, ok, summary.not_ok());
    tx.commit();
    return Status::Ok();
  });
  Logger::Info(log, "run finished: " + std::to_string(total) + " tenant(s), " + std::to_string(ok) + " ok, " +
                        std::to_string(summary.not_ok()) + " not ok, in " +
                        FormatDuration(Millis(static_cast<long long>(summary.seconds * 1000))));
  return summary;
}

}  // namespace matih::runner
