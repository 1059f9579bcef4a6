// Table: aligned columns for people. JSON output for machines is built with nlohmann::json
// where the command is; this is only the human form.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace matih::runner {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // Columns padded to their widest cell; the last column is not padded.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace matih::runner
