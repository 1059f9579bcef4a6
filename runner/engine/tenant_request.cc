#include "engine/tenant_request.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace matih::runner {
namespace {

// Valid UTF-8: what may reach a target's rows and JSON (control characters are step 1's to name).
bool IsUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += len;
  }
  return true;
}

// A string value of the spec holding a control character (NUL is reported on its own).
bool HasControl(const nlohmann::json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return c != 0 && ((c >= 0 && c < 0x20) || c == 0x7f); });
  }
  if (j.is_object() || j.is_array())
    for (const auto& [k, v] : j.items())
      if (HasControl(v)) return true;
  return false;
}

struct TooDeep {};
struct DuplicateKey {
  std::string key;
};

bool HasNul(const nlohmann::json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items())
      if (key.find('\0') != std::string::npos || HasNul(value)) return true;
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (HasNul(v)) return true;
  }
  return false;
}

}  // namespace

bool TenantRequestValidator::IsDnsLabel(const std::string& s) {
  // RFC 1035: a letter first, letters, digits and hyphens, no hyphen last. Lowercase only.
  if (s.empty() || s.size() > kMaxSlug) return false;
  if (s.front() < 'a' || s.front() > 'z') return false;
  if (s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool TenantRequestValidator::IsEmail(const std::string& e) {
  auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos || e.size() > 254)
    return false;
  std::string domain = e.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string::npos || domain.front() == '.' ||
      domain.back() == '.')
    return false;
  return std::none_of(e.begin(), e.end(),
                      [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '<' || c == '>'; });
}

Status TenantRequestValidator::Check(const TenantRequest& r, std::string& spec_out) const {
  std::vector<std::string> problems;
  if (!IsDnsLabel(r.slug))
    problems.push_back("slug '" + ShownInMessage(r.slug) +
                       "' must be a lowercase RFC 1035 label: a letter first, then letters, digits " +
                       "or hyphens, no hyphen last, at most " + std::to_string(kMaxSlug) + " characters");
  if (std::find(tiers_.begin(), tiers_.end(), r.tier) == tiers_.end()) {
    std::string known;
    for (const auto& t : tiers_) known += (known.empty() ? "" : ", ") + t;
    problems.push_back("tier '" + ShownInMessage(r.tier) + "' is not one of " + known);
  }
  if (std::find(regions_.begin(), regions_.end(), r.region) == regions_.end()) {
    std::string known;
    for (const auto& t : regions_) known += (known.empty() ? "" : ", ") + t;
    problems.push_back("region '" + ShownInMessage(r.region) + "' is not one of the configured regions (" +
                       known + ")");
  }
  if (!IsEmail(r.admin_email) || !IsUtf8(r.admin_email))
    problems.push_back("admin e-mail '" + ShownInMessage(r.admin_email) + "' is not a valid address");
  nlohmann::json spec = nlohmann::json::object();
  if (r.spec_json.size() > kMaxSpecBytes) {
    problems.push_back("spec is " + std::to_string(r.spec_json.size()) + " bytes; the limit is " +
                       std::to_string(kMaxSpecBytes));
  } else {
    try {
      // The parser calls back at every value with its depth: past the limit it stops at once,
      // before a deeply nested document is built (and later torn down) recursively.
      // It also keeps the keys of each open object: a key given twice is refused, never
      // silently resolved to its last value.
      std::vector<std::set<std::string>> keys;
      nlohmann::json::parser_callback_t depth_limit = [&keys](int depth, nlohmann::json::parse_event_t event,
                                                              nlohmann::json& parsed) {
        if (depth > static_cast<int>(kMaxSpecDepth)) throw TooDeep{};
        using E = nlohmann::json::parse_event_t;
        if (event == E::object_start) keys.emplace_back();
        if (event == E::object_end && !keys.empty()) keys.pop_back();
        if (event == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
          throw DuplicateKey{parsed.get<std::string>()};
        return true;
      };
      spec = nlohmann::json::parse(r.spec_json, depth_limit);
      if (!spec.is_object()) problems.push_back("spec must be a JSON object");
      if (HasNul(spec))
        problems.push_back("spec contains a NUL character (\\u0000), which no target can store");
      else if (HasControl(spec))
        problems.push_back("spec contains a control character (U+0001-U+001F or U+007F) in a string");
    } catch (const TooDeep&) {
      problems.push_back("spec is nested deeper than " + std::to_string(kMaxSpecDepth) + " levels");
      spec = nlohmann::json::object();
    } catch (const DuplicateKey& d) {
      problems.push_back("spec has the key '" + ShownInMessage(d.key) + "' twice in one object");
      spec = nlohmann::json::object();
    } catch (const nlohmann::json::exception& e) {  // syntax, and numbers such as 1e400
      problems.push_back(std::string("spec is not valid JSON: ") + e.what());
      spec = nlohmann::json::object();
    }
  }
  if (spec.is_object()) {
    if (spec.contains("admin_email") && spec["admin_email"] != r.admin_email)
      problems.push_back("spec.admin_email differs from --admin-email");
    if (spec.contains("region") && spec["region"] != r.region)
      problems.push_back("spec.region differs from --region");
  }
  if (!problems.empty()) {
    std::string text = problems.size() == 1
                           ? "invalid tenant: "
                           : "invalid tenant (" + std::to_string(problems.size()) + " problems): ";
    for (size_t i = 0; i < problems.size(); ++i) text += (i ? "; " : "") + problems[i];
    return InvalidArgument(text);
  }
  spec["admin_email"] = r.admin_email;
  spec["region"] = r.region;
  spec_out = spec.dump();
  return Status::Ok();
}

Status CheckWithStep1(const StepCatalog& catalog, const StepKindRegistry& kinds, const EngineOptions& options,
                      const TenantView& tenant) {
  const CatalogStep* step = catalog.Find(1);
  if (!step || !catalog.Applies(*step, tenant.tier)) return Status::Ok();
  const StepKind* kind = kinds.Find(step->kind);
  if (!kind) return FailedPrecondition("step 1 " + step->name + ": kind " + step->kind + " is not loaded");
  StepCall call;
  call.tenant = tenant;
  call.step_number = step->number;
  call.step_name = step->name;
  call.params_json = step->params_json;
  call.deadline = std::chrono::system_clock::now() + step->timeout;
  call.dry_run = true;
  call.settings = &options.settings;
  StepAnswer answer = kind->Observe(call);
  if (!answer.is_error()) return Status::Ok();
  Status s = answer.ToStatus();
  const std::string text = "step 1 " + step->name + " refuses this tenant: " + s.message();
  switch (s.code()) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition:
    case Code::kPermissionDenied: return InvalidArgument(text);
    default: return Status(s.code(), text);
  }
}

}  // namespace matih::runner
