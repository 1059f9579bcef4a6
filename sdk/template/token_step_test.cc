// The test of kind my.token on <matih/testing.hpp>: an in-memory host that drives the plugin
// through its real C ABI table, as the runner does. No runner, no database, no test framework.
//   my_plugin_test              the plugin's sources linked into this program
//   my_plugin_test PLUGIN.so    the built plugin, loaded as the runner loads it
#include <cstdio>
#include <matih/testing.hpp>
#include <string>

namespace {

int failures = 0;
#define CHECK(cond, text)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(text).c_str());                                         \
      ++failures;                                                                      \
    }                                                                                  \
  } while (0)

constexpr const char* kKind = "my.token";

void Run(matih::testing::Host& host) {
  host.tenant("acme", "starter").step("api-token").params(R"({"name": "api-token"})");

  auto seen = host.observe(kKind);
  CHECK(seen.absent(), seen.describe());
  auto applied = host.apply(kKind);
  CHECK(applied.ok(), applied.describe());
  const auto token = host.secret("api-token");  // stored in this plugin's namespace
  CHECK(token && token->size() == 64, "no 32-byte token in the secret store");
  CHECK(applied.outputs.at("token_secret") == "api-token", applied.describe());
  for (const auto& line : host.logs())
    CHECK(!token || line.text.find(*token) == std::string::npos, line.text);

  seen = host.observe(kKind);
  CHECK(seen.in_sync(), seen.describe());
  applied = host.apply(kKind);
  CHECK(applied.ok() && host.secret("api-token") == token, "a second apply replaced the token");

  // A hand change is drift; apply repairs it.
  host.put_secret("api-token", "short");
  seen = host.observe(kKind);
  CHECK(seen.drifted(), seen.describe());
  CHECK(host.apply(kKind).ok() && host.observe(kKind).in_sync(), "drift not repaired");

  // Tenants are isolated.
  host.tenant("beta");
  CHECK(host.observe(kKind).absent(), "beta sees acme's token");
  host.tenant("acme", "starter");

  // A store that cannot answer is an error, never "absent" (which would issue a new token).
  host.fail_secret_store(MATIH_STATUS_UNAVAILABLE);
  auto down = host.observe(kKind);
  CHECK(down.transient(), down.describe());
  host.fail_secret_store(MATIH_STATUS_OK);

  // Bad settings and params are refused, naming the problem.
  host.setting("my.token_bytes", "7");
  auto bad = host.apply(kKind);
  CHECK(bad.status == MATIH_STATUS_FAILED_PRECONDITION &&
            bad.message.find("my.token_bytes") != std::string::npos,
        bad.describe());
  host.unset_setting("my.token_bytes");
  CHECK(host.validate_params(kKind, R"({"name": "Bad Name"})").status == MATIH_STATUS_INVALID_ARGUMENT,
        "bad name accepted");
  CHECK(host.validate_params(kKind, "[]").status == MATIH_STATUS_INVALID_ARGUMENT,
        "non-object params accepted");
  CHECK(host.validate_params(kKind, "{}").ok(), "empty params refused");

  CHECK(host.remove(kKind).ok() && !host.secret("api-token"), "remove left the token");
  CHECK(host.remove(kKind).ok(), "remove when absent failed");
  CHECK(host.observe(kKind).absent(), "still there after remove");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1) {
      auto host = matih::testing::Host::Load(argv[1]);
      Run(host);
    } else {
      matih::testing::Host host(matih_step_plugin_init);
      Run(host);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "my_plugin_test: %s\n", e.what());
    return 100;
  }
  if (failures == 0) std::printf("my_plugin_test: all checks passed\n");
  return failures;
}
