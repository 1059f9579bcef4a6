#include "terraform/terraform_db.h"

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/control_plane_schema.h"

namespace matih::plugins::terraform {
namespace {

// Advisory lock keys (two-int form, never Terraform's single-bigint ones): 'MATI' and 50.
constexpr int kLockClass = 0x4d415449;
constexpr int kTablesLock = 50;

constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS control_plane.terraform_state_locks (
  tenant_id     text PRIMARY KEY,
  holder_run_id text NOT NULL,
  lease_epoch   bigint NOT NULL,
  acquired_at   timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS control_plane.dedicated_clusters (
  tenant_id          uuid PRIMARY KEY REFERENCES control_plane.tenants (id) ON DELETE CASCADE,
  cluster_name       text NOT NULL,
  region             text NOT NULL,
  endpoint           text NOT NULL,
  node_count         integer NOT NULL,
  credentials_secret text NOT NULL,
  registered_at      timestamptz NOT NULL DEFAULT now()
);
)sql";

struct Cached {
  std::mutex mu;
  std::unique_ptr<PgSession> session;
  bool tables_ready = false;
};

Cached& CachedFor(const std::string& url) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Cached>> all;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = all[url];
  if (!slot) slot = std::make_unique<Cached>();
  return *slot;
}

}  // namespace

std::string DatabaseUrl(const Context& ctx) { return ctx.required_setting("terraform.database_url"); }

void WithTransaction(const std::string& url, const std::string& what, bool as_control_plane,
                     const std::function<void(pqxx::work&)>& fn) {
  Cached& cached = CachedFor(url);
  std::lock_guard<std::mutex> lock(cached.mu);
  if (cached.session && !cached.session->connection().is_open()) cached.session.reset();
  if (!cached.session) cached.session = std::make_unique<PgSession>(url);
  try {
    cached.session->Transact(what, [&](pqxx::work& tx) {
      if (as_control_plane) EnterControlPlaneRole(tx);
      fn(tx);
    });
  } catch (const Error& e) {
    if (e.code() == MATIH_STATUS_UNAVAILABLE) cached.session.reset();  // reconnect next time
    throw;
  }
}

void EnsureTerraformTables(const std::string& url) {
  {
    Cached& cached = CachedFor(url);
    std::lock_guard<std::mutex> lock(cached.mu);
    if (cached.tables_ready) return;
    if (!cached.session) cached.session = std::make_unique<PgSession>(url);
    EnsureControlPlaneSchema(*cached.session, url);
  }
  WithTransaction(url, "create the Terraform lock and cluster tables", true, [](pqxx::work& tx) {
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockClass) + ", " +
            std::to_string(kTablesLock) + ")");
    tx.exec(kCreateTables);
  });
  Cached& cached = CachedFor(url);
  std::lock_guard<std::mutex> lock(cached.mu);
  cached.tables_ready = true;
}

bool TerraformTablesExist(const std::string& url) {
  bool exists = false;
  WithTransaction(url, "look for the Terraform lock and cluster tables", false, [&](pqxx::work& tx) {
    exists = !tx.exec1("SELECT to_regclass('control_plane.dedicated_clusters')")[0].is_null();
  });
  return exists;
}

long long StateSerial(const std::string& url, const std::string& schema, const std::string& workspace) {
  long long serial = -1;
  WithTransaction(url, "read the Terraform state of workspace " + workspace, false, [&](pqxx::work& tx) {
    if (tx.exec1("SELECT to_regclass(" + tx.quote(schema + ".states") + ")")[0].is_null()) return;
    auto rows =
        tx.exec("SELECT data FROM " + tx.quote_name(schema) + ".states WHERE name = " + tx.quote(workspace));
    if (rows.empty()) return;
    try {
      serial = nlohmann::json::parse(rows[0][0].c_str()).value("serial", 0LL);
    } catch (const std::exception&) {
      serial = 0;
    }
  });
  return serial;
}

bool StateExists(const std::string& url, const std::string& schema, const std::string& workspace) {
  return StateSerial(url, schema, workspace) >= 0;
}

bool DatabaseReachable(const std::string& url) {
  try {
    pqxx::connection c(url);
    return c.is_open();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace matih::plugins::terraform
