// Step 55 (send-welcome-email): the welcome e-mail reaches the admin's mailbox on the stack's
// MailDev exactly once, carrying the invite link with the token of the secret store and no API
// key. The intent is recorded before the SMTP call; a send interrupted after the relay took the
// message is never repeated; a sure failure is retried; remove deletes the record only.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "common/http_client.h"
#include "steps/step_harness.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

constexpr const char* kStep = "send-welcome-email";
// The control-plane plugin's invite token, as the host namespaces it ("<plugin>/<name>").
constexpr const char* kSharedToken = "matih-control-plane/controlplane/admin-invite-token";

class WelcomeEmail : public ::testing::Test {
 protected:
  void SetUp() override {
    mailbox_ = StackEnv::Require("MATIH_MAILDEV_URL");
    auto& s = harness_.settings();
    s["notify.database_url"] = harness_.database().url();
    s["notify.smtp_url"] = StackEnv::Require("MATIH_SMTP_URL");
    s["notify.from"] = "MATIH <welcome@matih.example>";
    s["notify.invite_url"] = "https://app.matih.example/invite";
    s["notify.mailbox_api_url"] = mailbox_;
    tenant_ = StepHarness::MakeTenant("starter");
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
    token_ =
        "mti_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "TestTokenX";
    ASSERT_TRUE(harness_.secrets().Put(tenant_.view.id, kSharedToken, token_).ok());
  }
  void TearDown() override {
    // Leave MailDev as we found it: drop this test's mails.
    for (const auto& mail : Mails(tenant_))
      plugins::HttpClient().Send({"DELETE", mailbox_ + "/email/" + mail["id"].get<std::string>(), {}, {}});
  }
  std::string Admin(const TestTenant& t) { return "admin@" + t.view.slug + ".example.com"; }
  // The mails MailDev holds for the tenant's admin.
  std::vector<nlohmann::json> Mails(const TestTenant& t) {
    auto response = plugins::HttpClient().Send({"GET", mailbox_ + "/email", {}, {}});
    EXPECT_EQ(200, response.status);
    std::vector<nlohmann::json> out;
    for (const auto& mail : nlohmann::json::parse(response.body))
      for (const auto& to : mail["to"])
        if (to["address"] == Admin(t)) out.push_back(mail);
    return out;
  }
  std::string Query1(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    auto f = tx.exec1(sql)[0];
    return f.is_null() ? "NULL" : f.as<std::string>();
  }
  bool HostSharesSecrets(const runner::StepAnswer& answer) {
    return answer.message.find("cannot share secrets between plugins") == std::string::npos;
  }

  StepHarness harness_;
  TestTenant tenant_;
  std::string mailbox_, token_;
};

// The runner's host serves shared secrets from step ABI 1.2 on; on an older host every test here
// would only see the step refuse, so they say so instead of failing.
#define REQUIRE_SHARED_SECRETS(answer)                        \
  if (!HostSharesSecrets(answer))                             \
  GTEST_SKIP() << "this runner's host does not serve shared " \
                  "secrets yet: "                             \
               << (answer).message

TEST_F(WelcomeEmail, AbsentThenSentOnceWithTheInviteLinkThenInSync) {
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  auto mails = Mails(tenant_);
  ASSERT_EQ(1u, mails.size());
  const auto& mail = mails[0];
  EXPECT_NE(std::string::npos,
            mail["text"].get<std::string>().find(
                "https://app.matih.example/invite?tenant=" + tenant_.view.slug + "&token=" + token_))
      << mail["text"];
  EXPECT_EQ(std::string::npos, mail["text"].get<std::string>().find("mtk_")) << "never an API key";
  EXPECT_EQ("welcome@matih.example", mail["from"][0]["address"]);
  EXPECT_NE(std::string::npos, mail["subject"].get<std::string>().find("Acme Analytics"));
  const std::string id = tenant_.outputs[kStep]["welcome_message_id"];
  EXPECT_EQ("<" + mail["messageId"].get<std::string>() + ">", id);
  EXPECT_EQ(id + "|sent|true", Query1("SELECT concat_ws('|', message_id, status, confirmed::text) FROM "
                                      "control_plane.welcome_emails"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(WelcomeEmail, ApplyingAgainSendsNothingAndWritesNothing) {
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  const std::string before =
      Query1("SELECT xmin::text || row_to_json(w)::text FROM control_plane.welcome_emails w");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(1u, Mails(tenant_).size());
  EXPECT_EQ(before, Query1("SELECT xmin::text || row_to_json(w)::text FROM control_plane.welcome_emails w"));
}

TEST_F(WelcomeEmail, IntentIsRecordedBeforeTheSmtpCall) {
  // A relay that cannot be reached: the intent row is committed first and then marked failed.
  harness_.settings()["notify.smtp_url"] = "smtp://127.0.0.1:1";
  auto answer = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(answer);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_EQ("failed", Query1("SELECT status FROM control_plane.welcome_emails"));
  const std::string id = Query1("SELECT message_id FROM control_plane.welcome_emails");
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("last send of " + id + " failed", observed.message);
  EXPECT_TRUE(Mails(tenant_).empty());
  // The relay is back: the same message goes out once.
  harness_.settings()["notify.smtp_url"] = StackEnv::Require("MATIH_SMTP_URL");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  auto mails = Mails(tenant_);
  ASSERT_EQ(1u, mails.size());
  EXPECT_EQ(id, "<" + mails[0]["messageId"].get<std::string>() + ">");
}

TEST_F(WelcomeEmail, IntentIsCommittedWhileTheRelayIsStillBeingContacted) {
  // A "relay" that accepts the connection and never greets: the step waits on it while the test
  // looks at the database from outside.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(0, ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  ASSERT_EQ(0, ::listen(listener, 4));
  ASSERT_EQ(0, ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len));
  harness_.settings()["notify.smtp_url"] = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  harness_.settings()["notify.smtp_timeout_ms"] = "2000";
  auto pending = std::async(std::launch::async, [&] { return harness_.Apply(kStep, tenant_); });
  std::string seen;
  for (int i = 0; i < 40 && seen != "sending"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    if (!tx.exec1("SELECT to_regclass('control_plane.welcome_emails')")[0].is_null()) {
      auto rows = tx.exec("SELECT status FROM control_plane.welcome_emails");
      if (!rows.empty()) seen = rows[0][0].as<std::string>();
    }
  }
  const bool still_waiting = pending.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
  auto answer = pending.get();
  ::close(listener);
  REQUIRE_SHARED_SECRETS(answer);
  EXPECT_EQ("sending", seen) << "the intent was visible to others during the SMTP call";
  EXPECT_TRUE(still_waiting);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_EQ("failed", Query1("SELECT status FROM control_plane.welcome_emails")) << "nothing was uploaded";
}

TEST_F(WelcomeEmail, CrashAfterTheRelayTookTheMailNeverSendsTwice) {
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  // As if the runner died between the relay's 250 and the record: the intent is still open.
  harness_.database().Exec("UPDATE control_plane.welcome_emails SET status = 'sending', confirmed = false");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("interrupted: it reached the mailbox"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(1u, Mails(tenant_).size()) << "the mailbox was asked, nothing was sent again";
  EXPECT_EQ("sent|true",
            Query1("SELECT concat_ws('|', status, confirmed::text) FROM control_plane.welcome_emails"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(WelcomeEmail, CrashWithNoWayToAskTheRelayNeverSendsTwice) {
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  harness_.settings().erase("notify.mailbox_api_url");  // a production relay has no mailbox API
  harness_.database().Exec("UPDATE control_plane.welcome_emails SET status = 'sending', confirmed = false");
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("outcome unknown")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  EXPECT_EQ(1u, Mails(tenant_).size());
  EXPECT_EQ("sent|false",
            Query1("SELECT concat_ws('|', status, confirmed::text) FROM control_plane.welcome_emails"));
}

TEST_F(WelcomeEmail, CrashBeforeTheSmtpCallSendsTheRecordedMessage) {
  auto first = harness_.Observe(kStep, tenant_);
  harness_.settings()["notify.smtp_url"] = "smtp://127.0.0.1:1";
  auto failed = harness_.Apply(kStep, tenant_);  // creates the table and an intent
  REQUIRE_SHARED_SECRETS(failed);
  ASSERT_EQ(MATIH_STATUS_ABSENT, first.status);
  // As if the runner died right after committing the intent.
  harness_.database().Exec("UPDATE control_plane.welcome_emails SET status = 'sending'");
  const std::string id = Query1("SELECT message_id FROM control_plane.welcome_emails");
  harness_.settings()["notify.smtp_url"] = StackEnv::Require("MATIH_SMTP_URL");
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_NE(std::string::npos, observed.message.find("not in the mailbox")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  auto mails = Mails(tenant_);
  ASSERT_EQ(1u, mails.size());
  EXPECT_EQ(id, "<" + mails[0]["messageId"].get<std::string>() + ">") << "the recorded Message-ID";
}

TEST_F(WelcomeEmail, RotatedInviteTokenIsDriftedAndANewMailGoesOut) {
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  const std::string fresh = token_ + "Rotated";
  ASSERT_TRUE(harness_.secrets().Put(tenant_.view.id, kSharedToken, fresh).ok());
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_EQ("invite token rotated since the mail was sent", observed.message);
  EXPECT_EQ(std::string::npos, observed.message.find(fresh));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, tenant_).status);
  auto mails = Mails(tenant_);
  ASSERT_EQ(2u, mails.size());
  int with_fresh = 0;
  for (const auto& m : mails)
    with_fresh += m["text"].get<std::string>().find("token=" + fresh) != std::string::npos;
  EXPECT_EQ(1, with_fresh);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(WelcomeEmail, TokenNeverReachesTheRecordLogsOrOutputs) {
  ::testing::internal::CaptureStderr();
  auto applied = harness_.Apply(kStep, tenant_);
  auto observed = harness_.Observe(kStep, tenant_);
  const std::string logs = ::testing::internal::GetCapturedStderr();
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  EXPECT_NE(std::string::npos, logs.find("handed to SMTP relay")) << "the plugin's log lines were captured";
  EXPECT_EQ(std::string::npos, logs.find(token_));
  for (const auto& [k, v] : applied.outputs) EXPECT_EQ(std::string::npos, v.find(token_)) << k;
  EXPECT_EQ(std::string::npos, observed.message.find(token_));
  EXPECT_EQ(std::string::npos,
            Query1("SELECT row_to_json(w)::text FROM control_plane.welcome_emails w").find(token_));
}

TEST_F(WelcomeEmail, MissingInviteTokenFailsPermanentlyAndSendsNothing) {
  TestTenant other = StepHarness::MakeTenant("free", "noinvite");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", other).status);
  auto answer = harness_.Apply(kStep, other);
  REQUIRE_SHARED_SECRETS(answer);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("create-admin-user must run first")) << answer.message;
  EXPECT_TRUE(Mails(other).empty());
}

TEST_F(WelcomeEmail, RemoveDeletesTheRecordOnlyAndCanBeRepeated) {
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, applied.status) << applied.message;
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(std::string::npos, logs.find("cannot be recalled")) << logs;
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  EXPECT_EQ("0", Query1("SELECT count(*) FROM control_plane.welcome_emails"));
  EXPECT_EQ(1u, Mails(tenant_).size()) << "a sent mail stays sent";
}

TEST_F(WelcomeEmail, TwoTenantsGetTheirOwnMail) {
  TestTenant other = StepHarness::MakeTenant("free", "other");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", other).status);
  ASSERT_TRUE(harness_.secrets().Put(other.view.id, kSharedToken, token_ + "Other").ok());
  auto applied = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(applied);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, other).status);
  auto mine = Mails(tenant_), theirs = Mails(other);
  ASSERT_EQ(1u, mine.size());
  ASSERT_EQ(1u, theirs.size());
  EXPECT_EQ(std::string::npos, mine[0]["text"].get<std::string>().find(token_ + "Other"));
  EXPECT_NE(std::string::npos, theirs[0]["text"].get<std::string>().find(token_ + "Other"));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, other).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  for (const auto& mail : theirs)
    plugins::HttpClient().Send({"DELETE", mailbox_ + "/email/" + mail["id"].get<std::string>(), {}, {}});
}

TEST_F(WelcomeEmail, BadSettingsAndParamsAreRefused) {
  EXPECT_FALSE(harness_.KindOf(kStep).ValidateParams(R"({"template": "x"})").ok());
  EXPECT_TRUE(harness_.KindOf(kStep).ValidateParams("{}").ok());
  harness_.settings()["notify.smtp_url"] = "http://127.0.0.1:25";
  auto answer = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(answer);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status) << answer.message;
  harness_.settings()["notify.smtp_url"] = StackEnv::Require("MATIH_SMTP_URL");
  harness_.settings()["notify.from"] = "MATIH <welcome@matih.example>\r\nBcc: spy@evil.example";
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, harness_.Apply(kStep, tenant_).status);
  EXPECT_TRUE(Mails(tenant_).empty());
}

TEST_F(WelcomeEmail, UnreachableTargetsAreTransient) {
  harness_.settings()["notify.database_url"] = "postgresql://postgres@127.0.0.1:1/nowhere";
  auto answer = harness_.Apply(kStep, tenant_);
  REQUIRE_SHARED_SECRETS(answer);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, answer.status) << answer.message;
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kStep, tenant_).status);
}

}  // namespace
}  // namespace matih::testing
