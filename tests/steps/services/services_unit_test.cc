// Unit tests of plugins/services' pure parts: the JSON Schema subset checker (values_schema.h),
// the YAML writer (yaml_writer.h) read back by common/yaml_json.h, and DeepMerge.
#include <gtest/gtest.h>

#include <matih/step.hpp>

#include "common/yaml_json.h"
#include "services/release_params.h"
#include "services/values_schema.h"
#include "services/yaml_writer.h"

namespace matih::plugins::services {
namespace {

using nlohmann::json;

std::vector<std::string> Check(const json& schema, const json& values) {
  return ValuesSchema::FromJson(schema, "test.schema.json").Violations(values);
}

TEST(ValuesSchema, AcceptsWhatTheSchemaAllows) {
  const json schema = json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["replicas"],
    "properties": {
      "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
      "port": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
      "level": {"enum": ["info", "debug"]},
      "hosts": {"type": "array", "items": {"type": "string", "minLength": 1}},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}
    }})");
  EXPECT_TRUE(Check(schema, json::parse(R"({"replicas": 2, "port": "5432", "level": "info",
      "hosts": ["a"], "labels": {"x": "y"}})"))
                  .empty());
  EXPECT_TRUE(Check(schema, json::parse(R"({"replicas": 2.0, "port": 80})")).empty())
      << "2.0 is an integer in JSON Schema";
}

TEST(ValuesSchema, NamesEveryViolationWithItsPath) {
  const json schema = json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["replicas", "image"],
    "properties": {
      "replicas": {"type": "integer", "minimum": 0},
      "port": {"type": ["integer", "string"], "pattern": "^[0-9]+$"},
      "level": {"enum": ["info", "debug"]},
      "hosts": {"type": "array", "items": {"type": "string", "minLength": 1}},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}},
      "image": {"type": "object"}
    }})");
  const auto v = Check(schema, json::parse(R"({"replicas": -1, "port": "http", "level": "chatty",
      "hosts": ["a", ""], "labels": {"x": 1}, "colour": "red"})"));
  const std::vector<std::string> want = {
      "values: required property 'image' is missing",
      "values.colour: is not allowed by the schema",
      "values.hosts[1]: must be at least 1 characters long",
      "values.labels.x: must be of type string, not number",
      "values.level: must be one of [\"info\",\"debug\"], not \"chatty\"",
      "values.port: must match \"^[0-9]+$\", not \"http\"",
      "values.replicas: must be at least 0, not -1",
  };
  EXPECT_EQ(want, v);
  EXPECT_EQ(std::vector<std::string>{"values.replicas: must be of type integer, not number"},
            Check(json::parse(R"({"properties": {"replicas": {"type": "integer"}}})"),
                  json::parse(R"({"replicas": 1.5})")));
}

TEST(ValuesSchema, PatternMatchesAnywhereAsJsonSchemaSays) {
  const json schema = json::parse(R"({"properties": {"url": {"type": "string", "pattern": "^https://"},
                                                      "name": {"type": "string", "pattern": "svc"}}})");
  EXPECT_TRUE(Check(schema, json::parse(R"({"url": "https://x", "name": "my-svc-1"})")).empty());
  EXPECT_EQ(1u, Check(schema, json::parse(R"({"url": "http://x"})")).size());
}

TEST(ValuesSchema, RefusesASchemaOutsideTheSubset) {
  for (const char* bad : {R"({"oneOf": [{"type": "string"}]})", R"({"type": "text"})",
                          R"({"properties": {"a": {"$ref": "#/x"}}})", R"({"pattern": "("})",
                          R"({"enum": []})", R"({"required": "a"})", R"("object")"}) {
    SCOPED_TRACE(bad);
    try {
      ValuesSchema::FromJson(json::parse(bad), "bad.schema.json");
      ADD_FAILURE() << "accepted";
    } catch (const PermanentError& e) {
      EXPECT_NE(std::string::npos, std::string(e.what()).find("values schema bad.schema.json")) << e.what();
    }
  }
}

TEST(JsonToYaml, StringsThatLookLikeOtherTypesStayStrings) {
  const json doc = {{"apiVersion", "v1"},    {"version", "1.10"},
                    {"flag", "true"},        {"nothing", "null"},
                    {"mode", "0755"},        {"tricky", "a: b # c\nsecond line \"quoted\""},
                    {"empty", ""},           {"number", 3},
                    {"ratio", 0.5},          {"on", true},
                    {"none", nullptr},       {"list", {1, "2", json::object()}},
                    {"map", json::object()}, {"key with: colon", "v"}};
  const std::string text = JsonToYaml({doc, {{"kind", "Second"}}});
  auto back = ParseYamlDocuments(text);
  ASSERT_EQ(2u, back.size()) << text;
  EXPECT_EQ(doc, back[0]) << text;
  EXPECT_EQ("Second", back[1]["kind"]);
  EXPECT_EQ(text, JsonToYaml({doc, {{"kind", "Second"}}})) << "the same objects give the same bytes";
}

TEST(DeepMerge, MergesObjectsAndReplacesEverythingElse) {
  json base = json::parse(R"({"a": {"x": 1, "y": [1, 2]}, "b": 1})");
  DeepMerge(base, json::parse(R"({"a": {"y": [3], "z": true}, "c": "new"})"));
  EXPECT_EQ(json::parse(R"({"a": {"x": 1, "y": [3], "z": true}, "b": 1, "c": "new"})"), base);
}

}  // namespace
}  // namespace matih::plugins::services
