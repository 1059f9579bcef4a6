#include "support/test_database.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <random>

#include "support/stack_env.h"

namespace matih::testing {

std::unique_ptr<TestDatabase> TestDatabase::Create() {
  std::string admin = StackEnv::Require("MATIH_PG_ADMIN_URL");
  std::string port = StackEnv::Require("MATIH_PG_PORT");
  std::random_device rd;
  std::string name = "t_" + std::to_string(rd()) + std::to_string(rd() % 100000);
  pqxx::connection c(admin);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  std::string url = "postgresql://postgres@127.0.0.1:" + port + "/" + name;
  return std::unique_ptr<TestDatabase>(new TestDatabase(admin, name, url));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection c(admin_url_);
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "could not drop test database " << name_ << ": " << e.what();
  }
}

void TestDatabase::Exec(const std::string& sql) const {
  pqxx::connection c(url_);
  pqxx::nontransaction tx(c);
  tx.exec(sql);
}

}  // namespace matih::testing
