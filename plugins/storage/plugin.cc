// matih-storage: phase 3 of provisioning, steps 14-15, on Azure Storage's Blob REST API (Azurite
// locally: scripts/stack.d/azurite.sh).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   storage.blob_endpoint       Blob endpoint with {account}: https://{account}.blob.core.windows.net
//                               (default), http://127.0.0.1:10000/{account} for Azurite
//   storage.account_keys_file   file of account:base64key entries (';' or newline separated), or
//   storage.account_keys        the same inline (secret); one of the two is required
//   storage.shared_account      the account of the shared tiers (FREE, STARTER)
//   storage.dedicated_accounts  comma list: the pool of dedicated accounts (PROFESSIONAL, ENTERPRISE)
//   storage.database_url        libpq URL of the database holding the pool's claims (table
//                               storage.account_pool, created on first use); dedicated tiers only
//   storage.timeout_ms          per HTTP request (default 10000)
// Secrets written (secret store only): sas/<container name> per container, the SAS query string;
// shared with other plugins ("sas/*": read as shared_secret("matih-storage", "sas/raw")).
#include <matih/step.hpp>

#include "storage/account_step.h"
#include "storage/containers_step.h"

MATIH_PLUGIN("matih-storage", "1.0.0") {
  plugin.setting("storage.blob_endpoint", "Blob endpoint template with {account} (default Azure's)");
  plugin.setting("storage.account_keys_file", "file of account:base64key entries, ';' or newline separated");
  plugin.setting("storage.account_keys", "account:base64key entries inline, instead of the file",
                 MATIH_SETTING_SECRET);
  plugin.setting("storage.shared_account", "storage account of the shared tiers (FREE, STARTER)");
  plugin.setting("storage.dedicated_accounts",
                 "comma list: pool of dedicated accounts (PROFESSIONAL, ENTERPRISE)");
  plugin.setting("storage.database_url", "PostgreSQL URL of the dedicated account pool's claims",
                 MATIH_SETTING_SECRET);
  plugin.setting("storage.timeout_ms", "timeout of one Blob service request in ms (default 10000)");
  plugin.share_secret("sas/*");
  plugin.add<matih::plugins::storage::AccountStep>(
      "storage.account",
      "The tenant's storage account: the shared one, or a dedicated one claimed from the pool");
  plugin.add<matih::plugins::storage::ContainersStep>(
      "storage.containers",
      "Private containers <slug>-<name> with tenant metadata, a stored policy and a bound SAS");
  plugin.adoptable("storage.containers");
}
