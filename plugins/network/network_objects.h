// What steps 40 and 42 share: the template values of a tenant's network objects, their delivery
// through plugins/support/kube_delivery (DeliveryFromSettings + MakeBatch, as every plugin that
// writes cluster objects), and the merge of two observations (cluster objects and the local
// ingress) into one answer. Pure functions of the call; safe from any thread.
#pragma once

#include <matih/step.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "kube_delivery/kube_object.h"
#include "network/zone_names.h"

namespace matih::plugins::network {

// slug, tenant_id, namespace ("tenant-<slug>"), zone (no final dot), ingress_class
// ("nginx-<slug>"), managed_by, params.
nlohmann::json TenantValues(const Context& ctx, const ZoneParams& zone, const nlohmann::json& params);
// Renders `template_name` from setting templates.dir into the step's batch.
ObjectBatch RenderObjects(const Context& ctx, const std::string& template_name, const nlohmann::json& values);

// Absent when every part is absent, in sync when every part is; otherwise drifted, naming the
// parts ("nginx: missing; objects: ...").
Observation Combine(const std::vector<std::pair<std::string, Observation>>& parts);

// params[key] as an int in [min, max], or `fallback` when absent; InvalidArgument naming it.
int IntParam(const nlohmann::json& params, const char* key, int fallback, int min, int max);
std::string StringParam(const nlohmann::json& params, const char* key, const std::string& fallback);

}  // namespace matih::plugins::network
