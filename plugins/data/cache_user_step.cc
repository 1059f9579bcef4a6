#include "data/cache_user_step.h"

#include <sodium.h>

#include <optional>
#include <vector>

#include "common/secure_token.h"
#include "data/redis_pool.h"
#include "data/step_params.h"
#include "data/tenant_names.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

constexpr const char* kCommandRules = "+@all -@dangerous";

std::string Sha256Hex(std::string_view text) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string Text(const redisReply* reply) {
  return reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS)
             ? std::string(reply->str, reply->len)
             : std::string();
}

std::vector<std::string> Texts(const redisReply* reply) {
  std::vector<std::string> out;
  if (reply && reply->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < reply->elements; ++i) out.push_back(Text(reply->element[i]));
  return out;
}

// What ACL GETUSER says about a user (RESP2: a flat list of field names and values).
struct AclUser {
  std::vector<std::string> flags, password_hashes;
  std::string commands, keys, channels;
  size_t selectors = 0;
};

std::optional<AclUser> GetUser(RedisPool::Lease& redis, const std::string& user) {
  auto reply = redis.CommandOk({"ACL", "GETUSER", user}, "read ACL user " + user);
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  AclUser out;
  for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
    const std::string field = Text(reply->element[i]);
    const redisReply* value = reply->element[i + 1];
    if (field == "flags") out.flags = Texts(value);
    if (field == "passwords") out.password_hashes = Texts(value);
    if (field == "commands") out.commands = Text(value);
    if (field == "keys") out.keys = Text(value);
    if (field == "channels") out.channels = Text(value);
    if (field == "selectors" && value->type == REDIS_REPLY_ARRAY) out.selectors = value->elements;
  }
  return out;
}

void AddNote(std::string& diff, const std::string& note) { diff += (diff.empty() ? "" : "; ") + note; }

std::string Difference(const AclUser& have, const std::string& slug,
                       const std::optional<std::string>& password) {
  std::string diff;
  bool on = false;
  for (const auto& flag : have.flags) on = on || flag == "on";
  if (!on) AddNote(diff, "user is disabled");
  if (!password)
    AddNote(diff, "password missing from the secret store");
  else if (have.password_hashes != std::vector<std::string>{Sha256Hex(*password)})
    AddNote(diff, "passwords do not match the secret store (" + std::to_string(have.password_hashes.size()) +
                      " set on the server)");
  const std::string keys = "~" + CachePrefix(slug) + "*", channels = "&" + CachePrefix(slug) + "*";
  if (have.keys != keys) AddNote(diff, "keys: have '" + have.keys + "', want '" + keys + "'");
  if (have.channels != channels)
    AddNote(diff, "channels: have '" + have.channels + "', want '" + channels + "'");
  if (have.commands != kCommandRules)
    AddNote(diff, "commands: have '" + have.commands + "', want '" + std::string(kCommandRules) + "'");
  if (have.selectors != 0) AddNote(diff, std::to_string(have.selectors) + " extra selector(s)");
  return diff;
}

void SaveAcl(RedisPool::Lease& redis) {
  redis.CommandOk({"ACL", "SAVE"}, "ACL SAVE (is redis-server running with an aclfile?)");
}

// The outputs of apply, and of an observe that finds the user in sync: names, never the password.
void SetOutputs(Context& ctx, const std::string& slug, const RedisServer& server) {
  ctx.set_output("user", CacheUser(slug));
  ctx.set_output("key_prefix", CachePrefix(slug));
  ctx.set_output("host", server.host);
  ctx.set_output("port", std::to_string(server.port));
  ctx.set_output("password_secret", std::string("matih-data/") + kCachePasswordSecret);
}

}  // namespace

void CacheUserStep::validate_params(std::string_view params_json) {
  RefuseUnknownKeys(ParamsObject(params_json), {}, "");
}

Observation CacheUserStep::observe(Context& ctx) {
  const std::string slug = CheckedSlug(ctx.slug());
  const RedisServer server = RedisServer::FromSettings(ctx);
  auto redis = SharedRedisPool().Acquire(ctx, server);
  auto user = GetUser(redis, CacheUser(slug));
  if (!user) return Observation::Absent();
  const std::string diff = Difference(*user, slug, ctx.secret(kCachePasswordSecret));
  if (!diff.empty()) return Observation::Drifted(diff);
  // Adoptable (plugin.cc): what an apply made and never recorded is found here with its outputs.
  SetOutputs(ctx, slug, server);
  return Observation::InSync();
}

void CacheUserStep::apply(Context& ctx) {
  const std::string slug = CheckedSlug(ctx.slug());
  const std::string name = CacheUser(slug);
  const RedisServer server = RedisServer::FromSettings(ctx);
  auto redis = SharedRedisPool().Acquire(ctx, server);
  auto password = ctx.secret(kCachePasswordSecret);
  auto user = GetUser(redis, name);
  if (!user || !Difference(*user, slug, password).empty()) {
    if (!password) {
      password = RandomBase62(32);
      ctx.put_secret(kCachePasswordSecret, *password);  // before Redis knows it: never lost
    }
    const std::string prefix = CachePrefix(slug);
    redis.CommandOk({"ACL", "SETUSER", name, "reset", "on", "#" + Sha256Hex(*password), "resetkeys",
                     "~" + prefix + "*", "resetchannels", "&" + prefix + "*", "+@all", "-@dangerous"},
                    "ACL SETUSER " + name);
    SaveAcl(redis);
  }
  SetOutputs(ctx, slug, server);
}

void CacheUserStep::remove(Context& ctx) {
  const std::string slug = CheckedSlug(ctx.slug());
  const std::string name = CacheUser(slug);
  const RedisServer server = RedisServer::FromSettings(ctx);
  auto redis = SharedRedisPool().Acquire(ctx, server);
  redis.CommandOk({"ACL", "DELUSER", name}, "ACL DELUSER " + name);
  SaveAcl(redis);  // also when the user was gone: a failed earlier remove may have left it in the file
  // The tenant's keys: SCAN in batches, UNLINK each batch (the slug has no glob characters).
  std::string cursor = "0";
  do {
    auto page = redis.CommandOk({"SCAN", cursor, "MATCH", CachePrefix(slug) + "*", "COUNT", "1000"},
                                "SCAN the keys of " + name);
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2)
      throw PermanentError(Describe(ctx, server.label, "unexpected SCAN reply"));
    cursor = Text(page->element[0]);
    std::vector<std::string> unlink = {"UNLINK"};
    for (const auto& key : Texts(page->element[1])) unlink.push_back(key);
    if (unlink.size() > 1) redis.CommandOk(unlink, "UNLINK the keys of " + name);
  } while (cursor != "0");
  ctx.delete_secret(kCachePasswordSecret);
}

}  // namespace matih::plugins::data
