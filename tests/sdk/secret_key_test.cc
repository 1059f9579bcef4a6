// Loading the secret store's key from a file or the environment.
#include "secrets/secret_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace matih::runner {
namespace {

namespace fs = std::filesystem;

const std::string kHexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

class SecretKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/matih-key-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::unsetenv(SecretKey::kEnvVar);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    ::unsetenv(SecretKey::kEnvVar);
  }
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(SecretKeyTest, FileWithHexAndNewlineLoads) {
  auto key = SecretKey::FromFile(Write("key", kHexKey + "\n", 0600));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->data()[0], 0x00);
  EXPECT_EQ(key->data()[1], 0x11);
  EXPECT_EQ(key->data()[31], 0xff);
}

TEST_F(SecretKeyTest, FileWithThirtyTwoRawBytesLoads) {
  std::string raw(32, '\0');
  for (int i = 0; i < 32; ++i) raw[i] = static_cast<char>(200 + i);
  auto key = SecretKey::FromFile(Write("key.bin", raw, 0400));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->data()[0], 200);
  EXPECT_EQ(key->data()[31], 231);
}

TEST_F(SecretKeyTest, FileReadableByGroupOrOthersIsRefusedWithAFix) {
  for (mode_t mode : {0640, 0604, 0644}) {
    const std::string path = Write("key", kHexKey, mode);
    auto key = SecretKey::FromFile(path);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_EQ(key.status().code(), Code::kFailedPrecondition);
    EXPECT_NE(key.status().message().find(path), std::string::npos) << key.status().ToString();
    EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos) << key.status().ToString();
    EXPECT_EQ(key.status().message().find(kHexKey.substr(0, 12)), std::string::npos);
  }
}

TEST_F(SecretKeyTest, MalformedFileIsRefusedWithoutEchoingItsContent) {
  const std::string almost = kHexKey.substr(0, 62) + "zz";
  for (const std::string& content : {almost, kHexKey.substr(0, 40), std::string(33, 'k')}) {
    auto key = SecretKey::FromFile(Write("key", content, 0600));
    ASSERT_FALSE(key.ok());
    EXPECT_NE(key.status().message().find("not a key"), std::string::npos) << key.status().ToString();
    EXPECT_EQ(key.status().message().find(content.substr(0, 10)), std::string::npos)
        << key.status().ToString();
  }
}

TEST_F(SecretKeyTest, MissingFileIsRefusedNamingIt) {
  auto key = SecretKey::FromFile(dir_ + "/absent");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(key.status().message().find(dir_ + "/absent"), std::string::npos);
}

TEST_F(SecretKeyTest, EnvironmentVariableLoads) {
  ::setenv(SecretKey::kEnvVar, kHexKey.c_str(), 1);
  auto key = SecretKey::Load(std::nullopt);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->data()[1], 0x11);
}

TEST_F(SecretKeyTest, MissingEnvironmentVariableSaysHowToProvideAKey) {
  auto key = SecretKey::Load(std::nullopt);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("MATIH_SECRET_KEY"), std::string::npos) << key.status().ToString();
}

TEST_F(SecretKeyTest, MalformedEnvironmentVariableIsNotEchoed) {
  const std::string bad = kHexKey.substr(0, 60);
  ::setenv(SecretKey::kEnvVar, bad.c_str(), 1);
  auto key = SecretKey::FromEnvironment();
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("malformed"), std::string::npos) << key.status().ToString();
  EXPECT_EQ(key.status().message().find(bad.substr(0, 10)), std::string::npos) << key.status().ToString();
}

TEST_F(SecretKeyTest, AFileGivenWinsOverTheEnvironment) {
  ::setenv(SecretKey::kEnvVar, std::string(64, 'a').c_str(), 1);
  auto from_file = SecretKey::Load(Write("key", kHexKey, 0600));
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->data()[1], 0x11);
}

TEST_F(SecretKeyTest, IdIdentifiesTheKeyWithoutContainingIt) {
  auto a = SecretKey::FromHex(kHexKey, "test");
  auto b = SecretKey::FromHex(kHexKey, "test");
  auto c = SecretKey::FromHex(std::string(64, 'a'), "test");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->id(), b->id());
  EXPECT_NE(a->id(), c->id());
  EXPECT_EQ(a->id().size(), 16u);
  EXPECT_EQ(kHexKey.find(a->id()), std::string::npos);
}

}  // namespace
}  // namespace matih::runner
