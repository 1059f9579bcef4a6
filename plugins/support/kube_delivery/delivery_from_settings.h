// DeliveryFromSettings: the ObjectDelivery a step call should use, chosen by the runner setting
// kubernetes.delivery: "gitops" (default; GitOpsDelivery, settings gitops.*) or "api"
// (KubeApiDelivery, settings kubernetes.*). Any plugin that delivers Kubernetes objects (namespace
// objects, HelmReleases, Certificates, ServiceMonitors, policies) goes through this one choice, so
// a tenant's objects all land in the same place.
//
// Throws InvalidArgument for an unknown mode. Creates a fresh delivery per call; safe from any
// thread.
#pragma once

#include <matih/step.hpp>
#include <memory>

#include "kube_delivery/object_delivery.h"

namespace matih::plugins {

std::unique_ptr<ObjectDelivery> DeliveryFromSettings(const Context& ctx);

// Declares the [targets] settings DeliveryFromSettings reads (kubernetes.delivery, gitops.*,
// kubernetes.* of the API delivery) on a plugin that uses it; call it from MATIH_PLUGIN.
void DeclareDeliverySettings(Plugin& plugin);

}  // namespace matih::plugins
