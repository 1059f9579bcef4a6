// Step 25 (create-message-topics, kind data.message_stream) on the stack's real NATS JetStream:
// a stream per tenant on tenant.<slug>.> with per-tier limits, verified by publishing and reading.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "steps/data/data_test_support.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

const std::string kStep = "create-message-topics";

class CreateMessageTopics : public DataStepTest {
 protected:
  void SetUp() override { tenant_ = StepHarness::MakeTenant("free", "topics"); }
  void TearDown() override {
    for (auto* t : {&tenant_, &other_}) harness_.Remove(kStep, *t);
  }
  void ApplyOk(TestTenant& t) {
    auto answer = harness_.Apply(kStep, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }
  static std::string Stream(const TestTenant& t) { return "tenant-" + t.view.slug; }
  static std::string Subject(const TestTenant& t, const std::string& s) {
    return "tenant." + t.view.slug + "." + s;
  }

  JetStream nats_;
  TestTenant tenant_;
  TestTenant other_ = StepHarness::MakeTenant("enterprise", "topics");
};

TEST_F(CreateMessageTopics, StreamHasTheTierLimitsAndKeepsWhatIsPublished) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto answer = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  ApplyOk(other_);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(answer.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("tenant." + tenant_.view.slug + ".>|67108864|604800|file|0", nats_.Describe(Stream(tenant_)));
  EXPECT_EQ("tenant." + other_.view.slug + ".>|4294967296|7776000|file|0", nats_.Describe(Stream(other_)));

  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(tenant_, "orders.created"), "order 42"));
  EXPECT_EQ("order 42", nats_.LastMessage(Stream(tenant_), Subject(tenant_, "orders.created")));
  // The other tenant's stream does not capture this tenant's subjects.
  EXPECT_EQ("tenant." + other_.view.slug + ".>|4294967296|7776000|file|0", nats_.Describe(Stream(other_)));
  EXPECT_EQ(Stream(tenant_), tenant_.outputs[kStep]["stream"]);
  EXPECT_EQ("tenant." + tenant_.view.slug + ".>", tenant_.outputs[kStep]["subjects"]);
}

TEST_F(CreateMessageTopics, ApplyingTheSameConfigAgainKeepsTheStreamAndItsMessages) {
  ApplyOk(tenant_);
  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(tenant_, "a"), "kept"));
  const std::string before = nats_.Describe(Stream(tenant_));
  nats_.WatchAdvisories(Stream(tenant_));
  ApplyOk(tenant_);
  EXPECT_EQ("", nats_.Advisories(300)) << "the stream was written again";
  EXPECT_EQ(before, nats_.Describe(Stream(tenant_)));
  EXPECT_EQ("kept", nats_.LastMessage(Stream(tenant_), Subject(tenant_, "a")));
}

TEST_F(CreateMessageTopics, ADifferentConfigIsAnUpdateNotAnError) {
  ApplyOk(tenant_);
  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(tenant_, "a"), "kept"));
  harness_.SetParams(kStep, R"({"storage": "file", "limits": {
      "free": {"max_bytes": 1048576, "max_age_seconds": 3600}, "starter": {"max_bytes": 2048, "max_age_seconds": 1},
      "professional": {"max_bytes": 2048, "max_age_seconds": 1}, "enterprise": {"max_bytes": 2048, "max_age_seconds": 1}}})");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("max_bytes: have 67108864, want 1048576"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("max_age_seconds: have 604800, want 3600"))
      << observed.message;
  nats_.WatchAdvisories(Stream(tenant_));
  ApplyOk(tenant_);
  EXPECT_EQ("$JS.EVENT.ADVISORY.STREAM.UPDATED", nats_.Advisories(1000));
  EXPECT_EQ("tenant." + tenant_.view.slug + ".>|1048576|3600|file|1", nats_.Describe(Stream(tenant_)));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(CreateMessageTopics, HandChangesAreDriftedAndRepaired) {
  ApplyOk(tenant_);
  ASSERT_EQ(NATS_OK, nats_.SetMaxBytes(Stream(tenant_), 4096));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, observed.message.find("max_bytes: have 4096, want 67108864"))
      << observed.message;
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);

  ASSERT_EQ(NATS_OK, nats_.Delete(Stream(tenant_)));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(CreateMessageTopics, RemoveDeletesTheStreamAndItsMessagesAndCanBeRepeated) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  ASSERT_EQ(NATS_OK, nats_.Publish(Subject(tenant_, "a"), "gone"));
  auto removed = harness_.Remove(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  EXPECT_EQ("absent", nats_.Describe(Stream(tenant_)));
  EXPECT_NE(NATS_OK, nats_.Publish(Subject(tenant_, "a"), "nobody stores this"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other_).status);
}

TEST_F(CreateMessageTopics, UnreachableServerIsTransient) {
  harness_.settings()["data.shared.nats_url"] = ClosedPortUrl("nats");
  ExpectError(harness_.Observe(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "NATS 127.0.0.1:");
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "NATS 127.0.0.1:");
}

TEST_F(CreateMessageTopics, RefusedCredentialsArePermanent) {
  // A second, real nats-server of this test that requires a user and a password.
  const std::string url = ClosedPortUrl("nats");
  const std::string port = url.substr(url.rfind(':') + 1);
  const pid_t server = ::fork();
  ASSERT_GE(server, 0);
  if (server == 0) {
    ::execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), "--user", "matih", "--pass",
             "right-password", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  natsConnection* probe = nullptr;
  for (int i = 0;
       i < 100 &&
       natsConnection_ConnectTo(&probe, ("nats://matih:right-password@127.0.0.1:" + port).c_str()) != NATS_OK;
       ++i)
    ::usleep(20000);
  EXPECT_NE(nullptr, probe) << "the test's nats-server did not start";
  natsConnection_Destroy(probe);

  harness_.settings()["data.shared.nats_url"] = "nats://matih:wrong-password@127.0.0.1:" + port;
  auto answer = harness_.Apply(kStep, tenant_);
  ExpectError(answer, MATIH_STATUS_PERMISSION_DENIED, kStep, "NATS 127.0.0.1:" + port);
  EXPECT_EQ(std::string::npos, answer.message.find("wrong-password")) << answer.message;
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
}

TEST_F(CreateMessageTopics, BadParamsAreRefusedAtCatalogLoad) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (
      const char* bad :
      {R"({})", R"({"limits": {"free": {"max_bytes": 1048576, "max_age_seconds": 60}}})",
       R"({"storage": "tape", "limits": {}})",
       R"({"limits": {"free": {"max_bytes": 0, "max_age_seconds": 60}, "starter": {}, "professional": {}, "enterprise": {}}})",
       R"({"limit": {}})"}) {
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace matih::testing
