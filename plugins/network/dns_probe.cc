#include "network/dns_probe.h"

#include <matih/step.hpp>
#include <memory>

// ldns/common.h redefines bool, true and false unless stdbool.h came first.
#include <ldns/ldns.h>
#include <stdbool.h>  // NOLINT

namespace matih::plugins::network {
namespace {

struct ResolverFree {
  void operator()(ldns_resolver* r) const { ldns_resolver_deep_free(r); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
struct RrListFree {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
using Resolver = std::unique_ptr<ldns_resolver, ResolverFree>;

std::string Lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string RdfText(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  std::string out = text ? text : "";
  free(text);
  return out;
}

// The record's data as in a zone file ("ns1.x. hostmaster.x. 1 10800 ..." for SOA).
std::string RrData(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) out += (i ? " " : "") + RdfText(ldns_rr_rdf(rr, i));
  return out;
}

std::string TypeName(ldns_rr_type type) {
  char* text = ldns_rr_type2str(type);
  std::string out = text ? text : "";
  free(text);
  return out;
}

Resolver MakeResolver(const std::string& address, int port, std::chrono::milliseconds timeout,
                      const std::string& server) {
  Resolver res(ldns_resolver_new());
  if (!res) throw PermanentError("out of memory for a DNS resolver");
  std::unique_ptr<ldns_rdf, RdfFree> ns(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, address.c_str()));
  if (!ns) ns.reset(ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, address.c_str()));
  if (!ns) throw InvalidArgument("DNS server '" + server + "' is not an IP address with an optional port");
  if (ldns_resolver_push_nameserver(res.get(), ns.get()) != LDNS_STATUS_OK)
    throw PermanentError("could not use DNS server " + server);
  ldns_resolver_set_port(res.get(), static_cast<uint16_t>(port));
  ldns_resolver_set_recursive(res.get(), false);
  ldns_resolver_set_dnssec(res.get(), false);
  ldns_resolver_set_retry(res.get(), 1);
  ldns_resolver_set_fail(res.get(), true);
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ldns_resolver_set_timeout(res.get(), tv);
  return res;
}

}  // namespace

DnsProbe::DnsProbe(const std::string& server, std::chrono::milliseconds timeout)
    : server_(server), timeout_(timeout) {
  auto colon = server.rfind(':');
  if (colon != std::string::npos && server.find(':') == colon) {
    address_ = server.substr(0, colon);
    try {
      size_t used = 0;
      port_ = std::stoi(server.substr(colon + 1), &used);
      if (used != server.size() - colon - 1 || port_ <= 0 || port_ > 65535)
        throw std::invalid_argument("port");
    } catch (const std::exception&) {
      throw InvalidArgument("DNS server '" + server + "' has no valid port (expected ADDRESS:PORT)");
    }
  } else {
    address_ = server;
  }
  if (address_.empty()) throw InvalidArgument("DNS server address is empty");
}

std::vector<std::string> DnsProbe::Query(const std::string& name, const std::string& type) const {
  auto res = MakeResolver(address_, port_, timeout_, server_);
  std::unique_ptr<ldns_rdf, RdfFree> dname(ldns_dname_new_frm_str(name.c_str()));
  if (!dname) throw InvalidArgument("'" + name + "' is not a DNS name");
  const ldns_rr_type rr_type = ldns_get_rr_type_by_name(type.c_str());
  ldns_pkt* raw = nullptr;
  ldns_status status = ldns_resolver_query_status(&raw, res.get(), dname.get(), rr_type, LDNS_RR_CLASS_IN, 0);
  std::unique_ptr<ldns_pkt, PktFree> pkt(raw);
  if (status != LDNS_STATUS_OK || !pkt)
    throw TransientError("DNS server " + server_ + " did not answer " + type + " " + name + ": " +
                         ldns_get_errorstr_by_id(status));
  const auto rcode = ldns_pkt_get_rcode(pkt.get());
  if (rcode == LDNS_RCODE_NXDOMAIN) return {};
  if (rcode != LDNS_RCODE_NOERROR)
    throw TransientError("DNS server " + server_ + " answered " + type + " " + name + " with rcode " +
                         std::to_string(static_cast<int>(rcode)));
  std::vector<std::string> out;
  std::unique_ptr<ldns_rr_list, RrListFree> answers(
      ldns_pkt_rr_list_by_type(pkt.get(), rr_type, LDNS_SECTION_ANSWER));
  if (!answers) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers.get()); ++i)
    out.push_back(Lower(RrData(ldns_rr_list_rr(answers.get(), i))));
  return out;
}

std::vector<DnsRecord> DnsProbe::Transfer(const std::string& zone) const {
  auto res = MakeResolver(address_, port_, timeout_, server_);
  std::unique_ptr<ldns_rdf, RdfFree> dname(ldns_dname_new_frm_str(zone.c_str()));
  if (!dname) throw InvalidArgument("'" + zone + "' is not a DNS name");
  ldns_status status = ldns_axfr_start(res.get(), dname.get(), LDNS_RR_CLASS_IN);
  if (status != LDNS_STATUS_OK)
    throw TransientError("DNS server " + server_ + " did not start a transfer of " + zone + ": " +
                         ldns_get_errorstr_by_id(status));
  std::vector<DnsRecord> out;
  int soa_seen = 0;
  while (true) {
    std::unique_ptr<ldns_rr, RrFree> rr(ldns_axfr_next(res.get()));
    if (!rr) break;
    const auto type = ldns_rr_get_type(rr.get());
    if (type == LDNS_RR_TYPE_SOA) ++soa_seen;
    out.push_back({Lower(RdfText(ldns_rr_owner(rr.get()))), TypeName(type), Lower(RrData(rr.get()))});
    if (ldns_axfr_complete(res.get())) break;
  }
  if (!ldns_axfr_complete(res.get()) && soa_seen < 2) {
    ldns_axfr_abort(res.get());
    throw TransientError("DNS server " + server_ + " did not complete the transfer of " + zone +
                         " (is AXFR allowed from this host?)");
  }
  return out;
}

}  // namespace matih::plugins::network
