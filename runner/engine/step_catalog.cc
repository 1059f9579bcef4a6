#include "engine/step_catalog.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/duration.h"
#include "common/yaml_guard.h"
#include "model/step_kind.h"

namespace matih::runner {
namespace {

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : node) j[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : node) j.push_back(YamlToJson(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      try {
        size_t pos = 0;
        long long v = std::stoll(s, &pos);
        if (pos == s.size()) return v;
        double d = std::stod(s, &pos);
        if (pos == s.size()) return d;
      } catch (...) {
      }
      return s;
    }
    default: return nullptr;
  }
}

class Loader {
 public:
  explicit Loader(std::string origin) : origin_(std::move(origin)) {}

  Status Error(const std::string& where, const std::string& what) const {
    return InvalidArgument(origin_ + ": " + where + ": " + what);
  }

  Status CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
                   const std::string& where) const {
    if (!map.IsMap()) return Error(where, "expected a mapping");
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      if (!allowed.count(key)) return Error(where, "unknown key '" + key + "'");
    }
    return Status::Ok();
  }

  // A step's timeout bounds each call: zero would fail every call at once, and past a day a hung
  // target would hold its tenant's lease for good.
  Status CheckTimeout(Millis t, const std::string& where) const {
    if (t <= Millis(0) || t > Millis(24LL * 3600 * 1000))
      return Error(where, "must be more than 0s and at most 24h (got " + FormatDuration(t) + ")");
    return Status::Ok();
  }

  Status ParseRetry(const YAML::Node& n, const std::string& where, RetryPolicy& r) const {
    if (Status s =
            CheckKeys(n, {"attempts", "initial_backoff", "max_backoff", "multiplier", "jitter"}, where);
        !s.ok())
      return s;
    if (n["attempts"]) r.attempts = n["attempts"].as<int>();
    if (r.attempts < 1 || r.attempts > 100) return Error(where, "attempts must be between 1 and 100");
    for (auto [key, field] :
         {std::pair{"initial_backoff", &r.initial_backoff}, std::pair{"max_backoff", &r.max_backoff}}) {
      if (!n[key]) continue;
      auto d = ParseDuration(n[key].as<std::string>(), where + "." + key);
      if (!d.ok()) return Error(where, d.status().message());
      *field = *d;
    }
    if (n["multiplier"]) r.multiplier = n["multiplier"].as<double>();
    if (n["jitter"]) r.jitter = n["jitter"].as<double>();
    if (r.multiplier < 1.0) return Error(where, "multiplier must be at least 1");
    if (r.jitter < 0 || r.jitter > 1) return Error(where, "jitter must be between 0 and 1");
    return Status::Ok();
  }

  Status Load(const YAML::Node& root, StepCatalog* out, std::vector<CatalogStep>& steps,
              std::map<int, std::string>& phases, std::map<std::string, TierFlow>& flows) const {
    (void)out;
    if (Status s = CheckKeys(root, {"version", "phases", "flows", "defaults", "steps"}, "top level"); !s.ok())
      return s;
    if (!root["version"] || root["version"].as<int>() != 1) return Error("version", "must be 1");
    if (!root["phases"] || !root["phases"].IsMap())
      return Error("phases", "missing mapping of phase number to name");
    for (const auto& kv : root["phases"]) phases[kv.first.as<int>()] = kv.second.as<std::string>();

    if (!root["flows"] || !root["flows"].IsMap()) return Error("flows", "missing mapping of tier to flow");
    for (const auto& kv : root["flows"]) {
      std::string tier = kv.first.as<std::string>();
      std::string where = "flows." + tier;
      if (Status s = CheckKeys(kv.second, {"placement", "phases", "placed", "downgrade_from"}, where);
          !s.ok())
        return s;
      TierFlow flow;
      flow.placement = kv.second["placement"] ? kv.second["placement"].as<std::string>() : "shared";
      if (flow.placement != "shared" && flow.placement != "dedicated")
        return Error(where, "placement must be shared or dedicated");
      std::set<int> seen;
      for (const auto& p : kv.second["phases"]) {
        int phase = p.as<int>();
        if (!phases.count(phase))
          return Error(where, "phase " + std::to_string(phase) + " is not declared in phases");
        if (!seen.insert(phase).second)
          return Error(where, "phase " + std::to_string(phase) + " listed twice");
        flow.phases.push_back(phase);
      }
      for (const auto& p : kv.second["placed"]) {
        int phase = p.as<int>();
        if (!seen.count(phase))
          return Error(where, "placed phase " + std::to_string(phase) + " is not in the flow's phases");
        flow.placed.insert(phase);
      }
      for (const auto& t : kv.second["downgrade_from"]) flow.downgrade_from.insert(t.as<std::string>());
      flows[tier] = flow;
    }
    for (const auto& [tier, flow] : flows)
      for (const auto& from : flow.downgrade_from)
        if (!flows.count(from))
          return Error("flows." + tier, "downgrade_from names tier '" + from + "' without a flow");

    RetryPolicy default_retry;
    Millis default_timeout{120'000};
    if (const auto d = root["defaults"]) {
      if (Status s = CheckKeys(d, {"retry", "timeout"}, "defaults"); !s.ok()) return s;
      if (d["retry"])
        if (Status s = ParseRetry(d["retry"], "defaults.retry", default_retry); !s.ok()) return s;
      if (d["timeout"]) {
        auto t = ParseDuration(d["timeout"].as<std::string>(), "defaults.timeout");
        if (!t.ok()) return Error("defaults", t.status().message());
        if (Status p = CheckTimeout(*t, "defaults.timeout"); !p.ok()) return p;
        default_timeout = *t;
      }
    }

    if (!root["steps"] || !root["steps"].IsSequence()) return Error("steps", "missing list of steps");
    std::set<int> numbers;
    std::set<std::string> names;
    int index = 0;
    for (const auto& n : root["steps"]) {
      ++index;
      std::string where = "steps[" + std::to_string(index) + "]";
      if (n["name"] && n["name"].IsScalar()) where = "step " + n["name"].as<std::string>();
      if (Status s = CheckKeys(n,
                               {"number", "name", "phase", "kind", "tiers", "params", "enabled",
                                "when_service", "placed", "retry", "timeout"},
                               where);
          !s.ok())
        return s;
      for (const char* required : {"number", "name", "phase", "kind", "tiers"})
        if (!n[required]) return Error(where, std::string("missing '") + required + "'");
      CatalogStep step;
      step.number = n["number"].as<int>();
      step.name = n["name"].as<std::string>();
      step.phase = n["phase"].as<int>();
      step.kind = n["kind"].as<std::string>();
      if (step.number < kMinStepNumber || step.number > kMaxStepNumber)
        return Error(where, "number " + std::to_string(step.number) + " is outside " +
                                std::to_string(kMinStepNumber) + ".." + std::to_string(kMaxStepNumber));
      if (!numbers.insert(step.number).second)
        return Error(where, "number " + std::to_string(step.number) + " used twice");
      if (!names.insert(step.name).second) return Error(where, "name used twice");
      // Names reach messages, the audit trail and `history --step NAME`: a plain label only.
      bool name_ok = !step.name.empty() && step.name.size() <= 63;
      for (char c : step.name)
        name_ok = name_ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
      if (!name_ok)
        return Error("steps[" + std::to_string(index) + "]", "name is not a step name (a-z, 0-9, '-')");
      if (!phases.count(step.phase))
        return Error(where, "phase " + std::to_string(step.phase) + " is not declared");
      if (!n["tiers"].IsSequence() || n["tiers"].size() == 0)
        return Error(where, "tiers must list at least one tier (enabled: false switches a step off)");
      for (const auto& t : n["tiers"]) {
        std::string tier = t.as<std::string>();
        if (!flows.count(tier)) return Error(where, "tier '" + tier + "' has no flow");
        step.tiers.insert(tier);
      }
      if (n["params"]) {
        if (!n["params"].IsMap()) return Error(where, "params must be a mapping");
        try {
          step.params_json = YamlToJson(n["params"]).dump();
        } catch (const nlohmann::json::type_error&) {  // found by fuzzing: it used to end the runner
          return Error(where, "params hold text that is not valid UTF-8");
        }
      }
      if (n["enabled"]) step.enabled = n["enabled"].as<bool>();
      if (n["when_service"]) {
        if (!n["when_service"].IsScalar()) return Error(where, "when_service must be a service name");
        step.when_service = n["when_service"].as<std::string>();
        bool ok = !step.when_service.empty() && step.when_service.size() <= 63;
        for (char c : step.when_service)
          ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
        if (!ok)
          return Error(where,
                       "when_service '" + step.when_service + "' is not a service name (a-z, 0-9, '-')");
      }
      if (const YAML::Node placed = n["placed"]) {
        // Only the words true and false: YAML 1.1's yes/on/1 would read as a placement by accident.
        const std::string value = placed.IsScalar() ? placed.Scalar() : "";
        if (!placed.IsScalar() || (value != "true" && value != "false"))
          return Error(where, "placed must be true or false (got " +
                                  (placed.IsScalar() ? "'" + value + "'" : std::string("a collection")) +
                                  ")");
        step.placed = value == "true";
      }
      step.retry = default_retry;
      if (n["retry"])
        if (Status s = ParseRetry(n["retry"], where + ".retry", step.retry); !s.ok()) return s;
      step.timeout = default_timeout;
      if (n["timeout"]) {
        auto t = ParseDuration(n["timeout"].as<std::string>(), where + ".timeout");
        if (!t.ok()) return Error(where, t.status().message());
        if (Status p = CheckTimeout(*t, where + ".timeout"); !p.ok()) return p;
        step.timeout = *t;
      }
      steps.push_back(std::move(step));
    }
    if (steps.empty()) return Error("steps", "the list is empty: a run would provision tenants with no step");
    std::sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
    return Status::Ok();
  }

 private:
  std::string origin_;
};

}  // namespace

Result<StepCatalog> StepCatalog::LoadString(const std::string& yaml, const std::string& origin) {
  StepCatalog catalog;
  if (Status s = CheckYaml(yaml, origin); !s.ok()) return s;
  try {
    YAML::Node root = YAML::Load(yaml);
    Loader loader(origin);
    Status s = loader.Load(root, &catalog, catalog.steps_, catalog.phases_, catalog.flows_);
    if (!s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return InvalidArgument(origin + ": " + e.what());
  }
  return catalog;
}

Result<StepCatalog> StepCatalog::LoadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument("step catalog " + path + " is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read step catalog " + path);
  // Read one byte past the limit CheckYaml applies, never a whole device or huge file.
  std::string text(YamlLimits{}.max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return LoadString(text, path);
}

Status StepCatalog::CheckKinds(const StepKindRegistry& kinds) const {
  for (const auto& step : steps_) {
    if (!step.enabled) continue;
    const StepKind* kind = kinds.Find(step.kind);
    if (!kind)
      return InvalidArgument("step " + std::to_string(step.number) + " " + step.name +
                             ": no loaded plugin exports kind '" + step.kind +
                             "' (check --plugin-dir, or disable the step)");
    if (Status s = kind->ValidateParams(step.params_json); !s.ok())
      return InvalidArgument("step " + std::to_string(step.number) + " " + step.name +
                             ": params refused by " + kind->plugin_name() + ": " + s.message());
  }
  return Status::Ok();
}

const CatalogStep* StepCatalog::Find(int number) const {
  for (const auto& s : steps_)
    if (s.number == number) return &s;
  return nullptr;
}

const CatalogStep* StepCatalog::FindByName(const std::string& name) const {
  for (const auto& s : steps_)
    if (s.name == name) return &s;
  return nullptr;
}

const TierFlow* StepCatalog::Flow(const std::string& tier) const {
  auto it = flows_.find(tier);
  return it == flows_.end() ? nullptr : &it->second;
}

std::vector<std::string> StepCatalog::Tiers() const {
  std::vector<std::string> tiers;
  for (const auto& [tier, flow] : flows_) tiers.push_back(tier);
  return tiers;
}

bool StepCatalog::Applies(const CatalogStep& step, const std::string& tier) const {
  const TierFlow* flow = Flow(tier);
  if (!flow || !step.enabled || !step.tiers.count(tier)) return false;
  return std::find(flow->phases.begin(), flow->phases.end(), step.phase) != flow->phases.end();
}

bool StepCatalog::Applies(const CatalogStep& step, const std::string& tier,
                          const std::set<std::string>& services) const {
  return Applies(step, tier) && (step.when_service.empty() || services.count(step.when_service) > 0);
}

std::vector<const CatalogStep*> StepCatalog::Ordered(const std::string& tier) const {
  std::vector<const CatalogStep*> ordered;
  std::set<int> in_flow;
  if (const TierFlow* flow = Flow(tier)) {
    for (int phase : flow->phases) {
      in_flow.insert(phase);
      for (const auto& s : steps_)
        if (s.phase == phase) ordered.push_back(&s);
    }
  }
  for (const auto& s : steps_)
    if (!in_flow.count(s.phase)) ordered.push_back(&s);
  return ordered;
}

}  // namespace matih::runner
