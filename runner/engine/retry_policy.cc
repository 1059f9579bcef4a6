#include "engine/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace matih::runner {

Millis RetryPolicy::Delay(int next_attempt, double uniform01) const {
  int exponent = std::max(0, next_attempt - 2);
  double base = static_cast<double>(initial_backoff.count()) * std::pow(multiplier, exponent);
  base = std::min(base, static_cast<double>(max_backoff.count()));
  double spread = base * jitter * (2.0 * uniform01 - 1.0);
  return Millis(static_cast<long long>(std::max(0.0, base + spread)));
}

Millis RetryPolicy::Delay(int next_attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return Delay(next_attempt, std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

}  // namespace matih::runner
