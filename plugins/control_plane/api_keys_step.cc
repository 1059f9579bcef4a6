#include "control_plane/api_keys_step.h"

#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/control_plane_schema.h"
#include "common/secure_token.h"
#include "control_plane/control_plane_db.h"

namespace matih::plugins {
namespace {

// The problem with key `name`, or "" when the row matches the secret store.
std::string KeyProblem(const Context& ctx, const std::string& hash_key, const std::string& name,
                       const std::map<std::string, std::string>& stored) {
  auto row = stored.find(name);
  if (row == stored.end()) return "key " + name + " missing";
  auto plaintext = ctx.secret(kApiKeySecretPrefix + name);
  if (!plaintext) return "key " + name + " is not in the secret store";
  if (!IsWellFormedApiKey(*plaintext)) return "key " + name + " in the secret store is malformed";
  if (!ConstantTimeEquals(KeyedHash(hash_key, *plaintext), row->second))
    return "key " + name + " stored hash does not match the secret store";
  return "";
}

std::map<std::string, std::string> StoredKeys(pqxx::work& tx, const std::string& tenant) {
  std::map<std::string, std::string> keys;
  for (const auto& row :
       tx.exec_params("SELECT name, key_hash FROM control_plane.api_keys WHERE tenant_id = $1::uuid", tenant))
    keys[row[0].as<std::string>()] = row[1].as<std::string>();
  return keys;
}

}  // namespace

std::vector<std::string> ApiKeysStep::KeyNames(std::string_view params_json) {
  auto params =
      nlohmann::json::parse(params_json.empty() ? std::string_view("{}") : params_json, nullptr, false);
  if (!params.is_object()) throw InvalidArgument("params must be an object");
  for (const auto& [key, value] : params.items())
    if (key != "keys") throw InvalidArgument("unknown param '" + key + "' (known: keys)");
  if (!params.contains("keys")) return {"default"};
  static const std::regex name_rule("^[a-z][a-z0-9-]{0,39}$");
  std::vector<std::string> names;
  std::set<std::string> seen;
  if (!params["keys"].is_array() || params["keys"].empty())
    throw InvalidArgument("param keys must be a non-empty list");
  for (const auto& k : params["keys"]) {
    if (!k.is_string() || !std::regex_match(k.get<std::string>(), name_rule))
      throw InvalidArgument("API key names must be lowercase words of at most 40 characters");
    if (seen.insert(k.get<std::string>()).second) names.push_back(k.get<std::string>());
  }
  return names;
}

void ApiKeysStep::validate_params(std::string_view params_json) { KeyNames(params_json); }

Observation ApiKeysStep::observe(Context& ctx) {
  const auto names = KeyNames(ctx.params_json());
  const std::string hash_key = LoadHashKey(ctx);
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return Observation::Absent();
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  const auto stored = session.Transact("read the API keys", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    return StoredKeys(tx, tenant);
  });
  if (stored.empty()) return Observation::Absent();
  std::string diff;
  for (const auto& name : names)
    if (auto problem = KeyProblem(ctx, hash_key, name, stored); !problem.empty()) AddNote(diff, problem);
  for (const auto& [name, hash] : stored)
    if (std::find(names.begin(), names.end(), name) == names.end()) AddNote(diff, "stale key " + name);
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void ApiKeysStep::apply(Context& ctx) {
  const auto names = KeyNames(ctx.params_json());
  const std::string hash_key = LoadHashKey(ctx);
  auto lease = OpenControlPlane(ctx);
  auto& session = *lease;
  const std::string tenant = ctx.tenant_id();
  int issued = 0;
  session.Transact("issue API keys", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    if (tx.exec_params("SELECT 1 FROM control_plane.tenants WHERE id = $1::uuid FOR SHARE", tenant).empty())
      throw PermanentError("the tenant record is missing: step create-tenant-record must run first");
    const auto stored = StoredKeys(tx, tenant);
    for (const auto& name : names) {
      if (KeyProblem(ctx, hash_key, name, stored).empty()) continue;
      // Plaintext to the secret store first; a failure before commit leaves a mismatch that the
      // next observe reports and the next apply repairs by issuing again.
      std::string key = NewApiKey();
      ctx.put_secret(kApiKeySecretPrefix + name, key);
      tx.exec_params(
          "INSERT INTO control_plane.api_keys (tenant_id, name, key_prefix, key_hash) VALUES ($1::uuid, $2, "
          "$3, $4) "
          "ON CONFLICT (tenant_id, name) DO UPDATE SET key_prefix = EXCLUDED.key_prefix, "
          "  key_hash = EXCLUDED.key_hash, created_at = now()",
          tenant, name, key.substr(0, 10), KeyedHash(hash_key, key));
      std::fill(key.begin(), key.end(), '\0');
      ++issued;
    }
    tx.exec_params(
        "DELETE FROM control_plane.api_keys WHERE tenant_id = $1::uuid "
        "AND name NOT IN (SELECT jsonb_array_elements_text($2::jsonb))",
        tenant, nlohmann::json(names).dump());
  });
  if (issued > 0)
    ctx.info("issued " + std::to_string(issued) + " API key(s); plaintext is in the secret store only");
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  ctx.set_output("key_names", list);
}

void ApiKeysStep::remove(Context& ctx) {
  auto existing = OpenExistingControlPlane(ctx);
  if (!existing) return;  // nothing was ever created
  auto& session = **existing;
  const std::string tenant = ctx.tenant_id();
  session.Transact("revoke API keys", [&](pqxx::work& tx) {
    EnterControlPlaneRole(tx);
    tx.exec_params("DELETE FROM control_plane.api_keys WHERE tenant_id = $1::uuid", tenant);
  });
}

}  // namespace matih::plugins
