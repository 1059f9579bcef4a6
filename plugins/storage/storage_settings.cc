#include "storage/storage_settings.h"

#include <algorithm>
#include <cctype>

#include "common/settings.h"

namespace matih::plugins::storage {

bool IsAccountName(std::string_view name) {
  return name.size() >= 3 && name.size() <= 24 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::islower(c) || std::isdigit(c);
         });
}

std::map<std::string, std::string> ParseAccountKeys(std::string_view text, std::string_view setting) {
  std::map<std::string, std::string> keys;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find_first_of(";\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string entry = Trim(text.substr(start, end - start));
    start = end + 1;
    if (entry.empty() || entry[0] == '#') continue;
    auto colon = entry.find(':');
    std::string account = Trim(entry.substr(0, colon == std::string::npos ? entry.size() : colon));
    if (colon == std::string::npos || !IsAccountName(account))
      throw InvalidArgument("setting targets." + std::string(setting) +
                            ": each entry must be account:base64key with a storage account name (3-24 "
                            "lowercase letters and digits); bad entry for '" +
                            account.substr(0, 24) + "'");
    std::string key = Trim(entry.substr(colon + 1));
    if (key.empty())
      throw InvalidArgument("setting targets." + std::string(setting) + ": no key for " + account);
    keys[account] = key;
  }
  return keys;
}

StorageSettings StorageSettings::Load(const Context& ctx) {
  StorageSettings s;
  s.endpoint_ = SettingOr(ctx, "storage.blob_endpoint", "https://{account}.blob.core.windows.net");
  if (s.endpoint_.find("{account}") == std::string::npos)
    throw InvalidArgument("setting targets.storage.blob_endpoint must contain {account}");
  if (auto inline_keys = ctx.setting("storage.account_keys")) {
    s.keys_ = ParseAccountKeys(*inline_keys, "storage.account_keys");
  } else if (auto file = ctx.setting("storage.account_keys_file")) {
    s.keys_ =
        ParseAccountKeys(ReadTextFile(*file, "the storage account keys (targets.storage.account_keys_file)"),
                         "storage.account_keys_file");
  } else {
    throw PermanentError(
        "missing runner setting targets.storage.account_keys_file (or targets.storage.account_keys)");
  }
  s.shared_ = SettingOr(ctx, "storage.shared_account", "");
  if (!s.shared_.empty() && !IsAccountName(s.shared_))
    throw InvalidArgument("setting targets.storage.shared_account is not a storage account name");
  for (const auto& name : SplitList(SettingOr(ctx, "storage.dedicated_accounts", ""))) {
    if (!IsAccountName(name))
      throw InvalidArgument("setting targets.storage.dedicated_accounts: '" + name +
                            "' is not a storage account name");
    if (name == s.shared_)
      throw InvalidArgument("setting targets.storage.dedicated_accounts must not hold the shared account " +
                            name);
    s.dedicated_.push_back(name);
  }
  if (auto t = ctx.setting("storage.timeout_ms"))
    s.timeout_ = std::chrono::milliseconds(std::max(100LL, ParseCount("storage.timeout_ms", *t)));
  return s;
}

const std::string& StorageSettings::shared_account() const {
  if (shared_.empty()) throw PermanentError("missing runner setting targets.storage.shared_account");
  return shared_;
}

AccountKey StorageSettings::Key(const std::string& account) const {
  auto it = keys_.find(account);
  if (it == keys_.end())
    throw PermanentError("no key for storage account " + account + " in targets.storage.account_keys(_file)");
  return AccountKey{account, it->second};
}

BlobClient StorageSettings::Client(const std::string& account, const std::string& what_for) const {
  return BlobClient(endpoint_, Key(account), timeout_, what_for);
}

}  // namespace matih::plugins::storage
