// FakeKubeApiServer: a FAKE Kubernetes API server for tests (no kube-apiserver can be installed
// on these machines). It speaks just enough of the API for the kubernetes.object step kind:
//
//   PATCH  <object path>  server-side apply: requires Content-Type application/apply-patch+yaml
//                         (415 otherwise) and a fieldManager query parameter (400 otherwise); the
//                         body's apiVersion/kind/name must match the path (400). Fields are owned
//                         per manager: a field another manager set to another value is a conflict
//                         (409) unless force=true, which takes it over; fields a manager stops
//                         applying are removed. 201 on create, 200 on update.
//   GET    <object path>  200 with the live object (metadata.managedFields lists the managers,
//                         resourceVersion changes only when the live object changes), or 404.
//   DELETE <object path>  records propagationPolicy (query or DeleteOptions body); deleting a
//                         Namespace deletes every object in it. 200, or 404.
// With a bearer token set, any other Authorization is 401. Every request is logged for
// assertions; FailNext makes the next requests answer a given status (e.g. 503).
//
// Plain HTTP by default; with TlsFiles it serves HTTPS with that certificate and, when a client
// CA is given, requires a client certificate signed by it (as an API server does for kubeconfig
// client certificates). Binds 127.0.0.1 on a free port; serves on its own thread until destroyed.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace matih::testing {

class FakeKubeApiServer {
 public:
  struct Request {
    std::string method, path, content_type, field_manager, force, propagation_policy, authorization;
  };

  struct TlsFiles {
    std::string cert_file, key_file;
    std::string client_ca_file;  // empty: no client certificate required
  };

  FakeKubeApiServer();
  explicit FakeKubeApiServer(const TlsFiles& tls);
  ~FakeKubeApiServer();

  int port() const { return port_; }
  std::string url() const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  void RequireBearerToken(std::string token);
  // The next `count` requests answer `status` with a Status body.
  void FailNext(int status, int count = 1);

  // The live object at `path`, or nullopt.
  std::optional<nlohmann::json> Get(const std::string& path) const;
  // Changes fields by hand, as `manager` would with a forced apply of `partial` merged over what
  // it applied before ("kubectl edit"-style drift).
  void Edit(const std::string& path, const std::string& manager, const nlohmann::json& partial);
  std::vector<Request> requests() const;
  size_t object_count() const;

 private:
  struct StoredObject {
    std::vector<std::pair<std::string, nlohmann::json>> managers;  // in first-apply order
    nlohmann::json live;
    long resource_version = 0;
  };
  void Recompute(StoredObject& object);

  mutable std::mutex mu_;
  std::map<std::string, StoredObject> objects_;
  std::vector<Request> requests_;
  std::string token_;
  int fail_status_ = 0;
  int fail_count_ = 0;
  long next_version_ = 1;
  void Serve();

  bool tls_ = false;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace matih::testing
