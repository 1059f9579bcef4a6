#include "data/nats_streams.h"

#include <map>
#include <mutex>

#include "common/settings.h"
#include "data/tier_servers.h"

namespace matih::plugins::data {
namespace {

// "nats://user:pw@host:port" -> "NATS host:port".
std::string LabelOf(const std::string& url) {
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  return "NATS " + rest;
}

bool IsTransient(natsStatus s) {
  return s == NATS_NO_SERVER || s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED ||
         s == NATS_CONNECTION_DISCONNECTED || s == NATS_IO_ERROR || s == NATS_STALE_CONNECTION ||
         s == NATS_NO_RESPONDERS || s == NATS_NO_SERVER_SUPPORT;
}

}  // namespace

std::shared_ptr<NatsJetStream> NatsJetStream::ForTenant(const Context& ctx) {
  const std::string key = ServerSettingKey(ctx, "nats_url");
  const std::string url = RequiredServerSetting(ctx, "nats_url");
  if (url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0)
    throw InvalidArgument("setting targets." + key + " must look like nats://host:port");
  const int timeout_ms = static_cast<int>(
      ParseCount("data.connect_timeout_ms", SettingOr(ctx, "data.connect_timeout_ms", "5000")));

  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<NatsJetStream>> connections;  // GUARDED_BY(mu)
  std::lock_guard<std::mutex> lock(mu);
  const std::string cache_key = url + '\n' + std::to_string(timeout_ms);
  if (auto it = connections.find(cache_key); it != connections.end() && !it->second->closed())
    return it->second;

  std::shared_ptr<NatsJetStream> server(new NatsJetStream(LabelOf(url), timeout_ms));
  natsOptions* options = nullptr;
  natsStatus s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetURL(options, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(options, timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetName(options, "matih-data");
  if (s == NATS_OK) s = natsConnection_Connect(&server->connection_, options);
  natsOptions_Destroy(options);
  if (s != NATS_OK) server->Fail(ctx, s, static_cast<jsErrCode>(0), "connect");
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = timeout_ms;
  s = natsConnection_JetStream(&server->js_, server->connection_, &js_options);
  if (s != NATS_OK) server->Fail(ctx, s, static_cast<jsErrCode>(0), "open a JetStream context");
  connections[cache_key] = server;
  return server;
}

NatsJetStream::~NatsJetStream() {
  if (js_) jsCtx_Destroy(js_);
  if (connection_) natsConnection_Destroy(connection_);
}

jsOptions NatsJetStream::Options() const {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = timeout_ms_;
  return options;
}

bool NatsJetStream::closed() const {
  return !connection_ || natsConnection_Status(connection_) == NATS_CONN_STATUS_CLOSED;
}

void NatsJetStream::Fail(const Context& ctx, natsStatus s, jsErrCode code, const std::string& what) const {
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  std::string reason = last && *last ? last : natsStatus_GetText(s);
  if (code != 0) reason += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  const std::string message = Describe(ctx, label_, what + ": " + reason);
  if (IsTransient(s)) throw TransientError(message);
  if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED)
    throw PermanentError(message, MATIH_STATUS_PERMISSION_DENIED);
  throw PermanentError(message);
}

}  // namespace matih::plugins::data
