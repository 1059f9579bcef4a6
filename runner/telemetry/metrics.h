// Metrics: what a run did, as Prometheus metrics named matih_provisioner_*.
//
// A batch job lives too briefly to be scraped reliably, so the usual export is a push to a
// Pushgateway at the end of the run; a node_exporter textfile and a /metrics endpoint during
// the run are also offered. No label carries a tenant id (cardinality): only phase, step,
// outcome and status. Safe to call from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "common/status.h"

namespace prometheus {
class Exposer;
}

namespace matih::runner {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // outcome: applied | in_sync | skipped | removed | transient_error | permanent_error | timeout
  void StepRun(int phase, const std::string& step, const std::string& outcome, double seconds);
  void Retry(const std::string& step);
  void Timeout(const std::string& step);
  void Rollback();
  void DriftDetected(const std::string& step);
  void DriftCorrected(const std::string& step);
  // outcome: active | failed | rolled_back | deleted | retry_later | lease_lost | ...
  void TenantProcessed(const std::string& outcome);
  void TenantsByStatus(const std::map<std::string, int>& counts);
  // When the oldest PENDING tenant was created (Unix time); not called when none is PENDING.
  void OldestPending(double created_unix_seconds);
  void RunFinished(double seconds, bool success);

  // Serves /metrics on `address` ("127.0.0.1:9100"; port 0 picks one) until destroyed.
  Status Serve(const std::string& address);
  int served_port() const { return served_port_; }
  // Pushes everything to a Pushgateway at `url` (http://host:port) under job `job`.
  Status Push(const std::string& url, const std::string& job, const std::string& instance);
  // Writes the node_exporter textfile format to `path` atomically (write, then rename).
  Status WriteTextfile(const std::string& path);
  // The exposition text, as a scrape would see it.
  std::string Text() const;

  prometheus::Registry& registry() { return *registry_; }

 private:
  // The labelled metrics of one (phase, step, outcome): the Family keeps them at stable
  // addresses, so StepRun looks them up here instead of building a label map per call.
  struct StepRunMetrics {
    prometheus::Counter* runs = nullptr;
    prometheus::Histogram* duration = nullptr;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex step_run_mu_;  // guards step_run_cache_
  // By (phase, step, outcome); std::less<> finds a std::tie of the caller's strings without
  // copying them (a tuple of string_views does not compare with clang's libstdc++ tuple <=>).
  std::map<std::tuple<int, std::string, std::string>, StepRunMetrics, std::less<>> step_run_cache_;
  prometheus::Family<prometheus::Counter>& step_runs_;
  prometheus::Family<prometheus::Histogram>& step_duration_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& timeouts_;
  prometheus::Family<prometheus::Counter>& rollbacks_;
  prometheus::Family<prometheus::Counter>& drift_detected_;
  prometheus::Family<prometheus::Counter>& drift_corrected_;
  prometheus::Family<prometheus::Counter>& tenants_processed_;
  prometheus::Family<prometheus::Gauge>& tenants_;
  prometheus::Family<prometheus::Gauge>& oldest_pending_;
  prometheus::Family<prometheus::Gauge>& run_duration_;
  prometheus::Family<prometheus::Gauge>& last_run_;
  prometheus::Family<prometheus::Gauge>& last_success_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int served_port_ = 0;
};

}  // namespace matih::runner
