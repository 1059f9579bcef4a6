// The step ABI header is frozen by its hash: any edit to sdk/include/matih/step_abi.h fails
// this test until someone decides, on purpose, what the edit means for plugins in the field.
#include <gtest/gtest.h>
#include <matih/step_abi.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

// SHA-256 of sdk/include/matih/step_abi.h as released with step ABI 1.3. Decision for 1.3: the
// field matih_step_kind.flags is appended at the end of a struct with struct_size (hosts read it
// with MATIH_ABI_HAS_FIELD, older plugins' kinds count as flags 0, and older hosts never read it),
// so it is a minor bump; no existing field moved or changed meaning.
constexpr const char* kGoldenSha256 = "98bcb68ba9d89737fe08407e82af2f3008a909a9805c8d133a267e7f2c463a08";

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

TEST(StepAbi, HeaderMatchesItsGoldenHash) {
  const std::string path = std::string(MATIH_SOURCE_DIR) + "/sdk/include/matih/step_abi.h";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream content;
  content << in.rdbuf();
  const std::string actual = Sha256Hex(content.str());
  EXPECT_EQ(actual, kGoldenSha256)
      << "\nsdk/include/matih/step_abi.h changed, and with it possibly the ABI every plugin is built "
         "against.\n"
      << "Decide what the change is, then:\n"
      << "  - only comments or formatting: nothing to bump;\n"
      << "  - fields appended at the end of a struct with struct_size, a new callback_* at the end of\n"
      << "    matih_host_api, a new status code or a new *_v2 function: increment\n"
      << "    MATIH_STEP_ABI_VERSION_MINOR, note what it added in the comment beside it, and guard readers\n"
      << "    of the new fields with MATIH_ABI_HAS_FIELD;\n"
      << "  - anything removed, reordered, renumbered or changed in meaning: increment\n"
      << "    MATIH_STEP_ABI_VERSION_MAJOR and set MINOR to 0 (every plugin must be rebuilt; the host\n"
      << "    refuses old ones);\n"
      << "and keep tests/sdk/abi_v1_0/ as it is (it is the 1.0 release). Then set kGoldenSha256 in\n"
      << "tests/sdk/abi_golden_test.cc to the new hash:\n"
      << "  " << actual << "\n";
}

TEST(StepAbi, VersionIsOnePointThree) {
  // A reminder that travels with the hash: bump both together, and this test with them.
  EXPECT_EQ(MATIH_STEP_ABI_VERSION_MAJOR, 1);
  EXPECT_EQ(MATIH_STEP_ABI_VERSION_MINOR, 3);
}

}  // namespace
