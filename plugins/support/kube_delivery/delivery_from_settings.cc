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

}  // namespace matih::plugins
