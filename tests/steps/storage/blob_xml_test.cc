// The Blob service's XML answers as plugins/storage reads them: elements, text, entities; the
// declaration, attributes and comments are skipped; malformed documents are refused.
#include "storage/blob_xml.h"

#include <gtest/gtest.h>

#include <matih/step.hpp>

namespace matih::testing {
namespace {

using plugins::storage::ParseXml;
using plugins::storage::XmlEscape;

TEST(BlobXml, ReadsAContainerListWithMetadataAndAttributes) {
  auto doc = ParseXml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>"
      "<EnumerationResults ServiceEndpoint=\"http://x/acct\"><Prefix>st-</Prefix><Containers>"
      "<Container><Name>st-raw</Name><Properties><Etag>\"0x1\"</Etag></Properties>"
      "<Metadata><matih_tenant_id>abc</matih_tenant_id><note>a &amp; b &lt;c&gt; "
      "&#233;&#x41;</note></Metadata>"
      "</Container><!-- a comment --><Container><Name>st-two</Name><Metadata/></Container></Containers>"
      "<NextMarker /></EnumerationResults>",
      "test");
  EXPECT_EQ("EnumerationResults", doc.name);
  auto containers = doc.Child("Containers")->Children("Container");
  ASSERT_EQ(2u, containers.size());
  EXPECT_EQ("st-raw", containers[0]->ChildText("Name"));
  EXPECT_EQ("\"0x1\"", containers[0]->Child("Properties")->ChildText("Etag"));
  const auto* meta = containers[0]->Child("Metadata");
  ASSERT_EQ(2u, meta->children.size());
  EXPECT_EQ("abc", meta->ChildText("matih_tenant_id"));
  EXPECT_EQ(
      "a & b <c> \xC3\xA9"
      "A",
      meta->ChildText("note"));
  EXPECT_TRUE(containers[1]->Child("Metadata")->children.empty());
  EXPECT_EQ("", doc.ChildText("NextMarker"));
  EXPECT_EQ(nullptr, doc.Child("Missing"));
}

TEST(BlobXml, RefusesMalformedDocuments) {
  for (const char* bad : {"", "text only", "<a><b></a>", "<a>", "<a></a><b></b>", "<a>&bogus;</a>",
                          "<a x=1></a>", "<a>&#xZZ;</a>", "<a><!-- open</a>"})
    EXPECT_THROW(ParseXml(bad, "test"), matih::PermanentError) << bad;
}

TEST(BlobXml, EscapesTextForTheSignedIdentifiersWeWrite) {
  EXPECT_EQ("a&amp;b&lt;c&gt;&quot;d&apos;", XmlEscape("a&b<c>\"d'"));
  EXPECT_EQ("x&y", ParseXml("<v>" + XmlEscape("x&y") + "</v>", "test").text);
}

}  // namespace
}  // namespace matih::testing
