// matih-terraform: phase 7 of provisioning for the dedicated tiers (steps 50-54): the tenant's
// Terraform state lock, plan and apply of the tenant's modules with the real terraform binary
// (state in PostgreSQL, pg backend, a workspace per tenant), and the dedicated cluster's
// registration in the control plane. Modules: config/terraform/ (README there).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   terraform.database_url         required: libpq URL of the control-plane database: Terraform
//                                  state (schema <prefix>_<module>), the state lock and the
//                                  cluster registry; give sslmode (Terraform's lib/pq requires
//                                  TLS otherwise): ...?sslmode=disable locally
//   terraform.binary               the terraform executable (default: `terraform` on PATH)
//   terraform.modules_dir          root of the modules, <dir>/<module>/<tier> (default
//                                  config/terraform/local)
//   terraform.work_dir             CLI config, plugin cache, per-tenant data dirs and saved plans
//                                  (default var/terraform)
//   terraform.local_root           variable local_root of the local modules: where the local
//                                  "dedicated cluster" folders go (default <work_dir>/local)
//   terraform.dedicated_database_url  local modules: admin URL of the PostgreSQL server a
//                                  dedicated tenant gets as its own (its data.dedicated.database_url,
//                                  through the vault); unset: the runner's data.dedicated.* stays
//   terraform.dedicated_redis_url  local modules: redis://user@host:port of the admin login on the
//                                  Redis each dedicated tenant gets (its data.dedicated.redis_url,
//                                  through the vault), and
//   terraform.dedicated_redis_password_file  the file of that login's password (the module puts
//                                  the password into the tenant's data.dedicated.redis_url)
//   terraform.dedicated_nats_url   nats:// URL of the NATS server (JetStream) each dedicated tenant
//                                  gets (its data.dedicated.nats_url, through the vault)
//   terraform.dedicated_chroma_url URL of the Chroma server each dedicated tenant gets (its
//                                  vector.chroma_url); these five are variables of the modules
//                                  (database_server_url, cache_server_url, cache_password_file,
//                                  messaging_server_url, vector_server_url), unset: not passed
//   terraform.state_schema_prefix  pg backend schema prefix (default matih_tfstate)
//   terraform.lock_ttl_seconds     lifetime of a state lock a runner stops renewing (1800)
//   terraform.timeout_seconds      longest single terraform command (1200; the step's deadline
//                                  ends it earlier)
//   terraform.kill_grace_seconds   SIGTERM to SIGKILL of a stopped terraform's group (10)
// Secrets written: terraform/<module>/var/<name> (generated secret variables),
// terraform/<module>/output/<name> (sensitive outputs), cluster/kubeconfig (shared),
// targets/<setting-key> (the tenant's secret targets; step 54 records outputs
// target.<setting-key> = vault:targets/<setting-key>, read by the runner, never by plugins).
#include <matih/step.hpp>

#include "terraform/apply_step.h"
#include "terraform/cluster_step.h"
#include "terraform/lock_step.h"
#include "terraform/plan_step.h"

MATIH_PLUGIN("matih-terraform", "1.0.0") {
  plugin.setting("terraform.database_url",
                 "libpq URL of the control-plane database (Terraform state, state lock, cluster registry)",
                 MATIH_SETTING_REQUIRED | MATIH_SETTING_SECRET);
  plugin.setting("terraform.binary", "the terraform executable (default: terraform on PATH)");
  plugin.setting("terraform.modules_dir", "root of the Terraform modules, <dir>/<module>/<tier>");
  plugin.setting("terraform.work_dir", "Terraform working files: CLI config, plugin cache, per-tenant plans");
  plugin.setting("terraform.local_root", "local modules: folder of the local dedicated-cluster folders");
  plugin.setting("terraform.dedicated_database_url",
                 "local modules: admin URL of the PostgreSQL server given to each dedicated tenant",
                 MATIH_SETTING_SECRET);
  plugin.setting("terraform.dedicated_redis_url",
                 "local modules: redis:// URL of the admin login on the Redis given to each dedicated tenant",
                 MATIH_SETTING_SECRET);
  plugin.setting("terraform.dedicated_redis_password_file",
                 "local modules: file of the password of terraform.dedicated_redis_url's login");
  plugin.setting("terraform.dedicated_nats_url",
                 "nats:// URL of the NATS server (JetStream) given to each dedicated tenant",
                 MATIH_SETTING_SECRET);
  plugin.setting("terraform.dedicated_chroma_url", "URL of the Chroma server given to each dedicated tenant");
  plugin.setting("terraform.state_schema_prefix", "pg backend schema prefix (matih_tfstate)");
  plugin.setting("terraform.lock_ttl_seconds",
                 "lifetime of a Terraform state lock that is not renewed (1800)");
  plugin.setting("terraform.timeout_seconds", "longest single terraform command (1200)");
  plugin.setting("terraform.kill_grace_seconds", "SIGTERM to SIGKILL of a stopped terraform (10)");
  // The plugins that deploy onto the dedicated cluster read its credentials.
  plugin.share_secret("cluster/kubeconfig");
  plugin.add<matih::plugins::terraform::StateLockStep>(
      "terraform.lock", "The tenant's Terraform state lock, fenced by the lease epoch");
  plugin.add<matih::plugins::terraform::PlanStep>("terraform.plan",
                                                  "terraform plan of a tenant's module into a saved plan");
  plugin.add<matih::plugins::terraform::ApplyStep>(
      "terraform.apply",
      "terraform apply of a tenant's module; outputs to the tenant, sensitive ones to the vault");
  plugin.add<matih::plugins::terraform::RegisterClusterStep>(
      "terraform.cluster", "The dedicated cluster registered in the control plane; releases the state lock");
}
