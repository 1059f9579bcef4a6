// The names of a tenant's objects on the data servers, derived from its slug alone so that
// observe, apply and remove agree without any stored state. Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace matih::plugins::data {

// The slug, checked to be an RFC 1035 label ([a-z0-9-], 1-63 characters, letter first, no
// trailing hyphen): it is embedded in SQL identifiers, Redis key patterns and NATS subjects, so
// anything else is InvalidArgument.
std::string CheckedSlug(std::string_view slug);

// PostgreSQL database and role of the tenant: "t_" + slug with '-' as '_' (injective: slugs have
// no '_'). Longer than PostgreSQL's 63 bytes: the first 54 characters, '_' and 8 hex digits of a
// hash of the whole name.
std::string TenantSqlName(std::string_view slug);

// Redis: ACL user "t:<slug>", keys and channels "t:<slug>:*".
std::string CacheUser(std::string_view slug);
std::string CachePrefix(std::string_view slug);  // "t:<slug>:"

// NATS JetStream: stream "tenant-<slug>" on subjects "tenant.<slug>.>".
std::string StreamName(std::string_view slug);
std::string StreamSubjects(std::string_view slug);

// Audit events: stream "audit-<slug>" on subjects "audit.<slug>.>".
std::string AuditStreamName(std::string_view slug);
std::string AuditSubjects(std::string_view slug);

}  // namespace matih::plugins::data
