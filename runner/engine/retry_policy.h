// RetryPolicy: how often and how patiently a transient error is retried.
//
// Exponential backoff with jitter and a cap: delay(n) = min(cap, initial * multiplier^(n-1)),
// then spread by +/- jitter. Used for step calls within a run and, with the runner's own
// settings, for tenants across runs. Immutable; safe from any thread.
#pragma once

#include <chrono>
#include <random>

#include "common/duration.h"

namespace matih::runner {

struct RetryPolicy {
  int attempts = 4;  // total calls, the first included
  Millis initial_backoff{200};
  Millis max_backoff{5000};
  double multiplier = 2.0;
  double jitter = 0.2;  // fraction of the delay, 0..1

  // The wait before attempt `next_attempt` (2 for the first retry). `uniform01` in [0,1).
  Millis Delay(int next_attempt, double uniform01) const;
  // Same, with a thread-local random source.
  Millis Delay(int next_attempt) const;
};

}  // namespace matih::runner
