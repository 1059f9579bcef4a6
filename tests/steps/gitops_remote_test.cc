// GitOps delivery with a remote: the remote's branch (what Argo CD or Flux read) is the truth. A
// hand edit or deletion pushed there is drift and is repaired; two runner hosts with their own
// clones push to one remote without refusing each other; a lock file left by a killed run of ours
// does not block later applies.
#include <gtest/gtest.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "steps/step_harness.h"

namespace matih::testing {
namespace {

class GitOpsRemote : public ::testing::Test {
 protected:
  void SetUp() override {
    tenant_ = StepHarness::MakeTenant("free");
    remote_ = harness_.TempPath("remote.git").string();
    ASSERT_EQ(0, RunCommand("git init -q --bare -b main '" + remote_ + "'"));
    harness_.settings()["gitops.remote"] = remote_;
    harness_.settings()["gitops.fetch_interval_ms"] = "0";  // observe sees every push at once
  }
  std::string Git(const std::string& dir, const std::string& args) {
    std::string out;
    int rc =
        RunCommand("git -C '" + dir + "' -c user.name=operator -c user.email=op@example.com " + args, &out);
    EXPECT_EQ(0, rc) << "git " << args << ": " << out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // A person's clone of the remote, as an operator would make a hand edit.
  std::string HandClone() {
    const std::string dir = harness_.TempPath("hand-" + std::to_string(++clones_)).string();
    EXPECT_EQ(0, RunCommand("git clone -q '" + remote_ + "' '" + dir + "'"));
    return dir;
  }
  std::string File(const std::string& step) { return "tenants/" + tenant_.view.slug + "/" + step + ".yaml"; }
  bool RemoteHas(const std::string& path) {
    return RunCommand("git -C '" + remote_ + "' cat-file -e main:" + path) == 0;
  }

  StepHarness harness_;
  TestTenant tenant_;
  std::string remote_;
  int clones_ = 0;
};

TEST_F(GitOpsRemote, HandDeletionPushedToTheRemoteIsAbsentAndApplyRestoresIt) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-service-account", tenant_).status);
  const std::string hand = HandClone();
  Git(hand, "rm -q " + File("create-service-account"));
  Git(hand, "commit -qm 'deleted by hand'");
  Git(hand, "push -q origin main");
  ASSERT_FALSE(RemoteHas(File("create-service-account")));

  auto observed = harness_.Observe("create-service-account", tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, observed.status) << observed.message;
  // The folder's kustomization still lists the deleted file: the GitOps controller could not build it.
  observed = harness_.Observe("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("kustomization.yaml out of date")) << observed.message;
  auto applied = harness_.Apply("create-service-account", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  EXPECT_TRUE(RemoteHas(File("create-service-account")));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-service-account", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
  EXPECT_NE(std::string::npos, Git(remote_, "log --format=%s main").find("deleted by hand"))
      << "the hand commit stays in the history: the repair is a new commit on top of it";
}

TEST_F(GitOpsRemote, HandEditPushedToTheRemoteIsDriftedAndRepaired) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string hand = HandClone();
  const std::string path = hand + "/" + File("create-namespace");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = "matih-provisioner", to = "kubectl";
  ASSERT_NE(std::string::npos, text.find(from));
  text.replace(text.find(from), from.size(), to);
  std::ofstream(path) << text;
  Git(hand, "commit -qam 'edited by hand'");
  Git(hand, "push -q origin main");

  auto observed = harness_.Observe("create-namespace", tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status) << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find(to)) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
  EXPECT_EQ(std::string::npos, Git(remote_, "show main:" + File("create-namespace")).find(to));
}

TEST_F(GitOpsRemote, TwoRunnerClonesPushToOneRemoteWithoutRefusingEachOther) {
  const std::string first = harness_.TempPath("runner-a").string();
  const std::string second = harness_.TempPath("runner-b").string();
  TestTenant other = StepHarness::MakeTenant("starter");
  // Runner B makes its clone first, then runner A pushes: B is behind the remote.
  harness_.settings()["gitops.repository"] = second;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", other).status);
  harness_.settings()["gitops.repository"] = first;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  harness_.settings()["gitops.repository"] = second;
  auto answer = harness_.Apply("create-service-account", other);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;

  EXPECT_TRUE(RemoteHas(File("create-namespace")));
  EXPECT_TRUE(RemoteHas("tenants/" + other.view.slug + "/create-namespace.yaml"));
  EXPECT_TRUE(RemoteHas("tenants/" + other.view.slug + "/create-service-account.yaml"));
  EXPECT_EQ("3", Git(remote_, "rev-list --count main"));
  // Each runner sees the other's work as in sync: they read the same truth.
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
  harness_.settings()["gitops.repository"] = first;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-service-account", other).status);
}

TEST_F(GitOpsRemote, StaleIndexLockOfAKilledRunIsRecovered) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string lock = harness_.settings()["gitops.repository"] + "/.git/index.lock";
  std::ofstream(lock) << "";
  struct utimbuf old {};
  old.actime = old.modtime = time(nullptr) - 120;  // left behind two minutes ago
  ASSERT_EQ(0, utime(lock.c_str(), &old));
  auto answer = harness_.Apply("create-service-account", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_TRUE(RemoteHas(File("create-service-account")));
}

// A runner killed while it created the clone (before creation was atomic) left a .git without
// HEAD; one killed now leaves only a "<repo>.creating-PID" folder beside it. Both are recovered
// by the next apply, which creates the repository whole.
TEST_F(GitOpsRemote, HalfMadeRepositoryOfAKilledCreatorIsRecovered) {
  const std::string repo = harness_.settings()["gitops.repository"];
  std::filesystem::create_directories(repo + "/.git/objects/pack");
  std::ofstream(repo + "/.git/description") << "half made\n";
  std::filesystem::create_directories(repo + ".creating-999999/.git");
  auto answer = harness_.Apply("create-namespace", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_TRUE(std::filesystem::exists(repo + "/.git/HEAD"));
  EXPECT_FALSE(std::filesystem::exists(repo + ".creating-999999"));
  EXPECT_TRUE(RemoteHas(File("create-namespace")));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe("create-namespace", tenant_).status);
}

// A folder holding anything besides a broken .git is not ours to remove: a clear refusal.
TEST_F(GitOpsRemote, AForeignFolderAtTheRepositoryPathIsRefusedAndKept) {
  const std::string repo = harness_.settings()["gitops.repository"];
  std::filesystem::create_directories(repo + "/.git");
  std::ofstream(repo + "/notes.txt") << "someone's file\n";
  auto answer = harness_.Apply("create-namespace", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("exists but is not a git repository")) << answer.message;
  EXPECT_TRUE(std::filesystem::exists(repo + "/notes.txt"));
}

}  // namespace
}  // namespace matih::testing
