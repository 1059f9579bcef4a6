#include "observability/alert_rules_step.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "common/settings.h"
#include "kube_delivery/delivery_from_settings.h"
#include "observability/atomic_file.h"
#include "observability/prometheus_api.h"
#include "observability/promtool.h"
#include "observability/yaml_text.h"

namespace matih::plugins::observability {
namespace {

const std::regex kDuration("[1-9][0-9]*(ms|s|m|h|d|w)");
const std::set<std::string> kTiers = {"free", "starter", "professional", "enterprise"};
const std::set<std::string> kSeverities = {"info", "warning", "critical"};

struct ExtraRule {
  std::string alert, expr, for_, severity, summary;
};

struct RuleParams {
  std::string down_for = "5m", quota_for = "15m";
  double quota_ratio = 0.9;
  long long certificate_days = 14;
  std::map<std::string, std::string> severity;                // by tier
  std::map<std::string, std::vector<ExtraRule>> extra_rules;  // by tier
};

std::string Duration(const nlohmann::json& v, const std::string& name) {
  if (!v.is_string() || !std::regex_match(v.get<std::string>(), kDuration))
    throw InvalidArgument("param " + name + " must be a duration such as 5m or 1h");
  return v.get<std::string>();
}

void CheckTier(const std::string& tier, const std::string& param) {
  if (!kTiers.count(tier)) throw InvalidArgument("param " + param + " names an unknown tier '" + tier + "'");
}

ExtraRule ParseExtraRule(const nlohmann::json& r, const std::string& where) {
  if (!r.is_object()) throw InvalidArgument(where + " must be an object");
  ExtraRule rule;
  for (const auto& [key, value] : r.items()) {
    if (key == "alert") {
      if (!value.is_string() ||
          !std::regex_match(value.get<std::string>(), std::regex("[A-Za-z_][A-Za-z0-9_]*")))
        throw InvalidArgument(where + ".alert must be an alert name ([A-Za-z_][A-Za-z0-9_]*)");
      rule.alert = value.get<std::string>();
    } else if (key == "expr") {
      if (!value.is_string() || value.get<std::string>().empty())
        throw InvalidArgument(where + ".expr must be a PromQL expression");
      rule.expr = value.get<std::string>();
    } else if (key == "for") {
      rule.for_ = Duration(value, where + ".for");
    } else if (key == "severity") {
      if (!value.is_string() || !kSeverities.count(value.get<std::string>()))
        throw InvalidArgument(where + ".severity must be info, warning or critical");
      rule.severity = value.get<std::string>();
    } else if (key == "summary") {
      if (!value.is_string()) throw InvalidArgument(where + ".summary must be a string");
      rule.summary = value.get<std::string>();
    } else {
      throw InvalidArgument(where + " has an unknown key '" + key + "'");
    }
  }
  if (rule.alert.empty() || rule.expr.empty()) throw InvalidArgument(where + " needs alert and expr");
  if (rule.severity.empty()) rule.severity = "warning";
  return rule;
}

RuleParams ParseParams(std::string_view text) {
  auto p = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!p.is_object()) throw InvalidArgument("params must be an object");
  RuleParams out;
  for (const auto& [key, value] : p.items()) {
    if (key == "down_for") {
      out.down_for = Duration(value, key);
    } else if (key == "quota_for") {
      out.quota_for = Duration(value, key);
    } else if (key == "quota_ratio") {
      if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() >= 1)
        throw InvalidArgument("param quota_ratio must be a number between 0 and 1, such as 0.9");
      out.quota_ratio = value.get<double>();
    } else if (key == "certificate_days") {
      if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 365)
        throw InvalidArgument("param certificate_days must be a whole number of days (1-365)");
      out.certificate_days = value.get<long long>();
    } else if (key == "severity") {
      if (!value.is_object()) throw InvalidArgument("param severity must map tiers to info|warning|critical");
      for (const auto& [tier, s] : value.items()) {
        CheckTier(tier, "severity");
        if (!s.is_string() || !kSeverities.count(s.get<std::string>()))
          throw InvalidArgument("param severity." + tier + " must be info, warning or critical");
        out.severity[tier] = s.get<std::string>();
      }
    } else if (key == "extra_rules") {
      if (!value.is_object()) throw InvalidArgument("param extra_rules must map tiers to lists of rules");
      for (const auto& [tier, rules] : value.items()) {
        CheckTier(tier, "extra_rules");
        if (!rules.is_array()) throw InvalidArgument("param extra_rules." + tier + " must be a list");
        std::set<std::string> names;
        for (size_t i = 0; i < rules.size(); ++i) {
          auto rule = ParseExtraRule(rules[i], "param extra_rules." + tier + "[" + std::to_string(i) + "]");
          if (!names.insert(rule.alert).second)
            throw InvalidArgument("param extra_rules." + tier + " names alert " + rule.alert + " twice");
          out.extra_rules[tier].push_back(std::move(rule));
        }
      }
    } else {
      throw InvalidArgument("unknown param '" + key + "'");
    }
  }
  return out;
}

std::string Substitute(std::string text, const std::string& slug) {
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"${slug}", slug}, {"${namespace}", "tenant-" + slug}})
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  return text;
}

struct Desired {
  std::string file, group, text;
  std::vector<std::string> rule_names;
  ObjectBatch objects;
};

Desired DesiredFor(const Context& ctx) {
  const RuleParams params = ParseParams(ctx.params_json());
  const std::string dir = ctx.required_setting("observability.rules_dir");
  RequireDirectory(dir, "observability.rules_dir");
  const std::string slug = ctx.slug(), tier = ctx.tier(), ns = "tenant-" + slug;
  const std::string severity = params.severity.count(tier) ? params.severity.at(tier) : "critical";
  const nlohmann::json labels = {{"severity", severity}, {"tenant", slug}, {"tier", tier}};
  std::ostringstream ratio;
  ratio << params.quota_ratio;

  nlohmann::json rules = nlohmann::json::array();
  rules.push_back(
      {{"alert", "TenantServiceDown"},
       {"expr", "up{tenant=\"" + slug + "\"} == 0"},
       {"for", params.down_for},
       {"labels", labels},
       {"annotations",
        {{"summary", "{{ $labels.service }} of tenant " + slug + " is down"},
         {"description", "{{ $labels.instance }} has not answered a scrape for " + params.down_for + "."}}}});
  rules.push_back(
      {{"alert", "TenantQuotaNearLimit"},
       {"expr", "max by (resource) (kube_resourcequota{namespace=\"" + ns +
                    "\", type=\"used\"} / ignoring (type) "
                    "(kube_resourcequota{namespace=\"" +
                    ns + "\", type=\"hard\"} > 0)) > " + ratio.str()},
       {"for", params.quota_for},
       {"labels", labels},
       {"annotations",
        {{"summary", "tenant " + slug +
                         " uses {{ $value | humanizePercentage }} of its {{ $labels.resource }} quota"}}}});
  rules.push_back({{"alert", "TenantCertificateExpiring"},
                   {"expr", "certmanager_certificate_expiration_timestamp_seconds{namespace=\"" + ns +
                                "\"} - time() < " + std::to_string(params.certificate_days) + " * 86400"},
                   {"for", "1h"},
                   {"labels", labels},
                   {"annotations",
                    {{"summary", "certificate {{ $labels.name }} of tenant " + slug + " expires within " +
                                     std::to_string(params.certificate_days) + " days"}}}});
  if (params.extra_rules.count(tier))
    for (const auto& extra : params.extra_rules.at(tier)) {
      nlohmann::json rule = {{"alert", extra.alert},
                             {"expr", Substitute(extra.expr, slug)},
                             {"labels", {{"severity", extra.severity}, {"tenant", slug}, {"tier", tier}}}};
      if (!extra.for_.empty()) rule["for"] = extra.for_;
      if (!extra.summary.empty()) rule["annotations"] = {{"summary", Substitute(extra.summary, slug)}};
      rules.push_back(std::move(rule));
    }

  Desired d;
  d.group = "tenant-" + slug;
  d.file = dir + "/tenant-" + slug + ".yml";
  for (const auto& r : rules) d.rule_names.push_back(r["alert"].get<std::string>());
  const nlohmann::json groups = {{{"name", d.group}, {"rules", rules}}};
  d.text = "# Alerting rules of tenant " + slug + " (" + tier + "), written by matih-provisioner step " +
           ctx.step_name() + "; edits are undone.\n" + YamlText({{"groups", groups}});
  const nlohmann::json object = {
      {"apiVersion", "monitoring.coreos.com/v1"},
      {"kind", "PrometheusRule"},
      {"metadata",
       {{"name", "tenant-alerts"},
        {"namespace", ns},
        {"labels",
         {{"matih.ai/tenant-slug", slug},
          {"matih.ai/tier", tier},
          {"app.kubernetes.io/managed-by", SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner")}}}}},
      {"spec", {{"groups", groups}}}};
  d.objects = MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kObject, YamlText(object));
  return d;
}

PrometheusApi Prometheus(const Context& ctx) {
  return PrometheusApi(ctx.required_setting("observability.prometheus_url"));
}

// Whether Prometheus has loaded `want.group` from `want.file` with the desired rules.
bool Loaded(const PrometheusApi& prometheus, const Desired& want) {
  const auto groups = prometheus.RuleGroups(want.file);
  auto it = groups.find(want.group);
  return groups.size() == 1 && it != groups.end() && it->second == want.rule_names;
}

// The outputs of apply, and of an observe that finds the rules in sync.
void SetOutputs(Context& ctx, const Desired& want) {
  ctx.set_output("rules_file", want.file);
  ctx.set_output("rule_group", want.group);
}

}  // namespace

void AlertRulesStep::validate_params(std::string_view params_json) { ParseParams(params_json); }

Observation AlertRulesStep::observe(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const auto text = ReadFileIfExists(want.file);
  const Observation cluster = DeliveryFromSettings(ctx)->Observe(want.objects);
  if (!text && cluster.state == Observation::State::kAbsent) return Observation::Absent();
  std::string diff;
  auto note = [&diff](const std::string& s) { diff += (diff.empty() ? "" : "; ") + s; };
  if (!text)
    note("rule file " + want.file + " missing");
  else if (*text != want.text)
    note("rule file " + want.file + " differs");
  else if (!Loaded(Prometheus(ctx), want))
    note("rule group " + want.group + " not loaded by Prometheus");
  if (cluster.state == Observation::State::kAbsent) note("PrometheusRule tenant-alerts missing");
  if (cluster.state == Observation::State::kDrifted) note("PrometheusRule: " + cluster.diff);
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, want);
  return Observation::InSync();
}

void AlertRulesStep::apply(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const PrometheusApi prometheus = Prometheus(ctx);
  const auto text = ReadFileIfExists(want.file);
  bool reload = false;
  if (text != want.text) {
    StagedFile staged(want.file, want.text);
    const RuleCheck check =
        CheckRuleFile(SettingOr(ctx, "observability.promtool", "promtool"), staged.path());
    if (!check.ok)
      throw PermanentError("configure-alerting: the rules of tenant " + ctx.slug() +
                           " do not pass promtool check rules; nothing was installed: " + check.output);
    staged.Install();
    reload = true;
  }
  if (reload || !Loaded(prometheus, want)) {
    prometheus.Reload();
    if (!Loaded(prometheus, want))
      throw TransientError("configure-alerting: Prometheus " + prometheus.url() +
                           " did not load rule group " + want.group + " after a reload");
  }
  DeliveryFromSettings(ctx)->Apply(want.objects);
  SetOutputs(ctx, want);
}

void AlertRulesStep::remove(Context& ctx) {
  const Desired want = DesiredFor(ctx);
  const PrometheusApi prometheus = Prometheus(ctx);
  if (DeleteFileIfExists(want.file) || !prometheus.RuleGroups(want.file).empty()) {
    prometheus.Reload();
    if (!prometheus.RuleGroups(want.file).empty())
      throw TransientError("configure-alerting: Prometheus " + prometheus.url() + " still has the rules of " +
                           want.file + " after a reload");
  }
  DeliveryFromSettings(ctx)->Remove(want.objects);
}

}  // namespace matih::plugins::observability
