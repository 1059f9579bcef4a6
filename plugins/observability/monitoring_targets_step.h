// observability.targets (step 43, configure-monitoring): the tenant's services as Prometheus
// scrape targets.
//
// Local/VM Prometheus: a file_sd target file <targets_dir>/tenant-<slug>.json, written atomically
// (atomic_file.h), with one group per service of the spec: target
// "<service>.tenant-<slug>.svc:<port>" and labels tenant, tenant_id, tier, service, namespace.
// Prometheus re-reads the folder by itself (file_sd_configs); apply then waits, bounded by
// observability.verify_timeout_ms, until /api/v1/targets lists exactly the tenant's targets, and
// remove until it lists none. Cluster: a ServiceMonitor (monitoring.coreos.com/v1) "tenant-services" in
// the tenant's namespace selecting the same services, delivered by kube_delivery (GitOps or API,
// setting kubernetes.delivery).
//
// observe: ABSENT when neither the file nor the object exists; IN_SYNC when both match; else
// DRIFTED naming what differs (file missing or changed, object drift). It reads files and the
// delivery target only.
// Params (catalog): port (default 9090), path (default /metrics), interval (default 30s),
// scheme (http | https, default http). Settings: plugin.cc. Outputs: targets_file, targets.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::observability {

class MonitoringTargetsStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::observability
