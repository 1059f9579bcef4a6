// Step 23 (provision-vector-store) on a real Chroma server: a Chroma tenant, database and default
// collection per tenant with metadata naming it; apply twice writes nothing; hand changes are
// DRIFTED and repaired; remove deletes the database (Chroma keeps tenants) and can be repeated;
// tenants are isolated; a server that is down is a transient error; bad params are refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "steps/step_harness.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using plugins::HttpClient;
using plugins::HttpRequest;
using plugins::HttpResponse;

constexpr const char* kStep = "provision-vector-store";

class VectorStore : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = StackEnv::Require("MATIH_CHROMA_URL");
    harness_.settings()["vector.chroma_url"] = url_;
    harness_.settings()["vector.timeout_ms"] = "3000";
  }
  void TearDown() override {
    for (auto* t : cleanup_) harness_.Remove(kStep, *t);
  }
  TestTenant& NewTenant(const std::string& tier = "free") {
    tenants_.push_back(std::make_unique<TestTenant>(StepHarness::MakeTenant(tier, "vs")));
    cleanup_.push_back(tenants_.back().get());
    return *tenants_.back();
  }
  // A raw call on Chroma's REST API.
  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.url = url_ + path;
    r.headers = {"Content-Type: application/json"};
    r.body = body;
    return HttpClient().Send(r);
  }
  std::string Db(const TestTenant& t) { return "/api/v2/tenants/matih-" + t.view.slug + "/databases/main"; }
  nlohmann::json Collection(const TestTenant& t, const std::string& name = "documents") {
    auto r = Call("GET", Db(t) + "/collections/" + name);
    return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json();
  }

  StepHarness harness_;
  std::string url_;
  std::vector<std::unique_ptr<TestTenant>> tenants_;
  std::vector<TestTenant*> cleanup_;
};

TEST_F(VectorStore, CreatesTenantDatabaseAndCollectionWithTenantMetadata) {
  auto& t = NewTenant();
  auto absent = harness_.Observe(kStep, t);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto a = harness_.Apply(kStep, t);
  ASSERT_EQ(MATIH_STATUS_OK, a.status) << a.message;
  auto o = harness_.Observe(kStep, t);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, o.status) << o.message;
  EXPECT_EQ(a.outputs, o.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ(200, Call("GET", "/api/v2/tenants/matih-" + t.view.slug).status);
  auto c = Collection(t);
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(t.view.id, c["metadata"]["matih_tenant_id"]);
  EXPECT_EQ(t.view.slug, c["metadata"]["matih_tenant_slug"]);
  EXPECT_EQ("cosine", c["configuration_json"]["hnsw"]["space"]);
  EXPECT_EQ("matih-" + t.view.slug, t.outputs[kStep]["chroma_tenant"]);
  EXPECT_EQ("main", t.outputs[kStep]["database"]);
  EXPECT_EQ("documents", t.outputs[kStep]["collections"]);
  EXPECT_EQ(c["id"], t.outputs[kStep]["collection_ids"]);
}

TEST_F(VectorStore, ApplyingAgainWritesNothing) {
  auto& t = NewTenant();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  const auto db_before = Call("GET", Db(t)).body;
  const auto before = Collection(t);
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  const std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(db_before, Call("GET", Db(t)).body) << "the database was not re-created";
  EXPECT_EQ(before, Collection(t)) << "same id, metadata, version";
  EXPECT_EQ(std::string::npos, logs.find("change(s)")) << logs;
}

TEST_F(VectorStore, DeletedCollectionIsDriftedAndRecreated) {
  auto& t = NewTenant();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  ASSERT_EQ(200, Call("DELETE", Db(t) + "/collections/documents").status);
  auto o = harness_.Observe(kStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, o.status);
  EXPECT_TRUE(o.outputs.empty()) << "a drifted observe reports no outputs";
  EXPECT_NE(std::string::npos, o.message.find("collection documents missing")) << o.message;
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, t).status);
  EXPECT_TRUE(Collection(t).is_object());
}

TEST_F(VectorStore, MetadataChangedByHandIsDriftedAndRepairedKeepingOthersKeys) {
  auto& t = NewTenant();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  const std::string id = Collection(t)["id"];
  ASSERT_EQ(200, Call("PUT", Db(t) + "/collections/" + id,
                      R"({"new_metadata": {"matih_tenant_id": "someone-else", "team": "search"}})")
                     .status);
  auto o = harness_.Observe(kStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, o.status);
  EXPECT_NE(std::string::npos, o.message.find("matih_tenant_id: have 'someone-else'")) << o.message;
  EXPECT_NE(std::string::npos, o.message.find("matih_tenant_slug missing")) << o.message;
  // A collection that names another tenant is not taken over silently.
  auto refused = harness_.Apply(kStep, t);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, refused.status) << refused.message;
  // An operator's own key and a missing key of ours: repaired, the other key kept.
  ASSERT_EQ(200, Call("PUT", Db(t) + "/collections/" + id, R"({"new_metadata": {"team": "search"}})").status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, t).status);
  auto c = Collection(t);
  EXPECT_EQ(t.view.id, c["metadata"]["matih_tenant_id"]);
  EXPECT_EQ("search", c["metadata"]["team"]);
  EXPECT_EQ(id, c["id"]) << "repaired in place, not re-created";
}

TEST_F(VectorStore, CollectionDroppedFromParamsIsStaleAndDeleted) {
  auto& t = NewTenant();
  harness_.SetParams(kStep, R"({"collections": ["documents", "images"]})");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  ASSERT_TRUE(Collection(t, "images").is_object());
  ASSERT_EQ(200, Call("POST", Db(t) + "/collections", R"({"name": "tenant-own"})").status);
  harness_.SetParams(kStep, R"({"collections": ["documents"]})");
  auto o = harness_.Observe(kStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, o.status);
  EXPECT_NE(std::string::npos, o.message.find("stale collection images")) << o.message;
  EXPECT_EQ(std::string::npos, o.message.find("tenant-own")) << "the tenant's own collection is not ours";
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  EXPECT_FALSE(Collection(t, "images").is_object());
  EXPECT_TRUE(Collection(t, "tenant-own").is_object());
}

TEST_F(VectorStore, RemoveDeletesTheDatabaseKeepsTheChromaTenantAndCanRepeat) {
  auto& t = NewTenant();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  ::testing::internal::CaptureStderr();
  const auto removed = harness_.Remove(kStep, t);
  const std::string logs = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  EXPECT_NE(std::string::npos, logs.find("Chroma cannot delete tenants (405)")) << logs;
  EXPECT_EQ(404, Call("GET", Db(t)).status);
  EXPECT_EQ(405, Call("DELETE", "/api/v2/tenants/matih-" + t.view.slug).status)
      << "Chroma's rule still holds";
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, t).status) << "remove again";
  // Provisioning again after a remove reuses the tenant that Chroma kept.
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, t).status);
}

TEST_F(VectorStore, TenantsAreIsolated) {
  auto& a = NewTenant();
  auto& b = NewTenant("enterprise");
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, a).status);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, b).status);
  auto list = nlohmann::json::parse(Call("GET", Db(a) + "/collections").body);
  ASSERT_EQ(1u, list.size());
  EXPECT_EQ(a.view.id, list[0]["metadata"]["matih_tenant_id"]);
  EXPECT_NE(Collection(a)["id"], Collection(b)["id"]);
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, a).status);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, b).status) << "removing A leaves B alone";
}

TEST_F(VectorStore, DistanceChangeIsDriftedAndRefusedRatherThanDeletingData) {
  auto& t = NewTenant();
  ASSERT_EQ(MATIH_STATUS_OK, harness_.Apply(kStep, t).status);
  harness_.SetParams(kStep, R"({"space": "l2"})");
  auto o = harness_.Observe(kStep, t);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, o.status);
  EXPECT_NE(std::string::npos, o.message.find("space: have 'cosine', want 'l2'")) << o.message;
  auto a = harness_.Apply(kStep, t);
  EXPECT_EQ(MATIH_STATUS_FAILED_PRECONDITION, a.status) << a.message;
  EXPECT_TRUE(Collection(t).is_object());
}

TEST_F(VectorStore, ServerDownIsTransient) {
  auto& t = NewTenant();
  harness_.settings()["vector.chroma_url"] = "http://127.0.0.1:1";
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Observe(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Apply(kStep, t).status);
  EXPECT_EQ(MATIH_STATUS_UNAVAILABLE, harness_.Remove(kStep, t).status);
  harness_.settings()["vector.chroma_url"] = url_;
}

TEST_F(VectorStore, BadParamsAreRefused) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  for (const char* bad :
       {R"({"collections": []})", R"({"collections": ["a"]})", R"({"collections": ["x", "x"]})",
        R"({"space": "manhattan"})", R"({"database": "-x-"})", R"({"tenant_prefix": "A B"})",
        R"({"colour": "red"})", R"([])"})
    EXPECT_FALSE(kind.ValidateParams(bad).ok()) << bad;
}

}  // namespace
}  // namespace matih::testing
