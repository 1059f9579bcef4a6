// TestDatabase: a throwaway PostgreSQL database on the local stack's server, for one test.
//
// Created empty with a random name from MATIH_PG_ADMIN_URL; dropped (with its connections) when
// the object goes away. url() connects to it. Each test gets its own, so tests never see each
// other's rows.
#pragma once

#include <memory>
#include <string>

namespace matih::testing {

class TestDatabase {
 public:
  // A new empty database; a fatal test failure when the stack is not up.
  static std::unique_ptr<TestDatabase> Create();
  ~TestDatabase();

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  // Runs one SQL statement as the superuser in this database (for tests that tamper).
  void Exec(const std::string& sql) const;

 private:
  TestDatabase(std::string admin_url, std::string name, std::string url)
      : admin_url_(std::move(admin_url)), name_(std::move(name)), url_(std::move(url)) {}
  std::string admin_url_;
  std::string name_;
  std::string url_;
};

}  // namespace matih::testing
