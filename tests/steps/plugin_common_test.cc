// Unit tests of the code the built-in plugins share (plugins/common): token formats and keyed
// hashes against published test vectors, YAML-safe template rendering, setting parsers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/secure_token.h"
#include "common/settings.h"
#include "common/template_renderer.h"
#include "common/yaml_json.h"

namespace matih::plugins {
namespace {

TEST(SecureToken, ChecksumIsBase62OfTheCrc32CheckValue) {
  // CRC-32("123456789") = 0xCBF43926, the standard check value; in base62, 6 digits.
  EXPECT_EQ("3jZRME", Base62Checksum("123456789"));
}

TEST(SecureToken, KeyedHashIsHmacSha256) {
  // RFC 4231, test case 1.
  EXPECT_EQ("hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            KeyedHash(std::string(20, '\x0b'), "Hi There"));
}

TEST(SecureToken, ApiKeysAreWellFormedAndDistinct) {
  std::set<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    std::string key = NewApiKey();
    ASSERT_TRUE(IsWellFormedApiKey(key)) << key;
    ASSERT_EQ(0u, key.rfind("mtk_", 0));
    keys.insert(key);
  }
  EXPECT_EQ(200u, keys.size());
}

TEST(SecureToken, CheckerRefusesWrongPrefixLengthAlphabetAndChecksum) {
  const std::string key = NewApiKey();
  EXPECT_FALSE(IsWellFormedApiKey("mtx_" + key.substr(4)));
  EXPECT_FALSE(IsWellFormedApiKey(key.substr(0, key.size() - 1)));
  std::string bad_char = key;
  bad_char[8] = '-';
  EXPECT_FALSE(IsWellFormedApiKey(bad_char));
  std::string swapped = key;
  std::swap(swapped[5], swapped[6]);
  if (swapped != key) {
    EXPECT_FALSE(IsWellFormedApiKey(swapped));
  }
}

TEST(SecureToken, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

class TemplateRendererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("matih-templates-" + RandomBase62(8));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "cm.yaml") << "kind: ConfigMap\ndata:\n  value: \"{{value}}\"\n"
                                    << "{{#items}}  item-{{name}}: \"{{size}}\"\n{{/items}}";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TemplateRendererTest, RendersNestedValuesAndLists) {
  TemplateRenderer renderer(dir_.string());
  auto docs = ParseYamlDocuments(renderer.Render(
      "cm.yaml",
      {{"value", "plain"}, {"items", {{{"name", "a"}, {"size", 5}}, {{"name", "b"}, {"size", "8Gi"}}}}}));
  ASSERT_EQ(1u, docs.size());
  EXPECT_EQ("plain", docs[0]["data"]["value"]);
  EXPECT_EQ("5", docs[0]["data"]["item-a"]);
  EXPECT_EQ("8Gi", docs[0]["data"]["item-b"]);
}

TEST_F(TemplateRendererTest, EscapesValuesSoTheyStayOneScalar) {
  TemplateRenderer renderer(dir_.string());
  const std::string hostile = "x\"\n  injected: \"yes\\";
  auto docs = ParseYamlDocuments(renderer.Render("cm.yaml", {{"value", hostile}}));
  EXPECT_EQ(hostile, docs[0]["data"]["value"]);
  EXPECT_FALSE(docs[0]["data"].contains("injected"));
}

TEST_F(TemplateRendererTest, RefusesPathsOutsideTheTemplateDirectory) {
  TemplateRenderer renderer(dir_.string());
  EXPECT_THROW(renderer.Render("../etc/passwd", nlohmann::json::object()), InvalidArgument);
  EXPECT_THROW(renderer.Render("sub/cm.yaml", nlohmann::json::object()), InvalidArgument);
  EXPECT_THROW(renderer.Render("missing.yaml", nlohmann::json::object()), PermanentError);
}

TEST(Settings, ParseListsBooleansAndCounts) {
  EXPECT_EQ((std::vector<std::string>{"eu-west", "us-east"}), SplitList(" eu-west, ,us-east ,"));
  EXPECT_TRUE(ParseBool("k", "Yes"));
  EXPECT_FALSE(ParseBool("k", "off"));
  EXPECT_THROW(ParseBool("k", "maybe"), InvalidArgument);
  EXPECT_EQ(42, ParseCount("k", " 42 "));
  EXPECT_THROW(ParseCount("k", "-1"), InvalidArgument);
}

TEST(YamlJson, TypesPlainScalarsAndKeepsQuotedOnesAsStrings) {
  auto docs = ParseYamlDocuments("a: 1\nb: \"1\"\nc: true\nd: 500m\ne: ~\n---\n---\nf: [x, 2]\n");
  ASSERT_EQ(2u, docs.size());
  EXPECT_EQ(1, docs[0]["a"]);
  EXPECT_EQ("1", docs[0]["b"]);
  EXPECT_EQ(true, docs[0]["c"]);
  EXPECT_EQ("500m", docs[0]["d"]);
  EXPECT_TRUE(docs[0]["e"].is_null());
  EXPECT_EQ(2, docs[1]["f"][1]);
  EXPECT_THROW(ParseYamlDocuments("a: [unclosed"), InvalidArgument);
}

}  // namespace
}  // namespace matih::plugins
