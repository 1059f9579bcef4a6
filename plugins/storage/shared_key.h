// SharedKey: the signatures of Azure Storage's Blob service, computed with an account key.
//
// Two kinds of signature, both HMAC-SHA256 under the base64-decoded account key:
//   - SharedKey authorisation of a REST request (header `Authorization: SharedKey account:sig`),
//     over the canonical string of the request (verb, standard headers, x-ms-* headers, and the
//     canonical resource "/<account><url path>" plus the sorted query parameters). With a
//     path-style endpoint (Azurite, http://host:port/<account>) the account therefore appears
//     twice: /acct/acct/container;
//   - a service SAS for a container bound to a stored access policy (`si`), signed version
//     kSasVersion: permissions, start and expiry come from the policy, so removing or changing the
//     policy revokes or changes every SAS bound to it.
// Pure functions over their arguments; safe from any thread. Keys and signatures never reach a
// message.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins::storage {

inline constexpr const char* kApiVersion = "2021-12-02";
inline constexpr const char* kSasVersion = "2021-12-02";

// An account and its key (base64, as Azure shows it).
struct AccountKey {
  std::string account;
  std::string key_base64;
};

// base64(HMAC-SHA256(base64decode(key), text)); InvalidArgument when the key is not base64.
std::string SignWithKey(const std::string& key_base64, std::string_view text);

// The canonical string of a request as the Blob service rebuilds it. `headers` are "Name: value"
// lines as sent; `url_path` is the path of the URL (already percent-encoded as sent), `query` the
// decoded query parameters.
std::string CanonicalRequestString(const std::string& method, const std::vector<std::string>& headers,
                                   const std::string& account, const std::string& url_path,
                                   const std::map<std::string, std::string>& query);

// The query string (without '?') of a service SAS for `container` bound to stored policy `policy_id`.
std::string ContainerSasToken(const AccountKey& key, const std::string& container,
                              const std::string& policy_id);

// The value of parameter `name` in a SAS query string, or "" (percent-decoding not needed for
// the parameters we write: si, sr, sv are plain; sig is decoded).
std::string SasParameter(std::string_view token, std::string_view name);

}  // namespace matih::plugins::storage
