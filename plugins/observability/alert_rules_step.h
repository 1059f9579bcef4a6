// observability.rules (step 44, configure-alerting): the tenant's alerting rules.
//
// One rule group "tenant-<slug>" with:
//   TenantServiceDown          a scrape target of the tenant is down (up == 0) for `down_for`;
//   TenantQuotaNearLimit       a resource of the namespace's ResourceQuota is used above
//                              `quota_ratio` of its hard limit (kube-state-metrics) for `quota_for`;
//   TenantCertificateExpiring  a cert-manager certificate of the namespace expires within
//                              `certificate_days`;
//   plus the tier's `extra_rules` ({alert, expr, for, severity, summary}; `${slug}` and
//   `${namespace}` in expr and summary are replaced by the tenant's).
// Local/VM Prometheus: the group goes to <rules_dir>/tenant-<slug>.yml. A new text is staged
// next to it, checked with `promtool check rules` and only then renamed into place (a text that
// does not check is never installed: PermanentError with promtool's words), then Prometheus is
// reloaded (POST /-/reload) and /api/v1/rules must show the group. Cluster: the same groups in a
// PrometheusRule (monitoring.coreos.com/v1) "tenant-alerts" via kube_delivery.
//
// observe: ABSENT when neither file nor object exists; DRIFTED when the file differs from the
// desired text (edited by hand), is missing, or is not loaded by Prometheus, or the object
// drifted; else IN_SYNC. apply writes and reloads only what differs. remove deletes the file,
// reloads, and deletes the object.
// Params (catalog): down_for (5m), quota_ratio (0.9), quota_for (15m), certificate_days (14),
// severity {tier: warning|critical} (critical), extra_rules {tier: [...]}. Settings: plugin.cc.
// Outputs: rules_file, rule_group, set by apply and by an observe that finds the rules in sync. The
// kind is adoptable: file, group and object are named by the slug, and apply again writes and
// reloads nothing. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::observability {

class AlertRulesStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::observability
