// matih-vault: phase 3, steps 16 (create-key-vault, kind vault.vault) and 17
// (store-tenant-secrets, kind vault.tenant_secrets).
//
// Settings read (runner config, section [targets]; config/targets.example.conf has examples):
//   vault.backend            builtin (default: the runner's encrypted secret store) | azure-key-vault
//   Azure Key Vault backend: vault.azure_url (https://<vault>.vault.azure.net, required),
//                            vault.azure_token (bearer token, required, secret),
//                            vault.azure_deleted (recover (default) | purge), vault.timeout_ms (10000)
//   vault.secret_store_kind  ClusterSecretStore (default) | SecretStore: what the ExternalSecrets reference
//   vault.secret_store_name  its name (matih-vault)
//   kubernetes.managed_by    label value (matih-provisioner)
//   plus the delivery settings of plugins/support/kube_delivery (kubernetes.delivery, gitops.*, ...).
// Params and outputs: vault_step.h, tenant_secrets_step.h.
#include <matih/step.hpp>

#include "kube_delivery/delivery_from_settings.h"
#include "vault/tenant_secrets_step.h"
#include "vault/vault_backend.h"
#include "vault/vault_step.h"

MATIH_PLUGIN("matih-vault", "1.0.0") {
  matih::plugins::vault::DeclareBackendSettings(plugin);
  plugin.setting(
      "vault.secret_store_kind",
      "kind of the store the ExternalSecrets reference: ClusterSecretStore (default) or SecretStore");
  plugin.setting("vault.secret_store_name", "name of that store (matih-vault)");
  matih::plugins::DeclareDeliverySettings(plugin);
  plugin.add<matih::plugins::vault::VaultStep>(
      "vault.vault", "The tenant's vault: a data key in the secret store, or Azure Key Vault");
  plugin.add<matih::plugins::vault::TenantSecretsStep>(
      "vault.tenant_secrets",
      "Copies shared tenant credentials into the vault and writes ExternalSecrets for the cluster");
}
