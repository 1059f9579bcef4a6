#include "chaos/lost_replies_case.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace matih::testing {

std::string ThroughProxy(const std::string& url, int port) {
  static const std::regex host_port(R"((127\.0\.0\.1|localhost):([0-9]+))");
  std::smatch m;
  if (!std::regex_search(url, m, host_port)) throw std::invalid_argument("no 127.0.0.1:<port> in " + url);
  return m.prefix().str() + "127.0.0.1:" + std::to_string(port) + m.suffix().str();
}

int PortOf(const std::string& url) {
  static const std::regex host_port(R"((127\.0\.0\.1|localhost):([0-9]+))");
  std::smatch m;
  if (!std::regex_search(url, m, host_port)) throw std::invalid_argument("no 127.0.0.1:<port> in " + url);
  return std::stoi(m[2].str());
}

LostRepliesTest::LostRepliesTest() : tally_(std::string(MATIH_SOURCE_DIR) + "/var/chaos") {}

std::unique_ptr<FaultProxy> LostRepliesTest::ProxyFor(const std::string& url) {
  return std::make_unique<FaultProxy>("127.0.0.1", PortOf(url));
}

namespace {

bool Retryable(matih_status s) {
  return s == MATIH_STATUS_UNAVAILABLE || s == MATIH_STATUS_ABORTED || s == MATIH_STATUS_DEADLINE_EXCEEDED;
}

}  // namespace

runner::StepAnswer LostRepliesTest::RunCase(const Case& c, TestTenant& tenant) {
  // Counted as a crash until it ends: a process that dies here still shows in the figures.
  LostReplyOutcome outcome;
  outcome.crashes = 1;
  outcome.detail = "started, never finished";
  // One record per case (its latest run), or with MATIH_CHAOS_KEEP_RUNS=1 one per run, so that
  // repeated runs (ctest --repeat, scripts/chaos) add up in the figures.
  std::string record = c.name;
  if (const char* keep = std::getenv("MATIH_CHAOS_KEEP_RUNS"); keep && std::string(keep) == "1")
    record += "." + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  tally_.Record(record, outcome);

  EXPECT_EQ(0, c.count()) << c.name << ": the server holds nothing of the tenant before the case";
  c.proxy->Arm(c.rule);
  runner::StepAnswer answer = harness_.Apply(c.step, tenant);
  const int fired = c.proxy->fired();
  c.proxy->Disarm();
  const int after_lost_call = c.count();
  std::ostringstream detail;
  detail << "first apply: status " << answer.status << " (" << answer.message.substr(0, 160)
         << "); reply faults fired " << fired << "; objects after the lost call " << after_lost_call;
  bool internal = answer.status == MATIH_STATUS_INTERNAL;

  int attempts = 1;
  while (answer.status != MATIH_STATUS_OK && Retryable(answer.status) && attempts < c.attempts) {
    answer = harness_.Apply(c.step, tenant);
    internal = internal || answer.status == MATIH_STATUS_INTERNAL;
    ++attempts;
  }
  const runner::StepAnswer observed = harness_.Observe(c.step, tenant);
  const int objects = c.count();
  detail << "; applies " << attempts << ", last status " << answer.status << "; observe " << observed.status
         << "; objects " << objects;

  outcome.crashes = internal ? 1 : 0;
  outcome.converged =
      answer.status == MATIH_STATUS_OK && observed.status == MATIH_STATUS_IN_SYNC && objects == 1 ? 1 : 0;
  outcome.duplicates = objects > 1 ? 1 : 0;
  outcome.lost = objects < 1 ? 1 : 0;
  outcome.detail = detail.str();
  tally_.Record(record, outcome);

  if (!c.known_fault.empty()) {
    outcome.detail += "; known fault: " + c.known_fault;
    tally_.Record(record, outcome);
    EXPECT_EQ(1, fired) << c.name << ": " << detail.str();
    EXPECT_NE(1, objects) << c.name << ": the known fault (" << c.known_fault
                          << ") no longer shows: remove its known_fault mark. " << detail.str();
    std::cout << "[ KNOWN FAULT ] " << c.name << ": " << c.known_fault << "\n  " << detail.str() << "\n";
    return answer;
  }
  EXPECT_EQ(1, fired) << c.name << ": the proxy lost the reply of the marked request (" << detail.str()
                      << ")";
  EXPECT_EQ(1, after_lost_call) << c.name << ": the lost call executed on the server";
  EXPECT_EQ(MATIH_STATUS_OK, answer.status) << c.name << ": " << detail.str() << "\n" << answer.message;
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << c.name << ": " << observed.message;
  EXPECT_EQ(1, objects) << c.name << ": exactly one object on the server (" << detail.str() << ")";
  EXPECT_FALSE(internal) << c.name << ": " << detail.str();
  return answer;
}

}  // namespace matih::testing
