#include "kube_delivery/delivery_from_settings.h"

#include "common/settings.h"
#include "kube_delivery/gitops_delivery.h"
#include "kube_delivery/kube_api_delivery.h"

namespace matih::plugins {

std::unique_ptr<ObjectDelivery> DeliveryFromSettings(const Context& ctx) {
  const std::string delivery = SettingOr(ctx, "kubernetes.delivery", "gitops");
  if (delivery == "gitops") return std::make_unique<GitOpsDelivery>(GitOpsDelivery::OptionsFrom(ctx));
  if (delivery == "api") return KubeApiDelivery::FromSettings(ctx);
  throw InvalidArgument("setting targets.kubernetes.delivery must be gitops or api, not '" + delivery + "'");
}

void DeclareDeliverySettings(Plugin& plugin) {
  plugin.setting("kubernetes.delivery", "gitops (default) or api: where Kubernetes objects go");
  plugin.setting("gitops.repository",
                 "GitOps delivery: path of the local work repository (created when missing)");
  plugin.setting("gitops.branch", "GitOps delivery: branch (default main)");
  plugin.setting("gitops.remote", "GitOps delivery: URL or path pushed to after each commit");
  plugin.setting("gitops.author_name", "GitOps delivery: commit author (default matih-provisioner)");
  plugin.setting("gitops.author_email", "GitOps delivery: commit e-mail (default provisioner@matih.invalid)");
  plugin.setting("gitops.fetch_interval_ms",
                 "GitOps delivery: how stale observe's view of the remote may be (1000)");
  plugin.setting("kubernetes.api_url", "API delivery: the API server's URL");
  plugin.setting("kubernetes.token_file", "API delivery: bearer token file");
  plugin.setting("kubernetes.ca_file", "API delivery: CA bundle of the API server");
  plugin.setting("kubernetes.client_cert_file", "API delivery: client certificate");
  plugin.setting("kubernetes.client_key_file", "API delivery: client key");
  plugin.setting("kubernetes.kubeconfig", "API delivery: kubeconfig file (instead of the above)");
  plugin.setting("kubernetes.context", "API delivery: kubeconfig context (default: current-context)");
  plugin.setting("kubernetes.field_manager",
                 "API delivery: server-side apply field manager (matih-provisioner)");
  plugin.setting("kubernetes.force_conflicts", "API delivery: take over fields other managers own (false)");
  plugin.setting("kubernetes.timeout_ms", "API delivery: request timeout (30000)");
  plugin.setting("kubernetes.allow_http", "API delivery: allow a plain-HTTP API server (tests only; false)");
}

}  // namespace matih::plugins
