// FakeAzureFront: what the FAKES of Azure's REST APIs share (tests only; no Azure can be reached
// from these machines): an HTTP server on 127.0.0.1, the request log ("METHOD path"), the
// api-version check, the bearer-token check and injected failures, with Azure's error body
// {"error": {"code", "message"}}. A fake registers its routes on server(), calls Admit first in
// each handler, then Start(). Declare it as the fake's LAST member, so it stops serving before the
// fake's own state goes away. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace matih::testing {

class FakeAzureFront {
 public:
  // How this API refuses a request without the right ?api-version=, or with another bearer.
  struct Rules {
    std::string api_version;
    std::string version_error_code, version_error_message;
    std::string auth_error_code, auth_error_message;
  };

  FakeAzureFront(std::string name, Rules rules);
  ~FakeAzureFront();
  FakeAzureFront(const FakeAzureFront&) = delete;
  FakeAzureFront& operator=(const FakeAzureFront&) = delete;

  httplib::Server& server() { return *server_; }
  // Binds a free port and serves on a thread of its own; throws when it cannot bind.
  void Start();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void RequireBearerToken(std::string token);
  void FailNext(int status, int count = 1);
  std::vector<std::string> requests() const;

  // Logs the request, then answers it (false) with an injected failure, a missing or wrong
  // api-version (400) or a wrong bearer (401); true when the handler should answer.
  bool Admit(const httplib::Request& req, httplib::Response& res);

  static void Reply(httplib::Response& res, int status, const nlohmann::json& body);
  static void Error(httplib::Response& res, int status, const std::string& code, const std::string& message);
  // Azure's names (zones, secrets) compare without case.
  static std::string Lower(std::string s);

 private:
  const std::string name_;
  const Rules rules_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::string token_;
  int fail_status_ = 0, fail_count_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace matih::testing
