#include "terraform/cluster_step.h"

#include "common/settings.h"
#include "terraform/module_params.h"
#include "terraform/state_lock.h"
#include "terraform/tenant_targets.h"
#include "terraform/terraform_db.h"

namespace matih::plugins::terraform {
namespace {

struct Cluster {
  std::string name, region, endpoint, node_count;
  std::string credentials;  // never printed
};

// The cluster as step `from_step` (52) recorded it; PermanentError naming a missing output.
Cluster Wanted(Context& ctx, const ModuleParams& params) {
  auto need = [&](const char* key) {
    auto value = ctx.output(params.from_step, key);
    if (!value || value->empty())
      throw PermanentError("register-dedicated-cluster: step " + params.from_step + " has no output '" + key +
                           "' for tenant " + ctx.slug() + " (run it first)");
    return *value;
  };
  Cluster c{need("cluster_name"), need("cluster_region"), need("cluster_endpoint"), need("node_count"), {}};
  auto creds = ctx.secret(OutputSecretName(params.module, "kubeconfig"));
  if (!creds)
    throw PermanentError("register-dedicated-cluster: the cluster's credentials (secret " +
                         OutputSecretName(params.module, "kubeconfig") + ") are missing for tenant " +
                         ctx.slug());
  c.credentials = *creds;
  return c;
}

std::optional<Cluster> Registered(const std::string& url, const std::string& tenant_id) {
  std::optional<Cluster> found;
  WithTransaction(url, "read the dedicated cluster registry", true, [&](pqxx::work& tx) {
    auto rows = tx.exec(
        "SELECT cluster_name, region, endpoint, node_count::text FROM control_plane.dedicated_clusters "
        "WHERE tenant_id::text = " +
        tx.quote(tenant_id));
    if (!rows.empty())
      found = Cluster{rows[0][0].c_str(), rows[0][1].c_str(), rows[0][2].c_str(), rows[0][3].c_str(), {}};
  });
  return found;
}

std::string Differences(const Cluster& have, const Cluster& want) {
  std::string diff;
  auto add = [&](const char* field, const std::string& h, const std::string& w) {
    if (h != w)
      diff += (diff.empty() ? "" : "; ") + std::string(field) + ": have '" + h + "', want '" + w + "'";
  };
  add("cluster_name", have.name, want.name);
  add("region", have.region, want.region);
  add("endpoint", have.endpoint, want.endpoint);
  add("node_count", have.node_count, want.node_count);
  return diff;
}

void SetOutputs(Context& ctx, const Cluster& c) {
  ctx.set_output("placement", "dedicated cluster " + c.name + " (" + c.region + ")");
  ctx.set_output("cluster_name", c.name);
  ctx.set_output("cluster_endpoint", c.endpoint);
  ctx.set_output("credentials_secret", kClusterCredentialsSecret);
}

}  // namespace

Observation RegisterClusterStep::observe(Context& ctx) {
  const ModuleParams params = ParseModuleParams(ctx.params_json());
  const std::string url = DatabaseUrl(ctx);
  if (!TerraformTablesExist(url)) return Observation::Absent();
  auto have = Registered(url, ctx.tenant_id());
  if (!have) return Observation::Absent();
  const Cluster want = Wanted(ctx, params);
  std::string diff = Differences(*have, want);
  if (ctx.secret(kClusterCredentialsSecret) != want.credentials)
    diff += (diff.empty() ? "" : "; ") + std::string("cluster credentials in the secret store differ");
  if (std::string targets = TargetDifferences(ctx, WantedTargets(ctx, params)); !targets.empty())
    diff += (diff.empty() ? "" : "; ") + targets;
  auto lock = ReadStateLock(ctx);
  if (lock && lock->epoch == ctx.lease_epoch())
    diff += (diff.empty() ? "" : "; ") + std::string("the Terraform state lock of this claim is still held");
  return diff.empty() ? Observation::InSync() : Observation::Drifted(diff);
}

void RegisterClusterStep::apply(Context& ctx) {
  ReleasingOnFailure(ctx, [&] {
    const ModuleParams params = ParseModuleParams(ctx.params_json());
    const std::string url = DatabaseUrl(ctx);
    AcquireStateLock(ctx);
    const Cluster want = Wanted(ctx, params);
    EnsureTerraformTables(url);
    auto have = Registered(url, ctx.tenant_id());
    if (!have || !Differences(*have, want).empty()) {
      WithTransaction(url, "register the dedicated cluster", true, [&](pqxx::work& tx) {
        if (tx.exec("SELECT 1 FROM control_plane.tenants WHERE id::text = " + tx.quote(ctx.tenant_id()))
                .empty())
          throw PermanentError("register-dedicated-cluster: tenant " + ctx.slug() +
                               " has no control-plane record (step create-tenant-record)");
        tx.exec(
            "INSERT INTO control_plane.dedicated_clusters (tenant_id, cluster_name, region, endpoint, "
            "node_count, "
            "credentials_secret) VALUES (" +
            tx.quote(ctx.tenant_id()) + "::uuid, " + tx.quote(want.name) + ", " + tx.quote(want.region) +
            ", " + tx.quote(want.endpoint) + ", " + tx.quote(want.node_count) + "::integer, " +
            tx.quote(kClusterCredentialsSecret) +
            ") ON CONFLICT (tenant_id) DO UPDATE SET cluster_name = EXCLUDED.cluster_name, region = "
            "EXCLUDED.region, endpoint = EXCLUDED.endpoint, node_count = EXCLUDED.node_count, "
            "credentials_secret = EXCLUDED.credentials_secret, registered_at = now()");
      });
    }
    if (ctx.secret(kClusterCredentialsSecret) != want.credentials)
      ctx.put_secret(kClusterCredentialsSecret, want.credentials);
    SetOutputs(ctx, want);
    RecordTargets(ctx, WantedTargets(ctx, params));
  });
  // Phase 7 is done: the next claim may take the lock at once.
  ReleaseStateLock(ctx);
}

void RegisterClusterStep::remove(Context& ctx) {
  ForgetTargets(ctx, ParseModuleParams(ctx.params_json()));
  const std::string url = DatabaseUrl(ctx);
  if (TerraformTablesExist(url)) {
    WithTransaction(url, "unregister the dedicated cluster", true, [&](pqxx::work& tx) {
      tx.exec("DELETE FROM control_plane.dedicated_clusters WHERE tenant_id::text = " +
              tx.quote(ctx.tenant_id()));
    });
  }
  ctx.delete_secret(kClusterCredentialsSecret);
}

void RegisterClusterStep::validate_params(std::string_view params_json) { ParseModuleParams(params_json); }

}  // namespace matih::plugins::terraform
