// LocalNginx: the tenants' part of the stack's nginx (run with its own prefix, see
// scripts/stack.d/nginx.sh): files under <prefix>/tenants/ written atomically, checked with
// `nginx -t` and loaded with `nginx -s reload` (never a restart; /etc/nginx is never touched).
// After a reload it waits (up to 2.5 s) until nginx's old workers have left, so the next request
// sees the new configuration; the pid file is <prefix>/nginx.pid as scripts/stack writes it.
// A change nginx refuses is rolled back to the previous files before the error is thrown, so a
// bad tenant file never breaks the next reload of every other tenant.
//
// Who owns what (steps 40 and 42 share a tenant's server and never write each other's files):
//   tenants/<slug>.conf        step 40: the tenant's server block (HTTP listener, server_name,
//                              /healthz), which includes tenants/<slug>.d/*.conf
//   tenants/<slug>.d/tls.conf  step 42: the TLS listener and the certificate paths
// Threads and processes: changes serialise on a mutex and an flock on <prefix>/tenants/.lock.
#pragma once

#include <matih/step.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace matih::plugins::network {

struct NginxOptions {
  std::string prefix;  // absolute; holds nginx.conf
  std::string binary = "nginx";
  std::string listen_address = "127.0.0.1";
  int http_port = 0, https_port = 0;
};

class LocalNginx {
 public:
  explicit LocalNginx(NginxOptions options) : options_(std::move(options)) {}
  // From settings network.nginx_prefix (nullopt when unset: no local ingress), network.nginx_bin,
  // network.nginx_listen_address, network.nginx_http_port, network.nginx_https_port.
  static std::optional<NginxOptions> FromSettings(const Context& ctx);

  std::string ServerFile(const std::string& slug) const;  // tenants/<slug>.conf
  std::string IncludeDir(const std::string& slug) const;  // tenants/<slug>.d
  std::string TlsFile(const std::string& slug) const;     // tenants/<slug>.d/tls.conf

  // The file's content, or nullopt when it does not exist.
  static std::optional<std::string> Read(const std::string& path);
  // One change: (path, new content) pairs; nullopt content deletes the file. Writes, tests and
  // reloads; a refused change is rolled back and thrown as PermanentError with nginx's words.
  // Nothing is written (and nginx not reloaded) when every file already has its content.
  // `also_remove_dirs` are removed when empty afterwards. `force` reloads even when no file
  // changed (a renewed certificate file named by an unchanged server file). True when it reloaded.
  bool Change(const std::vector<std::pair<std::string, std::optional<std::string>>>& files,
              const std::vector<std::string>& also_remove_dirs = {}, bool force = false) const;

  const NginxOptions& options() const { return options_; }

 private:
  NginxOptions options_;
};

// Runs argv (no shell); returns the exit status and stdout+stderr in `output`.
int RunProgram(const std::vector<std::string>& argv, std::string* output);

}  // namespace matih::plugins::network
