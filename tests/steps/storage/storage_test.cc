// Steps 14-15 (create-storage-account, create-storage-containers) on a real Azurite: the shared
// account for FREE/STARTER, a dedicated account claimed atomically from the pool for
// PROFESSIONAL/ENTERPRISE; private containers with the tenant's metadata, one stored access
// policy of ours merged with others', and a SAS bound to it that works on the tenant's own
// containers only and dies with its policy. Apply twice writes nothing; hand changes are DRIFTED
// and repaired; remove undoes and can be repeated; a server that is down is a transient error.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "steps/step_harness.h"
#include "storage/blob_client.h"
#include "storage/shared_key.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using plugins::HttpClient;
using plugins::HttpRequest;
using plugins::storage::AccessPolicy;
using plugins::storage::BlobClient;

constexpr const char* kAccountStep = "create-storage-account";
constexpr const char* kContainersStep = "create-storage-containers";

class Storage : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = StackEnv::Require("MATIH_AZURITE_BLOB_ENDPOINT");
    keys_file_ = StackEnv::Require("MATIH_AZURITE_ACCOUNTS_FILE");
    shared_ = StackEnv::Require("MATIH_AZURITE_SHARED_ACCOUNT");
    pool_ = StackEnv::Require("MATIH_AZURITE_POOL_ACCOUNTS");
    auto& s = harness_.settings();
    s["storage.blob_endpoint"] = endpoint_;
    s["storage.account_keys_file"] = keys_file_;
    s["storage.shared_account"] = shared_;
    s["storage.dedicated_accounts"] = pool_;
    s["storage.database_url"] = harness_.database().url();
    s["storage.timeout_ms"] = "3000";
  }
  void TearDown() override {
    for (auto* t : cleanup_) {
      harness_.Remove(kContainersStep, *t);
      harness_.Remove(kAccountStep, *t);
    }
  }

  TestTenant& NewTenant(const std::string& tier) {
    tenants_.push_back(std::make_unique<TestTenant>(StepHarness::MakeTenant(tier, "st")));
    cleanup_.push_back(tenants_.back().get());
    return *tenants_.back();
  }
  void ApplyBoth(TestTenant& t) {
    for (const char* step : {kAccountStep, kContainersStep}) {
      auto a = harness_.Apply(step, t);
      ASSERT_EQ(MATIH_STATUS_OK, a.status) << step << ": " << a.message;
    }
  }
  // The key of `account` from the stack's file.
  std::string KeyOf(const std::string& account) {
    std::ifstream in(keys_file_);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str(), entry;
    std::stringstream entries(all);
    while (std::getline(entries, entry, ';')) {
      while (!entry.empty() && (entry.back() == '\n' || entry.back() == ' ')) entry.pop_back();
      if (entry.rfind(account + ":", 0) == 0) return entry.substr(account.size() + 1);
    }
    throw std::runtime_error("no key for " + account + " in " + keys_file_);
  }
  // Our own SharedKey client of `account`.
  BlobClient Client(const std::string& account) {
    return BlobClient(endpoint_, {account, KeyOf(account)}, std::chrono::seconds(5), "test");
  }
  // A secret of the plugin: in its own namespace (hosts of step ABI 1.2), or the legacy shared one.
  std::string Secret(const TestTenant& t, const std::string& name) {
    auto v = harness_.secrets().Get(t.view.id, "matih-storage/" + name);
    if (!v.ok()) v = harness_.secrets().Get(t.view.id, name);
    return v.ok() ? v.value() : "";
  }
  std::string AccountOf(TestTenant& t) { return t.outputs[kAccountStep]["account_name"]; }
  // HTTP status of a data-plane call with a SAS: list or upload.
  long SasCall(const std::string& account, const std::string& container, const std::string& sas,
               bool upload) {
    HttpRequest r;
    const std::string base = endpoint_.substr(0, endpoint_.find("{account}")) + account + "/" + container;
    if (upload) {
      r.method = "PUT";
      r.url = base + "/hello.txt?" + sas;
      r.headers = {"x-ms-blob-type: BlockBlob", "x-ms-version: 2021-12-02", "Content-Type: text/plain"};
      r.body = "hello";
    } else {
      r.url = base + "?restype=container&comp=list&" + sas;
      r.headers = {"x-ms-version: 2021-12-02"};
    }
    return HttpClient().Send(r).status;
  }

  StepHarness harness_;
  std::string endpoint_, keys_file_, shared_, pool_;
  std::vector<std::unique_ptr<TestTenant>> tenants_;
  std::vector<TestTenant*> cleanup_;
};

TEST_F(Storage, SharedTenantGetsPrivateContainersWithTenantMetadataPolicyAndSas) {
  auto& t = NewTenant("free");
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kAccountStep, t).status);
  auto absent = harness_.Observe(kContainersStep, t);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  ApplyBoth(t);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kAccountStep, t).status);
  auto observed = harness_.Observe(kContainersStep, t);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(t.outputs[kContainersStep], observed.outputs)
      << "adoptable: an in-sync observe reports the apply's outputs";
  for (const auto& [k, v] : observed.outputs) EXPECT_EQ(std::string::npos, v.find("sig=")) << k;
  EXPECT_EQ(shared_, AccountOf(t));
  EXPECT_EQ("shared", t.outputs[kAccountStep]["placement"]);
  EXPECT_EQ(t.view.slug + "-raw," + t.view.slug + "-curated", t.outputs[kContainersStep]["containers"]);

  auto client = Client(shared_);
  for (const std::string name : {"raw", "curated"}) {
    const std::string container = t.view.slug + "-" + name;
    auto info = client.GetContainer(container);
    ASSERT_TRUE(info) << container;
    EXPECT_EQ(t.view.id, info->metadata["matih_tenant_id"]);
    EXPECT_EQ(t.view.slug, info->metadata["matih_tenant_slug"]);
    EXPECT_EQ(name, info->metadata["matih_container"]);
    auto acl = client.GetAcl(container);
    ASSERT_TRUE(acl);
    EXPECT_EQ("", acl->public_access);
    ASSERT_EQ(1u, acl->policies.size());
    EXPECT_EQ(0u, acl->policies[0].id.rfind("matih-", 0));
    EXPECT_EQ("racwdl", acl->policies[0].permission);
    const std::string sas = Secret(t, "sas/" + name);
    ASSERT_FALSE(sas.empty());
    EXPECT_NE(std::string::npos, sas.find("si=" + acl->policies[0].id)) << "the SAS is bound to the policy";
    EXPECT_EQ(std::string::npos, sas.find("se=")) << "lifetime comes from the policy";
    for (const auto& [step, outputs] : t.outputs)
      for (const auto& [k, v] : outputs) EXPECT_EQ(std::string::npos, v.find("sig=")) << step << "." << k;
  }
}

TEST_F(Storage, ApplyingAgainWritesNothing) {
  auto& t = NewTenant("starter");
  ApplyBoth(t);
  auto client = Client(shared_);
  auto snapshot = [&] {
    std::string out;
    for (const std::string name : {"raw", "curated", "models"}) {
      auto info = client.GetContainer(t.view.slug + "-" + name);
      auto acl = client.GetAcl(t.view.slug + "-" + name);
      if (!info || !acl) return std::string("missing");
      out += info->etag + "|" + info->last_modified + "|" + acl->policies.at(0).id + "|" +
             acl->policies.at(0).expiry + "|" + Secret(t, "sas/" + name) + "\n";
    }
    return out;
  };
  const std::string before = snapshot();
  ASSERT_NE("missing", before);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // Last-Modified has 1 s resolution
  ApplyBoth(t);
  EXPECT_EQ(before, snapshot());
}

TEST_F(Storage, DeletedContainerIsDriftedAndRecreated) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  ASSERT_TRUE(Client(shared_).DeleteContainer(t.view.slug + "-curated"));
  auto observed = harness_.Observe(kContainersStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, observed.message.find("container " + t.view.slug + "-curated missing"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kContainersStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
  EXPECT_TRUE(Client(shared_).GetContainer(t.view.slug + "-curated"));
  EXPECT_EQ(200, SasCall(shared_, t.view.slug + "-curated", Secret(t, "sas/curated"), false));
}

TEST_F(Storage, MetadataChangedByHandIsDriftedAndRepaired) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  auto client = Client(shared_);
  client.SetMetadata(t.view.slug + "-raw",
                     {{"matih_tenant_id", t.view.id}, {"matih_tenant_slug", "someone-else"}});
  auto observed = harness_.Observe(kContainersStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("matih_tenant_slug: have 'someone-else'"))
      << observed.message;
  EXPECT_NE(std::string::npos, observed.message.find("matih_container missing")) << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kContainersStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
  EXPECT_EQ(t.view.slug, client.GetContainer(t.view.slug + "-raw")->metadata["matih_tenant_slug"]);
}

TEST_F(Storage, RemovingThePolicyRevokesTheSasAndApplyIssuesANewOne) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  auto client = Client(shared_);
  const std::string container = t.view.slug + "-raw";
  const std::string old_sas = Secret(t, "sas/raw");
  ASSERT_EQ(200, SasCall(shared_, container, old_sas, false));
  // An operator revokes: the container keeps only someone else's policy.
  AccessPolicy foreign{"backup-reader", "2025-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "rl"};
  client.SetAcl(container, {foreign}, "");
  EXPECT_EQ(403, SasCall(shared_, container, old_sas, false)) << "revoked with its policy";
  auto observed = harness_.Observe(kContainersStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find(container + " no stored access policy"))
      << observed.message;

  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kContainersStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
  const std::string new_sas = Secret(t, "sas/raw");
  EXPECT_NE(old_sas, new_sas);
  EXPECT_EQ(200, SasCall(shared_, container, new_sas, false));
  EXPECT_EQ(403, SasCall(shared_, container, old_sas, false)) << "a revoked SAS stays revoked";
  // Read, merge, write: the other policy survived our write.
  auto acl = client.GetAcl(container);
  ASSERT_TRUE(acl);
  ASSERT_EQ(2u, acl->policies.size());
  EXPECT_EQ("backup-reader", acl->policies[0].id);
  EXPECT_EQ("rl", acl->policies[0].permission);
}

TEST_F(Storage, PublicAccessSetByHandIsDriftedAndMadePrivate) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  const std::string container = t.view.slug + "-raw";
  auto client = Client(shared_);
  auto before = client.GetAcl(container);
  ASSERT_TRUE(before);
  // Our own SharedKey call: the same policies, plus anonymous read access to the whole container.
  std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers>";
  for (const auto& p : before->policies)
    body += "<SignedIdentifier><Id>" + p.id + "</Id><AccessPolicy><Start>" + p.start + "</Start><Expiry>" +
            p.expiry + "</Expiry><Permission>" + p.permission +
            "</Permission></AccessPolicy></SignedIdentifier>";
  body += "</SignedIdentifiers>";
  const std::string key = KeyOf(shared_);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&now));
  HttpRequest r;
  r.method = "PUT";
  const std::string path = "/" + shared_ + "/" + container;
  r.url = endpoint_.substr(0, endpoint_.find("/{account}")) + path + "?restype=container&comp=acl";
  r.headers = {"x-ms-blob-public-access: container", std::string("x-ms-date: ") + date,
               "x-ms-version: 2021-12-02", "Content-Type: application/xml",
               "Content-Length: " + std::to_string(body.size())};
  const std::string to_sign = plugins::storage::CanonicalRequestString(
      "PUT", r.headers, shared_, path, {{"restype", "container"}, {"comp", "acl"}});
  r.headers.push_back("Authorization: SharedKey " + shared_ + ":" +
                      plugins::storage::SignWithKey(key, to_sign));
  r.body = body;
  ASSERT_EQ(200, HttpClient().Send(r).status);
  ASSERT_EQ("container", client.GetAcl(container)->public_access);

  auto observed = harness_.Observe(kContainersStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find(container + " public access 'container'"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kContainersStep, t).status);
  auto after = client.GetAcl(container);
  EXPECT_EQ("", after->public_access);
  ASSERT_EQ(1u, after->policies.size());
  EXPECT_EQ(before->policies[0].id, after->policies[0].id) << "the live policy (and its SAS) is kept";
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
}

TEST_F(Storage, SasOfOneTenantWorksOnItsContainersAndIsRefusedOnAnothers) {
  auto& a = NewTenant("free");
  auto& b = NewTenant("free");
  ApplyBoth(a);
  ApplyBoth(b);
  const std::string sas_a = Secret(a, "sas/raw");
  EXPECT_EQ(201, SasCall(shared_, a.view.slug + "-raw", sas_a, true)) << "upload with the tenant's SAS";
  EXPECT_EQ(200, SasCall(shared_, a.view.slug + "-raw", sas_a, false));
  EXPECT_EQ(403, SasCall(shared_, b.view.slug + "-raw", sas_a, false)) << "A's SAS lists B's container";
  EXPECT_EQ(403, SasCall(shared_, b.view.slug + "-raw", sas_a, true)) << "A's SAS writes B's container";
  EXPECT_EQ(403, SasCall(shared_, a.view.slug + "-raw", "sv=2021-12-02&sr=c&si=x&sig=AAAA", false));
}

TEST_F(Storage, RemoveDeletesOnlyTheTenantsContainersAndSecretsAndCanRepeat) {
  auto& a = NewTenant("free");
  auto& b = NewTenant("free");
  ApplyBoth(a);
  ApplyBoth(b);
  ASSERT_EQ(201, SasCall(shared_, a.view.slug + "-raw", Secret(a, "sas/raw"), true));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kContainersStep, a).status);
  auto client = Client(shared_);
  EXPECT_FALSE(client.GetContainer(a.view.slug + "-raw"));
  EXPECT_FALSE(client.GetContainer(a.view.slug + "-curated"));
  EXPECT_EQ("", Secret(a, "sas/raw"));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kContainersStep, a).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kContainersStep, a).status) << "remove again";
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccountStep, a).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccountStep, a).status);
  EXPECT_TRUE(client.GetContainer(b.view.slug + "-raw")) << "the other tenant keeps its containers";
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, b).status);
}

TEST_F(Storage, ContainerDroppedFromTheCatalogIsStaleAndDeleted) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  harness_.SetParams(kContainersStep, R"({"containers": {"free": ["raw"]}})");
  auto observed = harness_.Observe(kContainersStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_NE(std::string::npos, observed.message.find("stale container " + t.view.slug + "-curated"))
      << observed.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kContainersStep, t).status);
  EXPECT_FALSE(Client(shared_).GetContainer(t.view.slug + "-curated"));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
}

TEST_F(Storage, DedicatedTenantsClaimDistinctAccountsUntilThePoolIsExhausted) {
  harness_.settings()["storage.dedicated_accounts"] = "matihpool1,matihpool2";
  auto& a = NewTenant("professional");
  auto& b = NewTenant("enterprise");
  auto& c = NewTenant("professional");
  runner::StepAnswer ra, rb;
  std::thread ta([&] { ra = harness_.Apply(kAccountStep, a); });
  std::thread tb([&] { rb = harness_.Apply(kAccountStep, b); });
  ta.join();
  tb.join();
  ASSERT_EQ(MATIH_STATUS_OK, ra.status) << ra.message;
  ASSERT_EQ(MATIH_STATUS_OK, rb.status) << rb.message;
  EXPECT_NE(AccountOf(a), AccountOf(b));
  EXPECT_EQ("dedicated", a.outputs[kAccountStep]["placement"]);
  auto full = harness_.Apply(kAccountStep, c);
  EXPECT_EQ(MATIH_STATUS_RESOURCE_EXHAUSTED, full.status) << full.message;
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kAccountStep, c).status);
  // Applying again keeps the same account.
  const std::string held = AccountOf(a);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kAccountStep, a).status);
  EXPECT_EQ(held, AccountOf(a));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kAccountStep, a).status);
  // Released on remove, then claimed by the waiting tenant.
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccountStep, a).status);
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kAccountStep, a).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kAccountStep, c).status);
  EXPECT_EQ(held, AccountOf(c));
}

TEST_F(Storage, DedicatedTenantsContainersLiveInItsAccountAndGoWithIt) {
  auto& t = NewTenant("enterprise");
  ApplyBoth(t);
  const std::string account = AccountOf(t);
  ASSERT_NE(shared_, account);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kContainersStep, t).status);
  auto client = Client(account);
  for (const std::string name : {"raw", "curated", "models", "exports", "archive"})
    EXPECT_TRUE(client.GetContainer(t.view.slug + "-" + name)) << name;
  EXPECT_FALSE(Client(shared_).GetContainer(t.view.slug + "-raw"));
  EXPECT_EQ(200, SasCall(account, t.view.slug + "-raw", Secret(t, "sas/raw"), false));
  // Releasing the account (rollback of step 14 alone) leaves no container of the tenant in it.
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kAccountStep, t).status);
  EXPECT_FALSE(client.GetContainer(t.view.slug + "-raw"));
  EXPECT_FALSE(client.GetContainer(t.view.slug + "-archive"));
}

TEST_F(Storage, StorageServerDownIsTransient) {
  auto& t = NewTenant("free");
  ApplyBoth(t);
  harness_.settings()["storage.blob_endpoint"] = "http://127.0.0.1:1/{account}";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kAccountStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kAccountStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kContainersStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kContainersStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Remove(kContainersStep, t).status);
  harness_.settings()["storage.blob_endpoint"] = endpoint_;
}

TEST_F(Storage, PoolDatabaseDownIsTransient) {
  auto& t = NewTenant("professional");
  harness_.settings()["storage.database_url"] = "postgresql://postgres@127.0.0.1:1/matih?connect_timeout=2";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kAccountStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kAccountStep, t).status);
  harness_.settings()["storage.database_url"] = harness_.database().url();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kAccountStep, t).status)
      << "reconnects once the database is back";
}

TEST_F(Storage, WrongAccountKeyIsPermissionDenied) {
  auto& t = NewTenant("free");
  harness_.settings().erase("storage.account_keys_file");
  harness_.settings()["storage.account_keys"] = shared_ + ":" + std::string(86, 'A') + "==";
  auto a = harness_.Apply(kAccountStep, t);
  EXPECT_EQ(MATIH_STATUS_PERMISSION_DENIED, a.status) << a.message;
  EXPECT_EQ(std::string::npos, a.message.find(std::string(20, 'A'))) << "no key in the message";
}

TEST_F(Storage, BadParamsAreRefused) {
  const auto& containers = harness_.KindOf(kContainersStep);
  EXPECT_TRUE(containers.ValidateParams(harness_.Step(kContainersStep).params_json).ok());
  for (const char* bad : {R"({})", R"({"containers": {"free": []}})", R"({"containers": {"gold": ["raw"]}})",
                          R"({"containers": {"free": ["Raw"]}})", R"({"containers": {"free": ["a--b"]}})",
                          R"({"containers": {"free": ["raw", "raw"]}})",
                          R"({"containers": {"free": ["raw"]}, "permissions": "rwx"})",
                          R"({"containers": {"free": ["raw"]}, "policy_days": 0})",
                          R"({"containers": {"free": ["raw"]}, "colour": "red"})"})
    EXPECT_FALSE(containers.ValidateParams(bad).ok()) << bad;
  const auto& account = harness_.KindOf(kAccountStep);
  EXPECT_TRUE(account.ValidateParams(harness_.Step(kAccountStep).params_json).ok());
  for (const char* bad : {R"({"placement": {"free": "private"}})", R"({"placement": {"gold": "shared"}})",
                          R"({"placements": {}})", R"([1])"})
    EXPECT_FALSE(account.ValidateParams(bad).ok()) << bad;
  // A slug too long for a container name is refused at apply, before anything is created.
  auto t = StepHarness::MakeTenant("free", std::string(58, 'x'));
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kAccountStep, t).status);
  auto answer = harness_.Apply(kContainersStep, t);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status) << answer.message;
  EXPECT_TRUE(Client(shared_).ListContainers(t.view.slug).empty());
}

}  // namespace
}  // namespace matih::testing
