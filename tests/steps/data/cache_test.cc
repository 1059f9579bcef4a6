// Step 22 (provision-cache, kind data.cache_user) on the stack's real Redis: an ACL user per
// tenant limited to its key and channel prefix, kept in the ACL file, password in the secret store.
#include <hiredis/hiredis.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/settings.h"
#include "steps/data/data_test_support.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

const std::string kStep = "provision-cache";

// A hiredis connection to the stack's Redis, logged in as `user` (the admin when empty).
class RedisClient {
 public:
  explicit RedisClient(const std::string& user = "", const std::string& password = "") {
    const std::string url = StackEnv::Require("MATIH_REDIS_URL");
    const int port = std::stoi(url.substr(url.rfind(':') + 1));
    c_ = redisConnect("127.0.0.1", port);
    if (user.empty())
      login_ = Run(
          {"AUTH", "matih-admin",
           plugins::Trim(plugins::ReadTextFile(StackEnv::Require("MATIH_REDIS_PASSWORD_FILE"), "password"))});
    else
      login_ = Run({"AUTH", user, password});
  }
  ~RedisClient() { redisFree(c_); }
  // The reply as text: "OK", a string, an integer, "(nil)", "ERR ..." for an error; arrays joined by ','.
  std::string Run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> len;
    for (const auto& a : args) argv.push_back(a.c_str()), len.push_back(a.size());
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), len.data()));
    std::string out = Format(r);
    freeReplyObject(r);
    return out;
  }
  const std::string& login() const { return login_; }

 private:
  static std::string Format(const redisReply* r) {
    if (!r) return "(io error)";
    switch (r->type) {
      case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
      case REDIS_REPLY_NIL: return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r->elements; ++i) out += (i ? "," : "") + Format(r->element[i]);
        return out;
      }
      default: return std::string(r->str, r->len);
    }
  }
  redisContext* c_;
  std::string login_;
};

class ProvisionCache : public DataStepTest {
 protected:
  void SetUp() override { tenant_ = StepHarness::MakeTenant("free", "cache"); }
  void TearDown() override {
    for (auto* t : {&tenant_, &other_}) harness_.Remove(kStep, *t);
  }
  void ApplyOk(TestTenant& t) {
    auto answer = harness_.Apply(kStep, t);
    ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  }
  static std::string User(const TestTenant& t) { return "t:" + t.view.slug; }
  static std::string Key(const TestTenant& t, const std::string& k) { return "t:" + t.view.slug + ":" + k; }
  std::string AclFile() {
    std::ifstream in(StackEnv::Require("MATIH_REDIS_ACL_FILE"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  RedisClient admin_;
  TestTenant tenant_;
  TestTenant other_ = StepHarness::MakeTenant("starter", "cache");
};

TEST_F(ProvisionCache, TenantUserWorksOnItsOwnPrefixOnlyAndHasNoDangerousCommands) {
  auto absent = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_ABSENT, absent.status);
  EXPECT_TRUE(absent.outputs.empty()) << "nothing to adopt, no outputs";
  auto answer = harness_.Apply(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, answer.status) << answer.message;
  ApplyOk(other_);
  auto observed = harness_.Observe(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, observed.status) << observed.message;
  EXPECT_EQ(answer.outputs, observed.outputs) << "adoptable: an in-sync observe reports the apply's outputs";
  EXPECT_EQ("t:" + tenant_.view.slug, observed.outputs["user"]);
  const std::string password = Secret(tenant_, "redis/password");
  ASSERT_EQ(32u, password.size());
  for (const auto& [key, value] : observed.outputs) EXPECT_NE(password, value) << "output " << key;

  RedisClient tenant(User(tenant_), password);
  ASSERT_EQ("OK", tenant.login());
  EXPECT_EQ("OK", tenant.Run({"SET", Key(tenant_, "greeting"), "hello"}));
  EXPECT_EQ("hello", tenant.Run({"GET", Key(tenant_, "greeting")}));
  EXPECT_EQ(0u, tenant.Run({"SET", Key(other_, "greeting"), "x"}).rfind("NOPERM", 0));
  EXPECT_EQ(0u, tenant.Run({"GET", "unprefixed"}).rfind("NOPERM", 0));
  EXPECT_EQ(0u, tenant.Run({"PUBLISH", Key(other_, "events"), "x"}).rfind("NOPERM", 0));
  EXPECT_EQ("0", tenant.Run({"PUBLISH", Key(tenant_, "events"), "x"}));
  for (const std::vector<std::string>& dangerous :
       {std::vector<std::string>{"FLUSHALL"}, {"KEYS", "*"}, {"CONFIG", "GET", "*"}, {"ACL", "LIST"}})
    EXPECT_EQ(0u, tenant.Run(dangerous).rfind("NOPERM", 0)) << dangerous[0];
  EXPECT_EQ(0u, RedisClient(User(tenant_), "wrong-password").login().rfind("WRONGPASS", 0));
  EXPECT_EQ(0u, RedisClient(User(other_), password).login().rfind("WRONGPASS", 0));
  EXPECT_EQ(User(tenant_), tenant_.outputs[kStep]["user"]);
  EXPECT_EQ(Key(tenant_, ""), tenant_.outputs[kStep]["key_prefix"]);
}

TEST_F(ProvisionCache, UserIsKeptInTheAclFileWithoutItsPassword) {
  ApplyOk(tenant_);
  const std::string file = AclFile();
  EXPECT_NE(std::string::npos, file.find("user " + User(tenant_) + " on")) << file;
  EXPECT_EQ(std::string::npos, file.find(Secret(tenant_, "redis/password")));
  // Reloading the file (what a restart does) keeps the user as it was.
  EXPECT_EQ("OK", admin_.Run({"ACL", "LOAD"}));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
}

TEST_F(ProvisionCache, ApplyingAgainWritesNothing) {
  ApplyOk(tenant_);
  const std::string before = admin_.Run({"ACL", "GETUSER", User(tenant_)});
  const std::string password = Secret(tenant_, "redis/password");
  const auto saved = std::filesystem::last_write_time(StackEnv::Require("MATIH_REDIS_ACL_FILE"));
  ApplyOk(tenant_);
  EXPECT_EQ(before, admin_.Run({"ACL", "GETUSER", User(tenant_)}));
  EXPECT_EQ(password, Secret(tenant_, "redis/password"));
  EXPECT_EQ(saved, std::filesystem::last_write_time(StackEnv::Require("MATIH_REDIS_ACL_FILE")))
      << "ACL SAVE ran again";
}

TEST_F(ProvisionCache, HandChangesAreDriftedAndRepaired) {
  ApplyOk(tenant_);
  const std::string password = Secret(tenant_, "redis/password");
  EXPECT_EQ("OK", admin_.Run({"ACL", "SETUSER", User(tenant_), "~*", "+flushall", ">by-hand"}));
  auto observed = harness_.Observe(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_DRIFTED, observed.status);
  EXPECT_TRUE(observed.outputs.empty()) << "a drifted observe reports no outputs";
  for (const char* part : {"passwords do not match the secret store (2 set on the server)",
                           "keys: have '~*', want '~t:", "commands: have '+@all -@admin"})
    EXPECT_NE(std::string::npos, observed.message.find(part)) << part << " in: " << observed.message;
  EXPECT_EQ(std::string::npos, observed.message.find(password));
  ApplyOk(tenant_);
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_EQ(password, Secret(tenant_, "redis/password"));
  RedisClient tenant(User(tenant_), password);
  EXPECT_EQ(0u, tenant.Run({"GET", "unprefixed"}).rfind("NOPERM", 0));
  EXPECT_EQ(0u, RedisClient(User(tenant_), "by-hand").login().rfind("WRONGPASS", 0));
}

TEST_F(ProvisionCache, DeletedUserIsAbsentAndRecreatedWithTheStoredPassword) {
  ApplyOk(tenant_);
  EXPECT_EQ("1", admin_.Run({"ACL", "DELUSER", User(tenant_)}));
  EXPECT_EQ(MATIH_STATUS_ABSENT, harness_.Observe(kStep, tenant_).status);
  ApplyOk(tenant_);
  EXPECT_EQ("OK", RedisClient(User(tenant_), Secret(tenant_, "redis/password")).login());
}

TEST_F(ProvisionCache, RemoveDeletesTheUserItsKeysAndItsSecret) {
  ApplyOk(tenant_);
  ApplyOk(other_);
  {
    RedisClient tenant(User(tenant_), Secret(tenant_, "redis/password"));
    for (int i = 0; i < 5; ++i) ASSERT_EQ("OK", tenant.Run({"SET", Key(tenant_, std::to_string(i)), "v"}));
  }
  EXPECT_EQ("OK", admin_.Run({"SET", Key(other_, "kept"), "v"}));
  auto removed = harness_.Remove(kStep, tenant_);
  ASSERT_EQ(MATIH_STATUS_OK, removed.status) << removed.message;
  EXPECT_EQ("(nil)", admin_.Run({"ACL", "GETUSER", User(tenant_)}));
  EXPECT_EQ("0,", admin_.Run({"SCAN", "0", "MATCH", Key(tenant_, "*"), "COUNT", "100000"}));
  EXPECT_EQ(std::string::npos, AclFile().find("user " + User(tenant_) + " "));
  EXPECT_EQ("", Secret(tenant_, "redis/password"));
  EXPECT_EQ("v", admin_.Run({"GET", Key(other_, "kept")}));
  EXPECT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, other_).status);
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove(kStep, tenant_).status);
  admin_.Run({"DEL", Key(other_, "kept")});
}

TEST_F(ProvisionCache, ConnectionsAreReusedAcrossCalls) {
  ApplyOk(tenant_);
  auto plugin_clients = [this] {
    std::string ids;
    std::stringstream list(admin_.Run({"CLIENT", "LIST"}));
    for (std::string line; std::getline(list, line);)
      if (line.find(" name=matih-data ") != std::string::npos) ids += line.substr(0, line.find(' ')) + ";";
    return ids;
  };
  const std::string before = plugin_clients();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(MATIH_STATUS_IN_SYNC, harness_.Observe(kStep, tenant_).status);
  EXPECT_NE("", before) << admin_.Run({"CLIENT", "LIST"});
  EXPECT_EQ(before, plugin_clients()) << "the same connection serves every call";
}

TEST_F(ProvisionCache, UnreachableServerIsTransient) {
  harness_.settings()["data.shared.redis_url"] = ClosedPortUrl("redis");
  ExpectError(harness_.Observe(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "Redis 127.0.0.1:");
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_UNAVAILABLE, kStep, "Redis 127.0.0.1:");
}

TEST_F(ProvisionCache, RefusedAdminLoginIsPermanent) {
  const std::string wrong = harness_.TempPath("wrong.password").string();
  std::ofstream(wrong) << "not-the-password\n";
  harness_.settings()["data.shared.redis_password_file"] = wrong;
  ExpectError(harness_.Apply(kStep, tenant_), MATIH_STATUS_PERMISSION_DENIED, kStep, "Redis 127.0.0.1:");
  EXPECT_EQ("(nil)", admin_.Run({"ACL", "GETUSER", User(tenant_)}));
}

TEST_F(ProvisionCache, BadParamsAndSettingsAreRefused) {
  const auto& kind = harness_.KindOf(kStep);
  EXPECT_TRUE(kind.ValidateParams(harness_.Step(kStep).params_json).ok());
  EXPECT_FALSE(kind.ValidateParams(R"({"prefix": "x"})").ok());
  harness_.settings()["data.shared.redis_url"] = "http://127.0.0.1:1";
  auto answer = harness_.Apply(kStep, tenant_);
  EXPECT_EQ(MATIH_STATUS_INVALID_ARGUMENT, answer.status);
  EXPECT_NE(std::string::npos, answer.message.find("data.shared.redis_url")) << answer.message;
}

}  // namespace
}  // namespace matih::testing
