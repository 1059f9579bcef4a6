// PluginHost: which plugins it loads, which it refuses and why, and how it survives plugins
// that break the ABI's rules.
#include "plugin_host/plugin_host.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "plugin_test_support.h"

namespace matih::runner {
namespace {

namespace fs = std::filesystem;
using matih::testing::LoadPlugins;
using matih::testing::TempDir;
using matih::testing::TestCall;
using matih::testing::TestPluginDir;

std::string Sha256Sum(const std::string& path) {
  std::string out;
  if (FILE* p = ::popen(("sha256sum '" + path + "'").c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  return out.substr(0, 64);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Copies the probe plugin into a fresh directory (so a test may change modes or contents).
std::string CopyProbeInto(const TempDir& dir) {
  ::chmod(dir.path().c_str(), 0755);
  const std::string to = dir / "probe.so";
  fs::copy_file(TestPluginDir("probe") + "/sdk_tp_probe.so", to);
  ::chmod(to.c_str(), 0755);
  return to;
}

Status LoadStatus(std::vector<std::string> dirs, std::map<std::string, std::string> pins = {},
                  bool allow_insecure = false) {
  PluginHostOptions options;
  options.plugin_dirs = std::move(dirs);
  options.sha256_pins = std::move(pins);
  options.allow_insecure_permissions = allow_insecure;
  auto host = PluginHost::Load(options);
  return host.ok() ? Status::Ok() : host.status();
}

// --- What gets loaded --------------------------------------------------------------------------

TEST(PluginHost, LoadListsEveryKindWithItsPluginFileVersionAndAbi) {
  auto host = LoadPlugins({TestPluginDir("probe")});
  ASSERT_TRUE(host);
  ASSERT_EQ(host->plugins().size(), 1u);
  const LoadedPluginInfo& info = host->plugins()[0];
  EXPECT_EQ(info.name, "probe");
  EXPECT_EQ(info.version, "2.3.4");
  EXPECT_EQ(info.abi_version, "1.3");
  EXPECT_EQ(info.file, fs::canonical(TestPluginDir("probe") + "/sdk_tp_probe.so").string());
  EXPECT_EQ(info.kinds.size(), 8u);

  const StepKind* echo = host->Find("test.echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->description(), "Copies the host's values into outputs");
  EXPECT_EQ(echo->plugin_name(), "probe");
  EXPECT_EQ(echo->plugin_version(), "2.3.4");
  EXPECT_EQ(echo->plugin_file(), info.file);
  EXPECT_EQ(echo->abi_version(), "1.3");
  EXPECT_EQ(host->All().size(), 8u);
  EXPECT_EQ(host->Find("no.such.kind"), nullptr);
}

TEST(PluginHost, ExampleKindWritesComparesAndRemovesItsFile) {
  auto host = LoadPlugins({TestPluginDir("hello")});
  ASSERT_TRUE(host);
  const StepKind* kind = host->Find("example.greeting");
  ASSERT_NE(kind, nullptr);
  TempDir target;
  std::map<std::string, std::string> settings{{"example.dir", target.path()}};
  StepCall call = TestCall("say-hello");
  call.settings = &settings;
  const std::string file = target / "acme.greeting";

  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_ABSENT);
  StepAnswer applied = kind->Apply(call);
  ASSERT_EQ(applied.status, MATIH_STATUS_OK) << applied.message;
  EXPECT_EQ(applied.outputs.at("path"), file);
  EXPECT_EQ(ReadFile(file), "Hello, acme (professional)!\n");
  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_IN_SYNC);

  std::ofstream(file) << "tampered";
  StepAnswer drifted = kind->Observe(call);
  EXPECT_EQ(drifted.status, MATIH_STATUS_DRIFTED);
  EXPECT_NE(drifted.message.find("acme.greeting"), std::string::npos) << drifted.message;
  ASSERT_EQ(kind->Apply(call).status, MATIH_STATUS_OK);
  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_IN_SYNC);

  EXPECT_EQ(kind->Remove(call).status, MATIH_STATUS_OK);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(kind->Remove(call).status, MATIH_STATUS_OK) << "remove is safe when already absent";
  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_ABSENT);
}

TEST(PluginHost, ExampleKindWithoutItsSettingFailsPermanentlyNamingIt) {
  auto host = LoadPlugins({TestPluginDir("hello")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("example.greeting")->Apply(TestCall("say-hello"));
  EXPECT_EQ(answer.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_NE(answer.message.find("example.dir"), std::string::npos) << answer.message;
  EXPECT_FALSE(answer.ToStatus().retryable());
}

TEST(PluginHost, LoadAcceptsAPluginBuiltAgainstAbi1_0AndRunsIt) {
  auto host = LoadPlugins({TestPluginDir("compat_v1_0")});
  ASSERT_TRUE(host);
  const StepKind* kind = host->Find("compat.marker");
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->abi_version(), "1.0");
  EXPECT_EQ(host->plugins()[0].abi_version, "1.0");
  // 1.0 structs end before on_validate_params: the host must not read past them.
  EXPECT_TRUE(kind->ValidateParams("{}").ok());

  StepCall call = TestCall("mark");
  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_ABSENT);
  StepAnswer applied = kind->Apply(call);
  ASSERT_EQ(applied.status, MATIH_STATUS_OK) << applied.message;
  EXPECT_EQ(applied.outputs.at("applied"), "yes");
  EXPECT_EQ(applied.outputs.at("slug"), "acme");

  TenantOutputs recorded{{"mark", applied.outputs}};
  call.outputs = &recorded;
  EXPECT_EQ(kind->Observe(call).status, MATIH_STATUS_IN_SYNC);
}

TEST(PluginHost, SecondKindOfAnAbi1_0PluginIsFoundByWalkingItsSmallerStructs) {
  auto host = LoadPlugins({TestPluginDir("compat_v1_0")});
  ASSERT_TRUE(host);
  const StepKind* kind = host->Find("compat.tier");
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->description(), "Records the tenant's tier (a plugin built against step ABI 1.0)");
  StepAnswer applied = kind->Apply(TestCall("tier"));
  ASSERT_EQ(applied.status, MATIH_STATUS_OK) << applied.message;
  EXPECT_EQ(applied.outputs.at("tier"), "professional");
}

TEST(PluginHost, LoadAcceptsAPluginOfALaterMinorWithLargerStructs) {
  auto host = LoadPlugins({TestPluginDir("future_minor")});
  ASSERT_TRUE(host);
  EXPECT_EQ(host->plugins()[0].abi_version, "1.9");
  ASSERT_NE(host->Find("future.first"), nullptr);
  const StepKind* second = host->Find("future.second");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->description(), "Second kind of a 1.9 plugin");
  EXPECT_EQ(second->Observe(TestCall("future")).status, MATIH_STATUS_ABSENT);
  EXPECT_EQ(second->Apply(TestCall("future")).outputs.at("which"), "second");
  EXPECT_TRUE(second->ValidateParams("{}").ok()) << "on_validate_params is NULL";
}

TEST(PluginHost, LoadOnlyConsidersSoFilesInTheConfiguredDirectories) {
  TempDir dir;
  CopyProbeInto(dir);
  std::ofstream(dir / "README.txt") << "not a plugin";
  fs::copy_file(TestPluginDir("no_export") + "/sdk_tp_no_export.so", dir / "disabled.so.bak");
  auto host = LoadPlugins({dir.path()});
  ASSERT_TRUE(host);
  ASSERT_EQ(host->plugins().size(), 1u);
  EXPECT_EQ(host->Find("example.greeting"), nullptr) << "not in a configured directory";
}

TEST(PluginHost, LoadOfNoDirectoriesServesNoKinds) {
  auto host = LoadPlugins({});
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->All().empty());
}

TEST(PluginHost, TheSameFileReachedTwiceIsLoadedOnce) {
  auto host = LoadPlugins({TestPluginDir("probe"), TestPluginDir("probe") + "/."});
  ASSERT_TRUE(host);
  EXPECT_EQ(host->plugins().size(), 1u);
}

// --- What gets refused -------------------------------------------------------------------------

TEST(PluginHost, TruncatedPluginIsRefusedWithAMessageNotASignal) {
  // The first 20,000 bytes of a real plugin: dlopen maps it, and touching a page past the end
  // would kill the runner with SIGBUS. The host must refuse it first, naming the file.
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  fs::resize_file(file, 20000);
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("plugin " + fs::canonical(file).string() + " is not a loadable shared library"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("truncated?"), std::string::npos) << s.message();
}

TEST(PluginHost, GarbageFileNamedSoIsRefusedWithAMessage) {
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string file = dir / "garbage.so";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
  }
  ::chmod(file.c_str(), 0755);
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("garbage.so is not a loadable shared library (no ELF signature"),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, EveryBrokenFileIsReportedAndTheGoodOnesStillCount) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  fs::copy_file(file, dir / "cut.so");
  fs::resize_file(dir / "cut.so", 20000);
  { std::ofstream(dir / "empty.so"); }
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cut.so is not a loadable"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("empty.so is not a loadable"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("probe.so is not"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadRefusesPluginOfAnotherAbiMajor) {
  Status s = LoadStatus({TestPluginDir("abi_major_2")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("sdk_tp_abi_major_2.so was built for step ABI 2.0; this host speaks 1.3"),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesLibraryThatExportsNoEntryPoint) {
  Status s = LoadStatus({TestPluginDir("no_export")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("sdk_tp_no_export.so does not export matih_step_plugin_init"), std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesPluginWhoseEntryPointAnswersNull) {
  Status s = LoadStatus({TestPluginDir("null_table")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sdk_tp_null_table.so returned no table"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("1.3"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadRefusesPluginWhoseEntryPointThrows) {
  Status s = LoadStatus({TestPluginDir("init_throws")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("sdk_tp_init_throws.so let an exception escape"), std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesStepKindExportedByTwoPlugins) {
  Status s = LoadStatus({TestPluginDir("duplicate")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("step kind dup.kind is exported by both"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("sdk_tp_dup_a.so"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("sdk_tp_dup_b.so"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadRefusesMissingPluginDirectory) {
  Status s = LoadStatus({"/nonexistent/matih/plugins"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("/nonexistent/matih/plugins"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadRefusesPluginDirectoryWritableByOthers) {
  TempDir dir;
  CopyProbeInto(dir);
  ::chmod(dir.path().c_str(), 0757);  // o+w
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("plugin directory " + dir.path() + " is writable by group or others"),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesPluginFileWritableByGroup) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  ::chmod(file.c_str(), 0775);  // g+w
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("plugin " + file + " is writable by group or others (mode 0775)"),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesPluginOwnedByAnotherUser) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  const uid_t other = ::geteuid() == 0 ? 65534 : 0;  // nobody, or root when we are not root
  if (::chown(file.c_str(), other, static_cast<gid_t>(-1)) != 0) {
    GTEST_SKIP() << "cannot hand the file to another user here (not root)";
  }
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("plugin " + file + " is owned by uid " + std::to_string(other)),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesSymlinkIntoAnUntrustedSubdirectory) {
  TempDir trusted;
  ::chmod(trusted.path().c_str(), 0755);
  const fs::path untrusted = fs::path(trusted.path()) / "drop";
  fs::create_directory(untrusted);
  fs::copy_file(TestPluginDir("probe") + "/sdk_tp_probe.so", untrusted / "probe.so");
  ::chmod(untrusted.c_str(), 0777);
  fs::create_symlink(untrusted / "probe.so", trusted / "probe.so");
  Status s = LoadStatus({trusted.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("plugin directory " + fs::canonical(untrusted).string()), std::string::npos)
      << s.message();
}

// Issue 16: a symlink must not bring in code from outside the plugin directory, even from a
// directory that would itself pass the permission checks.
TEST(PluginHost, LoadRefusesSymlinkOutOfItsPluginDirectoryNamingBothPaths) {
  TempDir dir;
  TempDir elsewhere;
  ::chmod(dir.path().c_str(), 0755);
  const std::string target = CopyProbeInto(elsewhere);  // 0755 directory, 0755 file: trusted
  const std::string link = dir / "matih-elsewhere.so";
  fs::create_symlink(target, link);
  Status s = LoadStatus({dir.path()});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("plugin " + link + " is a symlink to " + fs::canonical(target).string() +
                             ", outside its plugin directory " + fs::canonical(dir.path()).string()),
            std::string::npos)
      << s.message();
  // The target's own directory loads it.
  EXPECT_TRUE(LoadStatus({elsewhere.path()}).ok());

  // `plugins verify` (keep_going) gives the symlink its own verdict and loads nothing from it.
  PluginHostOptions options;
  options.plugin_dirs = {dir.path()};
  options.keep_going = true;
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok()) << host.status().message();
  EXPECT_TRUE((*host)->plugins().empty());
  ASSERT_EQ((*host)->verdicts().size(), 1u);
  EXPECT_FALSE((*host)->verdicts()[0].ok);
  EXPECT_EQ((*host)->verdicts()[0].file, link) << "the verdict names the symlink, not its target";
  EXPECT_NE((*host)->verdicts()[0].reason.find("outside its plugin directory"), std::string::npos);
}

TEST(PluginHost, LoadRefusesSymlinkOutOfAPluginDirectoryThatIsItselfASymlink) {
  TempDir base;
  ::chmod(base.path().c_str(), 0755);
  const fs::path real_dir = fs::path(base.path()) / "real";
  fs::create_directory(real_dir);
  ::chmod(real_dir.c_str(), 0755);
  const fs::path alias = fs::path(base.path()) / "alias";
  fs::create_directory_symlink(real_dir, alias);
  fs::copy_file(TestPluginDir("probe") + "/sdk_tp_probe.so", real_dir / "probe.so");
  ::chmod((real_dir / "probe.so").c_str(), 0755);
  // The directory reached through a symlink still holds its own files.
  EXPECT_TRUE(LoadStatus({alias.string()}).ok());
  // A file reached through the alias from a sibling directory is outside it.
  const fs::path sibling = fs::path(base.path()) / "sibling";
  fs::create_directory(sibling);
  ::chmod(sibling.c_str(), 0755);
  fs::create_symlink(alias / "probe.so", sibling / "probe.so");
  Status s = LoadStatus({sibling.string()});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("outside its plugin directory"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadAcceptsSymlinkToAFileInsideItsPluginDirectory) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  const std::string versioned = dir / "probe.so.2.3.4";
  fs::rename(file, versioned);
  fs::create_symlink("probe.so.2.3.4", file);  // relative, as package managers lay them out
  PluginHostOptions options;
  options.plugin_dirs = {dir.path()};
  auto host = PluginHost::Load(options);
  ASSERT_TRUE(host.ok()) << host.status().message();
  ASSERT_EQ((*host)->plugins().size(), 1u);
  EXPECT_EQ((*host)->plugins()[0].file, fs::canonical(versioned).string());
}

TEST(PluginHost, LoadAcceptsInsecurePermissionsOnlyWhenAllowed) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  ::chmod(dir.path().c_str(), 0777);
  ::chmod(file.c_str(), 0777);
  EXPECT_FALSE(LoadStatus({dir.path()}).ok());
  EXPECT_TRUE(LoadStatus({dir.path()}, {}, /*allow_insecure=*/true).ok());
}

TEST(PluginHost, LoadAcceptsPluginMatchingItsSha256Pin) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  const std::string sum = Sha256Sum(file);
  ASSERT_EQ(sum.size(), 64u);
  EXPECT_TRUE(LoadStatus({dir.path()}, {{"probe.so", sum}}).ok()) << "pinned by file name";
  std::string upper = sum;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(LoadStatus({dir.path()}, {{file, upper}}).ok()) << "pinned by path, in upper case";
}

TEST(PluginHost, LoadRefusesPluginWhoseSha256DiffersFromItsPin) {
  TempDir dir;
  const std::string file = CopyProbeInto(dir);
  const std::string sum = Sha256Sum(file);
  const std::string wrong = std::string(64, '0');
  Status s = LoadStatus({dir.path()}, {{"probe.so", wrong}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("plugin " + file + " has SHA-256 " + sum + " but is pinned to " + wrong),
            std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadRefusesPinThatIsNotASha256) {
  TempDir dir;
  CopyProbeInto(dir);
  Status s = LoadStatus({dir.path()}, {{"probe.so", "abc123"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("not 64 hex characters"), std::string::npos) << s.message();
}

TEST(PluginHost, LoadRefusesPinForAPluginThatIsNotThere) {
  TempDir dir;
  CopyProbeInto(dir);
  Status s = LoadStatus({dir.path()}, {{"matih-kubernetes.so", std::string(64, 'a')}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.message().find("plugin matih-kubernetes.so is pinned (SHA-256) but is not in any plugin directory"),
      std::string::npos)
      << s.message();
}

TEST(PluginHost, LoadReportsEveryRefusalAtOnceOnePerLine) {
  Status s = LoadStatus({TestPluginDir("abi_major_2"), TestPluginDir("no_export"), TestPluginDir("probe")});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("step ABI 2.0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("does not export"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find('\n'), std::string::npos) << s.message();
}

// --- Plugins that misbehave at run time --------------------------------------------------------

TEST(PluginHost, StepThatThrowsBecomesAnErrorCarryingTheExceptionsMessage) {
  auto host = LoadPlugins({TestPluginDir("throwing")});
  ASSERT_TRUE(host);
  const StepKind* kind = host->Find("bad.throws");
  ASSERT_NE(kind, nullptr);
  StepCall call = TestCall("throws");

  StepAnswer apply = kind->Apply(call);
  EXPECT_EQ(apply.status, MATIH_STATUS_INTERNAL);
  EXPECT_EQ(apply.message, "disk on fire");
  StepAnswer observe = kind->Observe(call);
  EXPECT_EQ(observe.status, MATIH_STATUS_INTERNAL);
  EXPECT_EQ(observe.message, "unknown exception in plugin");
  StepAnswer remove = kind->Remove(call);
  EXPECT_EQ(remove.status, MATIH_STATUS_UNAVAILABLE);
  EXPECT_TRUE(remove.ToStatus().retryable());
  EXPECT_EQ(remove.message, "target busy, retry me");

  Status params = kind->ValidateParams("{}");
  EXPECT_EQ(params.code(), Code::kInvalidArgument);
  EXPECT_NE(params.message().find("params are cursed"), std::string::npos) << params.ToString();
}

TEST(PluginHost, UnknownStatusFromAPluginBecomesInternalNamingTheValue) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.unknown_status")->Observe(TestCall("odd"));
  EXPECT_EQ(answer.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(answer.message.find("kind bad.unknown_status"), std::string::npos) << answer.message;
  EXPECT_NE(answer.message.find("sdk_tp_misbehaving.so"), std::string::npos) << answer.message;
  EXPECT_NE(answer.message.find("answered unknown status 999 from observe"), std::string::npos)
      << answer.message;
  EXPECT_NE(answer.message.find("the plugin's own words"), std::string::npos) << answer.message;
}

TEST(PluginHost, AnswerThatDoesNotFitTheOperationBecomesInternal) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.unknown_status")->Apply(TestCall("odd"));
  EXPECT_EQ(answer.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(answer.message.find("answered IN_SYNC from apply, which must answer OK or an error"),
            std::string::npos)
      << answer.message;
}

TEST(PluginHost, ErrorWithoutAMessageGetsOneNamingTheKind) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.unknown_status")->Remove(TestCall("odd"));
  EXPECT_EQ(answer.status, MATIH_STATUS_UNAVAILABLE);
  EXPECT_NE(answer.message.find("kind bad.unknown_status"), std::string::npos) << answer.message;
  EXPECT_NE(answer.message.find("failed in remove with unavailable"), std::string::npos) << answer.message;
}

TEST(PluginHost, DriftWithoutADiffGetsAMessageNamingTheKind) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.silent_drift")->Observe(TestCall("odd"));
  EXPECT_EQ(answer.status, MATIH_STATUS_DRIFTED);
  EXPECT_NE(answer.message.find("kind bad.silent_drift"), std::string::npos) << answer.message;
  EXPECT_NE(answer.message.find("gave no diff"), std::string::npos) << answer.message;
}

TEST(PluginHost, ExceptionThrownAcrossTheAbiIsCaughtByTheHost) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.throws_raw")->Observe(TestCall("raw"));
  EXPECT_EQ(answer.status, MATIH_STATUS_INTERNAL);
  EXPECT_NE(answer.message.find("let an exception escape from observe: thrown across the C ABI"),
            std::string::npos)
      << answer.message;
}

TEST(PluginHost, OutputsOfAFailedCallAreDropped) {
  auto host = LoadPlugins({TestPluginDir("misbehaving")});
  ASSERT_TRUE(host);
  StepAnswer answer = host->Find("bad.throws_raw")->Apply(TestCall("raw"));
  EXPECT_EQ(answer.status, MATIH_STATUS_FAILED_PRECONDITION);
  EXPECT_EQ(answer.message, "failed half-way");
  EXPECT_TRUE(answer.outputs.empty());
}

TEST(PluginHost, HostKeepsServingOtherPluginsAfterMisbehavingOnes) {
  auto host = LoadPlugins({TestPluginDir("misbehaving"), TestPluginDir("throwing"), TestPluginDir("probe")});
  ASSERT_TRUE(host);
  host->Find("bad.unknown_status")->Observe(TestCall("odd"));
  host->Find("bad.throws_raw")->Observe(TestCall("raw"));
  host->Find("bad.throws")->Apply(TestCall("throws"));
  EXPECT_EQ(host->Find("test.echo")->Apply(TestCall("echo")).status, MATIH_STATUS_OK);
}

}  // namespace
}  // namespace matih::runner
