#include "kube_delivery/kube_object.h"

#include <algorithm>
#include <map>
#include <matih/step.hpp>

#include "common/yaml_json.h"

namespace matih::plugins {
namespace {

// Kinds whose plural is not the lower-cased kind + "s", and kinds that are not namespaced.
const std::map<std::string, std::string> kIrregularPlurals = {{"NetworkPolicy", "networkpolicies"},
                                                              {"PodSecurityPolicy", "podsecuritypolicies"},
                                                              {"Ingress", "ingresses"},
                                                              {"IngressClass", "ingressclasses"},
                                                              {"StorageClass", "storageclasses"},
                                                              {"Endpoints", "endpoints"},
                                                              {"PriorityClass", "priorityclasses"}};
const std::vector<std::string> kClusterScoped = {
    "Namespace",    "ClusterRole",   "ClusterRoleBinding",      "IngressClass",
    "StorageClass", "PriorityClass", "CustomResourceDefinition"};

std::string Plural(const std::string& kind) {
  if (auto it = kIrregularPlurals.find(kind); it != kIrregularPlurals.end()) return it->second;
  std::string lower = kind;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!lower.empty() && lower.back() == 'y') return lower.substr(0, lower.size() - 1) + "ies";
  if (!lower.empty() && lower.back() == 's') return lower + "es";
  return lower + "s";
}

}  // namespace

KubeObject KubeObject::From(nlohmann::json body) {
  KubeObject o;
  auto text = [&](const nlohmann::json& j, const char* key) -> std::string {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  if (!body.is_object()) throw InvalidArgument("a rendered document is not an object");
  o.api_version = text(body, "apiVersion");
  o.kind = text(body, "kind");
  const nlohmann::json meta = body.contains("metadata") ? body["metadata"] : nlohmann::json::object();
  o.name = text(meta, "name");
  o.namespace_ = text(meta, "namespace");
  if (o.api_version.empty() || o.kind.empty() || o.name.empty())
    throw InvalidArgument("a rendered object lacks apiVersion, kind or metadata.name");
  const bool cluster_scoped =
      std::find(kClusterScoped.begin(), kClusterScoped.end(), o.kind) != kClusterScoped.end();
  if (!cluster_scoped && o.namespace_.empty())
    throw InvalidArgument("rendered " + o.kind + " " + o.name + " has no metadata.namespace");
  o.body = std::move(body);
  return o;
}

std::string KubeObject::ApiPath() const {
  std::string path =
      api_version.find('/') == std::string::npos ? "/api/" + api_version : "/apis/" + api_version;
  if (!namespace_.empty()) path += "/namespaces/" + namespace_;
  return path + "/" + Plural(kind) + "/" + name;
}

bool KubeObject::HoldsSecretValues() const { return kind == "Secret" && api_version == "v1"; }

std::string KubeObject::Describe() const {
  return kind + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

ObjectBatch MakeBatch(std::string tenant_slug, std::string step_name, std::string run_id, DeliveryMode mode,
                      std::string rendered) {
  ObjectBatch batch;
  batch.tenant_slug = std::move(tenant_slug);
  batch.step_name = std::move(step_name);
  batch.run_id = std::move(run_id);
  batch.mode = mode;
  if (rendered.empty() || rendered.back() != '\n') rendered.push_back('\n');
  for (auto& doc : ParseYamlDocuments(rendered)) batch.objects.push_back(KubeObject::From(std::move(doc)));
  if (batch.objects.empty())
    throw InvalidArgument("template for step " + batch.step_name + " rendered no object");
  batch.rendered = std::move(rendered);
  return batch;
}

}  // namespace matih::plugins
