// NatsJetStream: the plugin's connections to NATS servers with JetStream (cnats), one per server
// URL, opened on first use and shared by every call (a natsConnection is thread-safe); a closed
// one is replaced. The URL comes from setting data.<shared|dedicated>.nats_url; messages name the
// server by host and port only (a URL may carry credentials).
//
// Errors: no server, timeout, connection closed or reconnecting -> TransientError; anything
// JetStream refuses (a bad stream config, no resources) -> PermanentError with its error code;
// credentials refused -> PermanentError PERMISSION_DENIED.
// Thread-safe.
#pragma once

#include <nats/nats.h>

#include <matih/step.hpp>
#include <memory>
#include <string>

namespace matih::plugins::data {

class NatsJetStream {
 public:
  // The shared connection for the tenant's tier; a step error when it cannot be opened.
  static std::shared_ptr<NatsJetStream> ForTenant(const Context& ctx);
  ~NatsJetStream();
  NatsJetStream(const NatsJetStream&) = delete;
  NatsJetStream& operator=(const NatsJetStream&) = delete;

  jsCtx* js() const { return js_; }
  // Request options with this server's timeout (jsOptions.Wait).
  jsOptions Options() const;
  const std::string& label() const { return label_; }
  bool closed() const;

  // Throws the step error for status `s` (not NATS_OK) of `what`, with JetStream's `code`.
  [[noreturn]] void Fail(const Context& ctx, natsStatus s, jsErrCode code, const std::string& what) const;

 private:
  NatsJetStream(std::string label, int timeout_ms) : label_(std::move(label)), timeout_ms_(timeout_ms) {}
  std::string label_;
  int timeout_ms_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace matih::plugins::data
