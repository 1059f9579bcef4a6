// What every control-plane step needs before it touches a row: a session on the database at
// setting `controlplane.database_url` with the schema in place, and the platform's hash key.
//
// Settings read ([targets]):
//   controlplane.database_url    required  libpq URL; the login must be a member of role
//                                          matih_control_plane (see control_plane_schema.h)
//   controlplane.hash_key_file   required for invite tokens and API keys: a file of mode 0600 (or
//                                stricter) holding at least 32 key bytes (64 hex digits, base64
//                                of 32 bytes, or 32 raw bytes: common/key_file.h, the runner's
//                                start check); its trimmed text is the HMAC-SHA256 key of the
//                                stored hashes; the platform's API gateway verifies keys with it
// Sessions come from one PgPool per process (plugins/support/pg_pool), so a step call reuses an
// idle connection instead of opening one. Safe to call from any thread.
#pragma once

#include <matih/step.hpp>
#include <optional>
#include <string>

#include "common/pg_session.h"
#include "pg_pool/pg_pool.h"

namespace matih::plugins {

// A pooled session with the control-plane schema ensured (apply); `*lease` is the PgSession.
PgPool::Lease OpenControlPlane(const Context& ctx);
// A pooled session when the schema exists, else nullopt; creates nothing (observe, remove).
std::optional<PgPool::Lease> OpenExistingControlPlane(const Context& ctx);

// The hash key (the file's trimmed text); PermanentError naming the setting and the problem
// (never the key) when the file is missing, not a regular file, open to group or others, or short.
std::string LoadHashKey(const Context& ctx);

// "field: have X, want Y" lines joined with "; ".
void AddDifference(std::string& diff, const std::string& field, const std::string& have,
                   const std::string& want);
void AddNote(std::string& diff, const std::string& note);

}  // namespace matih::plugins
