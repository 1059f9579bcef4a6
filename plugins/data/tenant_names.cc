#include "data/tenant_names.h"

#include <cstdint>
#include <cstdio>
#include <matih/step.hpp>

namespace matih::plugins::data {
namespace {

// FNV-1a, 32 bits: stable across builds and platforms (std::hash is not).
uint32_t Fnv1a(std::string_view text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

std::string CheckedSlug(std::string_view slug) {
  bool ok =
      !slug.empty() && slug.size() <= 63 && slug.front() >= 'a' && slug.front() <= 'z' && slug.back() != '-';
  for (char c : slug) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) throw InvalidArgument("tenant slug '" + std::string(slug) + "' is not an RFC 1035 label");
  return std::string(slug);
}

std::string TenantSqlName(std::string_view slug) {
  std::string name = "t_" + CheckedSlug(slug);
  for (char& c : name)
    if (c == '-') c = '_';
  if (name.size() <= 63) return name;
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", Fnv1a(name));
  return name.substr(0, 54) + "_" + hash;
}

std::string CacheUser(std::string_view slug) { return "t:" + CheckedSlug(slug); }
std::string CachePrefix(std::string_view slug) { return "t:" + CheckedSlug(slug) + ":"; }
std::string StreamName(std::string_view slug) { return "tenant-" + CheckedSlug(slug); }
std::string StreamSubjects(std::string_view slug) { return "tenant." + CheckedSlug(slug) + ".>"; }
std::string AuditStreamName(std::string_view slug) { return "audit-" + CheckedSlug(slug); }
std::string AuditSubjects(std::string_view slug) { return "audit." + CheckedSlug(slug) + ".>"; }

}  // namespace matih::plugins::data
