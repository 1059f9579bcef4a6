#include "common/yaml_json.h"

#include <yaml-cpp/eventhandler.h>

#include <matih/step.hpp>
#include <regex>
#include <sstream>

namespace matih::plugins {
namespace {

nlohmann::json PlainScalar(const std::string& text) {
  static const std::regex integer("^[-+]?[0-9]+$");
  static const std::regex floating(R"(^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$)");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (std::regex_match(text, integer) && text.size() < 19) return std::stoll(text);
  if (std::regex_match(text, floating)) return std::stod(text);
  return text;
}

// Walks the parser's events (nothing is built or expanded) and refuses what would hang or blow up
// the conversion: yaml-cpp 0.7 reports an endless stream of empty documents for text such as
// `"",` (found by fuzzing), and an alias is expanded on every use, so a few lines of nested
// aliases would become billions of nodes. Rendered Kubernetes objects need neither.
class BoundedEvents : public YAML::EventHandler {
 public:
  static constexpr size_t kMaxEvents = 200'000;
  static constexpr size_t kMaxDocuments = 1'000;

  void OnDocumentStart(const YAML::Mark&) override {
    if (++documents_ > kMaxDocuments)
      throw InvalidArgument("rendered YAML has more than " + std::to_string(kMaxDocuments) + " documents");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { Count(); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    throw InvalidArgument("rendered YAML uses an alias at line " + std::to_string(mark.line + 1) +
                          "; Kubernetes objects are written out in full");
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {
    Count();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Count();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count();
  }
  void OnMapEnd() override {}

 private:
  void Count() {
    if (++events_ > kMaxEvents)
      throw InvalidArgument("rendered YAML has more than " + std::to_string(kMaxEvents) + " nodes");
  }
  size_t events_ = 0;
  size_t documents_ = 0;
};

}  // namespace

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!") return node.Scalar();
      return PlainScalar(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return nullptr;
}

std::vector<nlohmann::json> ParseYamlDocuments(const std::string& text) {
  std::vector<nlohmann::json> docs;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    BoundedEvents bounds;
    while (parser.HandleNextDocument(bounds)) {
    }
    for (const auto& node : YAML::LoadAll(text))
      if (node.IsDefined() && !node.IsNull()) docs.push_back(YamlToJson(node));
  } catch (const YAML::Exception& e) {
    throw InvalidArgument(std::string("rendered YAML does not parse: ") + e.what());
  }
  return docs;
}

}  // namespace matih::plugins
