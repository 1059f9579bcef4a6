// data.database (step 21, provision-database): a PostgreSQL database per tenant, owned by a login
// role of its own, on the tier's server (setting data.<shared|dedicated>.database_url).
//
// Database and role are both named TenantSqlName(slug) ("t_<slug>"). The role may log in and
// nothing more (NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS, a connection limit
// per tier); CONNECT and TEMPORARY on the database are revoked from PUBLIC, so no other tenant's
// role can even connect. The password (32 base62 characters) lives in the secret store as
// secret `postgres/password` (shared: other plugins read it as matih-data/postgres/password) and
// reaches the server only as a SCRAM-SHA-256 verifier, never in plaintext.
//
// observe: ABSENT when neither role nor database exists; DRIFTED (with a short diff, never a
// secret) when either is missing, the owner or a role attribute or the connection limit differs,
// PUBLIC may connect, or the role's verifier does not match the stored password. apply repairs
// exactly that (an existing stored password is reset on the role, never rotated). remove drops
// the database (WITH (FORCE): its sessions are ended), the role and the secret.
//
// Params (catalog, optional): connection_limit: {<tier>: n}, n from -1 (no limit) to 10000; a
// tier not listed has no limit.
// The login of the setting must be a superuser (it reads pg_authid and creates databases owned
// by other roles). Outputs: database, role, host, port, password_secret.
// Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::data {

inline constexpr const char* kDatabasePasswordSecret = "postgres/password";

class DatabaseStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::data
