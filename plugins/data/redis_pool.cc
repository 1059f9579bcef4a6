#include "data/redis_pool.h"

#include <sys/time.h>

#include <exception>

#include "common/settings.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

timeval ToTimeval(int ms) { return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)}; }

std::string ReplyText(const redisReply* reply) {
  return reply && reply->str ? std::string(reply->str, reply->len) : std::string();
}

}  // namespace

RedisServer RedisServer::FromSettings(const Context& ctx) {
  const std::string key = ServerSettingKey(ctx, "redis_url");
  const std::string url = RequiredServerSetting(ctx, "redis_url");
  const std::string bad = "setting targets." + key + " must look like redis://[user@]host:port";
  if (url.rfind("redis://", 0) != 0) throw InvalidArgument(bad);
  std::string rest = url.substr(8);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  RedisServer server;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string::npos) {
      server.password = userinfo.substr(colon + 1);
      userinfo.resize(colon);
    }
    server.user = userinfo;
  }
  const auto colon = rest.rfind(':');
  server.host = rest.substr(0, colon);
  if (colon != std::string::npos)
    server.port = static_cast<int>(ParseCount(key + " (port)", rest.substr(colon + 1)));
  if (server.host.empty() || server.port <= 0 || server.port > 65535 || rest.find('/') != std::string::npos)
    throw InvalidArgument(bad);
  if (auto file = OptionalServerSetting(ctx, "redis_password_file"); file && server.password.empty())
    server.password = Trim(ReadTextFile(
        *file, "the Redis password (setting targets." + ServerSettingKey(ctx, "redis_password_file") + ")"));
  server.timeout_ms = static_cast<int>(
      ParseCount("data.connect_timeout_ms", SettingOr(ctx, "data.connect_timeout_ms", "5000")));
  server.label = "Redis " + server.host + ":" + std::to_string(server.port);
  return server;
}

RedisPool::Lease::Lease(RedisPool* pool, std::string key, redisContext* connection, const Context& ctx,
                        const RedisServer& server)
    : pool_(pool),
      key_(std::move(key)),
      connection_(connection),
      ctx_(ctx),
      server_(server),
      uncaught_(std::uncaught_exceptions()) {}

RedisPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_),
      key_(std::move(other.key_)),
      connection_(other.connection_),
      ctx_(other.ctx_),
      server_(other.server_),
      uncaught_(other.uncaught_) {
  other.connection_ = nullptr;
}

RedisPool::Lease::~Lease() {
  if (!connection_) return;
  // An exception is unwinding: the connection's state (a failed AUTH, a half-read reply) is
  // unknown, so it is closed rather than handed to the next call.
  if (std::uncaught_exceptions() > uncaught_)
    redisFree(connection_);
  else
    pool_->Release(std::move(key_), connection_);
}

RedisReplyPtr RedisPool::Lease::Command(const std::vector<std::string>& args) {
  if (!connection_) throw TransientError(Describe(ctx_, server_.label, "connection lost"));
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(connection_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (!reply) {
    const std::string reason = connection_->errstr;
    redisFree(connection_);
    connection_ = nullptr;
    throw TransientError(
        Describe(ctx_, server_.label, "connection lost during " + args.front() + ": " + reason));
  }
  return RedisReplyPtr(reply);
}

RedisReplyPtr RedisPool::Lease::CommandOk(const std::vector<std::string>& args, const std::string& what) {
  auto reply = Command(args);
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string error = ReplyText(reply.get());
    const auto code = error.rfind("NOPERM", 0) == 0 || error.rfind("NOAUTH", 0) == 0
                          ? MATIH_STATUS_PERMISSION_DENIED
                          : MATIH_STATUS_FAILED_PRECONDITION;
    if (error.rfind("LOADING", 0) == 0 || error.rfind("BUSY", 0) == 0)
      throw TransientError(Describe(ctx_, server_.label, what + ": " + error));
    throw PermanentError(Describe(ctx_, server_.label, what + ": " + error), code);
  }
  return reply;
}

RedisPool::~RedisPool() {
  for (auto& [key, connection] : idle_) redisFree(connection);
}

redisContext* RedisPool::TakeIdle(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->first != key) continue;
    redisContext* connection = it->second;
    idle_.erase(it);
    return connection;
  }
  return nullptr;
}

void RedisPool::Release(std::string key, redisContext* connection) {
  redisContext* evicted = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.emplace_front(std::move(key), connection);
    if (idle_.size() > max_idle_) {
      evicted = idle_.back().second;
      idle_.pop_back();
    }
  }
  if (evicted) redisFree(evicted);
}

RedisPool::Lease RedisPool::Acquire(const Context& ctx, const RedisServer& server) {
  // The key holds the password so a changed password file gets new connections; it never leaves
  // this object.
  const std::string key =
      server.host + '\n' + std::to_string(server.port) + '\n' + server.user + '\n' + server.password;
  while (redisContext* idle = TakeIdle(key)) {
    auto* reply = static_cast<redisReply*>(redisCommand(idle, "PING"));
    const bool alive = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply) freeReplyObject(reply);
    if (alive) return Lease(this, key, idle, ctx, server);
    redisFree(idle);
  }
  redisContext* connection =
      redisConnectWithTimeout(server.host.c_str(), server.port, ToTimeval(server.timeout_ms));
  if (!connection || connection->err) {
    const std::string reason = connection ? connection->errstr : "out of memory";
    if (connection) redisFree(connection);
    throw TransientError(Describe(ctx, server.label, "unreachable: " + reason));
  }
  redisSetTimeout(connection, ToTimeval(server.timeout_ms));
  Lease lease(this, key, connection, ctx, server);
  if (!server.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!server.user.empty()) auth.push_back(server.user);
    auth.push_back(server.password);
    auto reply = lease.Command(auth);
    if (reply->type == REDIS_REPLY_ERROR)
      throw PermanentError(
          Describe(ctx, server.label,
                   "login refused for user '" + (server.user.empty() ? "default" : server.user) +
                       "': " + ReplyText(reply.get())),
          MATIH_STATUS_PERMISSION_DENIED);
  }
  lease.CommandOk({"CLIENT", "SETNAME", "matih-data"}, "name the connection");  // for CLIENT LIST
  return lease;
}

RedisPool& SharedRedisPool() {
  static RedisPool pool;
  return pool;
}

}  // namespace matih::plugins::data
