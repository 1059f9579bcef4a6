#include "vault/tenant_secrets_step.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <vector>

#include "common/settings.h"
#include "kube_delivery/delivery_from_settings.h"
#include "vault/vault_backend.h"

namespace matih::plugins::vault {
namespace {

struct Entry {
  std::string key, from, secret, vault_entry;
};
struct Group {
  std::string name;
  std::vector<Entry> entries;
};
struct Plan {
  std::string store_kind, store_name, refresh;
  std::vector<Group> groups;
};

const std::regex kDnsLabel("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
const std::regex kDataKey("[-._a-zA-Z0-9]{1,253}");
const std::regex kPluginName("matih-[a-z0-9][-a-z0-9]{0,62}");
const std::regex kDuration("([0-9]+(s|m|h))+");

std::string Str(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
    throw InvalidArgument(where + ": " + key + " (a non-empty string) is required");
  return j[key].get<std::string>();
}

// Parses and checks the params; settings fill what they leave out when `ctx` is given.
Plan ParsePlan(std::string_view text, const Context* ctx) {
  auto params = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [k, v] : params.items())
    if (k != "secret_store" && k != "refresh_interval" && k != "secrets")
      throw InvalidArgument("unknown param " + k + " (known: secret_store, refresh_interval, secrets)");
  Plan plan;
  plan.store_kind =
      ctx ? SettingOr(*ctx, "vault.secret_store_kind", "ClusterSecretStore") : "ClusterSecretStore";
  plan.store_name = ctx ? SettingOr(*ctx, "vault.secret_store_name", "matih-vault") : "matih-vault";
  if (params.contains("secret_store")) {
    const auto& store = params["secret_store"];
    if (!store.is_object()) throw InvalidArgument("param secret_store must be {kind, name}");
    if (store.contains("kind")) plan.store_kind = Str(store, "kind", "param secret_store");
    if (store.contains("name")) plan.store_name = Str(store, "name", "param secret_store");
  }
  if (plan.store_kind != "ClusterSecretStore" && plan.store_kind != "SecretStore")
    throw InvalidArgument("secret store kind must be ClusterSecretStore or SecretStore, not '" +
                          plan.store_kind + "'");
  if (!std::regex_match(plan.store_name, kDnsLabel))
    throw InvalidArgument("secret store name '" + plan.store_name + "' is not a DNS label");
  plan.refresh = params.contains("refresh_interval") ? Str(params, "refresh_interval", "params") : "1h";
  if (!std::regex_match(plan.refresh, kDuration))
    throw InvalidArgument("param refresh_interval '" + plan.refresh +
                          "' is not a duration like 1h, 30m or 15s");

  if (!params.contains("secrets") || !params["secrets"].is_array() || params["secrets"].empty())
    throw InvalidArgument("param secrets (a non-empty list of {name, entries}) is required");
  std::set<std::string> names, vault_entries;
  for (const auto& g : params["secrets"]) {
    if (!g.is_object()) throw InvalidArgument("param secrets: each item must be {name, entries}");
    Group group;
    group.name = Str(g, "name", "param secrets");
    const std::string where = "param secrets[" + group.name + "]";
    if (!std::regex_match(group.name, kDnsLabel)) throw InvalidArgument(where + ": name is not a DNS label");
    if (!names.insert(group.name).second) throw InvalidArgument(where + ": name appears twice");
    if (!g.contains("entries") || !g["entries"].is_array() || g["entries"].empty())
      throw InvalidArgument(where + ": entries (a non-empty list of {key, from, secret}) is required");
    std::set<std::string> keys;
    for (const auto& e : g["entries"]) {
      if (!e.is_object()) throw InvalidArgument(where + ": each entry must be {key, from, secret}");
      Entry entry{Str(e, "key", where), Str(e, "from", where), Str(e, "secret", where), ""};
      if (!std::regex_match(entry.key, kDataKey))
        throw InvalidArgument(where + ": key '" + entry.key + "' is not a Secret data key");
      if (!keys.insert(entry.key).second)
        throw InvalidArgument(where + ": key " + entry.key + " appears twice");
      if (!std::regex_match(entry.from, kPluginName))
        throw InvalidArgument(where + ": from '" + entry.from + "' is not a plugin name (matih-...)");
      if (entry.secret.find('*') != std::string::npos || entry.secret.size() > 200)
        throw InvalidArgument(where + ": secret '" + entry.secret + "' must be one secret's name");
      for (const auto& [k, v] : e.items())
        if (k != "key" && k != "from" && k != "secret")
          throw InvalidArgument(where + ": unknown entry field " + k);
      std::string vault_entry = group.name + "-" + entry.key;
      for (char& c : vault_entry) c = (c == '.' || c == '_') ? '-' : static_cast<char>(std::tolower(c));
      if (vault_entry.size() > 100)
        throw InvalidArgument(where + ": vault entry " + vault_entry + " is too long");
      if (!vault_entries.insert(vault_entry).second)
        throw InvalidArgument(where + ": vault entry " + vault_entry + " is used twice");
      entry.vault_entry = vault_entry;
      group.entries.push_back(std::move(entry));
    }
    plan.groups.push_back(std::move(group));
  }
  return plan;
}

YAML::Node ToYaml(const nlohmann::json& j) {
  YAML::Node node;
  if (j.is_object()) {
    node = YAML::Node(YAML::NodeType::Map);
    for (const auto& [k, v] : j.items()) node[k] = ToYaml(v);
  } else if (j.is_array()) {
    node = YAML::Node(YAML::NodeType::Sequence);
    for (const auto& v : j) node.push_back(ToYaml(v));
  } else if (j.is_string()) {
    node = j.get<std::string>();
  } else {
    node = j.dump();
  }
  return node;
}

// What each entry should hold: the shared source's value, or nullopt while it does not exist.
struct EntryState {
  const Entry* entry;
  std::optional<std::string> source, stored;
};

std::vector<EntryState> Inspect(Context& ctx, const Plan& plan, VaultBackend& backend) {
  std::vector<EntryState> states;
  for (const Group& g : plan.groups)
    for (const Entry& e : g.entries)
      states.push_back({&e, ctx.shared_secret(e.from, e.secret), backend.Get(e.vault_entry)});
  return states;
}

// The ExternalSecrets of the entries in `available` (every entry when null): an ExternalSecret
// naming a vault entry that does not exist would never sync, so entries whose source is not there
// yet are left out, and groups without any entry with them. nullopt when no object remains.
std::optional<ObjectBatch> Render(const Context& ctx, const Plan& plan, VaultBackend& backend,
                                  const std::set<std::string>* available) {
  const std::string slug = ctx.slug(), ns = "tenant-" + slug;
  const std::string managed_by = SettingOr(ctx, "kubernetes.managed_by", "matih-provisioner");
  std::string rendered;
  for (const Group& g : plan.groups) {
    nlohmann::json data = nlohmann::json::array();
    for (const Entry& e : g.entries)
      if (!available || available->count(e.vault_entry))
        data.push_back({{"secretKey", e.key}, {"remoteRef", {{"key", backend.RemoteKey(e.vault_entry)}}}});
    if (data.empty()) continue;
    nlohmann::json object = {
        {"apiVersion", "external-secrets.io/v1beta1"},
        {"kind", "ExternalSecret"},
        {"metadata",
         {{"name", g.name},
          {"namespace", ns},
          {"labels", {{"app.kubernetes.io/managed-by", managed_by}, {"matih.io/tenant", slug}}}}},
        {"spec",
         {{"refreshInterval", plan.refresh},
          {"secretStoreRef", {{"kind", plan.store_kind}, {"name", plan.store_name}}},
          {"target", {{"name", g.name}, {"creationPolicy", "Owner"}}},
          {"data", data}}}};
    YAML::Emitter out;
    out << ToYaml(object);
    rendered += "---\n" + std::string(out.c_str()) + "\n";
  }
  if (rendered.empty()) return std::nullopt;
  return MakeBatch(slug, ctx.step_name(), ctx.run_id(), DeliveryMode::kObject, std::move(rendered));
}

// The vault entries whose source exists.
std::set<std::string> Available(const std::vector<EntryState>& states) {
  std::set<std::string> out;
  for (const EntryState& s : states)
    if (s.source) out.insert(s.entry->vault_entry);
  return out;
}

}  // namespace

void TenantSecretsStep::validate_params(std::string_view params_json) { ParsePlan(params_json, nullptr); }

Observation TenantSecretsStep::observe(Context& ctx) {
  const Plan plan = ParsePlan(ctx.params_json(), &ctx);
  auto backend = BackendFromSettings(ctx);
  const std::vector<EntryState> states = Inspect(ctx, plan, *backend);
  std::vector<std::string> drift;
  bool any_stored = false;
  for (const EntryState& s : states) {
    any_stored |= s.stored.has_value();
    if (s.source && !s.stored)
      drift.push_back(s.entry->vault_entry + " missing");
    else if (s.source && *s.source != *s.stored)
      drift.push_back(s.entry->vault_entry + " out of date");
    else if (!s.source && s.stored)
      drift.push_back(s.entry->vault_entry + " has no source any more");
  }
  const std::set<std::string> available = Available(states);
  auto delivery = DeliveryFromSettings(ctx);
  if (auto want = Render(ctx, plan, *backend, &available)) {
    Observation objects = delivery->Observe(*want);
    if (objects.state == Observation::State::kAbsent && !any_stored) return Observation::Absent();
    if (objects.state == Observation::State::kDrifted) drift.push_back(objects.diff);
    if (objects.state == Observation::State::kAbsent) drift.push_back("ExternalSecret objects absent");
  } else if (delivery->Observe(*Render(ctx, plan, *backend, nullptr)).state != Observation::State::kAbsent) {
    drift.push_back("ExternalSecret objects present without any vault entry");
  }
  if (drift.empty()) return Observation::InSync();
  std::string diff;
  for (const auto& d : drift) diff += (diff.empty() ? "" : "; ") + d;
  return Observation::Drifted("vault entries: " + diff);
}

void TenantSecretsStep::apply(Context& ctx) {
  const Plan plan = ParsePlan(ctx.params_json(), &ctx);
  auto backend = BackendFromSettings(ctx);
  const std::vector<EntryState> states = Inspect(ctx, plan, *backend);
  std::string pending;
  for (const EntryState& s : states) {
    if (s.source) {
      if (s.stored != s.source) backend->Put(s.entry->vault_entry, *s.source);
    } else {
      if (s.stored) backend->Delete(s.entry->vault_entry);
      pending += (pending.empty() ? "" : ",") + s.entry->from + "/" + s.entry->secret;
    }
  }
  const std::set<std::string> available = Available(states);
  auto delivery = DeliveryFromSettings(ctx);
  auto want = Render(ctx, plan, *backend, &available);
  std::string names;
  if (want) {
    delivery->Apply(*want);
    for (const auto& o : want->objects) names += (names.empty() ? "" : ",") + o.name;
  } else {
    delivery->Remove(*Render(ctx, plan, *backend, nullptr));
  }
  ctx.set_output("external_secrets", names);
  ctx.set_output("entries", std::to_string(available.size()));
  ctx.set_output("pending", pending);
}

void TenantSecretsStep::remove(Context& ctx) {
  const Plan plan = ParsePlan(ctx.params_json(), &ctx);
  auto backend = BackendFromSettings(ctx);
  DeliveryFromSettings(ctx)->Remove(*Render(ctx, plan, *backend, nullptr));
  for (const Group& g : plan.groups)
    for (const Entry& e : g.entries) backend->Delete(e.vault_entry);
}

}  // namespace matih::plugins::vault
