#include "steps/network/network_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "common/http_client.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != ';') out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

std::string DnsHost() {
  auto server = StackEnv::Require("MATIH_POWERDNS_DNS");
  return server.substr(0, server.find(':'));
}
std::string DnsPort() {
  auto server = StackEnv::Require("MATIH_POWERDNS_DNS");
  return server.substr(server.find(':') + 1);
}

}  // namespace

std::string ParentZone() { return StackEnv::Require("MATIH_PARENT_ZONE"); }

void UseStackNetworkSettings(StepHarness& harness) {
  auto& s = harness.settings();
  s["network.powerdns_api_url"] = StackEnv::Require("MATIH_POWERDNS_API_URL");
  s["network.powerdns_api_key"] = StackEnv::Require("MATIH_POWERDNS_API_KEY");
  s["network.dns_server"] = StackEnv::Require("MATIH_POWERDNS_DNS");
  s["network.ingress_address"] = "127.0.0.1";
  s["network.dns_timeout_ms"] = "2000";
  s["network.http_timeout_ms"] = "3000";
  s["network.nginx_prefix"] = StackEnv::Require("MATIH_NGINX_PREFIX");
  s["network.nginx_http_port"] = StackEnv::Require("MATIH_NGINX_HTTP_PORT");
  s["network.nginx_https_port"] = StackEnv::Require("MATIH_NGINX_HTTPS_PORT");
  s["network.ca_cert_file"] = StackEnv::Require("MATIH_CA_CERT");
  s["network.ca_key_file"] = StackEnv::Require("MATIH_CA_KEY");
  s["network.certs_dir"] = harness.TempPath("certs").string();
}

std::string NginxPrefix() { return StackEnv::Require("MATIH_NGINX_PREFIX"); }
std::string CaCert() { return StackEnv::Require("MATIH_CA_CERT"); }

std::string NginxWorkers() {
  std::string out;
  RunCommand("pgrep -P \"$(cat '" + NginxPrefix() + "/nginx.pid')\" | sort", &out);
  return out;
}

void ReloadNginx() {
  std::string out;
  const std::string p = NginxPrefix();
  ASSERT_EQ(0, RunCommand("nginx -p '" + p + "/' -c '" + p + "/nginx.conf' -s reload", &out)) << out;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

CurlAnswer Curl(const std::string& scheme, const std::string& host, const std::string& path,
                const std::string& address) {
  const std::string port =
      StackEnv::Require(scheme == "https" ? "MATIH_NGINX_HTTPS_PORT" : "MATIH_NGINX_HTTP_PORT");
  std::string out;
  CurlAnswer a;
  a.exit_code =
      RunCommand("curl -sS --max-time 3 --cacert '" + CaCert() + "' --resolve '" + host + ":" + port + ":" +
                     address + "' -w '\\n%{http_code}' '" + scheme + "://" + host + ":" + port + path + "'",
                 &out);
  auto nl = out.rfind('\n');
  if (nl != std::string::npos) {
    a.status = out.substr(nl + 1);
    a.body = out.substr(0, nl);
  } else {
    a.body = out;
  }
  return a;
}

std::string ServedSerial(const std::string& host) {
  std::string out;
  RunCommand("echo | openssl s_client -connect 127.0.0.1:" + StackEnv::Require("MATIH_NGINX_HTTPS_PORT") +
                 " -servername '" + host + "' 2>/dev/null | openssl x509 -noout -serial 2>/dev/null",
             &out);
  if (out.rfind("serial=", 0) != 0) return "";
  out = out.substr(7);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string X509Field(const std::string& file, const std::string& args) {
  std::string out;
  EXPECT_EQ(0, RunCommand("openssl x509 -noout " + args + " -in '" + file + "'", &out)) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

PowerDnsAdmin::PowerDnsAdmin()
    : url_(StackEnv::Require("MATIH_POWERDNS_API_URL")), key_(StackEnv::Require("MATIH_POWERDNS_API_KEY")) {}

nlohmann::json PowerDnsAdmin::Zone(const std::string& zone) const {
  plugins::HttpClient http;
  auto r = http.Send({"GET", url_ + "/api/v1/servers/localhost/zones/" + zone, {"X-API-Key: " + key_}, ""});
  if (r.status == 404 || r.status == 422) return nullptr;
  EXPECT_EQ(200, r.status) << r.body;
  return nlohmann::json::parse(r.body);
}

long PowerDnsAdmin::Serial(const std::string& zone) const {
  auto z = Zone(zone);
  return z.is_object() ? z.value("serial", -1L) : -1L;
}

std::vector<std::string> PowerDnsAdmin::Records(const std::string& zone, const std::string& name,
                                                const std::string& type) const {
  std::vector<std::string> out;
  auto z = Zone(zone);
  if (!z.is_object()) return out;
  for (const auto& set : z["rrsets"])
    if (set["name"] == name && set["type"] == type)
      for (const auto& r : set["records"]) out.push_back(r["content"].get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

void PowerDnsAdmin::SetRecords(const std::string& zone, const std::string& name, const std::string& type,
                               const std::vector<std::string>& contents) const {
  nlohmann::json set = {{"name", name}, {"type", type}};
  if (contents.empty()) {
    set["changetype"] = "DELETE";
  } else {
    set["changetype"] = "REPLACE";
    set["ttl"] = 300;
    set["records"] = nlohmann::json::array();
    for (const auto& c : contents) set["records"].push_back({{"content", c}, {"disabled", false}});
  }
  plugins::HttpClient http;
  auto r = http.Send({"PATCH",
                      url_ + "/api/v1/servers/localhost/zones/" + zone,
                      {"X-API-Key: " + key_, "Content-Type: application/json"},
                      nlohmann::json{{"rrsets", {set}}}.dump()});
  ASSERT_EQ(204, r.status) << r.body;
}

std::vector<std::string> Dig(const std::string& name, const std::string& type) {
  std::string out;
  int rc = RunCommand(
      "dig +short +norecurse +time=1 +tries=2 @" + DnsHost() + " -p " + DnsPort() + " '" + name + "' " + type,
      &out);
  EXPECT_EQ(0, rc) << out;
  return Lines(out);
}

std::vector<std::string> DigTransfer(const std::string& zone, const std::string& name,
                                     const std::string& type) {
  std::string out;
  int rc = RunCommand(
      "dig +noall +answer +time=1 @" + DnsHost() + " -p " + DnsPort() + " '" + zone + "' AXFR", &out);
  EXPECT_EQ(0, rc) << out;
  std::vector<std::string> found;
  for (const auto& line : Lines(out)) {
    std::istringstream in(line);
    std::string owner, ttl, cls, t, data;
    in >> owner >> ttl >> cls >> t;
    std::getline(in >> std::ws, data);
    if (owner == name && t == type) found.push_back(data);
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace matih::testing
