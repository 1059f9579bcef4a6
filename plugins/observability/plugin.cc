// matih-observability: phase 6 of provisioning, steps 43 (configure-monitoring: scrape targets)
// and 44 (configure-alerting: alerting rules), on Prometheus (file_sd target files and rule files
// it loads, verified through its HTTP API) and, for the cluster, ServiceMonitor / PrometheusRule
// objects of the Prometheus Operator delivered like every Kubernetes object (kube_delivery).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   observability.prometheus_url     required: Prometheus's base URL (API and POST /-/reload, so
//                                    it runs with --web.enable-lifecycle)
//   observability.targets_dir        step 43, required: the folder of its file_sd_configs
//                                    (tenant-<slug>.json files)
//   observability.rules_dir          step 44, required: the folder of its rule_files
//                                    (tenant-<slug>.yml files)
//   observability.promtool           step 44: the promtool program (default "promtool")
//   observability.verify_timeout_ms  step 43: how long apply/remove wait for Prometheus to pick
//                                    up a target file (default 15000)
//   plus the delivery settings of plugins/support/kube_delivery (kubernetes.delivery, gitops.*,
//   kubernetes.*), shared with matih-kubernetes.
// Params: monitoring_targets_step.h, alert_rules_step.h. No secrets.
#include <matih/step.hpp>

#include "observability/alert_rules_step.h"
#include "observability/monitoring_targets_step.h"

MATIH_PLUGIN("matih-observability", "1.0.0") {
  plugin.setting("observability.prometheus_url", "Prometheus base URL (HTTP API and /-/reload)",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("observability.targets_dir", "folder of Prometheus's file_sd target files",
                 MATIH_SETTING_REQUIRED);
  plugin.setting("observability.rules_dir", "folder of Prometheus's rule files", MATIH_SETTING_REQUIRED);
  plugin.setting("observability.promtool", "promtool program (default promtool)");
  plugin.setting("observability.verify_timeout_ms", "wait for Prometheus to pick up targets (default 15000)");
  plugin.add<matih::plugins::observability::MonitoringTargetsStep>(
      "observability.targets", "The tenant's services as Prometheus scrape targets, and a ServiceMonitor");
  plugin.add<matih::plugins::observability::AlertRulesStep>(
      "observability.rules", "The tenant's alerting rules, checked by promtool, and a PrometheusRule");
  plugin.adoptable("observability.rules");
}
