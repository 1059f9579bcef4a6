#include "control_plane/control_plane_db.h"

#include "common/control_plane_schema.h"
#include "common/settings.h"

namespace matih::plugins {

PgSession OpenControlPlane(const Context& ctx) {
  const std::string url = ctx.required_setting("controlplane.database_url");
  PgSession session(url);
  EnsureControlPlaneSchema(session, url);
  return session;
}

std::optional<PgSession> OpenExistingControlPlane(const Context& ctx) {
  std::optional<PgSession> session(std::in_place, ctx.required_setting("controlplane.database_url"));
  if (!ControlPlaneSchemaExists(*session)) return std::nullopt;
  return session;
}

std::string LoadHashKey(const Context& ctx) {
  const std::string path = ctx.required_setting("controlplane.hash_key_file");
  std::string key = Trim(ReadTextFile(path, "the hash key (setting targets.controlplane.hash_key_file)"));
  if (key.size() < 32)
    throw PermanentError(
        "the hash key file (setting targets.controlplane.hash_key_file) must hold at least 32 bytes");
  return key;
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

void AddDifference(std::string& diff, const std::string& field, const std::string& have,
                   const std::string& want) {
  AddNote(diff, field + ": have '" + have + "', want '" + want + "'");
}

}  // namespace matih::plugins
