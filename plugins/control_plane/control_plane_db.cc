#include "control_plane/control_plane_db.h"

#include "common/control_plane_schema.h"
#include "common/key_file.h"
#include "common/settings.h"

namespace matih::plugins {

namespace {

// Lives as long as the process: leases may be returned during static destruction otherwise.
PgPool& Pool() {
  static auto* pool = new PgPool();
  return *pool;
}

}  // namespace

PgPool::Lease OpenControlPlane(const Context& ctx) {
  const std::string url = ctx.required_setting("controlplane.database_url");
  PgPool::Lease lease = Pool().Acquire(url);
  EnsureControlPlaneSchema(*lease, url);
  return lease;
}

std::optional<PgPool::Lease> OpenExistingControlPlane(const Context& ctx) {
  std::optional<PgPool::Lease> lease(Pool().Acquire(ctx.required_setting("controlplane.database_url")));
  if (!ControlPlaneSchemaExists(**lease)) return std::nullopt;
  return lease;
}

std::string LoadHashKey(const Context& ctx) {
  // The runner's start check and this one are the same rule (common/key_file.h).
  return ReadKeyFile("targets.controlplane.hash_key_file",
                     ctx.required_setting("controlplane.hash_key_file"));
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

void AddDifference(std::string& diff, const std::string& field, const std::string& have,
                   const std::string& want) {
  AddNote(diff, field + ": have '" + have + "', want '" + want + "'");
}

}  // namespace matih::plugins
