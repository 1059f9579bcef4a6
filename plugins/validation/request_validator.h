// RequestValidator: the rules of step 1 (validate-request), as a pure function.
//
// FindProblems lists every problem of a tenant request, each in its own sentence, in a stable
// order, so one permanent error can name them all. No I/O: the caller loads the rules (regions,
// reserved slugs, service catalog) from settings. Safe to call from any thread.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace matih::plugins {

struct ValidationRules {
  std::set<std::string> regions;         // setting tenant.regions
  std::set<std::string> reserved_slugs;  // built-in list + setting tenant.reserved_slugs
  std::set<std::string> services;        // names from the service catalog
  size_t max_slug_length = 40;
  size_t max_spec_bytes = 64 * 1024;
};

struct TenantRequest {
  std::string id;
  std::string slug;
  std::string tier;
  std::string spec_json;
};

// Words no tenant may take as its slug (they collide with platform hosts and namespaces).
const std::set<std::string>& BuiltInReservedSlugs();
// The tiers the platform sells.
const std::set<std::string>& KnownTiers();

std::vector<std::string> FindProblems(const TenantRequest& request, const ValidationRules& rules);

// Exposed for tests of single rules; each returns "" when fine, else the problem.
std::string CheckSlug(const std::string& slug, const ValidationRules& rules);
std::string CheckEmail(const std::string& email);
// A Kubernetes resource quantity such as "16", "500m", "64Gi".
bool IsQuantity(const std::string& text);

}  // namespace matih::plugins
