// A StepHarness wired to the stack's Prometheus (settings observability.*), with helpers that
// ask Prometheus's HTTP API and the GitOps repository what is really there. Deletes whatever a
// test left in Prometheus's folders for its tenants, so the shared Prometheus stays clean.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "steps/step_harness.h"
#include "support/stack_env.h"

namespace matih::testing {

class ObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus_ = StackEnv::Require("MATIH_PROMETHEUS_URL");
    targets_dir_ = StackEnv::Require("MATIH_PROMETHEUS_TARGETS_DIR");
    rules_dir_ = StackEnv::Require("MATIH_PROMETHEUS_RULES_DIR");
    auto& s = harness_.settings();
    s["observability.prometheus_url"] = prometheus_;
    s["observability.targets_dir"] = targets_dir_;
    s["observability.rules_dir"] = rules_dir_;
    s["observability.verify_timeout_ms"] = "10000";
    tenant_ = NewTenant("starter", "acme");
  }
  void TearDown() override {
    bool reload = false;
    for (const auto& slug : slugs_) {
      std::error_code ec;
      std::filesystem::remove(targets_dir_ + "/tenant-" + slug + ".json", ec);
      reload |= std::filesystem::remove(rules_dir_ + "/tenant-" + slug + ".yml", ec);
    }
    if (reload) plugins::HttpClient().Send({"POST", prometheus_ + "/-/reload", {}, {}});
  }

  TestTenant NewTenant(const std::string& tier, const std::string& prefix) {
    TestTenant t = StepHarness::MakeTenant(tier, prefix);
    slugs_.push_back(t.view.slug);
    return t;
  }
  nlohmann::json ApiData(const std::string& path) {
    auto response = plugins::HttpClient().Send({"GET", prometheus_ + path, {}, {}});
    EXPECT_EQ(200, response.status) << path;
    return nlohmann::json::parse(response.body)["data"];
  }
  // Active targets of the tenant in Prometheus: instance -> labels.
  std::map<std::string, nlohmann::json> TargetsOf(const TestTenant& t) {
    std::map<std::string, nlohmann::json> out;
    const auto data = ApiData("/api/v1/targets?state=active");  // kept alive for the loop
    for (const auto& target : data["activeTargets"])
      if (target["labels"].value("tenant", "") == t.view.slug)
        out[target["labels"]["instance"]] = target["labels"];
    return out;
  }
  // Loaded rule group "tenant-<slug>" of the tenant, or null.
  nlohmann::json RuleGroupOf(const TestTenant& t) {
    const auto data = ApiData("/api/v1/rules");
    for (const auto& group : data["groups"])
      if (group["name"] == "tenant-" + t.view.slug) return group;
    return nullptr;
  }
  void Reload() {
    ASSERT_EQ(200, plugins::HttpClient().Send({"POST", prometheus_ + "/-/reload", {}, {}}).status);
  }
  // Polls `done` for up to 10 s (Prometheus re-reads target files every second).
  template <typename Fn>
  bool Eventually(Fn&& done) {
    for (int i = 0; i < 100; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
  }
  std::string TargetFile(const TestTenant& t) { return targets_dir_ + "/tenant-" + t.view.slug + ".json"; }
  std::string RuleFile(const TestTenant& t) { return rules_dir_ + "/tenant-" + t.view.slug + ".yml"; }
  // "inode:mtime_ns" of a file: changes when it is rewritten.
  static std::string Identity(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_ino) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  }
  // The file of `step` for `t` at the GitOps branch tip, or "" when there is none.
  std::string GitFile(const TestTenant& t, const std::string& step) {
    std::string out;
    const std::string repo = harness_.settings()["gitops.repository"];
    if (RunCommand("git -C '" + repo + "' show main:tenants/" + t.view.slug + "/" + step + ".yaml", &out) !=
        0)
      return "";
    return out;
  }
  std::string GitHead() {
    std::string out;
    RunCommand("git -C '" + harness_.settings()["gitops.repository"] + "' rev-parse main", &out);
    return out;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  // Files in `dir` whose names start with "." (staged files that were never installed).
  static std::vector<std::string> HiddenFiles(const std::string& dir, const std::string& slug) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().filename().string().rfind(".tenant-" + slug, 0) == 0) out.push_back(e.path());
    return out;
  }

  StepHarness harness_;
  TestTenant tenant_;
  std::string prometheus_, targets_dir_, rules_dir_;
  std::vector<std::string> slugs_;
};

}  // namespace matih::testing
