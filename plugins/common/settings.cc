#include "common/settings.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace matih::plugins {

std::string Trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string item = Trim(text.substr(start, comma - start));
    if (!item.empty()) items.push_back(std::move(item));
    start = comma + 1;
  }
  return items;
}

std::set<std::string> SplitSet(std::string_view text) {
  auto items = SplitList(text);
  return std::set<std::string>(items.begin(), items.end());
}

bool ParseBool(std::string_view key, std::string_view text) {
  std::string v = Trim(text);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw InvalidArgument("setting " + std::string(key) + " must be true or false, not '" + v + "'");
}

long long ParseCount(std::string_view key, std::string_view text) {
  std::string v = Trim(text);
  if (v.empty() || v.size() > 12 ||
      !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw InvalidArgument("setting " + std::string(key) + " must be a non-negative integer, not '" + v + "'");
  return std::stoll(v);
}

std::string ReadTextFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PermanentError("cannot read " + std::string(what) + " at " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace matih::plugins
