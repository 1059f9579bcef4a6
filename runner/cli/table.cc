#include "cli/table.h"

#include <algorithm>

namespace matih::runner {
namespace {

// Display width of UTF-8 text: count code points, not bytes.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], Width(row[i]));
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < header_.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      out << cell;
      if (i + 1 < header_.size()) out << std::string(width[i] - Width(cell) + 2, ' ');
    }
    out << '\n';
  };
  line(header_);
  for (const auto& r : rows_) line(r);
}

}  // namespace matih::runner
