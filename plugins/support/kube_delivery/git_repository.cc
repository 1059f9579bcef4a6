#include "kube_delivery/git_repository.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <matih/step.hpp>
#include <mutex>

namespace matih::plugins {
namespace {

void InitLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

std::string LastGitError() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

void Check(int rc, const std::string& what) {
  if (rc >= 0) return;
  if (rc == GIT_ELOCKED || rc == GIT_EMODIFIED)
    throw Error(MATIH_STATUS_ABORTED, what + ": repository changed concurrently: " + LastGitError());
  throw PermanentError(what + ": " + LastGitError());
}

template <typename T, void (*Free)(T*)>
struct GitPtr {
  T* p = nullptr;
  ~GitPtr() {
    if (p) Free(p);
  }
  T** out() { return &p; }
  T* get() const { return p; }
};

// When this process last fetched each repository (by git directory). Safe from any thread.
class FetchTimes {
 public:
  static std::optional<std::chrono::steady_clock::time_point> Get(const std::string& git_dir) {
    std::lock_guard<std::mutex> lock(mu());
    auto it = times().find(git_dir);
    if (it == times().end()) return std::nullopt;
    return it->second;
  }
  static void SetNow(const std::string& git_dir) {
    std::lock_guard<std::mutex> lock(mu());
    times()[git_dir] = std::chrono::steady_clock::now();
  }

 private:
  static std::mutex& mu() {
    static std::mutex m;
    return m;
  }
  static std::map<std::string, std::chrono::steady_clock::time_point>& times() {
    static std::map<std::string, std::chrono::steady_clock::time_point> t;
    return t;
  }
};

std::mutex& PathMutex(const std::string& path) {
  static std::mutex guard;
  static std::map<std::string, std::unique_ptr<std::mutex>> mutexes;
  std::lock_guard<std::mutex> lock(guard);
  auto& m = mutexes[path];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

// The git directory of a remote given as a path on this machine (or a file:// URL), or "" for a
// network remote (smart HTTP, SSH), whose server keeps its own locks.
std::string LocalRemoteGitDir(const std::string& remote) {
  std::string path = remote;
  if (path.rfind("file://", 0) == 0)
    path = path.substr(7);
  else if (path.find("://") != std::string::npos)
    return "";
  else if (path.empty() || (path[0] != '/' && path[0] != '.' && path.find(':') != std::string::npos))
    return "";  // scp-like user@host:path
  std::error_code ec;
  if (std::filesystem::is_directory(std::filesystem::path(path) / ".git", ec)) return path + "/.git";
  return std::filesystem::is_directory(path, ec) ? path : "";
}

std::string ReadSmallFile(int fd) {
  std::string text(256, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Held around a push into a remote on this machine's file system. It serialises every pusher of
// ours to that remote (flock on <remote git dir>/matih-push.lock, whichever work repository or
// runner process pushes) and records in that file the push under way ("pushing <ref> <oid>",
// emptied when the push returns). A record found by the next holder names a push of ours killed
// mid-way (its holder is gone: we hold the flock), and the ref lock that push left in the remote
// (<ref>.lock, still empty or holding that oid: libgit2 writes it at commit) is removed. Any
// other ref lock belongs to someone else, e.g. a git command run by hand, and is left alone:
// while young it is waited for (TransientError), old it is reported (PermanentError).
// One object per push, on the pushing thread.
class RemotePushLock {
 public:
  explicit RemotePushLock(std::string git_dir) : dir_(std::move(git_dir)) {
    const std::string path = dir_ + "/matih-push.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw PermanentError("cannot open the GitOps remote's push lock " + path);
    if (::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      throw Error(MATIH_STATUS_ABORTED, "cannot lock the GitOps remote " + dir_ + " for a push");
    }
  }
  ~RemotePushLock() {
    // Returned or thrown, the push let go of its ref lock: nothing is under way any more. A
    // record left before Begin stays for the next holder.
    if (began_ && ::ftruncate(fd_, 0) != 0) {
      // Not emptied: the next holder only looks at the ref lock, which this push released.
    }
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  RemotePushLock(const RemotePushLock&) = delete;
  RemotePushLock& operator=(const RemotePushLock&) = delete;

  // Removes the ref lock a killed push of ours left; refuses a foreign lock on `ref`.
  void RecoverRefLock(const std::string& ref) {
    const std::string record = ReadSmallFile(fd_);
    std::string interrupted_ref, interrupted_oid;
    if (record.rfind("pushing ", 0) == 0) {
      const auto space = record.find(' ', 8);
      if (space != std::string::npos) {
        interrupted_ref = record.substr(8, space - 8);
        interrupted_oid = record.substr(space + 1);
      }
    }
    if (interrupted_ref.rfind("refs/", 0) == 0 && interrupted_ref.find("..") == std::string::npos) {
      const std::string lock = dir_ + "/" + interrupted_ref + ".lock";
      struct stat st {};
      if (::stat(lock.c_str(), &st) == 0 && st.st_uid == ::geteuid()) {
        const std::string content = FileText(lock);
        // Empty: killed before libgit2 wrote it; a git by hand writes its oid at once, so an
        // empty lock a few seconds old is not a live one of theirs.
        if (content == interrupted_oid || (content.empty() && std::time(nullptr) - st.st_mtime >= 2))
          ::unlink(lock.c_str());
      }
    }
    const std::string lock = dir_ + "/" + ref + ".lock";
    struct stat st {};
    if (::stat(lock.c_str(), &st) != 0) return;
    const long age = static_cast<long>(std::time(nullptr) - st.st_mtime);
    if (age < kForeignLockPatience)
      throw TransientError("the GitOps remote's " + ref + " is locked by " + lock + " (" +
                           std::to_string(age) +
                           " s old, not left by a push of this provisioner): a git command may be "
                           "updating it; retried");
    throw PermanentError("the GitOps remote's " + ref + " is locked by " + lock + ", " + std::to_string(age) +
                         " s old and not left by a push of this provisioner; if no git command is "
                         "running on the remote, remove that file");
  }

  // Records the push about to start (durably: a kill right after must still find it).
  void Begin(const std::string& ref, const std::string& oid) {
    const std::string record = "pushing " + ref + " " + oid + "\n";
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd_) != 0)
      throw TransientError("cannot record the push in the GitOps remote's push lock " + dir_ +
                           "/matih-push.lock: " + std::strerror(errno));
    began_ = true;
  }

 private:
  static constexpr long kForeignLockPatience = 120;

  static std::string FileText(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string text = ReadSmallFile(fd);
    ::close(fd);
    return text;
  }

  std::string dir_;
  int fd_ = -1;
  bool began_ = false;
};

}  // namespace

RepositoryWriteLock::RepositoryWriteLock(const std::string& git_dir)
    : thread_lock_(PathMutex(std::filesystem::weakly_canonical(git_dir).string())) {
  const std::string path = git_dir + "/matih-gitops.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw PermanentError("cannot open the GitOps lock file " + path);
  if (::flock(fd_, LOCK_EX) != 0) {
    ::close(fd_);
    throw Error(MATIH_STATUS_ABORTED, "cannot lock the GitOps repository");
  }
}

RepositoryWriteLock::~RepositoryWriteLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

GitRepository::GitRepository(GitRepositoryOptions options) : options_(std::move(options)) {
  InitLibgit2();
  if (options_.path.empty()) throw PermanentError("no GitOps repository path configured");
  if (git_repository_open(&repo_, options_.path.c_str()) >= 0) return;
  // Create it once: threads of this process and other runners may all find it missing at once.
  // The lock is on the parent directory (flock works on directories), held while we look again.
  const std::filesystem::path parent = std::filesystem::absolute(options_.path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  static std::mutex creating;
  std::lock_guard<std::mutex> thread_lock(creating);
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw PermanentError("cannot open " + parent.string() + " to create the GitOps repository");
  ::flock(fd, LOCK_EX);
  struct Unlock {
    int fd;
    ~Unlock() {
      ::flock(fd, LOCK_UN);
      ::close(fd);
    }
  } unlock{fd};
  if (git_repository_open(&repo_, options_.path.c_str()) >= 0) return;
  const std::filesystem::path path = std::filesystem::absolute(options_.path);
  // Nothing but a .git that does not open: the work of a creator of ours killed part-way before
  // creation became atomic (below). No work-tree file and no commit can be lost by removing it.
  if (std::filesystem::is_directory(path / ".git", ec) &&
      std::distance(std::filesystem::directory_iterator(path, ec), std::filesystem::directory_iterator()) ==
          1)
    std::filesystem::remove_all(path / ".git", ec);
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_empty(path, ec))
    throw PermanentError("GitOps repository " + options_.path + " exists but is not a git repository");
  // Created beside its place and renamed into it, so a kill at any point leaves either no
  // repository or a whole one (rename(2) also replaces an empty directory). Leftovers of killed
  // creators are ours to remove: only a holder of the parent's lock makes them.
  const std::string prefix = path.filename().string() + ".creating-";
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) std::filesystem::remove_all(entry.path(), ec);
  const std::filesystem::path staging = parent / (prefix + std::to_string(::getpid()));
  git_repository* fresh = nullptr;
  git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  init.flags = GIT_REPOSITORY_INIT_MKPATH;
  const std::string head = "refs/heads/" + options_.branch;
  init.initial_head = head.c_str();
  Check(git_repository_init_ext(&fresh, staging.c_str(), &init),
        "create the GitOps repository " + options_.path);
  git_repository_free(fresh);
  if (::rename(staging.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::filesystem::remove_all(staging, ec);
    throw PermanentError("cannot move the new GitOps repository into " + options_.path + ": " +
                         std::strerror(error));
  }
  Check(git_repository_open(&repo_, options_.path.c_str()),
        "open the new GitOps repository " + options_.path);
}

GitRepository::~GitRepository() {
  if (repo_) git_repository_free(repo_);
}

std::string GitRepository::git_dir() const { return git_repository_path(repo_); }

std::optional<std::string> GitRepository::Head() const {
  git_oid oid;
  const std::string ref = "refs/heads/" + options_.branch;
  int rc = git_reference_name_to_id(&oid, repo_, ref.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  Check(rc, "read branch " + options_.branch);
  return std::string(git_oid_tostr_s(&oid));
}

std::optional<std::string> GitRepository::PushedHead() const {
  git_oid oid;
  const std::string ref = "refs/remotes/gitops/" + options_.branch;
  if (git_reference_name_to_id(&oid, repo_, ref.c_str()) < 0) return std::nullopt;
  return std::string(git_oid_tostr_s(&oid));
}

git_tree* GitRepository::HeadTree() const { return TreeOf(Head()); }

git_tree* GitRepository::TreeOf(const std::optional<std::string>& commit_hex) const {
  const auto& head = commit_hex;
  if (!head) return nullptr;
  git_oid oid;
  Check(git_oid_fromstr(&oid, head->c_str()), "parse the branch tip");
  GitPtr<git_commit, git_commit_free> commit;
  Check(git_commit_lookup(commit.out(), repo_, &oid), "read the branch tip");
  git_tree* tree = nullptr;
  Check(git_commit_tree(&tree, commit.get()), "read the branch tip's tree");
  return tree;
}

std::optional<std::string> GitRepository::ReadFile(const std::string& path) const {
  return ReadFileIn(Head(), path);
}

std::optional<std::string> GitRepository::ReadPushedFile(const std::string& path) const {
  return ReadFileIn(PushedHead(), path);
}

std::optional<std::string> GitRepository::ReadFileIn(const std::optional<std::string>& commit_hex,
                                                     const std::string& path) const {
  GitPtr<git_tree, git_tree_free> tree;
  tree.p = TreeOf(commit_hex);
  if (!tree.get()) return std::nullopt;
  GitPtr<git_tree_entry, git_tree_entry_free> entry;
  int rc = git_tree_entry_bypath(entry.out(), tree.get(), path.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  Check(rc, "look up " + path);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::nullopt;
  GitPtr<git_blob, git_blob_free> blob;
  Check(git_blob_lookup(blob.out(), repo_, git_tree_entry_id(entry.get())), "read " + path);
  return std::string(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                     static_cast<size_t>(git_blob_rawsize(blob.get())));
}

std::vector<std::string> GitRepository::ListFiles(const std::string& dir) const {
  return ListFilesIn(Head(), dir);
}

std::vector<std::string> GitRepository::ListFilesIn(const std::optional<std::string>& commit_hex,
                                                    const std::string& dir) const {
  std::vector<std::string> names;
  GitPtr<git_tree, git_tree_free> tree;
  tree.p = TreeOf(commit_hex);
  if (!tree.get()) return names;
  GitPtr<git_tree_entry, git_tree_entry_free> entry;
  int rc = git_tree_entry_bypath(entry.out(), tree.get(), dir.c_str());
  if (rc == GIT_ENOTFOUND) return names;
  Check(rc, "look up " + dir);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) return names;
  GitPtr<git_tree, git_tree_free> sub;
  Check(git_tree_lookup(sub.out(), repo_, git_tree_entry_id(entry.get())), "read " + dir);
  for (size_t i = 0; i < git_tree_entrycount(sub.get()); ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(sub.get(), i);
    if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) names.emplace_back(git_tree_entry_name(e));
  }
  return names;
}

bool GitRepository::Commit(const std::map<std::string, std::optional<std::string>>& changes,
                           const std::string& message, const std::string& checkout_dir) {
  GitPtr<git_tree, git_tree_free> head_tree;
  head_tree.p = HeadTree();
  GitPtr<git_index, git_index_free> index;
  Check(git_index_new(index.out()), "create an index");
  if (head_tree.get())
    Check(git_index_read_tree(index.get(), head_tree.get()), "read the branch tip into an index");
  for (const auto& [path, content] : changes) {
    if (content) {
      git_index_entry entry{};
      entry.mode = GIT_FILEMODE_BLOB;
      entry.path = path.c_str();
      entry.file_size = static_cast<uint32_t>(content->size());
      Check(git_blob_create_from_buffer(&entry.id, repo_, content->data(), content->size()), "store " + path);
      Check(git_index_add(index.get(), &entry), "stage " + path);
    } else if (git_index_get_bypath(index.get(), path.c_str(), 0) != nullptr) {
      Check(git_index_remove_bypath(index.get(), path.c_str()), "unstage " + path);
    }
  }
  git_oid tree_oid;
  Check(git_index_write_tree_to(&tree_oid, index.get(), repo_), "write the tree");
  if (head_tree.get() && git_oid_equal(&tree_oid, git_tree_id(head_tree.get()))) return false;

  GitPtr<git_tree, git_tree_free> tree;
  Check(git_tree_lookup(tree.out(), repo_, &tree_oid), "read the new tree");
  GitPtr<git_signature, git_signature_free> author;
  Check(git_signature_now(author.out(), options_.author_name.c_str(), options_.author_email.c_str()), "sign");
  GitPtr<git_commit, git_commit_free> parent;
  const git_commit* parents[1] = {nullptr};
  size_t parent_count = 0;
  if (auto head = Head()) {
    git_oid oid;
    Check(git_oid_fromstr(&oid, head->c_str()), "parse the branch tip");
    Check(git_commit_lookup(parent.out(), repo_, &oid), "read the branch tip");
    parents[0] = parent.get();
    parent_count = 1;
  }
  git_oid commit_oid;
  const std::string ref = "refs/heads/" + options_.branch;
  Check(git_commit_create(&commit_oid, repo_, ref.c_str(), author.get(), author.get(), "UTF-8",
                          message.c_str(), tree.get(), parent_count, parents),
        "commit");

  // Keep a non-bare work tree in step for the folder we touched, when it has the branch checked out.
  if (!git_repository_is_bare(repo_)) {
    GitPtr<git_reference, git_reference_free> head_ref;
    if (git_repository_head(head_ref.out(), repo_) >= 0 && ref == git_reference_name(head_ref.get())) {
      git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
      opts.checkout_strategy = GIT_CHECKOUT_FORCE;
      std::string pattern = checkout_dir + "/*";
      char* paths[] = {pattern.data()};
      opts.paths = {paths, 1};
      Check(git_checkout_head(repo_, &opts), "update the work tree");
    }
  }
  return true;
}

bool GitRepository::Fetch() {
  if (options_.remote.empty()) return true;
  GitPtr<git_remote, git_remote_free> remote;
  Check(git_remote_create_anonymous(remote.out(), repo_, options_.remote.c_str()),
        "set up the GitOps remote");
  std::string spec = "+refs/heads/" + options_.branch + ":refs/remotes/gitops/" + options_.branch;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  if (git_remote_fetch(remote.get(), &refspecs, &opts, "matih: fetch") < 0) return false;
  FetchTimes::SetNow(std::filesystem::weakly_canonical(git_dir()).string());
  return true;
}

bool GitRepository::HasUnpushedCommits() const {
  auto head = Head();
  if (!head) return false;
  auto pushed = PushedHead();
  if (!pushed) return true;
  if (*head == *pushed) return false;
  git_oid head_oid, pushed_oid;
  Check(git_oid_fromstr(&head_oid, head->c_str()), "parse the branch tip");
  Check(git_oid_fromstr(&pushed_oid, pushed->c_str()), "parse the remote's tip");
  // The remote has moved past our tip: nothing of ours is waiting.
  return git_graph_descendant_of(repo_, &pushed_oid, &head_oid) != 1;
}

bool GitRepository::FetchIfStale() {
  if (options_.remote.empty()) return true;
  auto last = FetchTimes::Get(std::filesystem::weakly_canonical(git_dir()).string());
  if (last && std::chrono::steady_clock::now() - *last < options_.fetch_interval) return true;
  return Fetch();
}

void GitRepository::FollowRemote() {
  auto remote_tip = PushedHead();
  if (!remote_tip) return;
  auto head = Head();
  if (head == remote_tip) return;
  git_oid remote_oid;
  Check(git_oid_fromstr(&remote_oid, remote_tip->c_str()), "parse the remote's tip");
  if (head) {
    git_oid head_oid;
    Check(git_oid_fromstr(&head_oid, head->c_str()), "parse the branch tip");
    // Ahead of the remote: our commits are waiting to be pushed on top of it.
    if (git_graph_descendant_of(repo_, &head_oid, &remote_oid) == 1) return;
  }
  GitPtr<git_reference, git_reference_free> branch;
  const std::string ref = "refs/heads/" + options_.branch;
  Check(git_reference_create(branch.out(), repo_, ref.c_str(), &remote_oid, 1, "matih: follow the remote"),
        "move the branch to the remote's tip");
  if (!git_repository_is_bare(repo_)) {
    GitPtr<git_reference, git_reference_free> head_ref;
    if (git_repository_head(head_ref.out(), repo_) >= 0 && ref == git_reference_name(head_ref.get())) {
      git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
      opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
      Check(git_checkout_head(repo_, &opts), "update the work tree to the remote's tip");
    }
  }
}

void GitRepository::RecoverStaleLocks() {
  const std::string dir = git_dir();
  for (const std::string& path : {dir + "/index.lock", dir + "/refs/heads/" + options_.branch + ".lock",
                                  dir + "/refs/remotes/gitops/" + options_.branch + ".lock"}) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    // Someone else's lock (another user's git) is not ours to break; a fresh one may be a
    // person's git command running right now.
    if (st.st_uid != ::geteuid() || std::time(nullptr) - st.st_mtime < 5) continue;
    ::unlink(path.c_str());
  }
}

bool GitRepository::PushIfNeeded() {
  if (options_.remote.empty()) return true;
  auto head = Head();
  if (!head || PushedHead() == head) return true;
  GitPtr<git_remote, git_remote_free> remote;
  Check(git_remote_create_anonymous(remote.out(), repo_, options_.remote.c_str()),
        "set up the GitOps remote");
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  std::string rejected;
  opts.callbacks.payload = &rejected;
  opts.callbacks.push_update_reference = [](const char* refname, const char* status, void* payload) -> int {
    if (status) *static_cast<std::string*>(payload) = std::string(refname) + ": " + status;
    return 0;
  };
  const std::string branch_ref = "refs/heads/" + options_.branch;
  std::string spec = branch_ref + ":" + branch_ref;
  char* specs[] = {spec.data()};
  git_strarray refspecs{specs, 1};
  // Into a remote on this machine, libgit2 writes the remote's refs itself: a push of ours killed
  // mid-way would leave the branch's ref lock there, refusing every later push.
  std::optional<RemotePushLock> remote_lock;
  if (const std::string remote_dir = LocalRemoteGitDir(options_.remote); !remote_dir.empty()) {
    remote_lock.emplace(remote_dir);
    remote_lock->RecoverRefLock(branch_ref);
    remote_lock->Begin(branch_ref, *head);
  }
  if (int rc = git_remote_push(remote.get(), &refspecs, &opts); rc < 0) {
    if (rc == GIT_ENONFASTFORWARD) return false;
    throw TransientError("push to the GitOps remote failed: " + LastGitError());
  }
  if (!rejected.empty()) {
    // Not a fast-forward: another runner (or a person) pushed first. Anything else the remote
    // refuses (a protected branch, a hook) will not pass by retrying.
    if (rejected.find("fast") != std::string::npos || rejected.find("fetch first") != std::string::npos)
      return false;
    // Someone's git holds the remote's ref right now (not ours: see RemotePushLock): later.
    if (rejected.find("lock") != std::string::npos)
      throw TransientError("the GitOps remote is busy: " + rejected);
    throw PermanentError("the GitOps remote refused the push: " + rejected);
  }
  git_oid oid;
  Check(git_oid_fromstr(&oid, head->c_str()), "parse the branch tip");
  GitPtr<git_reference, git_reference_free> tracking;
  const std::string ref = "refs/remotes/gitops/" + options_.branch;
  Check(git_reference_create(tracking.out(), repo_, ref.c_str(), &oid, 1, "matih: pushed"),
        "record the push");
  return true;
}

}  // namespace matih::plugins
