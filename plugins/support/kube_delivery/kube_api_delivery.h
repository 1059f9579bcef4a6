// KubeApiDelivery: delivers a step's objects straight to the Kubernetes API server.
//
// Apply is server-side apply: PATCH <object path>?fieldManager=<m>&force=<bool> with
// Content-Type application/apply-patch+yaml, one request per object, in template order. The
// field manager is kubernetes.field_manager (default "matih-provisioner"); a step in patch mode
// uses "<manager>-<step name>", so step 12's Pod Security Admission labels and step 7's namespace
// labels are owned by two managers and neither step's apply removes the other's fields.
// Observe GETs each object and compares the fields we apply (a subset of the live object;
// defaults and other managers' fields are ignored). Remove DELETEs with propagationPolicy
// Foreground, in reverse order; a patch-mode step instead applies an empty configuration, which
// releases (and so removes) exactly its fields. 404 on remove is success.
// Errors: unreachable, 429 and 5xx are transient; 401/403 PERMISSION_DENIED; 409 (a conflict
// with another manager, when force is off) and the rest permanent.
// Settings read ([targets]): kubernetes.field_manager, kubernetes.force_conflicts (default
// false), kubernetes.timeout_ms (default 30000), plus those of kube_credentials.h.
// One object per call.
#pragma once

#include <chrono>
#include <matih/step.hpp>

#include "common/http_client.h"
#include "kube_delivery/kube_credentials.h"
#include "kube_delivery/object_delivery.h"

namespace matih::plugins {

class KubeApiDelivery final : public ObjectDelivery {
 public:
  KubeApiDelivery(KubeEndpoint endpoint, std::string field_manager, bool force_conflicts,
                  std::chrono::milliseconds timeout);
  static std::unique_ptr<KubeApiDelivery> FromSettings(const Context& ctx);

  Observation Observe(const ObjectBatch& batch) override;
  void Apply(const ObjectBatch& batch) override;
  void Remove(const ObjectBatch& batch) override;

  std::string FieldManagerFor(const ObjectBatch& batch) const;

 private:
  HttpResponse Send(const std::string& method, const std::string& path_and_query, const std::string& body,
                    const std::string& content_type) const;
  // Throws the step error that an unexpected response means.
  [[noreturn]] static void Fail(const std::string& what, const HttpResponse& response);
  void ServerSideApply(const KubeObject& object, const nlohmann::json& body,
                       const std::string& manager) const;

  KubeEndpoint endpoint_;
  std::string field_manager_;
  bool force_conflicts_;
  HttpClient http_;
};

// Differences between the fields of `want` and the same fields of `have`, as "path: have X, want
// Y" items; fields only in `have` are not differences.
void CompareApplied(const nlohmann::json& want, const nlohmann::json& have, const std::string& path,
                    std::vector<std::string>& differences);

}  // namespace matih::plugins
