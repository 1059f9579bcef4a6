// The GCC-built host half of tests/sdk/build_example_out_of_tree.sh: loads the example plugin
// that the script built with clang++ against the installed SDK, and runs its kind. Run only by
// that script (it passes the plugin directories in MATIH_EXAMPLE_PLUGIN_DIRS).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plugin_host/plugin_host.h"
#include "plugin_test_support.h"

namespace matih::runner {
namespace {

using matih::testing::TempDir;
using matih::testing::TestCall;

std::string Shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  return out;
}

std::vector<std::string> PluginDirs() {
  std::vector<std::string> dirs;
  const char* env = std::getenv("MATIH_EXAMPLE_PLUGIN_DIRS");
  std::stringstream list(env ? env : "");
  for (std::string dir; std::getline(list, dir, ':');) {
    if (!dir.empty()) dirs.push_back(dir);
  }
  return dirs;
}

TEST(ExampleBuiltOutOfTree, WasBuiltByClang) {
  const auto dirs = PluginDirs();
  ASSERT_EQ(dirs.size(), 2u) << "run me through tests/sdk/build_example_out_of_tree.sh";
  const bool libcxx = std::string(std::getenv("MATIH_EXAMPLE_EXPECT_LIBCXX") ?: "0") == "1";
  for (const auto& dir : dirs) {
    const std::string file = dir + "/hello_step.so";
    EXPECT_NE(Shell("readelf -p .comment '" + file + "'").find("clang"), std::string::npos) << file;
    const std::string needed = Shell("readelf -d '" + file + "'");
    if (libcxx) {
      EXPECT_NE(needed.find("libc++.so"), std::string::npos) << needed;
    }
    EXPECT_EQ(Shell("nm -D --defined-only '" + file + "' | awk '{print $3}'"), "matih_step_plugin_init\n")
        << file;
  }
}

TEST(ExampleBuiltOutOfTree, LoadsPinnedAndRunsInTheGccBuiltHost) {
  const auto dirs = PluginDirs();
  ASSERT_EQ(dirs.size(), 2u) << "run me through tests/sdk/build_example_out_of_tree.sh";
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir);
    const std::string file = dir + "/hello_step.so";
    PluginHostOptions options;
    options.plugin_dirs = {dir};
    options.sha256_pins = {{"hello_step.so", Shell("sha256sum '" + file + "'").substr(0, 64)}};
    auto host = PluginHost::Load(options);
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    ASSERT_EQ((*host)->plugins().size(), 1u);
    EXPECT_EQ((*host)->plugins()[0].name, "hello-step");
    EXPECT_EQ((*host)->plugins()[0].abi_version, "1.3");
    const StepKind* kind = (*host)->Find("example.greeting");
    ASSERT_NE(kind, nullptr);

    TempDir target;
    std::map<std::string, std::string> settings{{"example.dir", target.path()},
                                                {"example.greeting", "Welcome"}};
    StepCall call = TestCall("say-hello");
    call.settings = &settings;
    EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_ABSENT);
    StepAnswer applied = kind->Apply(call);
    ASSERT_EQ(applied.status, MATIH_STATUS_OK) << applied.message;
    std::ifstream in(target / "acme.greeting");
    std::stringstream content;
    content << in.rdbuf();
    EXPECT_EQ(content.str(), "Welcome, acme (professional)!\n");
    EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_IN_SYNC);
    EXPECT_EQ(kind->Remove(call).status, MATIH_STATUS_OK);
    EXPECT_FALSE(std::filesystem::exists(target / "acme.greeting"));

    // An exception inside the clang/libc++ plugin becomes an error here, not a crash.
    call.tenant.slug = "Not/A/Label";
    StepAnswer refused = kind->Apply(call);
    EXPECT_EQ(refused.status, MATIH_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(refused.message.find("is not a DNS label"), std::string::npos) << refused.message;
  }
}

}  // namespace
}  // namespace matih::runner
