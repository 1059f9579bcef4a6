// Bounded, well-formed catalogs: what could hang, exhaust memory, crash or silently lose data is
// refused before yaml-cpp builds a node, with a message naming the file and the line.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "common/yaml_guard.h"
#include "engine/step_catalog.h"

namespace matih::testing {
namespace {

using namespace matih::runner;

const char* kHead = "version: 1\nphases: {0: a}\nflows:\n  free: {placement: shared, phases: [0]}\nsteps:\n";

Status Load(const std::string& steps) { return StepCatalog::LoadString(kHead + steps, "t.yaml").status(); }

void ExpectRefused(const Status& s, const std::string& needle) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("t.yaml"), std::string::npos) << s.message();
}

// Nine levels of nine-fold aliases: a billion leaves once expanded.
std::string AliasBomb() {
  std::string y =
      "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], enabled: false,\n     params: {\n";
  y += "       a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol],\n";
  for (int i = 1; i < 9; ++i) {
    y += "       a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) y += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    y += "],\n";
  }
  return y + "     }}\n";
}

TEST(CatalogBoundsTest, AnAliasBombInADisabledStepIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  ExpectRefused(Load(AliasBomb()), "nodes (aliases expanded)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(CatalogBoundsTest, ARecursiveAliasIsRefusedNotFollowed) {
  ExpectRefused(Load("  - &s {number: 1, name: x, phase: 0, kind: k, tiers: [free], params: {self: *s}}\n"),
                "line 6: an alias refers to a node that contains it");
}

TEST(CatalogBoundsTest, ADuplicateKeyIsRefusedNamingIt) {
  ExpectRefused(Load("  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], number: 2}\n"),
                "key 'number' appears twice");
}

TEST(CatalogBoundsTest, DeepNestingIsRefused) {
  std::string deep = "  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], params: {p: ";
  for (int i = 0; i < 20000; ++i) deep += "[";
  ExpectRefused(Load(deep + "\n"), "nested deeper than");
}

TEST(CatalogBoundsTest, StepNumbersOutsideTheRangeAreRefused) {
  ExpectRefused(Load("  - {number: 0, name: x, phase: 0, kind: k, tiers: [free]}\n"),
                "number 0 is outside 1..1999");
  ExpectRefused(Load("  - {number: -2, name: x, phase: 0, kind: k, tiers: [free]}\n"),
                "number -2 is outside");
  ExpectRefused(Load("  - {number: 2000, name: x, phase: 0, kind: k, tiers: [free]}\n"), "outside 1..1999");
}

TEST(CatalogBoundsTest, AZeroOrHugeTimeoutIsRefused) {
  ExpectRefused(Load("  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], timeout: 0s}\n"),
                "timeout: must be more than 0s");
  ExpectRefused(Load("  - {number: 1, name: x, phase: 0, kind: k, tiers: [free], timeout: 2d}\n"),
                "at most 24h");
}

TEST(CatalogBoundsTest, AnEmptyCatalogIsRefused) { EXPECT_FALSE(StepCatalog::LoadString("", "t.yaml").ok()); }

TEST(CatalogBoundsTest, AFileOverTheSizeLimitIsRefusedWithoutReadingItWhole) {
  auto c = StepCatalog::LoadFile("/dev/zero");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("the limit is"), std::string::npos) << c.status().message();
}

TEST(YamlGuardTest, AcceptsOrdinaryYamlWithRepeatedKeysInDifferentMappings) {
  EXPECT_TRUE(CheckYaml("a: {x: 1}\nb: {x: 2}\nc: [x, x]\n", "t").ok());
  EXPECT_TRUE(CheckYaml("a: &anchor {x: [1, 2]}\nb: *anchor\nc: *anchor\n", "t").ok());
}

TEST(YamlGuardTest, CountsAnAliasAsTheNodesItStandsFor) {
  // 1 + 2 + (1 + 2 + 2) nodes: the two aliases count two nodes each.
  EXPECT_TRUE(CheckYaml("[&a [1], *a, *a]", "t", YamlLimits{1 << 20, 32, 7}).ok());
  EXPECT_FALSE(CheckYaml("[&a [1], *a, *a]", "t", YamlLimits{1 << 20, 32, 6}).ok());
}

TEST(YamlGuardTest, CountsNodes) {
  std::string many = "[";
  for (int i = 0; i < 200; ++i) many += "1,";
  EXPECT_FALSE(CheckYaml(many + "1]", "t", YamlLimits{1 << 20, 32, 100}).ok());
}

}  // namespace
}  // namespace matih::testing
