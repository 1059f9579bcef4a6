// GitOps delivery with a remote: the remote's branch (what Argo CD or Flux read) is the truth. A
// hand edit or deletion pushed there is drift and is repaired; two runner hosts with their own
// clones push to one remote without refusing each other; a lock file left by a killed run of ours
// does not block later applies, in the work repository or in a remote on this machine; a lock
// that is not ours (a live pusher of ours, a git command by hand) is never broken.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>
#include <utime.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

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
  // Sets a file's modification time `seconds` into the past.
  static void Age(const std::string& path, int seconds) {
    struct utimbuf old {};
    old.actime = old.modtime = time(nullptr) - seconds;
    ASSERT_EQ(0, utime(path.c_str(), &old));
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

namespace matih::testing {
namespace {

// A push into a remote on this machine killed mid-way (a runner SIGKILLed in a GitOps step)
// leaves what RemotePushLock describes: the record of the push under way in the remote's
// matih-push.lock, and the branch's ref lock, which libgit2 writes only at commit, still empty.
// Before, every later push failed with "failed to lock file" and the tenant FAILED.
TEST_F(GitOpsRemote, RefLockOfAKilledPushInTheRemoteIsRecovered) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string tip = Git(remote_, "rev-parse main");
  const std::string lock = remote_ + "/refs/heads/main.lock";
  std::ofstream(remote_ + "/matih-push.lock") << "pushing refs/heads/main " << std::string(40, 'a') << "\n";
  std::ofstream(lock) << "";
  Age(lock, 5);
  auto answer = harness_.Apply("create-service-account", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_TRUE(RemoteHas(File("create-service-account")));
  EXPECT_EQ(tip, Git(remote_, "rev-parse main~1"));
  // Killed later, after libgit2 wrote the lock (it holds the oid being pushed): recovered too,
  // however young.
  const std::string oid = std::string(40, 'b');
  std::ofstream(remote_ + "/matih-push.lock") << "pushing refs/heads/main " << oid << "\n";
  std::ofstream(lock) << oid << "\n";
  answer = harness_.Apply("create-resource-quota", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_FALSE(std::filesystem::exists(lock));
  EXPECT_TRUE(RemoteHas(File("create-resource-quota")));
  // The record of a finished push is emptied.
  EXPECT_EQ(0u, std::filesystem::file_size(remote_ + "/matih-push.lock"));
}

// A ref lock that no push of ours left (a git command run by hand on the remote, writing its own
// commit) is left alone: the apply is retried later (UNAVAILABLE) and the remote is unchanged.
TEST_F(GitOpsRemote, ARefLockOfAGitByHandIsNotBrokenInto) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string tip = Git(remote_, "rev-parse main");
  const std::string lock = remote_ + "/refs/heads/main.lock";
  std::ofstream(lock) << std::string(40, 'c') << "\n";
  Age(lock, 10);
  auto answer = harness_.Apply("create-service-account", tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("main.lock")) << answer.message;
  EXPECT_TRUE(std::filesystem::exists(lock));
  EXPECT_EQ(tip, Git(remote_, "rev-parse main"));
  // Even with a record of an interrupted push of ours: the lock holds another commit.
  std::ofstream(remote_ + "/matih-push.lock") << "pushing refs/heads/main " << std::string(40, 'a') << "\n";
  answer = harness_.Apply("create-service-account", tenant_);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_TRUE(std::filesystem::exists(lock));
  // Old: reported for the operator, still not removed.
  Age(lock, 600);
  answer = harness_.Apply("create-service-account", tenant_);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status) << answer.message;
  EXPECT_TRUE(std::filesystem::exists(lock));
  // Once that git is done, the apply goes through.
  std::filesystem::remove(lock);
  answer = harness_.Apply("create-service-account", tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_TRUE(RemoteHas(File("create-service-account")));
}

// A live pusher of ours (here: this test, holding the remote's push lock as a runner does while it
// pushes) keeps its ref lock: the apply waits for the push lock instead of breaking in, and goes
// on once that push is over.
TEST_F(GitOpsRemote, ALivePushersRefLockIsWaitedFor) {
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-namespace", tenant_).status);
  const std::string lock = remote_ + "/refs/heads/main.lock";
  const int fd = ::open((remote_ + "/matih-push.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(0, ::flock(fd, LOCK_EX));
  const std::string oid = std::string(40, 'd');
  const std::string record = "pushing refs/heads/main " + oid + "\n";
  ASSERT_EQ(static_cast<ssize_t>(record.size()), ::pwrite(fd, record.data(), record.size(), 0));
  std::ofstream(lock) << oid << "\n";
  std::atomic<bool> done{false};
  runner::StepAnswer answer;
  std::thread apply([&] {
    answer = harness_.Apply("create-service-account", tenant_);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_FALSE(done.load()) << "the apply did not wait for the live pusher";
  EXPECT_TRUE(std::filesystem::exists(lock)) << "a live pusher's ref lock was removed";
  // That push ends: its ref lock goes, its record is emptied, the push lock is released.
  std::filesystem::remove(lock);
  ASSERT_EQ(0, ::ftruncate(fd, 0));
  ::flock(fd, LOCK_UN);
  ::close(fd);
  apply.join();
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  EXPECT_TRUE(RemoteHas(File("create-service-account")));
}

}  // namespace
}  // namespace matih::testing
