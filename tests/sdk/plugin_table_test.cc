// ReadPluginTable (runner/plugin_host/plugin_table.h): what it keeps of a well-formed table and how
// it refuses a malformed one. tests/fuzz/plugin_table_fuzz.cc covers arbitrary tables.
#include "plugin_host/plugin_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace matih::runner {
namespace {

matih_status Nothing(void*, matih_step_context*) { return MATIH_STATUS_OK; }

// A table as the SDK lays it out: two kinds, two settings, one shared secret.
struct Table {
  matih_step_kind kinds[2]{};
  matih_setting settings[2]{};
  const char* shared[1] = {"sas/*"};
  matih_plugin plugin{};

  Table() {
    for (int i = 0; i < 2; ++i) {
      kinds[i].struct_size = sizeof(matih_step_kind);
      kinds[i].name = i == 0 ? "test.one" : "test.two";
      kinds[i].description = "a kind";
      kinds[i].on_observe = kinds[i].on_apply = kinds[i].on_remove = Nothing;
      settings[i].struct_size = sizeof(matih_setting);
      settings[i].name = i == 0 ? "test.url" : "test.limits.*";
      settings[i].flags = i == 0 ? MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET : 0;
      settings[i].description = "r\xc3\xa9sum\xc3\xa9 of a setting";
    }
    plugin.struct_size = sizeof(matih_plugin);
    plugin.abi_major = MATIH_STEP_ABI_VERSION_MAJOR;
    plugin.abi_minor = MATIH_STEP_ABI_VERSION_MINOR;
    plugin.name = "matih-test";
    plugin.version = "1.2.3";
    plugin.kind_count = 2;
    plugin.kinds = kinds;
    plugin.kind_struct_size = sizeof(matih_step_kind);
    plugin.setting_count = 2;
    plugin.settings = settings;
    plugin.setting_struct_size = sizeof(matih_setting);
    plugin.shared_secret_count = 1;
    plugin.shared_secrets = shared;
  }
  std::string Refusal() const {
    auto read = ReadPluginTable("/p/x.so", &plugin);
    EXPECT_FALSE(read.ok());
    if (read.ok()) return "";
    EXPECT_EQ(read.status().code(), Code::kInvalidArgument);
    EXPECT_NE(read.status().message().find("plugin /p/x.so"), std::string::npos) << read.status().message();
    return read.status().message();
  }
};

TEST(PluginTable, KeepsWhatAWellFormedTableHolds) {
  Table t;
  auto read = ReadPluginTable("/p/x.so", &t.plugin);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->name, "matih-test");
  EXPECT_EQ(read->version, "1.2.3");
  EXPECT_EQ(read->abi_version, "1." + std::to_string(MATIH_STEP_ABI_VERSION_MINOR));
  ASSERT_EQ(read->kinds.size(), 2u);
  EXPECT_STREQ(read->kinds[1].name, "test.two");
  EXPECT_TRUE(read->declares_settings);
  ASSERT_EQ(read->settings.size(), 2u);
  EXPECT_TRUE(read->settings[0].required);
  EXPECT_TRUE(read->settings[0].secret);
  EXPECT_FALSE(read->settings[1].secret);
  EXPECT_EQ(read->shared_secrets, std::vector<std::string>{"sas/*"});
}

TEST(PluginTable, AnOlderTableDeclaresNothingAndItsMissingFieldsAreNotRead) {
  Table t;
  t.plugin.abi_minor = 1;
  t.plugin.struct_size = offsetof(matih_plugin, setting_count);
  // Fields past struct_size hold garbage the reader must not follow.
  t.plugin.settings = reinterpret_cast<const matih_setting*>(uintptr_t{8});
  t.plugin.setting_count = 99;
  auto read = ReadPluginTable("/p/x.so", &t.plugin);
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_FALSE(read->declares_settings);
  EXPECT_TRUE(read->settings.empty());
  EXPECT_EQ(read->kinds.size(), 2u);
}

TEST(PluginTable, RefusesANullTableAndAnotherMajor) {
  auto read = ReadPluginTable("/p/x.so", nullptr);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("returned no table"), std::string::npos);
  Table t;
  t.plugin.abi_major = 2;
  const std::string minor = std::to_string(MATIH_STEP_ABI_VERSION_MINOR);
  EXPECT_NE(t.Refusal().find("built for step ABI 2." + minor + "; this host speaks 1." + minor),
            std::string::npos)
      << t.Refusal();
}

TEST(PluginTable, RefusesAPluginNameThatWouldEscapeItsSecretNamespace) {
  Table t;
  t.plugin.name = "matih-data/postgres";
  EXPECT_NE(t.Refusal().find("malformed name"), std::string::npos);
}

TEST(PluginTable, RefusesAStringWithoutANulWithinItsBoundWithoutReadingFurther) {
  Table t;
  // Exactly one byte past the bound and no NUL: under ASan a read further would be reported.
  std::vector<char> unterminated(kMaxPluginNameBytes + 1, 'a');
  t.kinds[0].name = unterminated.data();
  EXPECT_NE(t.Refusal().find("step kind #0 has a missing or malformed name"), std::string::npos);
}

TEST(PluginTable, RefusesElementSizesAndCountsBeyondItsBoundsBeforeReadingTheArray) {
  Table t;
  t.plugin.kind_struct_size = size_t{1} << 40;
  EXPECT_NE(t.Refusal().find("declares step kinds of 1099511627776 bytes"), std::string::npos);
  Table u;
  u.plugin.setting_count = kMaxPluginSettings + 1;
  EXPECT_NE(u.Refusal().find("corrupt settings array"), std::string::npos);
}

TEST(PluginTable, RefusesControlCharactersAndInvalidUtf8InDescriptions) {
  Table t;
  t.kinds[1].description = "line one\nline two";
  EXPECT_NE(t.Refusal().find("step kind #1 (test.two) has a malformed description"), std::string::npos);
  Table u;
  u.settings[0].description = "bad \xc3(";
  EXPECT_NE(u.Refusal().find("setting #0 (test.url) has a malformed description"), std::string::npos);
}

TEST(PluginTable, RefusesAMalformedSharedSecretPattern) {
  Table t;
  t.shared[0] = "a*b";
  EXPECT_NE(t.Refusal().find("shared secret #0 is malformed"), std::string::npos);
}

}  // namespace
}  // namespace matih::runner
