// BlobXml: a small reader and writer for the XML documents of the Blob REST API (container lists,
// SignedIdentifiers). Those documents are elements and text only, so the reader keeps element
// names, text and children; it skips the declaration, comments and attributes, decodes the five
// predefined entities and numeric references, and refuses malformed input (PermanentError).
// Values are immutable after parsing; safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace matih::plugins::storage {

struct XmlElement {
  std::string name;
  std::string text;  // decoded character data directly inside this element
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view child) const;
  // Every child named `name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view child) const;
  // The text of child `name`, or "" when there is none.
  std::string ChildText(std::string_view child) const;
};

// The root element of `document`; PermanentError naming `what` when it is not well formed.
XmlElement ParseXml(std::string_view document, const std::string& what);
// `text` with &, <, >, " and ' escaped.
std::string XmlEscape(std::string_view text);

}  // namespace matih::plugins::storage
