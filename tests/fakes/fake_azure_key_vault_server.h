// FakeAzureKeyVaultServer: a FAKE of Azure Key Vault's secrets data plane (api-version 7.4) for
// tests: no Azure can be reached from these machines. It speaks what the vault plugin's
// azure-key-vault backend uses, with soft-delete on (as every Key Vault has today):
//
//   GET    /secrets/{name}                  200 {"value","id","attributes","tags"} or 404 SecretNotFound
//   PUT    /secrets/{name}                  200 with the new version; 409 ObjectIsDeletedButRecoverable
//                                           when a deleted secret of that name waits for recovery/purge
//   DELETE /secrets/{name}                  200 (the secret moves to the deleted ones) or 404
//   GET    /deletedsecrets/{name}           200 or 404
//   POST   /deletedsecrets/{name}/recover   200 (back as a live secret) or 404
//   DELETE /deletedsecrets/{name}            204 (purged) or 404
// Every request needs ?api-version=7.4 (400 otherwise); with a token set, any other bearer gets 401.
// Requests are logged ("METHOD path"); FailNext answers the next ones with a given status.
// Binds 127.0.0.1 on a free port; serves on its own thread until destroyed. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fakes/fake_azure_front.h"

namespace matih::testing {

class FakeAzureKeyVaultServer {
 public:
  FakeAzureKeyVaultServer();
  ~FakeAzureKeyVaultServer();

  std::string url() const { return front_.url(); }
  void RequireBearerToken(std::string token) { front_.RequireBearerToken(std::move(token)); }
  void FailNext(int status, int count = 1) { front_.FailNext(status, count); }

  struct Secret {
    std::string value;
    std::map<std::string, std::string> tags;
    int version = 0;
  };
  // The state, as the Azure portal would show it, and hand changes.
  std::optional<Secret> Live(const std::string& name) const;
  bool Deleted(const std::string& name) const;
  void SetLive(const std::string& name, Secret secret);
  void SoftDelete(const std::string& name);
  std::vector<std::string> LiveNames() const;
  std::vector<std::string> requests() const { return front_.requests(); }
  // Requests that changed something (PUT, DELETE, POST).
  int writes() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Secret> live_, deleted_;
  int writes_ = 0, versions_ = 0;
  FakeAzureFront front_;  // last: stops serving before the state above goes away
};

}  // namespace matih::testing
