// Lost replies on PowerDNS (plugins/network through a FaultProxy): the reply to the zone-create
// POST is lost; after the retries the server holds one zone for the tenant and the parent one
// NS delegation to it.
#include <chrono>
#include <nlohmann/json.hpp>

#include "chaos/lost_replies_case.h"
#include "common/http_client.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

using namespace std::chrono_literals;

// Runs the create-dns-zone case with `rule` on the zone-create POST.
class LostRepliesDns : public LostRepliesTest {
 protected:
  void ZoneCase(const std::string& name, const FaultProxy::Rule& rule);
};

TEST_F(LostRepliesDns, ZoneCreateReplyLostLeavesOneZoneAndOneDelegation) {
  ZoneCase("powerdns-zone", FaultProxy::Drop("POST /api/v1/servers/localhost/zones "));
}

// The status line arrives ("HTTP/1.1 201"), then the connection is reset: the body is lost.
TEST_F(LostRepliesDns, ZoneCreateReplyCutAfterItsStatusLineLeavesOneZone) {
  ZoneCase("powerdns-zone-cut", FaultProxy::Cut("POST /api/v1/servers/localhost/zones ", 12));
}

void LostRepliesDns::ZoneCase(const std::string& name, const FaultProxy::Rule& rule) {
  const std::string api = StackEnv::Require("MATIH_POWERDNS_API_URL");
  const std::string key = StackEnv::Require("MATIH_POWERDNS_API_KEY");
  const std::string parent = StackEnv::Require("MATIH_PARENT_ZONE");
  auto proxy = ProxyFor(api);
  auto& s = harness_.settings();
  s["network.powerdns_api_url"] = ThroughProxy(api, proxy->port());
  s["network.powerdns_api_key"] = key;
  s["network.dns_server"] = StackEnv::Require("MATIH_POWERDNS_DNS");
  s["network.ingress_address"] = "127.0.0.1";
  s["network.dns_timeout_ms"] = "2000";
  s["network.http_timeout_ms"] = "1000";  // the lost reply times out after this
  TestTenant tenant = StepHarness::MakeTenant("free", "lost");
  const std::string zone = tenant.view.slug + "." + parent;
  auto get = [&](const std::string& path) {
    auto r = plugins::HttpClient({}, 3s).Send(
        {"GET", api + "/api/v1/servers/localhost" + path, {"X-API-Key: " + key}, ""});
    EXPECT_EQ(200, r.status) << path << ": " << r.body;
    return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json();
  };
  auto zones = [&] {
    int n = 0;
    for (const auto& z : get("/zones?zone=" + zone)) n += z.value("name", "") == zone ? 1 : 0;
    return n;
  };
  auto delegations = [&] {
    int n = 0;
    for (const auto& rrset : get("/zones/" + parent).value("rrsets", nlohmann::json::array()))
      if (rrset.value("name", "") == zone && rrset.value("type", "") == "NS") ++n;
    return n;
  };
  RunCase({name, "create-dns-zone", proxy.get(), rule, zones}, tenant);
  EXPECT_EQ(1, delegations()) << "one NS rrset for the tenant in the parent";
  EXPECT_EQ(MATIH_STATUS_OK, harness_.Remove("create-dns-zone", tenant).status);
  EXPECT_EQ(0, zones());
}

}  // namespace
}  // namespace matih::testing
