// vault.tenant_secrets (step 17, store-tenant-secrets): copies the tenant's generated credentials
// that other plugins share (ctx.shared_secret) into the tenant's vault (vault_backend.h), and
// delivers for the cluster one ExternalSecret (external-secrets.io/v1beta1) per group, whose
// remoteRef keys name those vault entries, through plugins/support/kube_delivery. No value ever
// goes to the cluster objects, git, outputs or diffs: the External Secrets Operator reads the
// vault through the SecretStore the objects reference.
//
// Params (catalog):
//   secret_store      optional  {kind: ClusterSecretStore|SecretStore, name}; default the settings
//                               vault.secret_store_kind (ClusterSecretStore), vault.secret_store_name
//                               (matih-vault)
//   refresh_interval  optional  e.g. 1h (default), 30m, 15s
//   secrets           required  list of {name, entries: [{key, from, secret}]}: name is the
//                               ExternalSecret's and its target Secret's (DNS label), key the data key
//                               in that Secret, from/secret the owning plugin and its shared secret.
// The vault entry of (name, key) is "<name>-<key>". A source that does not exist yet (its step runs
// later in the flow, or the tier has no such resource) is skipped and listed in output `pending`,
// and left out of the ExternalSecrets (ESO cannot sync an object naming a missing entry; a group
// without any entry gets no object); once it exists, observe reports drift and the next apply
// stores it and adds it to the objects. A source gone while its entry remains is drift too, and
// apply deletes the entry.
// observe: ABSENT when entries are due but none is stored and the objects are absent; IN_SYNC when
// nothing is due and nothing is there; DRIFTED naming entries (never values) or the objects' diff.
// Outputs: external_secrets (names delivered), entries (count stored), pending. Any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::vault {

class TenantSecretsStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::vault
