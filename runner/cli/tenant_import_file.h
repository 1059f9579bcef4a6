// TenantImportFile: the lines of a `tenants import` file, read as tenant requests.
//
// Two formats, one tenant per line:
//   - JSON lines: {"slug": "acme", "tier": "free", "admin_email": "a@acme.example",
//     "region": "eu-west", "spec": {...}}; region and spec are optional, other keys are refused.
//   - CSV (RFC 4180 quoting, "" inside a quoted field): a header line naming the columns
//     (slug, tier, admin_email required; region, spec optional; spec holds the JSON text), then
//     one record per line. A quoted field cannot span lines.
// Blank lines are skipped. The reader is bounded: a line longer than kMaxLineBytes and a file
// of more than kMaxLines tenants are refused without being read whole. Each problem is kept
// with its line number, so the command can report every bad line at once. Whether a request is
// a valid tenant is not judged here (TenantRequestValidator and step 1 do that).
// Pure functions; safe from any thread.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/tenant_request.h"

namespace matih::runner {

enum class ImportFormat { kJsonLines, kCsv };

struct ImportLine {
  int line = 0;  // 1-based line number in the file
  TenantRequest request;
};

struct ImportProblem {
  int line = 0;
  std::string what;
};

struct ImportFile {
  std::vector<ImportLine> tenants;
  std::vector<ImportProblem> problems;
};

inline constexpr size_t kMaxImportLineBytes = 70 * 1024;  // a 64 KiB spec plus the other fields
inline constexpr size_t kMaxImportLines = 100000;

// "jsonl" / "json" / "csv"; InvalidArgument for anything else.
Result<ImportFormat> ParseImportFormat(const std::string& name);

// Reads every line of `in`. Problems of single lines land in ImportFile::problems; a problem of
// the whole file (a CSV header naming an unknown or missing column, too many lines) is an
// InvalidArgument. `default_region` fills a line that gives no region.
Result<ImportFile> ReadImportFile(std::istream& in, ImportFormat format, const std::string& default_region);

}  // namespace matih::runner
