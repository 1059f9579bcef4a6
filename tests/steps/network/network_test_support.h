// Helpers of the network step tests: the harness settings for the stack's PowerDNS and nginx,
// the PowerDNS API as seen by the test (to make hand changes and read serials), and dig.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "steps/step_harness.h"

namespace matih::testing {

// Fills the network.* settings from var/stack.env (certificates go to the harness's temp folder).
void UseStackNetworkSettings(StepHarness& harness);

std::string NginxPrefix();
std::string CaCert();
// The pids of the stack nginx's workers, sorted: they change on every reload.
std::string NginxWorkers();
// Reloads the stack's nginx by hand (a test's "operator").
void ReloadNginx();

struct CurlAnswer {
  int exit_code = -1;  // curl's: 0 ok, 7 refused, 35/60 TLS
  std::string status, body;
};
// GET http(s)://host:port/path with host pinned to `address` (curl --resolve); https is checked
// against the stack's CA.
CurlAnswer Curl(const std::string& scheme, const std::string& host, const std::string& path,
                const std::string& address);
// The serial (hex, upper case) of the certificate nginx presents for `host` on HTTPS, or "".
std::string ServedSerial(const std::string& host);
// openssl x509 -noout <args> -in file.
std::string X509Field(const std::string& file, const std::string& args);

// The PowerDNS API of the stack, for the test's own reads and hand changes.
class PowerDnsAdmin {
 public:
  PowerDnsAdmin();
  // The zone as JSON, or null when the server answers 404.
  nlohmann::json Zone(const std::string& zone) const;
  long Serial(const std::string& zone) const;
  // The records of (name, type) in the zone, sorted; empty when absent.
  std::vector<std::string> Records(const std::string& zone, const std::string& name,
                                   const std::string& type) const;
  // PATCH one rrset: changetype REPLACE with `contents`, or DELETE when `contents` is empty.
  void SetRecords(const std::string& zone, const std::string& name, const std::string& type,
                  const std::vector<std::string>& contents) const;

 private:
  std::string url_, key_;
};

// `dig +short @server -p port name type`, lines sorted; a failed dig fails the test.
std::vector<std::string> Dig(const std::string& name, const std::string& type);
// Records of `name`/`type` in an AXFR of `zone` from the stack's server.
std::vector<std::string> DigTransfer(const std::string& zone, const std::string& name,
                                     const std::string& type);
std::string ParentZone();

}  // namespace matih::testing
