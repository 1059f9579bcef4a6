// Helpers of the network step tests: the harness settings for the stack's PowerDNS and nginx,
// the PowerDNS API as seen by the test (to make hand changes and read serials), and dig.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "steps/step_harness.h"

namespace matih::testing {

// Fills the network.* settings from var/stack.env.
void UseStackNetworkSettings(StepHarness& harness);

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
