// The plugin host's verdicts (issue 17 §6): every plugin file gets one (ok, or refused and why)
// instead of the load stopping at the first refusal; built-in directories load first, so a
// third-party plugin exporting a built-in kind is refused as the newcomer whatever the order of
// the directories; and key files declared with MATIH_SETTING_KEY_FILE are checked (mode, kind
// of file, key length) by CheckKeyFile.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "plugin_host/key_file.h"
#include "plugin_test_support.h"

namespace matih::runner {
namespace {

namespace fs = std::filesystem;
using matih::testing::TempDir;
using matih::testing::TestPluginDir;

std::string Canonical(const std::string& path) { return fs::canonical(path).string(); }

// A third party's copy of the probe plugin: same name, same kinds, another file.
std::string CopyProbe(const TempDir& dir) {
  ::chmod(dir.path().c_str(), 0755);
  const std::string to = dir / "third-party-probe.so";
  fs::copy_file(TestPluginDir("probe") + "/sdk_tp_probe.so", to);
  ::chmod(to.c_str(), 0755);
  return Canonical(to);
}

const PluginVerdict* VerdictOf(const PluginHost& host, const std::string& file) {
  for (const auto& v : host.verdicts())
    if (v.file == file) return &v;
  return nullptr;
}

TEST(PluginVerdicts, EveryFileGetsItsVerdictAndTheGoodOnesLoad) {
  PluginHostOptions options;
  options.plugin_dirs = {TestPluginDir("null_table"), TestPluginDir("probe"), TestPluginDir("init_throws")};
  options.keep_going = true;
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok()) << host.status().ToString();
  ASSERT_EQ((*host)->verdicts().size(), 3u);
  const auto* probe = VerdictOf(**host, Canonical(TestPluginDir("probe") + "/sdk_tp_probe.so"));
  ASSERT_NE(probe, nullptr);
  EXPECT_TRUE(probe->ok) << probe->reason;
  const auto* null_table =
      VerdictOf(**host, Canonical(TestPluginDir("null_table") + "/sdk_tp_null_table.so"));
  ASSERT_NE(null_table, nullptr);
  EXPECT_FALSE(null_table->ok);
  EXPECT_NE(null_table->reason.find("returned no table"), std::string::npos) << null_table->reason;
  const auto* throws = VerdictOf(**host, Canonical(TestPluginDir("init_throws") + "/sdk_tp_init_throws.so"));
  ASSERT_NE(throws, nullptr);
  EXPECT_FALSE(throws->ok);
  EXPECT_NE(throws->reason.find("let an exception escape"), std::string::npos) << throws->reason;
  EXPECT_NE((*host)->Find("test.echo"), nullptr) << "the good plugin is served";
  // Without keep_going the same directories refuse the whole load, naming both refusals.
  options.keep_going = false;
  auto strict = PluginHost::Load(options);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("returned no table"), std::string::npos);
  EXPECT_NE(strict.status().message().find("let an exception escape"), std::string::npos);
}

TEST(PluginVerdicts, ThirdPartyPluginExportingABuiltinKindIsRefusedWhateverTheOrder) {
  TempDir third_party;
  const std::string copy = CopyProbe(third_party);
  const std::string builtin = Canonical(TestPluginDir("probe") + "/sdk_tp_probe.so");
  for (bool third_party_first : {true, false}) {
    SCOPED_TRACE(third_party_first ? "third-party directory first" : "built-in directory first");
    PluginHostOptions options;
    options.plugin_dirs = third_party_first
                              ? std::vector<std::string>{third_party.path(), TestPluginDir("probe")}
                              : std::vector<std::string>{TestPluginDir("probe"), third_party.path()};
    options.builtin_dirs = {TestPluginDir("probe")};
    auto refused = PluginHost::Load(options);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
    const std::string& m = refused.status().message();
    EXPECT_NE(m.find("is exported by both " + builtin + " (built-in) and " + copy + ": refusing " + copy +
                     ", the newcomer"),
              std::string::npos)
        << m;

    options.keep_going = true;
    auto host = PluginHost::Load(options);
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    ASSERT_EQ((*host)->verdicts().size(), 2u);
    EXPECT_EQ((*host)->verdicts()[0].file, builtin) << "built-in directories load first";
    EXPECT_TRUE((*host)->verdicts()[0].ok);
    EXPECT_TRUE((*host)->verdicts()[0].builtin);
    EXPECT_EQ((*host)->verdicts()[1].file, copy);
    EXPECT_FALSE((*host)->verdicts()[1].ok);
    EXPECT_FALSE((*host)->verdicts()[1].builtin);
    EXPECT_EQ((*host)->Find("test.echo")->plugin_file(), builtin);
  }
}

TEST(PluginVerdicts, WithoutABuiltinDirectoryTheFirstLoadedKeepsTheKind) {
  TempDir third_party;
  const std::string copy = CopyProbe(third_party);
  PluginHostOptions options;
  options.plugin_dirs = {third_party.path(), TestPluginDir("probe")};
  options.keep_going = true;
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ((*host)->Find("test.echo")->plugin_file(), copy);
  ASSERT_EQ((*host)->verdicts().size(), 2u);
  EXPECT_FALSE((*host)->verdicts()[1].ok);
  EXPECT_EQ((*host)->verdicts()[1].reason.find("(built-in)"), std::string::npos)
      << (*host)->verdicts()[1].reason;
}

TEST(PluginVerdicts, MissingDirectoryAndUnmatchedPinHaveVerdictsToo) {
  PluginHostOptions options;
  options.plugin_dirs = {"/nonexistent/matih/plugins", TestPluginDir("probe")};
  options.sha256_pins = {{"absent.so", std::string(64, 'a')}};
  options.keep_going = true;
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok());
  ASSERT_EQ((*host)->verdicts().size(), 3u);
  EXPECT_EQ((*host)->verdicts()[0].file, "/nonexistent/matih/plugins");
  EXPECT_FALSE((*host)->verdicts()[0].ok);
  EXPECT_TRUE((*host)->verdicts()[1].ok);
  EXPECT_EQ((*host)->verdicts()[2].file, "absent.so");
  EXPECT_NE((*host)->verdicts()[2].reason.find("is pinned"), std::string::npos);
}

class KeyFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& content, mode_t mode) {
    const std::string path = dir_ / "key";
    fs::remove(path);
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  Status Check(const std::string& content, mode_t mode = 0600) {
    return CheckKeyFile("targets.test.key_file", Write(content, mode));
  }
  TempDir dir_;
};

TEST_F(KeyFile, SoundKeysPass) {
  EXPECT_TRUE(Check(std::string(64, 'a') + "\n").ok()) << "64 hex digits";
  EXPECT_TRUE(Check(std::string(64, 'a'), 0400).ok()) << "read-only for the owner";
  // base64 of 32 bytes, as scripts/demo makes it (head -c 32 /dev/urandom | base64).
  EXPECT_TRUE(Check("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n").ok());
  EXPECT_TRUE(Check(std::string(32, '\x07') + std::string(8, 'z')).ok()) << "40 raw bytes";
}

TEST_F(KeyFile, GroupOrOtherAccessIsRefusedNamingTheModeAndTheFile) {
  Status s = Check(std::string(64, 'a'), 0644);
  ASSERT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "targets.test.key_file: key file " + (dir_ / "key") +
                             " has mode 0644: group and others must have no access; run chmod 600 " +
                             (dir_ / "key"));
  EXPECT_FALSE(Check(std::string(64, 'a'), 0640).ok());
  EXPECT_FALSE(Check(std::string(64, 'a'), 0604).ok());
}

TEST_F(KeyFile, ShortKeysAreRefusedWithTheirLength) {
  Status hex16 = Check(std::string(32, 'b') + "\n");
  ASSERT_FALSE(hex16.ok());
  EXPECT_NE(hex16.message().find("holds 32 hex digits, a key of 16 bytes; at least 32 bytes are needed"),
            std::string::npos)
      << hex16.message();
  EXPECT_EQ(hex16.message().find(std::string(32, 'b')), std::string::npos) << "the key is never printed";
  Status raw16 = Check(std::string(16, '\x07'));
  ASSERT_FALSE(raw16.ok());
  EXPECT_NE(raw16.message().find("holds a key of 16 bytes"), std::string::npos) << raw16.message();
  EXPECT_NE(Check("q83vEjRWeJCrze8SNFZ4kA==").message().find("a key of 16 bytes"), std::string::npos)
      << "base64 of 16 bytes";
  EXPECT_NE(Check("  \n").message().find("is empty"), std::string::npos);
}

TEST_F(KeyFile, MissingFileDirectoryAndHugeFileAreRefused) {
  Status missing = CheckKeyFile("targets.test.key_file", dir_ / "absent");
  EXPECT_NE(missing.message().find("cannot be opened: No such file or directory"), std::string::npos)
      << missing.message();
  fs::create_directory(dir_ / "sub");
  ::chmod((dir_ / "sub").c_str(), 0700);
  EXPECT_NE(CheckKeyFile("targets.test.key_file", dir_ / "sub").message().find("is not a regular file"),
            std::string::npos);
  EXPECT_NE(Check(std::string(5000, 'a')).message().find("too large to be a key"), std::string::npos);
}

}  // namespace
}  // namespace matih::runner
