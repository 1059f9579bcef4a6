// Fuzzes the audit trail's canonical form (runner/store/audit_log.cc). `audit verify` recomputes
// each event's hash from the row read back from PostgreSQL, where details went through jsonb and
// back to text; the canonical text must survive that round trip, or a true chain would fail to
// verify. The input gives the event's fields (split at newlines) and its details (JSON).
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_support.h"
#include "store/audit_log.h"

namespace {

std::string Next(std::string& rest) {
  auto nl = rest.find('\n');
  std::string head = rest.substr(0, nl);
  rest = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
  return head;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using matih::fuzz::Require;
  std::string rest(reinterpret_cast<const char*>(data), size);
  matih::runner::AuditEvent e;
  const std::string run_id = Next(rest), runner = Next(rest);
  e.event = Next(rest);
  e.step_name = Next(rest);
  e.plugin = Next(rest);
  e.plugin_version = Next(rest);
  if (!e.step_name.empty()) e.step_number = static_cast<int>(e.step_name.size());
  auto details = nlohmann::json::parse(rest, nullptr, false);
  if (details.is_object()) e.details = details;

  std::string canonical;
  try {
    canonical =
        matih::runner::AuditLog::Canonical(7, "tenant-id", "2026-01-01 00:00:00+00", run_id, runner, e);
  } catch (const nlohmann::json::type_error&) {
    return 0;  // invalid UTF-8: the event cannot be written (Append throws before any INSERT)
  }
  Require(canonical ==
              matih::runner::AuditLog::Canonical(7, "tenant-id", "2026-01-01 00:00:00+00", run_id, runner, e),
          "canonical form is not deterministic");
  // As Verify reads the row back: details as text from jsonb, parsed again.
  matih::runner::AuditEvent back = e;
  back.details = nlohmann::json::parse(e.details.dump());
  Require(canonical == matih::runner::AuditLog::Canonical(7, "tenant-id", "2026-01-01 00:00:00+00", run_id,
                                                          runner, back),
          "canonical form changes when details are read back");
  const std::string h1 = matih::runner::AuditLog::ChainHash("", canonical);
  Require(h1.size() == 64, "chain hash is not 64 hex digits");
  Require(h1 != matih::runner::AuditLog::ChainHash(h1, canonical), "chain hash ignores the previous hash");
  return 0;
}
