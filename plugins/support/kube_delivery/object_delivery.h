// ObjectDelivery: where the Kubernetes objects of a step go. Two implementations, chosen by the
// setting kubernetes.delivery: GitOpsDelivery (a git repository that Argo CD or Flux syncs; the
// local default) and KubeApiDelivery (server-side apply against the API server).
//
// Contract, for both: Observe changes nothing and answers IN_SYNC / DRIFTED (short diff) /
// ABSENT; Apply converges and writes nothing when already converged; Remove undoes and succeeds
// when already absent. Errors follow the SDK: TransientError for unreachable targets.
// Implementations are created per call; shared state (a repository lock) is their own business.
#pragma once

#include <matih/step.hpp>

#include "kube_delivery/kube_object.h"

namespace matih::plugins {

class ObjectDelivery {
 public:
  virtual ~ObjectDelivery() = default;
  virtual Observation Observe(const ObjectBatch& batch) = 0;
  virtual void Apply(const ObjectBatch& batch) = 0;
  virtual void Remove(const ObjectBatch& batch) = 0;
};

}  // namespace matih::plugins
