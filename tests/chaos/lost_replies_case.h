// LostRepliesTest: the fixture of the lost-replies scenario (issue 16, "execute-then-timeout").
//
// A real plugin, loaded by the StepHarness as the runner loads it, talks to one real server of
// the stack through a FaultProxy. RunCase arms the proxy so that the request that creates the
// tenant's object reaches the server and executes, but its reply is lost (the step times out or
// sees the connection die); then it retries the step as the runner does (transient answers
// again, up to a bound), observes it, and counts the tenant's objects on the server with the
// server's own client: exactly one is "converged", more is a duplicate, none is "lost". Each
// case is written to var/chaos/lost_replies.d/ and the sum to var/chaos/lost_replies.json
// (MATIH_CHAOS_KEEP_RUNS=1 keeps a record per run instead of per case, for repeated runs).
// One fixture per test; not shared between threads.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "chaos/lost_replies_tally.h"
#include "fakes/fault_proxy.h"
#include "steps/step_harness.h"

namespace matih::testing {

// A URL on 127.0.0.1 (or localhost), rewritten to go through a proxy listening on `port`.
std::string ThroughProxy(const std::string& url, int port);
// The port of the first 127.0.0.1:<port> (or localhost:<port>) in `url`; throws when none.
int PortOf(const std::string& url);

class LostRepliesTest : public ::testing::Test {
 protected:
  LostRepliesTest();

  // A proxy in front of the server that `url` points at.
  std::unique_ptr<FaultProxy> ProxyFor(const std::string& url);

  struct Case {
    Case(std::string name, std::string step, FaultProxy* proxy, FaultProxy::Rule rule,
         std::function<int()> count)
        : name(std::move(name)),
          step(std::move(step)),
          proxy(proxy),
          rule(std::move(rule)),
          count(std::move(count)) {}
    std::string name;             // record name, e.g. "redis-acl-user"
    std::string step;             // catalog step name
    FaultProxy* proxy = nullptr;  // between the plugin and the server
    FaultProxy::Rule rule;        // the fault of the request that creates the object
    std::function<int()> count;   // the tenant's objects on the server, counted directly
    int attempts = 6;             // applies in all, the faulted one included
    // A fault this case shows that is still open (what it is, where it is tracked): the case is
    // recorded as it ends, and the test expects the fault to show (a duplicate or a loss), so it
    // fails once the fault is fixed and the mark must go. Never a reason to delete a case.
    std::string known_fault;
  };
  // Runs the case for `tenant` (see the header comment), records it, and checks it converged.
  // Returns the last apply's answer.
  runner::StepAnswer RunCase(const Case& c, TestTenant& tenant);

  StepHarness harness_;
  LostRepliesTally tally_;
};

}  // namespace matih::testing
