// RedisPool: Redis connections of this plugin (hiredis), kept open between step calls and reused.
//
// A RedisServer is the tier's server from settings data.<class>.redis_url
// (redis://[user[:password]@]host:port) and data.<class>.redis_password_file (the password, when
// the URL has none), named in messages by host and port only. A reused connection is checked
// with PING before it is handed out; a connection that saw an I/O error is closed, never reused.
//
// Errors (all name the step and the server): unreachable, timeout, connection lost ->
// TransientError; login refused -> PermanentError PERMISSION_DENIED. An error reply of a command
// is returned to the caller, who knows what it means.
// Thread-safe: one pool per plugin; a Lease belongs to one thread.
#pragma once

#include <hiredis/hiredis.h>

#include <list>
#include <matih/step.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace matih::plugins::data {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct RedisServer {
  std::string host;
  int port = 6379;
  std::string user;      // "" = no AUTH, or AUTH <password> alone when password is set
  std::string password;  // never in a message
  int timeout_ms = 5000;
  std::string label;  // "Redis <host>:<port>"

  // From the tier's settings; InvalidArgument naming the setting when the URL is malformed.
  static RedisServer FromSettings(const Context& ctx);
};

class RedisPool {
 public:
  class Lease {
   public:
    Lease(RedisPool* pool, std::string key, redisContext* connection, const Context& ctx,
          const RedisServer& server);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    // Runs one command (binary-safe arguments); TransientError on an I/O error. An error reply is
    // returned as such (type REDIS_REPLY_ERROR).
    RedisReplyPtr Command(const std::vector<std::string>& args);
    // Command() that also turns an error reply into a PermanentError naming `what`.
    RedisReplyPtr CommandOk(const std::vector<std::string>& args, const std::string& what);

   private:
    RedisPool* pool_;
    std::string key_;
    redisContext* connection_;
    const Context& ctx_;
    const RedisServer& server_;
    int uncaught_;
  };

  explicit RedisPool(size_t max_idle = 4) : max_idle_(max_idle) {}
  ~RedisPool();

  Lease Acquire(const Context& ctx, const RedisServer& server);

 private:
  void Release(std::string key, redisContext* connection);
  redisContext* TakeIdle(const std::string& key);

  const size_t max_idle_;
  std::mutex mu_;
  std::list<std::pair<std::string, redisContext*>> idle_;  // GUARDED_BY(mu_)
};

RedisPool& SharedRedisPool();

}  // namespace matih::plugins::data
