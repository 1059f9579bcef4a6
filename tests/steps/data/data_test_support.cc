#include "steps/data/data_test_support.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/stack_env.h"

namespace matih::testing {

DataStepTest::DataStepTest() {
  auto& s = harness_.settings();
  const std::string pg = StackEnv::Require("MATIH_PG_ADMIN_URL");
  const std::string redis = StackEnv::Require("MATIH_REDIS_URL");
  const std::string redis_password = StackEnv::Require("MATIH_REDIS_PASSWORD_FILE");
  const std::string nats = StackEnv::Require("MATIH_NATS_URL");
  for (const char* tier_class : {"shared", "dedicated"}) {
    const std::string prefix = std::string("data.") + tier_class + ".";
    s[prefix + "database_url"] = pg;
    s[prefix + "redis_url"] = redis;
    s[prefix + "redis_password_file"] = redis_password;
    s[prefix + "nats_url"] = nats;
  }
  s["data.connect_timeout_ms"] = "2000";
}

std::string DataStepTest::Secret(const TestTenant& tenant, const std::string& name) {
  // Hosts of step ABI 1.2 keep each plugin's secrets under "<plugin>/"; an older runner keeps
  // them under the bare name.
  for (const std::string& stored : {"matih-data/" + name, name}) {
    auto value = harness_.secrets().Get(tenant.view.id, stored);
    if (value.ok()) return value.value();
  }
  return "";
}

static std::string AdminConninfo(const std::string& database) {
  std::string url = StackEnv::Require("MATIH_PG_ADMIN_URL");
  if (database.empty()) return url;
  return url.substr(0, url.rfind('/') + 1) + database;
}

std::string DataStepTest::PgValue(const std::string& sql, const std::string& database) {
  pqxx::connection c(AdminConninfo(database));
  pqxx::nontransaction tx(c);
  auto f = tx.exec1(sql)[0];
  return f.is_null() ? "NULL" : f.as<std::string>();
}

void DataStepTest::PgExec(const std::string& sql, const std::string& database) {
  pqxx::connection c(AdminConninfo(database));
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

std::string DataStepTest::PgConninfo(const std::string& user, const std::string& password,
                                     const std::string& database) {
  return "host=127.0.0.1 port=" + StackEnv::Require("MATIH_PG_PORT") + " user='" + user + "' password='" +
         password + "' dbname='" + database + "' connect_timeout=5";
}

void DataStepTest::ExpectError(const runner::StepAnswer& answer, matih_status status, const std::string& step,
                               const std::string& target) {
  EXPECT_EQ(status, answer.status) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find("step " + step)) << answer.message;
  EXPECT_NE(std::string::npos, answer.message.find(target)) << answer.message;
}

std::string DataStepTest::ClosedPortUrl(const std::string& scheme) {
  // Bind an ephemeral port and close it: nothing listens there afterwards.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return scheme + "://127.0.0.1:" + std::to_string(port);
}

}  // namespace matih::testing
