#include "telemetry/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/gateway.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdio>
#include <fstream>

namespace matih::runner {
namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries b{0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                                         1,     5,     15,   60,   300};
  return b;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      step_runs_(prometheus::BuildCounter()
                     .Name("matih_provisioner_step_runs_total")
                     .Help("Step executions by phase, step and outcome")
                     .Register(*registry_)),
      step_duration_(
          prometheus::BuildHistogram()
              .Name("matih_provisioner_step_duration_seconds")
              .Help("Time spent in a step (observe, and apply or remove), by phase, step and outcome")
              .Register(*registry_)),
      retries_(prometheus::BuildCounter()
                   .Name("matih_provisioner_step_retries_total")
                   .Help("Retries of a step after a transient error")
                   .Register(*registry_)),
      timeouts_(prometheus::BuildCounter()
                    .Name("matih_provisioner_step_timeouts_total")
                    .Help("Step calls that ran past their timeout")
                    .Register(*registry_)),
      rollbacks_(prometheus::BuildCounter()
                     .Name("matih_provisioner_rollbacks_total")
                     .Help("Tenants rolled back after a failure")
                     .Register(*registry_)),
      drift_detected_(prometheus::BuildCounter()
                          .Name("matih_provisioner_drift_detected_total")
                          .Help("Steps found drifted or absent on an active tenant")
                          .Register(*registry_)),
      drift_corrected_(prometheus::BuildCounter()
                           .Name("matih_provisioner_drift_corrected_total")
                           .Help("Drifted steps converged again")
                           .Register(*registry_)),
      tenants_processed_(prometheus::BuildCounter()
                             .Name("matih_provisioner_tenants_processed_total")
                             .Help("Tenants worked in this run, by outcome")
                             .Register(*registry_)),
      tenants_(prometheus::BuildGauge()
                   .Name("matih_provisioner_tenants")
                   .Help("Tenants by status at the end of the run")
                   .Register(*registry_)),
      oldest_pending_(prometheus::BuildGauge()
                          .Name("matih_provisioner_oldest_pending_created_timestamp_seconds")
                          .Help("When the oldest tenant still PENDING at the end of the run was created "
                                "(Unix time); absent when none is PENDING")
                          .Register(*registry_)),
      run_duration_(prometheus::BuildGauge()
                        .Name("matih_provisioner_run_duration_seconds")
                        .Help("Wall time of the last run")
                        .Register(*registry_)),
      last_run_(prometheus::BuildGauge()
                    .Name("matih_provisioner_last_run_timestamp_seconds")
                    .Help("When the last run ended (Unix time)")
                    .Register(*registry_)),
      last_success_(prometheus::BuildGauge()
                        .Name("matih_provisioner_last_success_timestamp_seconds")
                        .Help("When the last run in which every tenant ended well ended (Unix time)")
                        .Register(*registry_)) {}

Metrics::~Metrics() = default;

void Metrics::StepRun(int phase, const std::string& step, const std::string& outcome, double seconds) {
  StepRunMetrics m;
  {
    std::lock_guard<std::mutex> lock(step_run_mu_);
    auto it = step_run_cache_.find(std::tie(phase, step, outcome));
    if (it == step_run_cache_.end()) {
      prometheus::Labels labels{{"phase", std::to_string(phase)}, {"step", step}, {"outcome", outcome}};
      m.runs = &step_runs_.Add(labels);
      m.duration = &step_duration_.Add(labels, DurationBuckets());
      it = step_run_cache_.emplace(std::make_tuple(phase, step, outcome), m).first;
    }
    m = it->second;
  }
  m.runs->Increment();
  m.duration->Observe(seconds);
}

void Metrics::Retry(const std::string& step) { retries_.Add({{"step", step}}).Increment(); }
void Metrics::Timeout(const std::string& step) { timeouts_.Add({{"step", step}}).Increment(); }
void Metrics::Rollback() { rollbacks_.Add({}).Increment(); }
void Metrics::DriftDetected(const std::string& step) { drift_detected_.Add({{"step", step}}).Increment(); }
void Metrics::DriftCorrected(const std::string& step) { drift_corrected_.Add({{"step", step}}).Increment(); }
void Metrics::TenantProcessed(const std::string& outcome) {
  tenants_processed_.Add({{"outcome", outcome}}).Increment();
}

void Metrics::TenantsByStatus(const std::map<std::string, int>& counts) {
  for (const auto& [status, n] : counts) tenants_.Add({{"status", status}}).Set(n);
}

void Metrics::OldestPending(double created_unix_seconds) {
  oldest_pending_.Add({}).Set(created_unix_seconds);
}

void Metrics::RunFinished(double seconds, bool success) {
  run_duration_.Add({}).Set(seconds);
  double now = NowSeconds();
  last_run_.Add({}).Set(now);
  if (success) last_success_.Add({}).Set(now);
}

Status Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
    exposer_->RegisterCollectable(registry_);
    auto ports = exposer_->GetListeningPorts();
    served_port_ = ports.empty() ? 0 : ports.front();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unavailable("cannot serve /metrics on " + address + ": " + e.what());
  }
}

Status Metrics::Push(const std::string& url, const std::string& job, const std::string& instance) {
  // prometheus-cpp wants host and port apart: "http://127.0.0.1" and "9091".
  auto colon = url.rfind(':');
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || colon == std::string::npos || colon < scheme_end + 3)
    return InvalidArgument("metrics.pushgateway must look like http://host:port, not '" + url + "'");
  std::string host = url.substr(0, colon);
  std::string port = url.substr(colon + 1);
  while (!port.empty() && port.back() == '/') port.pop_back();
  try {
    prometheus::Gateway gateway(host, port, job, {{"instance", instance}});
    gateway.RegisterCollectable(registry_);
    int code = gateway.Push();
    if (code < 200 || code >= 300)
      return Unavailable("Pushgateway at " + url + " answered HTTP " + std::to_string(code));
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unavailable("push to Pushgateway at " + url + " failed: " + e.what());
  }
}

std::string Metrics::Text() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

Status Metrics::WriteTextfile(const std::string& path) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Unavailable("cannot write metrics textfile " + tmp);
    out << Text();
    if (!out) return Unavailable("cannot write metrics textfile " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Unavailable("cannot rename " + tmp + " to " + path);
  return Status::Ok();
}

}  // namespace matih::runner
