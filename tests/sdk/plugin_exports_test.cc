// Plugins export exactly one dynamic symbol, the entry point: hidden visibility plus the SDK's
// version script keep every C++ symbol (and every copy of libstdc++'s templates) private, so two
// plugins never bind to each other's code. Checked with `nm -D --defined-only`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

// The names of the defined dynamic symbols of `file`.
std::set<std::string> DynamicSymbols(const std::string& file) {
  std::set<std::string> symbols;
  FILE* p = ::popen(("nm -D --defined-only '" + file + "' 2>&1").c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run nm";
    return symbols;
  }
  char line[1024];
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream fields(line);
    std::string address, type, name;
    if (fields >> address >> type >> name) symbols.insert(name);
  }
  EXPECT_EQ(::pclose(p), 0) << "nm failed on " << file;
  return symbols;
}

std::vector<std::string> SharedObjectsUnder(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".so") files.push_back(it->path().string());
  }
  return files;
}

TEST(PluginExports, EveryTestPluginExportsOnlyTheEntryPoint) {
  const auto files = SharedObjectsUnder(MATIH_TEST_PLUGIN_DIR);
  ASSERT_GE(files.size(), 12u) << "the test plugins of tests/sdk are not all built in "
                               << MATIH_TEST_PLUGIN_DIR;
  const std::set<std::string> entry_only{"matih_step_plugin_init"};
  for (const std::string& file : files) {
    const auto symbols = DynamicSymbols(file);
    if (file.find("sdk_tp_no_export") != std::string::npos) {
      EXPECT_TRUE(symbols.empty()) << file;  // the one that exports nothing, on purpose
    } else {
      EXPECT_EQ(symbols, entry_only) << file;
    }
  }
}

TEST(PluginExports, EveryBuiltInPluginExportsOnlyTheEntryPoint) {
  const auto files = SharedObjectsUnder(MATIH_PLUGIN_DIR);
  if (files.empty()) GTEST_SKIP() << "no built-in plugins built yet in " << MATIH_PLUGIN_DIR;
  for (const std::string& file : files) {
    EXPECT_EQ(DynamicSymbols(file), std::set<std::string>{"matih_step_plugin_init"}) << file;
  }
}

}  // namespace
