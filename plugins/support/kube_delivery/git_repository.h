// GitRepository: the few things GitOps delivery needs from a git repository, over libgit2.
//
// Reads files at the tip of one branch, commits a set of file changes on top of it (without a
// working tree in between, so a half-written file is never committed), refreshes the working
// tree of a non-bare repository for the paths it touched, and pushes the branch to a remote.
// refs/remotes/gitops/<branch> holds the remote's tip as last seen: set by every push, and by
// FetchRemote, which reads what other runners and people pushed (the remote is what Argo CD or
// Flux apply, so it is the truth); "committed but not pushed" is visible without asking it.
//
// Threads: one object per call and thread. Writers to the same repository must hold a
// RepositoryWriteLock, which serialises threads of this process (a mutex per path) and processes
// on this machine (flock on a file in the git directory).
#pragma once

#include <git2.h>

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
  // The file in the commit last pushed to the remote, or nullopt.
  std::optional<std::string> ReadPushedFile(const std::string& path) const;
  // The file in commit `commit_hex` (nullopt: no commit), or nullopt.
  std::optional<std::string> ReadFileAt(const std::optional<std::string>& commit_hex,
                                        const std::string& path) const;
  // Names of the files directly in `dir` at the branch tip (not recursive).
  std::vector<std::string> ListFiles(const std::string& dir) const;
  // The same in commit `commit_hex` (nullopt: no commit).
  std::vector<std::string> ListFilesAt(const std::optional<std::string>& commit_hex,
                                       const std::string& dir) const;
  // Whether commit `ancestor` is `descendant` or one of its ancestors.
  bool Contains(const std::string& descendant, const std::string& ancestor) const;

  // Fetches the branch from the remote into refs/remotes/gitops/<branch>. Nothing happens without
  // a remote, or while the remote has no such branch. TransientError when the remote cannot be
  // reached.
  void FetchRemote();
  // Moves the branch (and a checked-out work tree) to the remote's tip as last fetched when the
  // remote is ahead, or has diverged: a local commit that never reached the remote belonged to a
  // call that failed and will be retried, and every call recomputes its change on the tip.
  // Returns whether the branch moved. REQUIRES: a RepositoryWriteLock.
  bool FollowRemote();

  // Commits `changes` (path -> new content, or nullopt to delete) on the branch tip. Returns false
  // and commits nothing when the tree would not change. REQUIRES: a RepositoryWriteLock.
  bool Commit(const std::map<std::string, std::optional<std::string>>& changes, const std::string& message,
              const std::string& checkout_dir);
  // Pushes the branch when a remote is configured and it is not there yet. TransientError when
  // the remote cannot be reached. REQUIRES: a RepositoryWriteLock.
  void PushIfNeeded();
  bool has_remote() const { return !options_.remote.empty(); }

 private:
  git_tree* HeadTree() const;  // nullptr before the first commit; caller frees
  git_tree* TreeOf(const std::optional<std::string>& commit_hex) const;  // nullptr for nullopt

  GitRepositoryOptions options_;
  git_repository* repo_ = nullptr;
};

}  // namespace matih::plugins
