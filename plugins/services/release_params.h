// ReleaseParams: the catalog params of one service deployment (steps 26-38, kind
// services.helm_release), parsed and checked. validate_params and every call parse them the same
// way, so what the catalog load accepted is exactly what the calls use.
//
// Params (catalog):
//   service       required  the service's name in config/service-catalog.yaml; also the name of
//                           the HelmRelease and the Helm release (a DNS label, at most 53 chars)
//   chart         required  {name, version, repository}: the chart, its pinned version (an exact
//                           SemVer, quoted in YAML so 1.10 stays "1.10"), and the chart repository
//                           (https:// or oci://, no credentials in the URL)
//   tiers         required  {tier: values}: per-tier values merged over `values`; the kind checks
//                           replicas (integer >= 0), resources.{requests,limits}.{cpu,memory}
//                           (quantities, requests <= limits) and autoscaling (enabled, minReplicas
//                           >= 1, maxReplicas >= minReplicas, targetCPUUtilizationPercentage 1-100)
//   values        optional  values common to every tier
//   from_outputs  optional  {"/json/pointer": "<step>.<output>"}: values taken from earlier steps'
//                           outputs (strings), omitted while the output is absent
//   interval      optional  Flux reconcile interval of the release (default "10m")
// Values never hold plaintext secrets: a key named like password, token, apiKey, clientSecret,
// privateKey, accessKey, secretKey or connectionString is refused; values name the Kubernetes
// Secret instead (e.g. existingSecret, synced from the vault by an ExternalSecret).
// Immutable after Parse; safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins::services {

struct OutputInput {
  std::string pointer;  // where the value goes ("/database/host")
  std::string step;     // the earlier step ("provision-database")
  std::string output;   // its output key ("host")
};

struct ReleaseParams {
  std::string service;
  std::string chart_name, chart_version, repository;
  std::string interval = "10m";
  nlohmann::json values = nlohmann::json::object();
  nlohmann::json tiers = nlohmann::json::object();
  std::vector<OutputInput> from_outputs;

  // InvalidArgument naming the offending param (and service) when anything is wrong.
  static ReleaseParams Parse(std::string_view params_json);

  // `values` with the tier's values merged over it; InvalidArgument when the tier has none.
  nlohmann::json ValuesForTier(const std::string& tier) const;
};

// Objects are merged key by key (recursively); anything else in `over` replaces.
void DeepMerge(nlohmann::json& base, const nlohmann::json& over);

}  // namespace matih::plugins::services
