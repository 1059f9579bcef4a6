// Lost replies on the data servers (plugins/data through a FaultProxy): the reply to
// CREATE DATABASE on PostgreSQL, to ACL SETUSER on Redis and to the JetStream stream-create
// request on NATS is lost; after the retries there is exactly one database, ACL user and stream,
// and the credentials the secret store holds are the ones the server accepts.
#include <hiredis/hiredis.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>

#include "chaos/lost_replies_case.h"
#include "common/http_client.h"
#include "common/settings.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using namespace std::chrono_literals;

std::string SqlName(const std::string& slug) {
  std::string name = "t_" + slug;
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

class LostRepliesData : public LostRepliesTest {
 protected:
  void SetUp() override {
    pg_ = ProxyFor(StackEnv::Require("MATIH_PG_ADMIN_URL"));
    redis_ = ProxyFor(StackEnv::Require("MATIH_REDIS_URL"));
    nats_ = ProxyFor(StackEnv::Require("MATIH_NATS_URL"));
    auto& s = harness_.settings();
    for (const char* tier_class : {"shared", "dedicated"}) {
      const std::string prefix = std::string("data.") + tier_class + ".";
      s[prefix + "database_url"] = ThroughProxy(StackEnv::Require("MATIH_PG_ADMIN_URL"), pg_->port());
      s[prefix + "redis_url"] = ThroughProxy(StackEnv::Require("MATIH_REDIS_URL"), redis_->port());
      s[prefix + "redis_password_file"] = StackEnv::Require("MATIH_REDIS_PASSWORD_FILE");
      s[prefix + "nats_url"] = ThroughProxy(StackEnv::Require("MATIH_NATS_URL"), nats_->port());
    }
    s["data.connect_timeout_ms"] = "1000";  // the lost reply times out after this
    tenant_ = StepHarness::MakeTenant("free", "lost");
  }
  void TearDown() override {
    for (const char* step : {"provision-database", "provision-cache", "create-message-topics"})
      harness_.Remove(step, tenant_);
  }
  std::string Secret(const std::string& name) {
    auto value = harness_.secrets().Get(tenant_.view.id, "matih-data/" + name);
    return value.ok() ? value.value() : "";
  }
  // A Redis command on the stack's server (not through the proxy), as `user` or the admin.
  static std::string Redis(const std::vector<std::string>& args, const std::string& user = "",
                           const std::string& password = "") {
    redisContext* c = redisConnect("127.0.0.1", PortOf(StackEnv::Require("MATIH_REDIS_URL")));
    auto run = [&](const std::vector<std::string>& argv_s) {
      std::vector<const char*> argv;
      std::vector<size_t> len;
      for (const auto& a : argv_s) argv.push_back(a.c_str()), len.push_back(a.size());
      auto* r = static_cast<redisReply*>(
          redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), len.data()));
      std::string out;
      if (!r) return std::string("(io error)");
      if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; ++i)
          out += std::string(r->element[i]->str, r->element[i]->len) + "\n";
      else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
        out = std::string(r->str, r->len);
      freeReplyObject(r);
      return out;
    };
    const std::string login = user.empty() ? run({"AUTH", "matih-admin",
                                                  plugins::Trim(plugins::ReadTextFile(
                                                      StackEnv::Require("MATIH_REDIS_PASSWORD_FILE"), "pw"))})
                                           : run({"AUTH", user, password});
    std::string out = login == "OK" ? run(args) : "AUTH " + login;
    redisFree(c);
    return out;
  }

  void CacheCase(const std::string& name, const FaultProxy::Rule& rule) {
    const std::string user = "t:" + tenant_.view.slug;
    auto count = [&] {
      int n = 0;
      std::istringstream users(Redis({"ACL", "USERS"}));
      for (std::string line; std::getline(users, line);) n += line == user ? 1 : 0;
      return n;
    };
    RunCase({name, "provision-cache", redis_.get(), rule, count}, tenant_);
    EXPECT_EQ(user, Redis({"ACL", "WHOAMI"}, user, Secret("redis/password")))
        << "the stored password is the one Redis accepts";
  }

  std::unique_ptr<FaultProxy> pg_, redis_, nats_;
  TestTenant tenant_;
};

TEST_F(LostRepliesData, CreateDatabaseReplyLostLeavesOneDatabaseWhoseLoginWorks) {
  auto count = [&] {
    pqxx::connection c(StackEnv::Require("MATIH_PG_ADMIN_URL"));
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT count(*) FROM pg_database WHERE datname = $1", SqlName(tenant_.view.slug))[0]
        .as<int>();
  };
  auto rule = FaultProxy::Drop("CREATE DATABASE", 1500ms);  // libpq waits; the link dies after 1.5 s
  RunCase({"postgres-database", "provision-database", pg_.get(), rule, count}, tenant_);
  // The stored password is the one the server holds for the tenant's role.
  const std::string url = StackEnv::Require("MATIH_PG_ADMIN_URL");
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(PortOf(url)) +
                               " dbname=" + SqlName(tenant_.view.slug) +
                               " user=" + SqlName(tenant_.view.slug) +
                               " password=" + Secret("postgres/password") + " connect_timeout=3";
  EXPECT_NO_THROW(pqxx::connection{conninfo}) << "the tenant's login with the stored password";
}

TEST_F(LostRepliesData, AclSetuserReplyLostLeavesOneUserWithTheStoredPassword) {
  CacheCase("redis-acl-user", FaultProxy::Drop("SETUSER"));
}

// The reply comes, but after the client gave up (1 s): the late answer must not be mistaken for
// the answer of a later command on the same connection.
TEST_F(LostRepliesData, AclSetuserReplyArrivingLateLeavesOneUserWithTheStoredPassword) {
  CacheCase("redis-acl-user-late", FaultProxy::Delay("SETUSER", 1500ms));
}

// The connection is reset right after the server answered.
TEST_F(LostRepliesData, AclSetuserReplyCutLeavesOneUserWithTheStoredPassword) {
  CacheCase("redis-acl-user-cut", FaultProxy::Cut("SETUSER"));
}

TEST_F(LostRepliesData, StreamCreateReplyLostLeavesOneStream) {
  const std::string stream = "tenant-" + tenant_.view.slug;
  auto count = [&] {
    auto response = plugins::HttpClient({}, 3s).Send(
        {"GET", StackEnv::Require("MATIH_NATS_MONITOR_URL") + "/jsz?accounts=true&streams=true", {}, {}});
    EXPECT_EQ(200, response.status);
    int n = 0;
    auto jsz = nlohmann::json::parse(response.body);
    for (const auto& account : jsz.value("account_details", nlohmann::json::array()))
      for (const auto& s : account.value("stream_detail", nlohmann::json::array()))
        n += s.value("name", "") == stream ? 1 : 0;
    return n;
  };
  // NATS multiplexes every request on one connection: the proxy cuts it after the lost reply's
  // request timed out, as a dead link would, and the client reconnects.
  RunCase(
      {"nats-stream", "create-message-topics", nats_.get(), FaultProxy::Drop("STREAM.CREATE", 1500ms), count},
      tenant_);
}

}  // namespace
}  // namespace matih::testing
