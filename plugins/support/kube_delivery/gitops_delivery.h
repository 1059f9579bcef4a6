// GitOpsDelivery: delivers a step's objects as files in a git repository that Argo CD or Flux
// applies to the cluster. The local default target.
//
// Layout: tenants/<slug>/<step-name>.yaml holds the rendered objects of one step (one file per
// step, so steps never fight over a file); a step in patch mode (step 12's Pod Security Admission
// labels on step 7's Namespace) writes tenants/<slug>/<step-name>.patch.yaml instead, and
// tenants/<slug>/kustomization.yaml, regenerated from the folder on every commit, lists the
// object files as resources and the patch files as strategic-merge patches, so `kubectl kustomize`
// (and the GitOps controller) yields one Namespace carrying both steps' labels.
//
// With a remote, the remote's branch is the truth (what Argo CD or Flux read): observe fetches it
// (at most every gitops.fetch_interval_ms) and compares the step's file there with the rendered
// objects, so a hand edit or deletion pushed to the remote is drift; apply fetches, moves the work
// branch onto the remote's tip, commits "tenant <slug>: step <name> (run <run_id>)" only when a
// file changes, and pushes, rebuilding the commit on a newer tip when another runner pushed
// first; remove deletes the step's file the same way. Lock files a killed run of ours left behind
// are removed under the write lock. Without a remote the work repository is the truth.
// Settings read ([targets]):
//   gitops.repository    required  path of the local work repository (created when missing)
//   gitops.branch        optional  default "main"
//   gitops.remote        optional  URL or path pushed to after each commit (e.g. a bare repo)
//   gitops.author_name   optional  default "matih-provisioner"
//   gitops.author_email  optional  default "provisioner@matih.invalid"
//   gitops.fetch_interval_ms optional default 1000: how stale observe's view of the remote may be
// Threads: writers serialise on a RepositoryWriteLock (mutex + flock); readers need none.
#pragma once

#include <matih/step.hpp>

#include "kube_delivery/git_repository.h"
#include "kube_delivery/object_delivery.h"

namespace matih::plugins {

class GitOpsDelivery final : public ObjectDelivery {
 public:
  explicit GitOpsDelivery(GitRepositoryOptions options) : options_(std::move(options)) {}
  static GitRepositoryOptions OptionsFrom(const Context& ctx);

  Observation Observe(const ObjectBatch& batch) override;
  void Apply(const ObjectBatch& batch) override;
  void Remove(const ObjectBatch& batch) override;

  static std::string FolderOf(const ObjectBatch& batch) { return "tenants/" + batch.tenant_slug; }
  static std::string FileOf(const ObjectBatch& batch);
  // The kustomization.yaml for a folder holding `files`, or nullopt when it holds no object file.
  static std::optional<std::string> Kustomization(const std::vector<std::string>& files);

 private:
  // The step's file, the other file names the step may have used before (mode changed), and the
  // regenerated kustomization, as a change set over the branch tip.
  std::map<std::string, std::optional<std::string>> Changes(GitRepository& repo, const ObjectBatch& batch,
                                                            bool present) const;
  // Commits the step's files (present or deleted) on the remote's tip and pushes, rebasing on a
  // concurrent push.
  void Deliver(const ObjectBatch& batch, bool present, const std::string& message);
  GitRepositoryOptions options_;
};

}  // namespace matih::plugins
