#include "storage/containers_step.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "common/secure_token.h"
#include "storage/blob_client.h"
#include "storage/storage_settings.h"
#include "storage/tenant_containers.h"

namespace matih::plugins::storage {
namespace {

constexpr long long kStartSkewSeconds = 300;  // a policy starts a little in the past (clock skew)
constexpr size_t kMaxPolicies = 5;            // the Blob service's limit per container

long long Now() { return static_cast<long long>(std::time(nullptr)); }

std::string WhatFor(const Context& ctx) { return "step " + ctx.step_name() + " of tenant " + ctx.slug(); }

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

bool IsOurs(const AccessPolicy& p) { return p.id.rfind(kPolicyPrefix, 0) == 0; }

const AccessPolicy* OurPolicy(const ContainerAcl& acl) {
  for (const auto& p : acl.policies)
    if (IsOurs(p)) return &p;
  return nullptr;
}

// What is wrong with our policy, or "".
std::string PolicyProblem(const ContainerAcl& acl, const ContainerParams& params) {
  const AccessPolicy* ours = OurPolicy(acl);
  if (!ours) return "no stored access policy";
  if (std::count_if(acl.policies.begin(), acl.policies.end(), IsOurs) > 1)
    return "several stored policies of ours";
  if (ours->permission != params.permissions)
    return "policy permissions: have '" + ours->permission + "', want '" + params.permissions + "'";
  auto expiry = ParseIsoTime(ours->expiry);
  if (!expiry) return "policy without a readable expiry";
  if (*expiry - Now() < static_cast<long long>(params.policy_days) * 86400 / 4) return "policy expires soon";
  auto start = ParseIsoTime(ours->start);
  if (!start || *start > Now()) return "policy not started";
  return "";
}

// Metadata differences, "" when equal.
std::string MetadataProblem(const std::map<std::string, std::string>& have,
                            const std::map<std::string, std::string>& want) {
  std::string diff;
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end())
      AddNote(diff, "metadata " + k + " missing");
    else if (it->second != v)
      AddNote(diff, "metadata " + k + ": have '" + it->second + "', want '" + v + "'");
  }
  for (const auto& [k, v] : have)
    if (!want.count(k)) AddNote(diff, "metadata " + k + " unexpected");
  return diff;
}

std::string OwnerOf(const ContainerInfo& c) {
  auto it = c.metadata.find(kMetaTenantId);
  return it == c.metadata.end() ? "" : it->second;
}

struct Target {
  ContainerParams params;
  std::vector<WantedContainer> wanted;
  std::optional<std::string> account;
};

Target TargetOf(const Context& ctx) {
  Target t;
  t.params = ContainerParams::Parse(ctx.params_json());
  t.wanted = WantedContainers(t.params, ctx.slug(), ctx.tier());
  t.account = ctx.output(t.params.account_step, "account_name");
  return t;
}

// Deletes a SAS secret. A host older than step ABI 1.2 cannot delete: the dead token is then
// overwritten with an empty value (observe and apply treat it as absent).
void ForgetSecret(Context& ctx, const std::string& name) {
  const matih_host_api* host = ctx.raw()->host;
  if (MATIH_ABI_HAS_FIELD(host, matih_host_api, callback_delete_secret) && host->callback_delete_secret)
    ctx.delete_secret(name);
  else if (ctx.secret(name))
    ctx.put_secret(name, "");
}

bool Wanted(const Target& t, const std::string& container) {
  return std::any_of(t.wanted.begin(), t.wanted.end(),
                     [&](const auto& w) { return w.container == container; });
}

// The outputs of apply, and of an observe that finds the containers in sync: names, never a SAS.
void SetOutputs(Context& ctx, const Target& t) {
  std::string names;
  for (const auto& w : t.wanted) names += (names.empty() ? "" : ",") + w.container;
  ctx.set_output("account_name", *t.account);
  ctx.set_output("containers", names);
}

}  // namespace

void ContainersStep::validate_params(std::string_view params_json) { ContainerParams::Parse(params_json); }

Observation ContainersStep::observe(Context& ctx) {
  const Target t = TargetOf(ctx);
  if (!t.account) return Observation::Absent();  // no account yet: nothing can exist
  const auto settings = StorageSettings::Load(ctx);
  const AccountKey key = settings.Key(*t.account);
  const auto client = settings.Client(*t.account, WhatFor(ctx));
  const std::string tenant = ctx.tenant_id();
  std::map<std::string, ContainerInfo> existing;
  for (auto& c : client.ListContainers(ctx.slug() + "-")) existing[c.name] = std::move(c);

  std::string diff;
  bool any = false;
  for (const auto& w : t.wanted) {
    auto it = existing.find(w.container);
    if (it == existing.end()) {
      AddNote(diff, "container " + w.container + " missing");
      continue;
    }
    any = true;
    if (auto m = MetadataProblem(it->second.metadata, WantedMetadata(tenant, ctx.slug(), w.name)); !m.empty())
      AddNote(diff, w.container + " " + m);
    auto acl = client.GetAcl(w.container);
    if (!acl) {
      AddNote(diff, "container " + w.container + " missing");
      continue;
    }
    if (!acl->public_access.empty())
      AddNote(diff, w.container + " public access '" + acl->public_access + "'");
    if (auto p = PolicyProblem(*acl, t.params); !p.empty()) {
      AddNote(diff, w.container + " " + p);
      continue;
    }
    auto sas = ctx.secret(kSasSecretPrefix + w.name);
    if (!sas)
      AddNote(diff, w.container + " SAS not in the secret store");
    else if (!ConstantTimeEquals(*sas, ContainerSasToken(key, w.container, OurPolicy(*acl)->id)))
      AddNote(diff, w.container + " SAS not bound to the current policy and key");
  }
  for (const auto& [name, info] : existing)
    if (OwnerOf(info) == tenant && !Wanted(t, name)) {
      any = true;
      AddNote(diff, "stale container " + name);
    }
  if (!any) return Observation::Absent();
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, t);
  return Observation::InSync();
}

void ContainersStep::apply(Context& ctx) {
  const Target t = TargetOf(ctx);
  if (!t.account)
    throw PermanentError("no storage account recorded for the tenant: step " + t.params.account_step +
                         " must run first");
  const auto settings = StorageSettings::Load(ctx);
  const AccountKey key = settings.Key(*t.account);
  const auto client = settings.Client(*t.account, WhatFor(ctx));
  const std::string tenant = ctx.tenant_id();
  int written = 0;

  for (const auto& w : t.wanted) {
    ctx.check_cancelled();
    const auto metadata = WantedMetadata(tenant, ctx.slug(), w.name);
    auto info = client.GetContainer(w.container);
    if (!info) {
      if (client.CreateContainer(w.container, metadata)) {
        ++written;
      } else {
        info = client.GetContainer(w.container);  // created concurrently
      }
    }
    if (info) {
      const std::string owner = OwnerOf(*info);
      if (!owner.empty() && owner != tenant)
        throw PermanentError("container " + w.container + " in account " + *t.account +
                             " belongs to another tenant (metadata " + kMetaTenantId + ")");
      if (!MetadataProblem(info->metadata, metadata).empty()) {
        client.SetMetadata(w.container, metadata);
        ++written;
      }
    }

    // Read, merge, write: the ACL write replaces the whole list.
    auto acl = client.GetAcl(w.container);
    if (!acl) throw Error(MATIH_STATUS_ABORTED, "container " + w.container + " vanished while it was set up");
    std::string policy_id = OurPolicy(*acl) ? OurPolicy(*acl)->id : "";
    if (!acl->public_access.empty() || !PolicyProblem(*acl, t.params).empty()) {
      // A policy that is gone was revoked: a new id, so no SAS of the old one comes back to life.
      if (policy_id.empty()) policy_id = std::string(kPolicyPrefix) + RandomBase62(16);
      std::vector<AccessPolicy> policies;
      for (const auto& p : acl->policies)
        if (!IsOurs(p)) policies.push_back(p);
      if (policies.size() + 1 > kMaxPolicies)
        throw PermanentError(
            "container " + w.container + " already holds " + std::to_string(policies.size()) +
            " stored access policies of others; the service allows " + std::to_string(kMaxPolicies));
      const long long now = Now();
      policies.push_back(AccessPolicy{policy_id, IsoTime(now - kStartSkewSeconds),
                                      IsoTime(now + static_cast<long long>(t.params.policy_days) * 86400),
                                      t.params.permissions});
      client.SetAcl(w.container, policies, acl->last_modified);
      ++written;
    }

    const std::string token = ContainerSasToken(key, w.container, policy_id);
    auto stored = ctx.secret(kSasSecretPrefix + w.name);
    if (!stored || !ConstantTimeEquals(*stored, token)) {
      ctx.put_secret(kSasSecretPrefix + w.name, token);
      ++written;
    }
    // The data plane, as the tenant will use it: list the container with its SAS.
    const long status = client.ListBlobsWithSas(w.container, token);
    if (status != 200)
      throw PermanentError("the SAS of container " + w.container + " was refused by account " + *t.account +
                           " (HTTP " + std::to_string(status) + ")");
  }

  for (const auto& c : client.ListContainers(ctx.slug() + "-")) {
    if (OwnerOf(c) != tenant || Wanted(t, c.name)) continue;
    client.DeleteContainer(c.name);
    auto name = c.metadata.find(kMetaContainer);
    if (name != c.metadata.end()) ForgetSecret(ctx, kSasSecretPrefix + name->second);
    ++written;
    ctx.info("deleted container " + c.name + ", no longer in the catalog for tier " + ctx.tier());
  }

  if (written > 0) {
    std::string names;
    for (const auto& w : t.wanted) names += (names.empty() ? "" : ",") + w.container;
    ctx.info(std::to_string(written) + " change(s) to containers " + names + " in account " + *t.account);
  }
  SetOutputs(ctx, t);
}

void ContainersStep::remove(Context& ctx) {
  const Target t = TargetOf(ctx);
  if (!t.account) {
    ctx.info("no storage account recorded for the tenant: no containers to delete");
    return;
  }
  const auto settings = StorageSettings::Load(ctx);
  const auto client = settings.Client(*t.account, WhatFor(ctx));
  const std::string tenant = ctx.tenant_id();
  std::set<std::string> secret_names;
  for (const auto& w : t.wanted) secret_names.insert(w.name);
  int deleted = 0;
  for (const auto& c : client.ListContainers(ctx.slug() + "-")) {
    const std::string owner = OwnerOf(c);
    // Ours by metadata; a wanted name without any owner is ours too (its metadata was stripped).
    if (owner != tenant && !(owner.empty() && Wanted(t, c.name))) continue;
    if (client.DeleteContainer(c.name)) ++deleted;
    auto name = c.metadata.find(kMetaContainer);
    if (name != c.metadata.end()) secret_names.insert(name->second);
  }
  // Deleting a container deletes its policies, which revokes the SAS; drop the dead tokens too.
  for (const auto& name : secret_names) ForgetSecret(ctx, kSasSecretPrefix + name);
  ctx.info("deleted " + std::to_string(deleted) + " container(s) of the tenant in account " + *t.account);
}

}  // namespace matih::plugins::storage
