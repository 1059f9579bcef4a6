#include "vector/collection_step.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/settings.h"
#include "vector/chroma_client.h"

namespace matih::plugins::vector {
namespace {

constexpr const char* kMetaTenantId = "matih_tenant_id";
constexpr const char* kMetaTenantSlug = "matih_tenant_slug";
constexpr const char* kMetaManagedBy = "matih_managed_by";
constexpr const char* kSpaceKey = "hnsw:space";

struct Params {
  std::string tenant_prefix = "matih-";
  std::string database = "main";
  std::vector<std::string> collections = {"documents"};
  std::string space = "cosine";
};

// Chroma names: 3-63 characters of [a-zA-Z0-9._-], starting and ending with a letter or digit.
bool IsChromaName(const std::string& s) {
  static const std::regex rule("^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$");
  return std::regex_match(s, rule) && s.find("..") == std::string::npos;
}

Params ParseParams(std::string_view json) {
  auto p = nlohmann::json::parse(json.empty() ? std::string_view("{}") : json, nullptr, false);
  if (!p.is_object()) throw InvalidArgument("params must be an object");
  Params out;
  for (const auto& [key, value] : p.items()) {
    if (key == "tenant_prefix") {
      if (!value.is_string() || value.get<std::string>().size() > 20 ||
          !std::regex_match(value.get<std::string>(), std::regex("^[a-z0-9-]*$")))
        throw InvalidArgument("param tenant_prefix must be at most 20 lowercase letters, digits or hyphens");
      out.tenant_prefix = value;
    } else if (key == "database") {
      if (!value.is_string() || !IsChromaName(value))
        throw InvalidArgument("param database must be a Chroma name");
      out.database = value;
    } else if (key == "collections") {
      if (!value.is_array() || value.empty())
        throw InvalidArgument("param collections must be a non-empty list");
      out.collections.clear();
      std::set<std::string> seen;
      for (const auto& c : value) {
        if (!c.is_string() || !IsChromaName(c))
          throw InvalidArgument("param collections: names are 3-63 letters, digits, '.', '_' or '-'");
        if (!seen.insert(c.get<std::string>()).second)
          throw InvalidArgument("param collections names '" + c.get<std::string>() + "' twice");
        out.collections.push_back(c);
      }
    } else if (key == "space") {
      if (!value.is_string() || (value != "cosine" && value != "l2" && value != "ip"))
        throw InvalidArgument("param space must be cosine, l2 or ip");
      out.space = value;
    } else {
      throw InvalidArgument("unknown param '" + key +
                            "' (known: tenant_prefix, database, collections, space)");
    }
  }
  return out;
}

struct Target {
  Params params;
  std::string tenant;  // Chroma tenant name
};

Target TargetOf(const Context& ctx) {
  Target t{ParseParams(ctx.params_json()), ""};
  t.tenant = t.params.tenant_prefix + ctx.slug();
  if (!IsChromaName(t.tenant)) throw InvalidArgument("Chroma tenant name '" + t.tenant + "' is not valid");
  return t;
}

ChromaClient ClientFor(const Context& ctx) {
  auto timeout = std::chrono::milliseconds(10000);
  if (auto t = ctx.setting("vector.timeout_ms"))
    timeout = std::chrono::milliseconds(std::max(100LL, ParseCount("vector.timeout_ms", *t)));
  return ChromaClient(ctx.required_setting("vector.chroma_url"), timeout,
                      "step " + ctx.step_name() + " of tenant " + ctx.slug());
}

nlohmann::json OurMetadata(const Context& ctx) {
  return {
      {kMetaTenantId, ctx.tenant_id()}, {kMetaTenantSlug, ctx.slug()}, {kMetaManagedBy, "matih-provisioner"}};
}

std::string Text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

// Differences of our metadata keys, "" when they match. Keys of others are not compared.
std::string MetadataProblem(const nlohmann::json& have, const nlohmann::json& want) {
  std::string diff;
  for (const auto& [k, v] : want.items()) {
    if (!have.contains(k))
      AddNote(diff, "metadata " + k + " missing");
    else if (have[k] != v)
      AddNote(diff, "metadata " + k + ": have '" + Text(have[k]) + "', want '" + Text(v) + "'");
  }
  return diff;
}

bool IsOurs(const Collection& c, const std::string& tenant_id) {
  return c.metadata.contains(kMetaTenantId) && c.metadata[kMetaTenantId] == tenant_id;
}

// The outputs of apply, and of an observe that finds everything in sync: `ids` in params order.
void SetOutputs(Context& ctx, const Target& t, const std::vector<std::string>& ids) {
  std::string names, id_list;
  for (size_t i = 0; i < ids.size(); ++i) {
    names += (i ? "," : "") + t.params.collections[i];
    id_list += (i ? "," : "") + ids[i];
  }
  ctx.set_output("chroma_tenant", t.tenant);
  ctx.set_output("database", t.params.database);
  ctx.set_output("collections", names);
  ctx.set_output("collection_ids", id_list);
}

}  // namespace

void CollectionStep::validate_params(std::string_view params_json) { ParseParams(params_json); }

Observation CollectionStep::observe(Context& ctx) {
  const Target t = TargetOf(ctx);
  const auto client = ClientFor(ctx);
  if (!client.TenantExists(t.tenant) || !client.DatabaseId(t.tenant, t.params.database))
    return Observation::Absent();
  const auto want = OurMetadata(ctx);
  std::string diff;
  std::vector<std::string> ids;  // found by name: Chroma generates them
  const auto existing = client.ListCollections(t.tenant, t.params.database);
  for (const auto& name : t.params.collections) {
    auto it =
        std::find_if(existing.begin(), existing.end(), [&](const Collection& c) { return c.name == name; });
    if (it == existing.end()) {
      AddNote(diff, "collection " + name + " missing");
      continue;
    }
    ids.push_back(it->id);
    if (auto m = MetadataProblem(it->metadata, want); !m.empty())
      AddNote(diff, "collection " + name + " " + m);
    if (!it->space.empty() && it->space != t.params.space)
      AddNote(diff, "collection " + name + " space: have '" + it->space + "', want '" + t.params.space + "'");
  }
  for (const auto& c : existing)
    if (IsOurs(c, ctx.tenant_id()) && std::find(t.params.collections.begin(), t.params.collections.end(),
                                                c.name) == t.params.collections.end())
      AddNote(diff, "stale collection " + c.name);
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, t, ids);
  return Observation::InSync();
}

void CollectionStep::apply(Context& ctx) {
  const Target t = TargetOf(ctx);
  const auto client = ClientFor(ctx);
  const auto want = OurMetadata(ctx);
  int written = 0;
  if (!client.TenantExists(t.tenant) && client.CreateTenant(t.tenant)) ++written;
  if (!client.DatabaseId(t.tenant, t.params.database) && client.CreateDatabase(t.tenant, t.params.database))
    ++written;

  std::vector<std::string> ids;
  for (const auto& name : t.params.collections) {
    ctx.check_cancelled();
    auto c = client.GetCollection(t.tenant, t.params.database, name);
    if (!c) {
      nlohmann::json metadata = want;
      metadata[kSpaceKey] = t.params.space;
      c = client.CreateCollection(t.tenant, t.params.database, name, metadata);
      if (c) ++written;
      if (!c) c = client.GetCollection(t.tenant, t.params.database, name);  // created concurrently
      if (!c) throw Error(MATIH_STATUS_ABORTED, "collection " + name + " vanished while it was created");
    }
    const std::string other = c->metadata.contains(kMetaTenantId) ? Text(c->metadata[kMetaTenantId]) : "";
    if (!other.empty() && other != ctx.tenant_id())
      throw PermanentError("collection " + name + " of Chroma tenant " + t.tenant +
                           " belongs to another tenant");
    if (!c->space.empty() && c->space != t.params.space)
      throw PermanentError("collection " + name + " of Chroma tenant " + t.tenant + " uses distance '" +
                           c->space + "', params want '" + t.params.space +
                           "'; a distance cannot change in place: delete the collection to recreate it");
    if (!MetadataProblem(c->metadata, want).empty()) {
      nlohmann::json merged = c->metadata;  // an update replaces the whole metadata: keep others' keys
      for (const auto& [k, v] : want.items()) merged[k] = v;
      client.SetCollectionMetadata(t.tenant, t.params.database, c->id, merged);
      ++written;
    }
    client.Count(t.tenant, t.params.database, c->id);  // the data plane answers for this collection
    ids.push_back(c->id);
  }
  for (const auto& c : client.ListCollections(t.tenant, t.params.database)) {
    if (!IsOurs(c, ctx.tenant_id()) || std::find(t.params.collections.begin(), t.params.collections.end(),
                                                 c.name) != t.params.collections.end())
      continue;
    client.DeleteCollection(t.tenant, t.params.database, c.name);
    ctx.info("deleted collection " + c.name + " of Chroma tenant " + t.tenant + ", no longer in the catalog");
    ++written;
  }
  if (written > 0)
    ctx.info(std::to_string(written) + " change(s) to Chroma tenant " + t.tenant + ", database " +
             t.params.database);
  SetOutputs(ctx, t, ids);
}

void CollectionStep::remove(Context& ctx) {
  const Target t = TargetOf(ctx);
  const auto client = ClientFor(ctx);
  const bool deleted = client.DeleteDatabase(t.tenant, t.params.database);
  if (deleted || client.TenantExists(t.tenant))
    ctx.info(std::string(deleted ? "deleted database " + t.params.database + " with its collections; " : "") +
             "Chroma cannot delete tenants (405): Chroma tenant " + t.tenant +
             " stays, without our database");
}

}  // namespace matih::plugins::vector
