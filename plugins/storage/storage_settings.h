// StorageSettings: the [targets] settings of matih-storage, read once per step call, and the
// BlobClient of an account they describe.
//
//   storage.blob_endpoint      Blob endpoint template with {account} (default
//                              https://{account}.blob.core.windows.net)
//   storage.account_keys_file  file of "account:base64key" entries, separated by ';' or newlines
//   storage.account_keys       the same entries inline (secret); one of the two is required
//   storage.shared_account     the account of the shared tiers (required for FREE/STARTER)
//   storage.dedicated_accounts comma list: the pool of dedicated accounts
//   storage.database_url       PostgreSQL holding the pool's claims (required for dedicated)
//   storage.timeout_ms         per HTTP request (default 10000)
// Key values never appear in a message. Immutable after Load; safe to share between threads.
#pragma once

#include <chrono>
#include <map>
#include <matih/step.hpp>
#include <string>
#include <vector>

#include "storage/blob_client.h"

namespace matih::plugins::storage {

class StorageSettings {
 public:
  static StorageSettings Load(const Context& ctx);

  const std::string& shared_account() const;  // PermanentError when unset
  const std::vector<std::string>& dedicated_accounts() const { return dedicated_; }
  // A client of `account`; PermanentError when no key is configured for it.
  BlobClient Client(const std::string& account, const std::string& what_for) const;
  // The key of `account` (for SAS signatures); PermanentError when none.
  AccountKey Key(const std::string& account) const;

 private:
  std::string endpoint_;
  std::map<std::string, std::string> keys_;
  std::string shared_;
  std::vector<std::string> dedicated_;
  std::chrono::milliseconds timeout_{10000};
};

// "acct1:key1;acct2:key2" (or one entry per line) -> account -> key; InvalidArgument naming the
// bad entry's account (never a key).
std::map<std::string, std::string> ParseAccountKeys(std::string_view text, std::string_view setting);
// Storage account names: 3-24 lowercase letters and digits.
bool IsAccountName(std::string_view name);

}  // namespace matih::plugins::storage
