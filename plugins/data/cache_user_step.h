// data.cache_user (step 22, provision-cache): the tenant's share of the tier's Redis server
// (settings data.<shared|dedicated>.redis_url, .redis_password_file): an ACL user "t:<slug>"
// that may use only keys and Pub/Sub channels under "t:<slug>:" and no dangerous or admin
// command:  reset on #<sha256 of the password> resetkeys ~t:<slug>:* resetchannels &t:<slug>:*
// +@all -@dangerous  (the order matters: later rules refine earlier ones).
//
// The password (32 base62 characters) lives in the secret store as secret `redis/password`
// (shared: other plugins read matih-data/redis/password); Redis gets only its SHA-256. After a
// change the plugin calls ACL SAVE, so the user survives a restart: the server must run with an
// `aclfile` (a server without one is a permanent error naming it).
//
// observe compares ACL GETUSER with the rules above (the password as a hash comparison, never
// printed): ABSENT without the user, DRIFTED with a short diff. apply rewrites the whole user in
// one ACL SETUSER (an existing stored password is kept). remove deletes the user (its clients
// are disconnected by Redis), every key under the prefix, and the secret.
// Params: none. Outputs: user, key_prefix, host, port, password_secret (the secret's name), set by
// apply and by an observe that finds the user in sync. The kind is adoptable: the user's name
// derives from the slug, the password waits in the secret store before Redis learns its hash, and
// apply again makes nothing twice. Safe from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::data {

inline constexpr const char* kCachePasswordSecret = "redis/password";

class CacheUserStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::data
