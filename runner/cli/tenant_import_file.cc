#include "cli/tenant_import_file.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace matih::runner {
namespace {

// The next line of `in` without its line end, at most kMaxImportLineBytes; nullopt at the end.
// A longer line is skipped to its end and reported through `too_long`, never held whole.
std::optional<std::string> NextLine(std::istream& in, bool& too_long) {
  too_long = false;
  if (in.peek() == std::char_traits<char>::eof()) return std::nullopt;
  std::string line;
  char c;
  while (in.get(c)) {
    if (c == '\n') break;
    if (line.size() >= kMaxImportLineBytes) {
      too_long = true;
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      break;
    }
    line += c;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool Blank(const std::string& line) { return line.find_first_not_of(" \t") == std::string::npos; }

// One JSON line as a request; false with `problem` set when the line is not one.
bool FromJsonLine(const std::string& line, const std::string& default_region, TenantRequest& out,
                  std::string& problem) {
  nlohmann::json j;
  try {
    // The same depth bound as a spec file, counted from the line's own object.
    nlohmann::json::parser_callback_t depth_limit = [](int depth, nlohmann::json::parse_event_t,
                                                       nlohmann::json&) {
      if (depth > static_cast<int>(TenantRequestValidator::kMaxSpecDepth) + 1)
        throw std::length_error("nested too deep");
      return true;
    };
    j = nlohmann::json::parse(line, depth_limit);
  } catch (const std::length_error&) {
    problem = "nested deeper than " + std::to_string(TenantRequestValidator::kMaxSpecDepth) + " levels";
    return false;
  } catch (const nlohmann::json::exception& e) {
    problem = std::string("not valid JSON: ") + e.what();
    return false;
  }
  if (!j.is_object()) {
    problem = "not a JSON object";
    return false;
  }
  out = TenantRequest{};
  out.region = default_region;
  std::vector<std::string> problems;
  for (const auto& [key, value] : j.items()) {
    if (key == "spec") {
      if (!value.is_object())
        problems.push_back("\"spec\" must be an object");
      else
        out.spec_json = value.dump();
      continue;
    }
    std::string* field = key == "slug"          ? &out.slug
                         : key == "tier"        ? &out.tier
                         : key == "admin_email" ? &out.admin_email
                         : key == "region"      ? &out.region
                                                : nullptr;
    if (!field) {
      problems.push_back("unknown key \"" + ShownInMessage(key) +
                         "\" (known: slug, tier, admin_email, region, spec)");
      continue;
    }
    if (!value.is_string())
      problems.push_back("\"" + key + "\" must be a string");
    else
      *field = value.get<std::string>();
  }
  for (const char* required : {"slug", "tier", "admin_email"})
    if (!j.contains(required)) problems.push_back(std::string("\"") + required + "\" is missing");
  for (size_t i = 0; i < problems.size(); ++i) problem += (i ? "; " : "") + problems[i];
  return problems.empty();
}

// The fields of one CSV record (RFC 4180 quoting, no line breaks inside a field); false with
// `problem` set when a quote is misplaced or left open.
bool SplitCsv(const std::string& line, std::vector<std::string>& fields, std::string& problem) {
  fields.assign(1, "");
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '"') {
      if (!fields.back().empty() || was_quoted) {
        problem = "a quote inside an unquoted field (column " + std::to_string(fields.size()) + ")";
        return false;
      }
      quoted = was_quoted = true;
    } else {
      if (was_quoted) {
        problem = "text after a closing quote (column " + std::to_string(fields.size()) + ")";
        return false;
      }
      fields.back() += c;
    }
  }
  if (quoted) {
    problem = "a quoted field is not closed on its line";
    return false;
  }
  return true;
}

}  // namespace

Result<ImportFormat> ParseImportFormat(const std::string& name) {
  if (name == "jsonl" || name == "json") return ImportFormat::kJsonLines;
  if (name == "csv") return ImportFormat::kCsv;
  return InvalidArgument("--format: '" + ShownInMessage(name) + "' is not jsonl or csv");
}

Result<ImportFile> ReadImportFile(std::istream& in, ImportFormat format, const std::string& default_region) {
  ImportFile file;
  std::map<std::string, size_t> columns;  // CSV: column name -> index
  size_t column_count = 0;
  int number = 0;
  bool too_long = false;
  while (auto line = NextLine(in, too_long)) {
    ++number;
    if (too_long) {
      file.problems.push_back(
          {number, "line is longer than " + std::to_string(kMaxImportLineBytes) + " bytes"});
      continue;
    }
    if (Blank(*line)) continue;
    if (file.tenants.size() + file.problems.size() >= kMaxImportLines)
      return InvalidArgument("the file has more than " + std::to_string(kMaxImportLines) +
                             " tenants; split it (at line " + std::to_string(number) + ")");
    std::string problem;
    if (format == ImportFormat::kJsonLines) {
      TenantRequest request;
      if (FromJsonLine(*line, default_region, request, problem))
        file.tenants.push_back({number, std::move(request)});
      else
        file.problems.push_back({number, problem});
      continue;
    }
    std::vector<std::string> fields;
    if (!SplitCsv(*line, fields, problem)) {
      if (columns.empty())
        return InvalidArgument("CSV header (line " + std::to_string(number) + "): " + problem);
      file.problems.push_back({number, problem});
      continue;
    }
    if (columns.empty()) {  // the header
      for (size_t i = 0; i < fields.size(); ++i) {
        const std::string& name = fields[i];
        if (name != "slug" && name != "tier" && name != "admin_email" && name != "region" && name != "spec")
          return InvalidArgument("CSV header (line " + std::to_string(number) + "): unknown column '" +
                                 ShownInMessage(name) + "' (known: slug, tier, admin_email, region, spec)");
        if (!columns.emplace(name, i).second)
          return InvalidArgument("CSV header (line " + std::to_string(number) + "): column '" + name +
                                 "' appears twice");
      }
      for (const char* required : {"slug", "tier", "admin_email"})
        if (!columns.count(required))
          return InvalidArgument("CSV header (line " + std::to_string(number) + "): the column '" +
                                 std::string(required) + "' is missing");
      column_count = fields.size();
      continue;
    }
    if (fields.size() != column_count) {
      file.problems.push_back({number, std::to_string(fields.size()) + " fields; the header names " +
                                           std::to_string(column_count)});
      continue;
    }
    auto field = [&](const char* name) -> std::string {
      auto it = columns.find(name);
      return it == columns.end() ? std::string() : fields[it->second];
    };
    TenantRequest request{field("slug"), field("tier"), field("region"), field("admin_email"), field("spec")};
    if (request.region.empty()) request.region = default_region;
    if (request.spec_json.empty()) request.spec_json = "{}";
    file.tenants.push_back({number, std::move(request)});
  }
  if (format == ImportFormat::kCsv && columns.empty() && file.problems.empty())
    return InvalidArgument(
        "the CSV file is empty: it needs a header line (slug,tier,admin_email[,region][,spec])");
  return file;
}

}  // namespace matih::runner
