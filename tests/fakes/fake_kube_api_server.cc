#include "fakes/fake_kube_api_server.h"

#include <httplib.h>

#include "common/yaml_json.h"

namespace matih::testing {
namespace {

nlohmann::json StatusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}

void Reply(httplib::Response& res, int code, const nlohmann::json& body) {
  res.status = code;
  res.set_content(body.dump(), "application/json");
}

// Leaf paths of an applied configuration ("metadata.labels.x"); lists are leaves.
void Leaves(const nlohmann::json& j, const std::string& prefix, std::map<std::string, nlohmann::json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) Leaves(v, prefix.empty() ? k : prefix + "\x1f" + k, out);
  } else {
    out[prefix] = j;
  }
}

void EraseLeaf(nlohmann::json& j, const std::string& path) {
  auto sep = path.find('\x1f');
  if (!j.is_object()) return;
  if (sep == std::string::npos) {
    j.erase(path);
    return;
  }
  const std::string head = path.substr(0, sep);
  if (j.contains(head)) {
    EraseLeaf(j[head], path.substr(sep + 1));
    if (j[head].is_object() && j[head].empty()) j.erase(head);
  }
}

// The object's identity from its path: namespaced objects have /namespaces/<ns>/<plural>/<name>.
struct PathParts {
  std::string ns, name;
  bool is_namespace = false;
};
PathParts Parse(const std::string& path) {
  PathParts p;
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  p.name = parts.back();
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i] == "namespaces") {
      if (i + 2 == parts.size()) {
        p.is_namespace = true;
      } else {
        p.ns = parts[i + 1];
      }
      break;
    }
  return p;
}

}  // namespace

FakeKubeApiServer::FakeKubeApiServer() : server_(std::make_unique<httplib::Server>()) { Serve(); }

FakeKubeApiServer::FakeKubeApiServer(const TlsFiles& tls)
    : tls_(true),
      server_(std::make_unique<httplib::SSLServer>(
          tls.cert_file.c_str(), tls.key_file.c_str(),
          tls.client_ca_file.empty() ? nullptr : tls.client_ca_file.c_str())) {
  if (!server_->is_valid()) throw std::runtime_error("FakeKubeApiServer: invalid TLS certificate or key");
  Serve();
}

void FakeKubeApiServer::Serve() {
  const std::string object_path = R"(/(api/v1|apis/[^/]+/[^/]+)(/namespaces/[^/]+)?/[a-z]+/[^/]+)";

  auto log_and_check = [this](const httplib::Request& req, httplib::Response& res) -> bool {
    Request r{req.method,
              req.path,
              req.get_header_value("Content-Type"),
              req.get_param_value("fieldManager"),
              req.get_param_value("force"),
              req.get_param_value("propagationPolicy"),
              req.get_header_value("Authorization")};
    if (req.method == "DELETE" && r.propagation_policy.empty() && !req.body.empty()) {
      auto options = nlohmann::json::parse(req.body, nullptr, false);
      if (options.is_object() && options.contains("propagationPolicy"))
        r.propagation_policy = options["propagationPolicy"].get<std::string>();
    }
    requests_.push_back(r);
    if (fail_count_ > 0) {
      --fail_count_;
      Reply(res, fail_status_, StatusBody(fail_status_, "InjectedFailure", "injected failure"));
      return false;
    }
    if (!token_.empty() && r.authorization != "Bearer " + token_) {
      Reply(res, 401, StatusBody(401, "Unauthorized", "Unauthorized"));
      return false;
    }
    return true;
  };

  server_->Patch(object_path, [this, log_and_check](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!log_and_check(req, res)) return;
    if (req.get_header_value("Content-Type") != "application/apply-patch+yaml")
      return Reply(res, 415, StatusBody(415, "UnsupportedMediaType", "only server-side apply is served"));
    const std::string manager = req.get_param_value("fieldManager");
    if (manager.empty())
      return Reply(res, 400, StatusBody(400, "BadRequest", "fieldManager is required for apply requests"));
    nlohmann::json config;
    try {
      auto docs = plugins::ParseYamlDocuments(req.body);
      if (docs.size() != 1) throw std::runtime_error("one object expected");
      config = docs[0];
    } catch (const std::exception& e) {
      return Reply(res, 400, StatusBody(400, "BadRequest", e.what()));
    }
    const PathParts parts = Parse(req.path);
    if (!config.is_object() || !config.contains("apiVersion") || !config.contains("kind") ||
        config["metadata"].value("name", "") != parts.name ||
        (!parts.ns.empty() && config["metadata"].value("namespace", parts.ns) != parts.ns))
      return Reply(res, 400, StatusBody(400, "BadRequest", "the object does not match the path"));
    if (!parts.ns.empty() && !objects_.count("/api/v1/namespaces/" + parts.ns))
      return Reply(res, 404, StatusBody(404, "NotFound", "namespaces \"" + parts.ns + "\" not found"));

    const bool created = !objects_.count(req.path);
    StoredObject& object = objects_[req.path];
    std::map<std::string, nlohmann::json> mine;
    Leaves(config, "", mine);
    const bool force = req.get_param_value("force") == "true";
    std::vector<std::string> conflicts;
    for (auto& [other, applied] : object.managers) {
      if (other == manager) continue;
      std::map<std::string, nlohmann::json> theirs;
      Leaves(applied, "", theirs);
      for (const auto& [path, value] : mine) {
        auto it = theirs.find(path);
        if (it == theirs.end() || it->second == value || path.rfind("apiVersion", 0) == 0 ||
            path.rfind("kind", 0) == 0 || path == "metadata\x1fname" || path == "metadata\x1fnamespace")
          continue;
        if (force)
          EraseLeaf(applied, path);
        else
          conflicts.push_back(other + ": " + path);
      }
    }
    if (!conflicts.empty()) {
      if (created) objects_.erase(req.path);
      return Reply(res, 409,
                   StatusBody(409, "Conflict", "Apply failed with conflicts: " + conflicts.front()));
    }
    bool found = false;
    for (auto& [m, applied] : object.managers)
      if (m == manager) {
        applied = config;
        found = true;
      }
    if (!found) object.managers.emplace_back(manager, config);
    Recompute(object);
    Reply(res, created ? 201 : 200, object.live);
  });

  server_->Get(object_path, [this, log_and_check](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!log_and_check(req, res)) return;
    auto it = objects_.find(req.path);
    if (it == objects_.end()) return Reply(res, 404, StatusBody(404, "NotFound", "not found"));
    Reply(res, 200, it->second.live);
  });

  server_->Delete(object_path, [this, log_and_check](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!log_and_check(req, res)) return;
    auto it = objects_.find(req.path);
    if (it == objects_.end()) return Reply(res, 404, StatusBody(404, "NotFound", "not found"));
    const PathParts parts = Parse(req.path);
    if (parts.is_namespace) {
      const std::string inside = "/namespaces/" + parts.name + "/";
      for (auto o = objects_.begin(); o != objects_.end();)
        o = o->first.find(inside) != std::string::npos ? objects_.erase(o) : std::next(o);
    }
    objects_.erase(req.path);
    Reply(res, 200, {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}});
  });

  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("FakeKubeApiServer could not bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeKubeApiServer::~FakeKubeApiServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void FakeKubeApiServer::RequireBearerToken(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}

void FakeKubeApiServer::FailNext(int status, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_status_ = status;
  fail_count_ = count;
}

void FakeKubeApiServer::Recompute(StoredObject& object) {
  nlohmann::json live = nlohmann::json::object();
  nlohmann::json managed = nlohmann::json::array();
  for (const auto& [manager, applied] : object.managers) {
    live.merge_patch(applied);
    managed.push_back({{"manager", manager}, {"operation", "Apply"}, {"fieldsType", "FieldsV1"}});
  }
  live["metadata"]["managedFields"] = managed;
  nlohmann::json compare_old = object.live, compare_new = live;
  if (compare_old.is_object() && compare_old.contains("metadata"))
    compare_old["metadata"].erase("resourceVersion");
  if (compare_old != compare_new || object.resource_version == 0) object.resource_version = next_version_++;
  live["metadata"]["resourceVersion"] = std::to_string(object.resource_version);
  object.live = live;
}

std::optional<nlohmann::json> FakeKubeApiServer::Get(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(path);
  if (it == objects_.end()) return std::nullopt;
  return it->second.live;
}

void FakeKubeApiServer::Edit(const std::string& path, const std::string& manager,
                             const nlohmann::json& partial) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(path);
  if (it == objects_.end()) throw std::runtime_error("no object at " + path);
  std::map<std::string, nlohmann::json> changed;
  Leaves(partial, "", changed);
  bool found = false;
  for (auto& [m, applied] : it->second.managers) {
    if (m == manager) {
      applied.merge_patch(partial);
      found = true;
    } else {
      for (const auto& [leaf, value] : changed) EraseLeaf(applied, leaf);
    }
  }
  if (!found) it->second.managers.emplace_back(manager, partial);
  Recompute(it->second);
}

std::vector<FakeKubeApiServer::Request> FakeKubeApiServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeKubeApiServer::object_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace matih::testing
