// Lost replies on the control-plane database (COMMIT of each control-plane step), Azurite
// (PUT of a container) and the SMTP relay (the end of the welcome e-mail's DATA): the request
// executes, its reply is lost, the step retries and adopts what the lost call made: one row, one
// container, one e-mail.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "chaos/lost_replies_case.h"
#include "common/http_client.h"
#include "storage/blob_client.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using namespace std::chrono_literals;

// --- control plane ---------------------------------------------------------------------------

class LostRepliesControlPlane : public LostRepliesTest {
 protected:
  void SetUp() override {
    db_ = ProxyFor(harness_.database().url());
    harness_.settings()["controlplane.database_url"] = ThroughProxy(harness_.database().url(), db_->port());
    tenant_ = StepHarness::MakeTenant("starter", "lost");
    // The plugin creates its schema on first use (a COMMIT of its own): done here, by a tenant
    // of its own, so the fault hits the COMMIT of the step's write.
    TestTenant warm_up = StepHarness::MakeTenant("starter", "warm");
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", warm_up).status);
    ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-tenant-record", warm_up).status);
  }
  int Count(const std::string& sql) {
    pqxx::connection c(harness_.database().url());
    pqxx::nontransaction tx(c);
    return tx.exec_params1(sql, tenant_.view.id)[0].as<int>();
  }
  // Applies the steps before `step` without faults, then loses the reply of its COMMIT.
  void LoseCommitOf(const std::string& step, const std::string& count_sql) {
    for (const std::string prior : {"create-tenant-record", "create-admin-user", "create-default-roles"}) {
      if (prior == step) break;
      auto answer = harness_.Apply(prior, tenant_);
      ASSERT_EQ(MATIH_STATUS_OK, answer.status) << prior << ": " << answer.message;
    }
    // libpq waits for the reply; the link then dies (1.5 s), as a connection lost mid-commit does.
    RunCase({"controlplane-" + step, step, db_.get(), FaultProxy::Drop("COMMIT", 1500ms),
             [&] { return Count(count_sql); }},
            tenant_);
  }

  std::unique_ptr<FaultProxy> db_;
  TestTenant tenant_;
};

TEST_F(LostRepliesControlPlane, TenantRowCommitReplyLost) {
  LoseCommitOf("create-tenant-record", "SELECT count(*) FROM control_plane.tenants WHERE id = $1");
}

TEST_F(LostRepliesControlPlane, AdminUserCommitReplyLost) {
  LoseCommitOf("create-admin-user", "SELECT count(*) FROM control_plane.users WHERE tenant_id = $1");
}

TEST_F(LostRepliesControlPlane, DefaultRolesCommitReplyLost) {
  LoseCommitOf("create-default-roles",
               "SELECT count(*) FROM control_plane.roles WHERE tenant_id = $1 AND name = 'Admin'");
  EXPECT_EQ(3, Count("SELECT count(*) FROM control_plane.roles WHERE tenant_id = $1")) << "no role twice";
}

TEST_F(LostRepliesControlPlane, ApiKeyCommitReplyLost) {
  LoseCommitOf("issue-api-keys", "SELECT count(*) FROM control_plane.api_keys WHERE tenant_id = $1");
}

// create-billing-account writes its account and subscription in one transaction on the same
// control-plane database (billing.database_url).
TEST_F(LostRepliesControlPlane, BillingAccountCommitReplyLost) {
  harness_.settings()["billing.database_url"] = harness_.settings()["controlplane.database_url"];
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant_).status);
  // The plugin creates its tables on first use (a COMMIT of its own): done by a tenant of its own.
  TestTenant warm_up = StepHarness::MakeTenant("starter", "warm");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", warm_up).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-billing-account", warm_up).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove("create-billing-account", warm_up).status);
  RunCase({"controlplane-create-billing-account", "create-billing-account", db_.get(),
           FaultProxy::Drop("COMMIT", 1500ms),
           [&] {
             return Count(
                 "SELECT count(*) FROM control_plane.billing_subscriptions s JOIN "
                 "control_plane.billing_accounts a ON a.id = s.account_id WHERE a.tenant_id = $1::uuid");
           }},
          tenant_);
}

// --- Azurite ---------------------------------------------------------------------------------

std::string AccountKey(const std::string& account) {
  std::ifstream in(StackEnv::Require("MATIH_AZURITE_ACCOUNTS_FILE"));
  std::stringstream text;
  text << in.rdbuf();
  std::stringstream entries(text.str());
  for (std::string entry; std::getline(entries, entry, ';');) {
    while (!entry.empty() && (entry.back() == '\n' || entry.back() == ' ')) entry.pop_back();
    if (entry.rfind(account + ":", 0) == 0) return entry.substr(account.size() + 1);
  }
  ADD_FAILURE() << "no key for " << account;
  return "";
}

TEST_F(LostRepliesTest, ContainerCreateReplyLostLeavesOneContainer) {
  const std::string endpoint = StackEnv::Require("MATIH_AZURITE_BLOB_ENDPOINT");
  const std::string shared = StackEnv::Require("MATIH_AZURITE_SHARED_ACCOUNT");
  auto proxy = ProxyFor(endpoint);
  auto& s = harness_.settings();
  s["storage.blob_endpoint"] = ThroughProxy(endpoint, proxy->port());
  s["storage.account_keys_file"] = StackEnv::Require("MATIH_AZURITE_ACCOUNTS_FILE");
  s["storage.shared_account"] = shared;
  s["storage.dedicated_accounts"] = StackEnv::Require("MATIH_AZURITE_POOL_ACCOUNTS");
  s["storage.database_url"] = harness_.database().url();
  s["storage.timeout_ms"] = "1000";  // the lost reply times out after this
  TestTenant tenant = StepHarness::MakeTenant("free", "lost");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-storage-account", tenant).status);
  const plugins::storage::BlobClient blob(endpoint, {shared, AccountKey(shared)}, 5s, "test");
  const std::string container = tenant.view.slug + "-raw";
  auto count = [&] {
    int n = 0;
    for (const auto& c : blob.ListContainers(tenant.view.slug)) n += c.name == container ? 1 : 0;
    return n;
  };
  RunCase({"azurite-container", "create-storage-containers", proxy.get(),
           FaultProxy::Drop("PUT /" + shared + "/" + container + "?restype=container "), count},
          tenant);
  harness_.Remove("create-storage-containers", tenant);
  harness_.Remove("create-storage-account", tenant);
}

// --- SMTP (MailDev) --------------------------------------------------------------------------

TEST_F(LostRepliesTest, WelcomeEmailDataReplyLostSendsOneEmail) {
  const std::string mailbox = StackEnv::Require("MATIH_MAILDEV_URL");
  const std::string smtp = StackEnv::Require("MATIH_SMTP_URL");
  auto proxy = ProxyFor(smtp);
  auto& s = harness_.settings();
  s["notify.database_url"] = harness_.database().url();
  s["notify.smtp_url"] = ThroughProxy(smtp, proxy->port());
  s["notify.smtp_timeout_ms"] = "1500";  // the lost reply times out after this
  s["notify.from"] = "MATIH <welcome@matih.example>";
  s["notify.invite_url"] = "https://app.matih.example/invite";
  s["notify.mailbox_api_url"] = mailbox;
  TestTenant tenant = StepHarness::MakeTenant("starter", "lost");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply("create-tenant-record", tenant).status);
  ASSERT_TRUE(harness_.secrets()
                  .Put(tenant.view.id, "matih-control-plane/controlplane/admin-invite-token",
                       "mti_lostreplies" + tenant.view.id.substr(0, 8))
                  .ok());
  const std::string admin = "admin@" + tenant.view.slug + ".example.com";
  auto mails = [&] {
    std::vector<std::string> ids;
    auto response = plugins::HttpClient({}, 3s).Send({"GET", mailbox + "/email", {}, {}});
    EXPECT_EQ(200, response.status);
    for (const auto& mail : nlohmann::json::parse(response.body))
      for (const auto& to : mail["to"])
        if (to["address"] == admin) ids.push_back(mail["id"].get<std::string>());
    return ids;
  };
  // The end of DATA ("\r\n.\r\n"): MailDev has taken the message when its answer is lost.
  RunCase({"smtp-welcome-email", "send-welcome-email", proxy.get(), FaultProxy::Drop("\r\n.\r\n"),
           [&] { return static_cast<int>(mails().size()); }},
          tenant);
  for (const auto& id : mails())
    plugins::HttpClient({}, 3s).Send({"DELETE", mailbox + "/email/" + id, {}, {}});
}

// --- Chroma ----------------------------------------------------------------------------------

TEST_F(LostRepliesTest, CollectionCreateReplyLostLeavesOneCollection) {
  const std::string chroma = StackEnv::Require("MATIH_CHROMA_URL");
  auto proxy = ProxyFor(chroma);
  harness_.settings()["vector.chroma_url"] = ThroughProxy(chroma, proxy->port());
  harness_.settings()["vector.timeout_ms"] = "1000";  // the lost reply times out after this
  TestTenant tenant = StepHarness::MakeTenant("free", "lost");
  const std::string collections = "/api/v2/tenants/matih-" + tenant.view.slug + "/databases/main/collections";
  auto count = [&] {
    auto r = plugins::HttpClient({}, 3s).Send({"GET", chroma + collections, {}, {}});
    if (r.status == 404) return 0;  // no Chroma tenant or database yet
    EXPECT_EQ(200, r.status) << r.body;
    int n = 0;
    for (const auto& c : nlohmann::json::parse(r.body)) n += c.value("name", "") == "documents" ? 1 : 0;
    return n;
  };
  RunCase({"chroma-collection", "provision-vector-store", proxy.get(),
           FaultProxy::Drop("POST " + collections + " "), count},
          tenant);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("provision-vector-store", tenant).status);
}

// --- OpenID Connect provider (dynamic client registration) ------------------------------------

TEST_F(LostRepliesTest, ClientRegistrationReplyLostLeavesOneClient) {
  const std::string issuer = StackEnv::Require("MATIH_OIDC_URL");
  auto proxy = ProxyFor(issuer);
  auto& s = harness_.settings();
  // The provider derives its endpoints from the Host it is asked on: through the proxy, the
  // registration endpoint is the proxy's too.
  s["identity.issuer_url"] = ThroughProxy(issuer, proxy->port());
  std::ifstream token_file(StackEnv::Require("MATIH_OIDC_INITIAL_ACCESS_TOKEN_FILE"));
  std::string token;
  std::getline(token_file, token);
  s["identity.initial_access_token"] = token;
  s["identity.parent_zone"] = "platform.example.test";
  s["identity.timeout_ms"] = "1000";  // the lost reply times out after this
  TestTenant tenant = StepHarness::MakeTenant("free", "lost");
  // Our launcher's file adapter keeps one file per registered client (scripts/stack.d/oidc.sh).
  const std::string clients = StackEnv::Require("MATIH_STACK_ROOT") + "/var/oidc/data/Client";
  auto count = [&] {
    int n = 0;
    if (!std::filesystem::exists(clients)) return 0;
    for (const auto& f : std::filesystem::directory_iterator(clients)) {
      std::ifstream in(f.path());
      std::stringstream text;
      text << in.rdbuf();
      n += text.str().find("." + tenant.view.slug + ".") != std::string::npos ? 1 : 0;
    }
    return n;
  };
  Case c{"oidc-client-registration", "register-identity-provider", proxy.get(),
         FaultProxy::Drop("POST /reg "), count};
  // Found by this case: RFC 7591 registration has the server choose the client_id and offers no
  // way to find a client again, so a registration whose answer was lost was registered a second
  // time on retry, the first orphaned. Now each client is registered under a unique name
  // (matih_registration_key), under which our launcher gives the live client back: adopted.
  RunCase(c, tenant);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("register-identity-provider", tenant).status);
  EXPECT_EQ(0, count()) << "remove left a client of the tenant at the provider";
}

// --- Prometheus ------------------------------------------------------------------------------

TEST_F(LostRepliesTest, ReloadReplyLostLeavesOneRuleGroup) {
  const std::string prometheus = StackEnv::Require("MATIH_PROMETHEUS_URL");
  const std::string rules_dir = StackEnv::Require("MATIH_PROMETHEUS_RULES_DIR");
  auto proxy = ProxyFor(prometheus);
  auto& s = harness_.settings();
  s["observability.prometheus_url"] = ThroughProxy(prometheus, proxy->port());
  s["observability.targets_dir"] = StackEnv::Require("MATIH_PROMETHEUS_TARGETS_DIR");
  s["observability.rules_dir"] = rules_dir;
  s["observability.verify_timeout_ms"] = "10000";
  TestTenant tenant = StepHarness::MakeTenant("starter", "lost");
  auto groups = [&] {
    auto r = plugins::HttpClient({}, 3s).Send({"GET", prometheus + "/api/v1/rules", {}, {}});
    EXPECT_EQ(200, r.status) << r.body;
    int n = 0;
    const auto rules = nlohmann::json::parse(r.body);  // kept alive for the loop
    for (const auto& g : rules["data"]["groups"])
      n += g.value("name", "") == "tenant-" + tenant.view.slug ? 1 : 0;
    return n;
  };
  // Prometheus reloads, its answer is lost and the link dies 1.5 s later.
  RunCase({"prometheus-rules-reload", "configure-alerting", proxy.get(),
           FaultProxy::Drop("POST /-/reload ", 1500ms), groups},
          tenant);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("configure-alerting", tenant).status);
  std::error_code ec;
  if (std::filesystem::remove(rules_dir + "/tenant-" + tenant.view.slug + ".yml", ec))
    plugins::HttpClient({}, 3s).Send({"POST", prometheus + "/-/reload", {}, {}});
}

}  // namespace
}  // namespace matih::testing
