#include "compliance/compliance_policies_step.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "common/settings.h"
#include "common/template_renderer.h"
#include "kube_delivery/delivery_from_settings.h"

namespace matih::plugins::compliance {
namespace {

struct Profile {
  std::string profile, action;
  std::vector<std::string> registries;
};

const std::set<std::string> kTiers = {"free", "starter", "professional", "enterprise"};

std::map<std::string, Profile> ParseParams(std::string_view text) {
  auto p = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!p.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, _] : p.items())
    if (key != "tiers") throw InvalidArgument("unknown param '" + key + "'");
  if (!p.contains("tiers") || !p["tiers"].is_object() || p["tiers"].empty())
    throw InvalidArgument("param tiers (a compliance profile per tier) is required");
  std::map<std::string, Profile> out;
  for (const auto& [tier, t] : p["tiers"].items()) {
    const std::string where = "param tiers." + tier;
    if (!kTiers.count(tier)) throw InvalidArgument("param tiers names an unknown tier '" + tier + "'");
    if (!t.is_object()) throw InvalidArgument(where + " must be an object");
    for (const auto& [key, _] : t.items())
      if (key != "profile" && key != "action" && key != "registries")
        throw InvalidArgument(where + " has an unknown key '" + key + "'");
    Profile profile;
    if (!t.contains("profile") || !t["profile"].is_string() ||
        !std::regex_match(t["profile"].get<std::string>(), std::regex("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")))
      throw InvalidArgument(where + ".profile must be a label value of [a-z0-9-]");
    profile.profile = t["profile"].get<std::string>();
    if (!t.contains("action") || (t["action"] != "Enforce" && t["action"] != "Audit"))
      throw InvalidArgument(where + ".action must be Enforce or Audit");
    profile.action = t["action"].get<std::string>();
    if (!t.contains("registries") || !t["registries"].is_array() || t["registries"].empty())
      throw InvalidArgument(where + ".registries must be a non-empty list of image prefixes");
    for (const auto& r : t["registries"]) {
      if (!r.is_string() ||
          !std::regex_match(r.get<std::string>(), std::regex(R"([a-z0-9*][a-z0-9.*:-]*(/[a-z0-9._-]+)*/)")))
        throw InvalidArgument(where +
                              ".registries: each item must be an image prefix ending in '/', such as "
                              "registry.matih.ai/");
      profile.registries.push_back(r.get<std::string>());
    }
    out.emplace(tier, std::move(profile));
  }
  return out;
}

}  // namespace

void CompliancePoliciesStep::validate_params(std::string_view params_json) { ParseParams(params_json); }

std::pair<ObjectBatch, ObjectBatch> CompliancePoliciesStep::Render(const Context& ctx) {
  const auto profiles = ParseParams(ctx.params_json());
  const std::string tier = ctx.tier(), slug = ctx.slug();
  auto it = profiles.find(tier);
  if (it == profiles.end()) throw InvalidArgument("param tiers has no compliance profile for tier " + tier);
  const Profile& profile = it->second;
  std::string pattern, list;
  for (const auto& r : profile.registries) {
    pattern += (pattern.empty() ? "" : " | ") + r + "*";
    list += (list.empty() ? "" : ", ") + r;
  }
  const nlohmann::json values = {
      {"namespace", "tenant-" + slug},
      {"slug", slug},
      {"tier", tier},
      {"managed_by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")},
      {"profile", profile.profile},
      {"action", profile.action},
      {"action_label", profile.action == "Enforce" ? "enforce" : "audit"},
      {"registry_pattern", pattern},
      {"registry_list", list},
  };
  const TemplateRenderer renderer(ctx.required_setting("templates.dir"));
  return {MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kObject,
                    renderer.Render("compliance-policies.yaml", values)),
          MakeBatch(slug, ctx.step_name() + "-namespace-labels", ctx.run_id(), DeliveryMode::kPatch,
                    renderer.Render("compliance-namespace.yaml", values))};
}

namespace {

// The outputs of apply, and of an observe that finds both batches in sync.
void SetOutputs(Context& ctx, const ObjectBatch& policies) {
  std::string names;
  for (const auto& o : policies.objects) names += (names.empty() ? "" : ",") + o.name;
  ctx.set_output("policies", names);
}

}  // namespace

Observation CompliancePoliciesStep::observe(Context& ctx) {
  const auto [policies, labels] = Render(ctx);
  auto delivery = DeliveryFromSettings(ctx);
  const Observation a = delivery->Observe(policies), b = delivery->Observe(labels);
  using State = Observation::State;
  if (a.state == State::kAbsent && b.state == State::kAbsent) return Observation::Absent();
  if (a.state == State::kInSync && b.state == State::kInSync) {
    // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
    SetOutputs(ctx, policies);
    return Observation::InSync();
  }
  std::string diff;
  auto describe = [&diff](const Observation& o, const std::string& what) {
    if (o.state == State::kInSync) return;
    diff += (diff.empty() ? "" : "; ") + what + ": " + (o.state == State::kAbsent ? "missing" : o.diff);
  };
  describe(a, "policies");
  describe(b, "namespace labels");
  return Observation::Drifted(diff);
}

void CompliancePoliciesStep::apply(Context& ctx) {
  const auto [policies, labels] = Render(ctx);
  auto delivery = DeliveryFromSettings(ctx);
  delivery->Apply(policies);
  delivery->Apply(labels);
  SetOutputs(ctx, policies);
}

void CompliancePoliciesStep::remove(Context& ctx) {
  const auto [policies, labels] = Render(ctx);
  auto delivery = DeliveryFromSettings(ctx);
  delivery->Remove(labels);
  delivery->Remove(policies);
}

}  // namespace matih::plugins::compliance
