// fulltext_test.cpp: unit tests of the _text/_content documents (src/core/fulltext.cpp).
//
// Narratives: tag stripping (inline elements join, others separate), character
// and entity references, comments, script/style, CDATA and malformed markup.
// Documents: what _text and _content take from a resource, folding, the limits.
#include "fulltext.h"

#include <gtest/gtest.h>

#include "values.h"

using fhir::FullTextKind;
using fhir::Json;
using fhir::full_text_document;
using fhir::narrative_text;
using fhir::normalize_string;

namespace {

const fhir::Registry &registry() {
    static const fhir::Registry r = fhir::Registry::builtin();
    return r;
}

// The narrative's text as the index folds it.
std::string folded(const std::string &xhtml) { return normalize_string(narrative_text(xhtml)); }

} // namespace

TEST(FullText, KindsOfParameters) {
    EXPECT_EQ(fhir::full_text_kind(*registry().find("Patient", "_text")), FullTextKind::Narrative);
    EXPECT_EQ(fhir::full_text_kind(*registry().find("Patient", "_content")), FullTextKind::Content);
    EXPECT_EQ(fhir::full_text_kind(*registry().find("Bundle", "_content")), FullTextKind::Content);
    EXPECT_EQ(fhir::full_text_kind(*registry().find("Patient", "name")), FullTextKind::None);
    // A custom parameter named like one, with an expression, is an ordinary parameter.
    fhir::SearchParamDef custom = *registry().find("Patient", "_text");
    custom.id = fhir::kFirstCustomParamId + 1;
    custom.expression = "Patient.name";
    EXPECT_EQ(fhir::full_text_kind(custom), FullTextKind::None);
    // Built-in full-text parameters start disabled; everything else enabled.
    EXPECT_FALSE(registry().find("Observation", "_text")->enabled);
    EXPECT_FALSE(registry().find("Observation", "_content")->enabled);
    EXPECT_TRUE(registry().find("Observation", "code")->enabled);
}

TEST(FullText, TagsAreStrippedInlineJoinsBlockSeparates) {
    EXPECT_EQ(folded(R"(<div xmlns="http://www.w3.org/1999/xhtml"><p>Blood <b>pres</b>sure</p><p>high</p></div>)"),
              "blood pressure high");
    EXPECT_EQ(folded("<DIV><SPAN>H</SPAN><SUB>2</SUB>O</DIV>"), "h2o");
    EXPECT_EQ(folded("<table><tr><td>a</td><td>b</td></tr></table>"), "a b");
    EXPECT_EQ(folded("<div>line<br/>break</div>"), "line break");
    // A '>' inside a quoted attribute does not end the tag; attribute text is not content.
    EXPECT_EQ(folded(R"(<div title="a > b" class='x>y'>3 &lt; 4</div>)"), "3 < 4");
    // A lone '<' is text; an unterminated tag is dropped.
    EXPECT_EQ(folded("<div>3 < 4 <b"), "3 < 4");
}

TEST(FullText, EntitiesAreDecoded) {
    EXPECT_EQ(narrative_text("caf&eacute; &amp; cr&#232;me &#x2014; 5 &lt; 6&nbsp;ok"),
              "café & crème — 5 < 6\u00a0ok");
    EXPECT_EQ(narrative_text("&quot;&apos;&gt;&Uuml;&szlig;&euro;&hellip;"), "\"'>Üß€…");
    EXPECT_EQ(narrative_text("&#X41;&#66;"), "AB");
    // A soft hyphen disappears and keeps the word whole.
    EXPECT_EQ(narrative_text("in&shy;formation"), "information");
    // Unknown, malformed or forbidden references stay as written.
    EXPECT_EQ(narrative_text("&bogus; &amp &#0; &#xD800; &#x110000; &#12a; & alone"),
              "&bogus; &amp &#0; &#xD800; &#x110000; &#12a; & alone");
    EXPECT_EQ(folded("<p>&Eacute;L&Egrave;VE</p>"), "eleve");
}

TEST(FullText, CommentsScriptsStylesAndCdata) {
    EXPECT_EQ(folded(R"(<div><!-- hidden <b>x</b> --><style>p {color: red}</style>)"
                     R"(<script type="x">var a = "<b>";</script>shown<![CDATA[<raw> & text]]></div>)"),
              "shown<raw> & text");
    EXPECT_EQ(folded("<div><SCRIPT>bad()</SCRIPT>good<!-- open"), "good");
    EXPECT_EQ(folded("<?xml version=\"1.0\"?><!DOCTYPE div><div>doc</div>"), "doc");
}

TEST(FullText, NarrativeDocumentIsTheRootNarrativeFolded) {
    Json patient = Json::parse(R"({"resourceType":"Patient","id":"p1",
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Zoë <b>MÜLLER</b></div>"},
        "contained":[{"resourceType":"Patient","id":"c","text":{"div":"<div>inner</div>"}}],
        "name":[{"family":"Other"}]})");
    EXPECT_EQ(full_text_document(FullTextKind::Narrative, patient), "zoe muller");
    EXPECT_EQ(full_text_document(FullTextKind::Narrative, Json::parse(R"({"resourceType":"Patient","id":"x"})")),
              "");
    EXPECT_EQ(full_text_document(FullTextKind::None, patient), "");
}

TEST(FullText, ContentDocumentHoldsEveryStringValue) {
    Json obs = Json::parse(R"({"resourceType":"Observation","id":"o1",
        "meta":{"versionId":"3","lastUpdated":"2024-01-01T00:00:00Z","tag":[{"code":"VIP"}]},
        "text":{"status":"generated","div":"<div><p>Narr&eacute;</p></div>"},
        "status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic"}]},
        "valueQuantity":{"value":120,"unit":"mmHg"},
        "contained":[{"resourceType":"Patient","id":"c1","active":true,"text":{"div":"<div>Inner <i>note</i></div>"}}],
        "note":[{"text":"Deeply nested"}]})");
    // nlohmann keeps keys sorted, so the values come in key order.
    EXPECT_EQ(full_text_document(FullTextKind::Content, obs),
              "8480-6 systolic http://loinc.org c1 inner note o1 vip deeply nested final narre generated mmhg");
}

TEST(FullText, ContentDropsLongRunsAndIsCapped) {
    Json binary = {{"resourceType", "DocumentReference"},
                   {"id", "d1"},
                   {"description", "before " + std::string(300, 'A') + " after"}};
    EXPECT_EQ(full_text_document(FullTextKind::Content, binary), "before after d1");

    std::string many;
    for (int i = 0; i < 100000; ++i)
        many += "word" + std::to_string(i % 10) + " ";
    Json big = {{"resourceType", "Basic"}, {"id", "b"}, {"text", {{"div", "<div>x</div>"}}}, {"note", many}};
    std::string document = full_text_document(FullTextKind::Content, big);
    EXPECT_LE(document.size(), fhir::kMaxFullTextBytes);
    EXPECT_GT(document.size(), fhir::kMaxFullTextBytes - 16);
    EXPECT_EQ(document.substr(0, 8), "b word0 ");
    EXPECT_EQ(document.back() >= '0' && document.back() <= '9', true); // cut after a whole word
    EXPECT_EQ(document.find("  "), std::string::npos);
}

TEST(FullText, SearchWords) {
    EXPECT_TRUE(fhir::has_search_words("cough"));
    EXPECT_TRUE(fhir::has_search_words("\"blood pressure\" -x"));
    EXPECT_TRUE(fhir::has_search_words("-7"));
    EXPECT_TRUE(fhir::has_search_words(normalize_string("Ελληνικά")));
    EXPECT_FALSE(fhir::has_search_words("!!! --"));
    EXPECT_FALSE(fhir::has_search_words("\"\""));
    EXPECT_FALSE(fhir::has_search_words(""));
}
