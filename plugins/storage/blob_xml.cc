#include "storage/blob_xml.h"

#include <matih/step.hpp>

namespace matih::plugins::storage {
namespace {

class Parser {
 public:
  Parser(std::string_view doc, const std::string& what) : doc_(doc), what_(what) {}

  XmlElement Document() {
    SkipMisc();
    if (!Peek('<')) Fail("no root element");
    XmlElement root = Element();
    SkipMisc();
    if (pos_ != doc_.size()) Fail("text after the root element");
    return root;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const {
    throw PermanentError("malformed XML in " + what_ + ": " + why + " at byte " + std::to_string(pos_));
  }
  bool Peek(char c) const { return pos_ < doc_.size() && doc_[pos_] == c; }
  bool StartsWith(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }
  void SkipSpace() {
    while (pos_ < doc_.size() && std::isspace(static_cast<unsigned char>(doc_[pos_]))) ++pos_;
  }
  void SkipPast(std::string_view end) {
    auto at = doc_.find(end, pos_);
    if (at == std::string_view::npos) Fail("unterminated markup");
    pos_ = at + end.size();
  }
  // Whitespace, the declaration, processing instructions and comments.
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (StartsWith("<?"))
        SkipPast("?>");
      else if (StartsWith("<!--"))
        SkipPast("-->");
      else
        return;
    }
  }
  std::string Name() {
    size_t start = pos_;
    while (pos_ < doc_.size() && !std::isspace(static_cast<unsigned char>(doc_[pos_])) && doc_[pos_] != '>' &&
           doc_[pos_] != '/' && doc_[pos_] != '=')
      ++pos_;
    if (start == pos_) Fail("element without a name");
    return std::string(doc_.substr(start, pos_ - start));
  }
  // Skips attributes up to '>' or '/>'; true when the element is self-closing.
  bool EndOfStartTag() {
    for (;;) {
      SkipSpace();
      if (StartsWith("/>")) {
        pos_ += 2;
        return true;
      }
      if (Peek('>')) {
        ++pos_;
        return false;
      }
      Name();
      SkipSpace();
      if (!Peek('=')) Fail("attribute without a value");
      ++pos_;
      SkipSpace();
      if (!Peek('"') && !Peek('\'')) Fail("unquoted attribute value");
      char quote = doc_[pos_++];
      auto end = doc_.find(quote, pos_);
      if (end == std::string_view::npos) Fail("unterminated attribute value");
      pos_ = end + 1;
    }
  }
  void Text(std::string& out, size_t end) {
    while (pos_ < end) {
      char c = doc_[pos_];
      if (c != '&') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      auto semi = doc_.find(';', pos_);
      if (semi == std::string_view::npos || semi > end) Fail("unterminated entity");
      std::string_view entity = doc_.substr(pos_ + 1, semi - pos_ - 1);
      if (entity == "amp")
        out.push_back('&');
      else if (entity == "lt")
        out.push_back('<');
      else if (entity == "gt")
        out.push_back('>');
      else if (entity == "quot")
        out.push_back('"');
      else if (entity == "apos")
        out.push_back('\'');
      else if (entity.size() > 1 && entity[0] == '#') {
        unsigned long code = 0;
        try {
          code = entity[1] == 'x' ? std::stoul(std::string(entity.substr(2)), nullptr, 16)
                                  : std::stoul(std::string(entity.substr(1)));
        } catch (const std::exception&) {
          Fail("bad character reference");
        }
        AppendUtf8(out, code);
      } else {
        Fail("unknown entity");
      }
      pos_ = semi + 1;
    }
  }
  static void AppendUtf8(std::string& out, unsigned long cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  XmlElement Element() {
    if (++depth_ > 64) Fail("nesting too deep");
    ++pos_;  // '<'
    XmlElement e;
    e.name = Name();
    if (!EndOfStartTag()) {
      for (;;) {
        if (pos_ >= doc_.size()) Fail("unterminated element " + e.name);
        if (StartsWith("<!--")) {
          SkipPast("-->");
        } else if (StartsWith("<![CDATA[")) {
          pos_ += 9;
          auto end = doc_.find("]]>", pos_);
          if (end == std::string_view::npos) Fail("unterminated CDATA");
          e.text.append(doc_.substr(pos_, end - pos_));
          pos_ = end + 3;
        } else if (StartsWith("</")) {
          pos_ += 2;
          if (Name() != e.name) Fail("mismatched end tag of " + e.name);
          SkipSpace();
          if (!Peek('>')) Fail("bad end tag");
          ++pos_;
          break;
        } else if (Peek('<')) {
          e.children.push_back(Element());
        } else {
          auto next = doc_.find('<', pos_);
          if (next == std::string_view::npos) Fail("unterminated element " + e.name);
          Text(e.text, next);
        }
      }
    }
    --depth_;
    return e;
  }

  std::string_view doc_;
  const std::string& what_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child) const {
  for (const auto& c : children)
    if (c.name == child) return &c;
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children)
    if (c.name == child) out.push_back(&c);
  return out;
}

std::string XmlElement::ChildText(std::string_view child) const {
  const XmlElement* c = Child(child);
  return c ? c->text : std::string();
}

XmlElement ParseXml(std::string_view document, const std::string& what) {
  // A UTF-8 byte order mark may precede the declaration.
  if (document.substr(0, 3) == "\xEF\xBB\xBF") document.remove_prefix(3);
  return Parser(document, what).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace matih::plugins::storage
