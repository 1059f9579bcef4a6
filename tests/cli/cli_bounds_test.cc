// Bounded input on the command line and in the config file: the same limits for a flag as for its
// config key, and every out-of-range or empty value an exit 2 naming it, with nothing changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

class CliBoundsTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("active-co"));
        },
        /*check_unchanged=*/true);
  }

  void ExpectRefused(const std::vector<std::string>& args, const std::string& needle) {
    const std::string before = Snapshot();
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(needle)) << Describe(r);
    EXPECT_EQ(Snapshot(), before) << "the command changed the database\n" << Describe(r);
  }
};

TEST_F(CliBoundsTest, TooManyWorkersAreRefusedLikeTheConfigKey) {
  ExpectRefused({"run", "--workers", "100000"}, "--workers must be between 1 and 256");
}

TEST_F(CliBoundsTest, ATooLargeLimitIsRefused) {
  ExpectRefused({"run", "--limit", "100001"}, "--limit must be between 1 and 100000");
}

TEST_F(CliBoundsTest, AnEmptyGraceIsAnErrorNotTheDefault) {
  ExpectRefused({"delete", "active-co", "--grace", ""}, "'' is not a duration");
}

TEST_F(CliBoundsTest, AnEnormousGraceIsRefused) {
  ExpectRefused({"delete", "active-co", "--grace", "99999999999d"}, "longer than the limit of 3650d");
}

TEST_F(CliBoundsTest, AZeroDeadlineInTheConfigIsRefused) {
  std::string conf = WriteConfig("\n[run]\ndeadline = 0s\n", "zero-deadline.conf");
  ExpectRefused({"--config", conf, "run"}, "run.deadline");
}

TEST_F(CliBoundsTest, AZeroLeaseInTheConfigIsRefused) {
  std::string conf = WriteConfig("\n[run]\nlease = 0s\n", "zero-lease.conf");
  ExpectRefused({"--config", conf, "run"}, "must be more than 0s");
}

TEST_F(CliBoundsTest, ACatalogWithAnAliasBombIsRefusedQuickly) {
  std::string yaml =
      "version: 1\nphases: {0: a}\nflows: {free: {placement: shared, phases: [0]}}\nsteps:\n"
      "  - {number: 1, name: x, phase: 0, kind: test.file, tiers: [free], enabled: false, params: {\n"
      "     a0: &a0 [l, l, l, l, l, l, l, l, l],\n";
  for (int i = 1; i < 9; ++i) {
    yaml += "     a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) yaml += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "],\n";
  }
  std::string catalog = WriteFile("bomb.yaml", yaml + "  }}\n");
  ExpectRefused({"--catalog", catalog, "steps", "list"}, "aliases expanded");
}

std::vector<std::string> AddWithSpec(const std::string& spec) {
  return {"tenants", "add",           "--slug",           "new-co", "--tier",
          "free",    "--admin-email", "a@new-co.example", "--spec", spec};
}

TEST_F(CliBoundsTest, ASpecNumberOutOfRangeIsAnInvalidSpec) {
  ExpectRefused(AddWithSpec(WriteFile("big-number.json", R"({"display_name": "x", "n": 1e400})")),
                "spec is not valid JSON");
}

TEST_F(CliBoundsTest, ASpecWithANulCharacterIsRefused) {
  ExpectRefused(AddWithSpec(WriteFile("nul.json", R"({"display_name": "a\u0000b"})")), "NUL character");
}

TEST_F(CliBoundsTest, ADeeplyNestedSpecIsRefused) {
  std::string deep = "{\"x\": ";
  for (int i = 0; i < 20000; ++i) deep += "[";
  for (int i = 0; i < 20000; ++i) deep += "]";
  ExpectRefused(AddWithSpec(WriteFile("deep.json", deep + "}")), "nested deeper than 16 levels");
}

TEST_F(CliBoundsTest, AnEmptyRegionIsAnErrorNotTheDefault) {
  ExpectRefused({"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "a@b.example",
                 "--region", ""},
                "--region must not be empty");
}

}  // namespace
}  // namespace matih::testing
