// DnsProbe: real DNS queries to one name server (host:port), for checking what a zone serves:
// the records of a name (UDP, recursion not asked) and a whole zone by AXFR (TCP), which shows a
// parent zone's delegation records even when the same server also serves the child zone.
// Uses libldns. Errors: a server that does not answer is TransientError; a refused transfer or an
// error code is PermanentError naming the server. One probe per call; not shared between threads.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace matih::plugins::network {

struct DnsRecord {
  std::string name, type, data;  // absolute lower-case name, "NS", "ns1.tenants.matih.test."
};

class DnsProbe {
 public:
  // `server` is "127.0.0.1:5353" or "127.0.0.1" (port 53); InvalidArgument otherwise.
  DnsProbe(const std::string& server, std::chrono::milliseconds timeout);

  // The answer section's data for `name`/`type` ("A", "NS", "SOA"); empty for NXDOMAIN/NODATA.
  std::vector<std::string> Query(const std::string& name, const std::string& type) const;
  // Every record of `zone` by AXFR.
  std::vector<DnsRecord> Transfer(const std::string& zone) const;

  const std::string& server() const { return server_; }

 private:
  std::string server_, address_;
  int port_ = 53;
  std::chrono::milliseconds timeout_;
};

}  // namespace matih::plugins::network
