// KubeObject: one Kubernetes object rendered from a template, and where it lives in the API.
//
// ObjectBatch is what one step delivers: its objects in template order, the rendered text (what
// GitOps writes) and whether the step owns whole objects or only patches fields of an object
// another step owns (mode "patch", e.g. step 12's Pod Security Admission labels on the namespace
// of step 7). Immutable values; safe to share between threads.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace matih::plugins {

struct KubeObject {
  nlohmann::json body;  // the object as applied: apiVersion, kind, metadata, spec...
  std::string api_version, kind, name, namespace_;

  // InvalidArgument when apiVersion, kind or metadata.name is missing.
  static KubeObject From(nlohmann::json body);
  // "/api/v1/namespaces/tenant-acme/resourcequotas/tenant-quota" (no query).
  std::string ApiPath() const;
  // "ResourceQuota tenant-acme/tenant-quota", for messages.
  std::string Describe() const;
  // Whether its values must never appear in a message or a diff (a core/v1 Secret: its data may
  // hold credentials, whether they came from the secret store or were changed by hand).
  bool HoldsSecretValues() const;
};

enum class DeliveryMode { kObject, kPatch };

struct ObjectBatch {
  std::string tenant_slug;
  std::string step_name;
  std::string run_id;
  DeliveryMode mode = DeliveryMode::kObject;
  std::string rendered;  // the template's output, a multi-document YAML text ending in "\n"
  std::vector<KubeObject> objects;
};

// Parses the rendered text into a batch; InvalidArgument when it is not valid YAML objects.
ObjectBatch MakeBatch(std::string tenant_slug, std::string step_name, std::string run_id, DeliveryMode mode,
                      std::string rendered);

}  // namespace matih::plugins
