#include "vault/vault_backend.h"

#include <chrono>

#include "common/settings.h"
#include "vault/key_vault_client.h"

namespace matih::plugins::vault {
namespace {

class BuiltinBackend final : public VaultBackend {
 public:
  BuiltinBackend(Context& ctx) : ctx_(ctx), slug_(ctx.slug()) {}
  std::optional<std::string> Get(const std::string& entry) override { return ctx_.secret(Name(entry)); }
  void Put(const std::string& entry, const std::string& value) override {
    ctx_.put_secret(Name(entry), value);
  }
  void Delete(const std::string& entry) override { ctx_.delete_secret(Name(entry)); }
  std::string RemoteKey(const std::string& entry) const override { return "tenant-" + slug_ + "/" + entry; }
  std::string Describe() const override { return "builtin"; }

 private:
  static std::string Name(const std::string& entry) { return "entries/" + entry; }
  Context& ctx_;
  std::string slug_;
};

class AzureKeyVaultBackend final : public VaultBackend {
 public:
  AzureKeyVaultBackend(Context& ctx, bool purge_deleted)
      : slug_(ctx.slug()),
        client_(ctx.required_setting("vault.azure_url"), ctx.required_setting("vault.azure_token"),
                std::chrono::milliseconds(
                    ParseCount("vault.timeout_ms", SettingOr(ctx, "vault.timeout_ms", "10000")))),
        purge_deleted_(purge_deleted) {}

  std::optional<std::string> Get(const std::string& entry) override {
    auto secret = client_.Get(Name(entry));
    if (!secret) return std::nullopt;
    CheckOwner(entry, *secret);
    return secret->value;
  }

  void Put(const std::string& entry, const std::string& value) override {
    const std::string name = Name(entry);
    if (auto existing = client_.Get(name)) CheckOwner(entry, *existing);
    KeyVaultSecret secret{value, {{"matih-tenant", slug_}, {"managed-by", "matih-provisioner"}}};
    if (client_.Set(name, secret) == 200) return;
    // 409: a deleted-but-recoverable secret of that name is in the way.
    if (purge_deleted_) {
      client_.Purge(name);
    } else {
      client_.Recover(name);
    }
    if (client_.Set(name, secret) != 200)
      throw TransientError("Azure Key Vault at " + client_.vault_url() + " still holds deleted secret " +
                           name + " (" + (purge_deleted_ ? "purge" : "recovery") + " under way)");
  }

  void Delete(const std::string& entry) override {
    const std::string name = Name(entry);
    if (auto existing = client_.Get(name)) CheckOwner(entry, *existing);
    client_.Delete(name);
    if (purge_deleted_) client_.Purge(name);
  }

  std::string RemoteKey(const std::string& entry) const override { return Name(entry); }
  std::string Describe() const override { return "azure-key-vault " + client_.vault_url(); }

 private:
  std::string Name(const std::string& entry) const {
    std::string name = "t-" + slug_ + "-" + entry;
    if (!IsValidKeyVaultName(name))
      throw InvalidArgument("vault entry " + name +
                            " is not a valid Key Vault secret name (1-127 of [0-9a-zA-Z-])");
    return name;
  }
  void CheckOwner(const std::string& entry, const KeyVaultSecret& secret) const {
    auto it = secret.tags.find("matih-tenant");
    if (it == secret.tags.end() || it->second != slug_)
      throw PermanentError("Azure Key Vault secret " + Name(entry) + " at " + client_.vault_url() +
                           " is not tagged matih-tenant=" + slug_ + ": it is not this tenant's; left alone");
  }

  std::string slug_;
  KeyVaultClient client_;
  bool purge_deleted_;
};

}  // namespace

std::unique_ptr<VaultBackend> BackendFromSettings(Context& ctx) {
  const std::string backend = SettingOr(ctx, "vault.backend", "builtin");
  if (backend == "builtin") return std::make_unique<BuiltinBackend>(ctx);
  if (backend == "azure-key-vault") {
    const std::string deleted = SettingOr(ctx, "vault.azure_deleted", "recover");
    if (deleted != "recover" && deleted != "purge")
      throw InvalidArgument("setting vault.azure_deleted must be recover or purge, not '" + deleted + "'");
    return std::make_unique<AzureKeyVaultBackend>(ctx, deleted == "purge");
  }
  throw InvalidArgument("setting vault.backend must be builtin or azure-key-vault, not '" + backend + "'");
}

void DeclareBackendSettings(Plugin& plugin) {
  plugin.setting("vault.backend",
                 "where tenant vaults live: builtin (default, the runner's secret store) or azure-key-vault");
  plugin.setting("vault.azure_url",
                 "Azure Key Vault URL, https://<vault>.vault.azure.net (azure-key-vault backend)");
  plugin.setting("vault.azure_token", "bearer token for Azure Key Vault (azure-key-vault backend)",
                 MATIH_SETTING_SECRET);
  plugin.setting(
      "vault.azure_deleted",
      "what to do with a soft-deleted Key Vault secret in the way: recover (default) or purge; purge "
      "also purges what remove deletes");
  plugin.setting("vault.timeout_ms", "timeout of one Key Vault request in milliseconds (10000)");
}

}  // namespace matih::plugins::vault
