// One validator: `tenants add` and `upgrade` ask the catalog's step 1 (the real validate-request
// kind of plugins/validation) before they write, so what step 1 would refuse later is refused at
// once with exit 2 and nothing changed, and an upgrade can never turn a working tenant FAILED.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_fixture.h"

namespace matih::testing {
namespace {

using ::testing::HasSubstr;

class CliRequestValidationTest : public CliTest {
 protected:
  void SetUp() override {
    ShareSeed(
        [this] {
          UseRealStep1Only();
          ASSERT_NO_FATAL_FAILURE(Migrate());
          ASSERT_NO_FATAL_FAILURE(AddActiveTenant("live-co"));
        },
        /*check_unchanged=*/true);
  }

  void ExpectRefused(const std::vector<std::string>& args, const std::string& needle) {
    const std::string before = Snapshot();
    CliResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(needle)) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    EXPECT_EQ(Snapshot(), before) << "the command changed the database\n" << Describe(r);
  }

  std::vector<std::string> Add(const std::string& slug, const std::string& email = "a@b.example",
                               const std::string& tier = "free", const std::string& spec = "") {
    std::vector<std::string> args{"tenants", "add", "--slug", slug, "--tier", tier, "--admin-email", email};
    if (!spec.empty()) {
      args.push_back("--spec");
      args.push_back(WriteFile("spec-" + slug + ".json", spec));
    }
    return args;
  }
};

TEST_F(CliRequestValidationTest, AddRefusesAReservedSlug) { ExpectRefused(Add("admin"), "reserved"); }

TEST_F(CliRequestValidationTest, AddRefusesKubeSystem) { ExpectRefused(Add("kube-system"), "kube-system"); }

TEST_F(CliRequestValidationTest, AddRefusesADoubleHyphen) { ExpectRefused(Add("a--b"), "a--b"); }

TEST_F(CliRequestValidationTest, AddRefusesAnEmailWithAControlCharacter) {
  // The message shows the control character escaped, never raw.
  ExpectRefused(Add("new-co", "a\x01@b.example"), "admin_email 'a\\x01@b.example'");
}

TEST_F(CliRequestValidationTest, AddRefusesAnEmailWithAnEmptyLabel) {
  ExpectRefused(Add("new-co", "a@x..com"), "admin_email 'a@x..com' has an invalid domain");
}

TEST_F(CliRequestValidationTest, AddRefusesAnUnknownSpecKey) {
  ExpectRefused(Add("new-co", "a@b.example", "free", R"({"colour": "blue"})"), "unknown field 'colour'");
}

TEST_F(CliRequestValidationTest, AddRefusesAnUnknownService) {
  ExpectRefused(Add("new-co", "a@b.example", "free", R"({"services": ["teleporter"]})"), "teleporter");
}

TEST_F(CliRequestValidationTest, AddRefusesAWrongType) {
  ExpectRefused(Add("new-co", "a@b.example", "free", R"({"services": "query-engine"})"),
                "services must be a list");
}

TEST_F(CliRequestValidationTest, AddRefusesEnterpriseWithoutQuotas) {
  ExpectRefused(Add("new-co", "a@b.example", "enterprise"), "quotas are required");
}

TEST_F(CliRequestValidationTest, AddRefusesADeviceAsSpecWithoutReadingItWhole) {
  ExpectRefused({"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "a@b.example",
                 "--spec", "/dev/zero"},
                "larger than allowed; the limit is 65536 bytes");
}

TEST_F(CliRequestValidationTest, AddRefusesADirectoryAsSpec) {
  ExpectRefused({"tenants", "add", "--slug", "new-co", "--tier", "free", "--admin-email", "a@b.example",
                 "--spec", dir_},
                "is a directory");
}

TEST_F(CliRequestValidationTest, UpgradeToEnterpriseWithoutQuotasIsRefusedAndTheTenantStaysActive) {
  ExpectRefused({"upgrade", "live-co", "--tier", "enterprise"},
                "quotas are required for the enterprise tier");
  EXPECT_EQ(TenantStatus("live-co"), "ACTIVE");
}

TEST_F(CliRequestValidationTest, AValidRequestIsAddedAndAValidUpgradeAccepted) {
  CliResult r = Cli(Add("fine-co"));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  r = Cli({"upgrade", "live-co", "--tier", "professional"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(TenantStatus("live-co"), "UPGRADING");
  // This test changed the shared seed: the next test of the suite must seed afresh.
  TearDownTestSuite();
}

}  // namespace
}  // namespace matih::testing
