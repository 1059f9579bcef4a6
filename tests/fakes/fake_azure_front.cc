#include "fakes/fake_azure_front.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace matih::testing {

FakeAzureFront::FakeAzureFront(std::string name, Rules rules)
    : name_(std::move(name)), rules_(std::move(rules)), server_(std::make_unique<httplib::Server>()) {}

FakeAzureFront::~FakeAzureFront() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void FakeAzureFront::Start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error(name_ + " could not bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void FakeAzureFront::RequireBearerToken(std::string token) {
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
}

void FakeAzureFront::FailNext(int status, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_status_ = status;
  fail_count_ = count;
}

std::vector<std::string> FakeAzureFront::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool FakeAzureFront::Admit(const httplib::Request& req, httplib::Response& res) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(req.method + " " + req.path);
  if (fail_count_ > 0) {
    --fail_count_;
    Error(res, fail_status_, "InjectedFailure", "injected failure");
    return false;
  }
  if (req.get_param_value("api-version") != rules_.api_version) {
    Error(res, 400, rules_.version_error_code, rules_.version_error_message);
    return false;
  }
  if (!token_.empty() && req.get_header_value("Authorization") != "Bearer " + token_) {
    Error(res, 401, rules_.auth_error_code, rules_.auth_error_message);
    return false;
  }
  return true;
}

void FakeAzureFront::Reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void FakeAzureFront::Error(httplib::Response& res, int status, const std::string& code,
                           const std::string& message) {
  Reply(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

std::string FakeAzureFront::Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace matih::testing
