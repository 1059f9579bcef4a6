// Helpers for plugin host tests: where the test plugins are, a temporary directory, a StepCall.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "model/step_kind.h"
#include "plugin_host/plugin_host.h"

namespace matih::testing {

// The build directory of one group of test plugins (see tests/sdk/CMakeLists.txt).
inline std::string TestPluginDir(const std::string& name) {
  return std::string(MATIH_TEST_PLUGIN_DIR) + "/" + name;
}

// A fresh directory under /tmp (mode 0700), removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/matih-sdk-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Loads exactly `dirs`, with permission checks on; a test failure (and nullptr) when refused.
inline std::unique_ptr<runner::PluginHost> LoadPlugins(std::vector<std::string> dirs) {
  runner::PluginHostOptions options;
  options.plugin_dirs = std::move(dirs);
  auto host = runner::PluginHost::Load(options);
  EXPECT_TRUE(host.ok()) << host.status().ToString();
  return host.ok() ? std::move(host).value() : nullptr;
}

// A StepCall for tenant "acme" with a deadline a minute away.
inline runner::StepCall TestCall(const std::string& step_name) {
  runner::StepCall call;
  call.tenant = {"3f8a9c1e-5b7d-4e2f-9a6c-0d1e2f3a4b5c", "acme", "professional", "westeurope",
                 R"({"admin_email":"ops@acme.example"})"};
  call.step_number = 7;
  call.step_name = step_name;
  call.params_json = R"({"size":3})";
  call.run_id = "run-42";
  call.deadline = std::chrono::system_clock::now() + std::chrono::minutes(1);
  return call;
}

}  // namespace matih::testing
