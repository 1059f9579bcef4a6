// GitRepository: the few things GitOps delivery needs from a git repository, over libgit2.
//
// Reads files at the tip of one branch, commits a set of file changes on top of it (without a
// working tree in between, so a half-written file is never committed), refreshes the working
// tree of a non-bare repository for the paths it touched, and pushes the branch to a remote.
// The remote's branch (what Argo CD or Flux read) is fetched into refs/remotes/gitops/<branch>
// and is the truth: observe measures against it, and a commit is made on its tip, so several
// runner hosts pushing to one remote rebase on each other instead of refusing each other.
//
// Threads: one object per call and thread. Writers to the same repository must hold a
// RepositoryWriteLock, which serialises threads of this process (a mutex per path) and processes
// on this machine (flock on a file in the git directory).
#pragma once

#include <git2.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace matih::plugins {

struct GitRepositoryOptions {
  std::string path;  // the work repository; created (non-bare) when missing
  std::string branch = "main";
  std::string remote;  // URL or path to push to; empty: no push
  std::string author_name = "matih-provisioner";
  std::string author_email = "provisioner@matih.invalid";
  // Observe fetches the remote at most this often per repository and process (a drift pass over
  // thousands of tenants must not fetch thousands of times); apply always fetches.
  std::chrono::milliseconds fetch_interval{1000};
};

class RepositoryWriteLock {
 public:
  explicit RepositoryWriteLock(const std::string& git_dir);
  ~RepositoryWriteLock();
  RepositoryWriteLock(const RepositoryWriteLock&) = delete;
  RepositoryWriteLock& operator=(const RepositoryWriteLock&) = delete;

 private:
  std::unique_lock<std::mutex> thread_lock_;
  int fd_ = -1;
};

class GitRepository {
 public:
  // Opens (or creates) the repository; PermanentError when it cannot.
  explicit GitRepository(GitRepositoryOptions options);
  ~GitRepository();

  // The git directory (".git" of a work tree, or the repository of a bare one).
  std::string git_dir() const;
  // The branch tip as hex, or nullopt before the first commit.
  std::optional<std::string> Head() const;
  // The commit last pushed to the remote, or nullopt.
  std::optional<std::string> PushedHead() const;
  // The file at the branch tip, or nullopt.
  std::optional<std::string> ReadFile(const std::string& path) const;
  // The file in commit `commit_hex` (nullopt: no commit), or nullopt.
  std::optional<std::string> ReadFileIn(const std::optional<std::string>& commit_hex,
                                        const std::string& path) const;
  // The file in the commit last pushed to the remote, or nullopt.
  std::optional<std::string> ReadPushedFile(const std::string& path) const;
  // Names of the files directly in `dir` at the branch tip, or at `commit_hex` (not recursive).
  std::vector<std::string> ListFiles(const std::string& dir) const;
  std::vector<std::string> ListFilesIn(const std::optional<std::string>& commit_hex,
                                       const std::string& dir) const;

  // True when the branch has commits the remote (as last fetched or pushed) does not.
  bool HasUnpushedCommits() const;
  // Fetches the remote's branch into refs/remotes/gitops/<branch>; false when the remote cannot
  // be reached (the last fetched state stays). True without a remote. REQUIRES: a
  // RepositoryWriteLock.
  bool Fetch();
  // Fetch(), unless this process fetched this repository less than fetch_interval ago.
  bool FetchIfStale();
  // Puts the branch on the remote's tip when the remote has commits the branch lacks (another
  // runner pushed, or an operator edited by hand). Local commits that never reached the remote
  // are dropped: they belong to steps that did not finish, which make them again on the new tip.
  // REQUIRES: a RepositoryWriteLock.
  void FollowRemote();
  // Removes lock files (index.lock, the branch's ref locks) that a killed process of ours left:
  // owned by this user and older than a few seconds, found while we hold the write lock that
  // every writer of ours takes. REQUIRES: a RepositoryWriteLock.
  void RecoverStaleLocks();

  // Commits `changes` (path -> new content, or nullopt to delete) on the branch tip. Returns false
  // and commits nothing when the tree would not change. REQUIRES: a RepositoryWriteLock.
  bool Commit(const std::map<std::string, std::optional<std::string>>& changes, const std::string& message,
              const std::string& checkout_dir);
  // Pushes the branch when a remote is configured and it is not there yet. False when the remote
  // refused it as not a fast-forward (someone pushed first: FollowRemote and commit again);
  // TransientError when the remote cannot be reached or its branch is locked by someone else.
  // Into a remote on this machine (a path or file:// URL) pushes of ours are serialised by a
  // flock on <remote>/matih-push.lock, which also records the push under way, so the branch's
  // ref lock a push of ours killed mid-way left there is recognised and removed (and no other).
  // REQUIRES: a RepositoryWriteLock.
  bool PushIfNeeded();
  bool has_remote() const { return !options_.remote.empty(); }

 private:
  git_tree* HeadTree() const;  // nullptr before the first commit; caller frees
  git_tree* TreeOf(const std::optional<std::string>& commit_hex) const;  // nullptr for nullopt

  GitRepositoryOptions options_;
  git_repository* repo_ = nullptr;
};

}  // namespace matih::plugins
