#include "kube_delivery/kube_api_delivery.h"

#include "common/settings.h"

namespace matih::plugins {
namespace {

std::string Short(const nlohmann::json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  return text.size() > 40 ? text.substr(0, 40) + "..." : text;
}

std::string StatusMessage(const HttpResponse& response) {
  auto status = nlohmann::json::parse(response.body, nullptr, false);
  if (status.is_object() && status.contains("message") && status["message"].is_string())
    return status["message"].get<std::string>();
  return "HTTP " + std::to_string(response.status);
}

nlohmann::json Skeleton(const KubeObject& object) {
  nlohmann::json body = {
      {"apiVersion", object.api_version}, {"kind", object.kind}, {"metadata", {{"name", object.name}}}};
  if (!object.namespace_.empty()) body["metadata"]["namespace"] = object.namespace_;
  return body;
}

}  // namespace

// `hide_values`: name the paths that differ, never the values (objects that hold secrets).
void CompareApplied(const nlohmann::json& want, const nlohmann::json& have, const std::string& path,
                    bool hide_values, std::vector<std::string>& differences) {
  if (want.is_object()) {
    if (!have.is_object()) {
      differences.push_back(path + ": missing");
      return;
    }
    for (const auto& [key, value] : want.items()) {
      const std::string sub = path.empty() ? key : path + "." + key;
      if (!have.contains(key))
        differences.push_back(sub + (hide_values ? ": missing" : ": missing, want " + Short(value)));
      else
        CompareApplied(value, have[key], sub, hide_values, differences);
    }
  } else if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) {
      differences.push_back(path + ": list differs");
      return;
    }
    for (size_t i = 0; i < want.size(); ++i)
      CompareApplied(want[i], have[i], path + "[" + std::to_string(i) + "]", hide_values, differences);
  } else if (want != have) {
    differences.push_back(path + (hide_values ? ": differs (value not shown)"
                                              : ": have " + Short(have) + ", want " + Short(want)));
  }
}

KubeApiDelivery::KubeApiDelivery(KubeEndpoint endpoint, std::string field_manager, bool force_conflicts,
                                 std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)),
      field_manager_(std::move(field_manager)),
      force_conflicts_(force_conflicts),
      http_(endpoint_.tls, timeout) {}

std::unique_ptr<KubeApiDelivery> KubeApiDelivery::FromSettings(const Context& ctx) {
  return std::make_unique<KubeApiDelivery>(
      ResolveKubeEndpoint(ctx), SettingOr(ctx, "kubernetes.field_manager", "matih-provisioner"),
      ParseBool("kubernetes.force_conflicts", SettingOr(ctx, "kubernetes.force_conflicts", "false")),
      std::chrono::milliseconds(
          ParseCount("kubernetes.timeout_ms", SettingOr(ctx, "kubernetes.timeout_ms", "30000"))));
}

std::string KubeApiDelivery::FieldManagerFor(const ObjectBatch& batch) const {
  std::string manager =
      batch.mode == DeliveryMode::kPatch ? field_manager_ + "-" + batch.step_name : field_manager_;
  return manager.substr(0, 128);
}

HttpResponse KubeApiDelivery::Send(const std::string& method, const std::string& path_and_query,
                                   const std::string& body, const std::string& content_type) const {
  HttpRequest request;
  request.method = method;
  request.url = endpoint_.server + path_and_query;
  request.body = body;
  request.headers.push_back("Accept: application/json");
  if (!content_type.empty()) request.headers.push_back("Content-Type: " + content_type);
  if (!endpoint_.bearer_token.empty())
    request.headers.push_back("Authorization: Bearer " + endpoint_.bearer_token);
  return http_.Send(request);
}

void KubeApiDelivery::Fail(const std::string& what, const HttpResponse& response) {
  const std::string message =
      what + ": " + StatusMessage(response) + " (HTTP " + std::to_string(response.status) + ")";
  const long s = response.status;
  if (s == 429 || s >= 500) throw TransientError(message);
  if (s == 401 || s == 403) throw PermanentError(message, MATIH_STATUS_PERMISSION_DENIED);
  if (s == 400 || s == 415 || s == 422) throw InvalidArgument(message);
  if (s == 404) throw PermanentError(message, MATIH_STATUS_NOT_FOUND);
  throw PermanentError(message);
}

void KubeApiDelivery::ServerSideApply(const KubeObject& object, const nlohmann::json& body,
                                      const std::string& manager) const {
  const std::string query =
      "?fieldManager=" + HttpClient::Escape(manager) + "&force=" + (force_conflicts_ ? "true" : "false");
  // JSON is YAML, and keeps types exact.
  auto response = Send("PATCH", object.ApiPath() + query, body.dump(), "application/apply-patch+yaml");
  if (response.status == 200 || response.status == 201) return;
  if (response.status == 409)
    throw PermanentError("apply " + object.Describe() + ": conflict with another field manager (" +
                         StatusMessage(response) +
                         "); set kubernetes.force_conflicts=true to take the fields over");
  Fail("apply " + object.Describe(), response);
}

Observation KubeApiDelivery::Observe(const ObjectBatch& batch) {
  std::vector<std::string> differences;
  size_t missing = 0;
  for (const auto& object : batch.objects) {
    auto response = Send("GET", object.ApiPath(), "", "");
    if (response.status == 404) {
      ++missing;
      differences.push_back(object.Describe() + " missing");
      continue;
    }
    if (response.status != 200) Fail("read " + object.Describe(), response);
    auto live = nlohmann::json::parse(response.body, nullptr, false);
    if (!live.is_object())
      throw TransientError("read " + object.Describe() + ": the API server answered no object");
    std::vector<std::string> diffs;
    CompareApplied(object.body, live, "", object.HoldsSecretValues(), diffs);
    for (const auto& d : diffs) differences.push_back(object.Describe() + " " + d);
  }
  if (missing == batch.objects.size()) return Observation::Absent();
  if (differences.empty()) return Observation::InSync();
  std::string diff;
  for (size_t i = 0; i < differences.size() && i < 6; ++i) diff += (i ? "; " : "") + differences[i];
  if (differences.size() > 6) diff += "; and " + std::to_string(differences.size() - 6) + " more";
  return Observation::Drifted(diff);
}

void KubeApiDelivery::Apply(const ObjectBatch& batch) {
  const std::string manager = FieldManagerFor(batch);
  for (const auto& object : batch.objects) ServerSideApply(object, object.body, manager);
}

void KubeApiDelivery::Remove(const ObjectBatch& batch) {
  const std::string manager = FieldManagerFor(batch);
  for (auto it = batch.objects.rbegin(); it != batch.objects.rend(); ++it) {
    const KubeObject& object = *it;
    if (batch.mode == DeliveryMode::kPatch) {
      // Applying an empty configuration releases our fields; the server then removes them.
      if (Send("GET", object.ApiPath(), "", "").status == 404) continue;
      ServerSideApply(object, Skeleton(object), manager);
      continue;
    }
    const nlohmann::json options = {
        {"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"propagationPolicy", "Foreground"}};
    auto response = Send("DELETE", object.ApiPath() + "?propagationPolicy=Foreground", options.dump(),
                         "application/json");
    if (response.status == 200 || response.status == 202 || response.status == 404) continue;
    Fail("delete " + object.Describe(), response);
  }
}

}  // namespace matih::plugins
