#include "common/message_text.h"

namespace matih::runner {

std::string ShownInMessage(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < 60; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7f)
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 0xf];
    else
      out += static_cast<char>(c);
  }
  return s.size() > 60 ? out + "..." : out;
}

}  // namespace matih::runner
