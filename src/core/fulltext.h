// fulltext.h: the text behind the full-text parameters _text and _content.
//
// R4 defines `_text` as a search of the resource's narrative (text.div, XHTML)
// and `_content` as a search of all of its text. Both are built-in registry
// entries without a FHIRPath expression; the extractor asks this file for one
// document per resource and parameter, and the glue stores it as a tsvector
// (to_tsvector('simple', document), GIN-indexed) in fhir.search_text. The
// document is already folded by normalize_string (values.h), and a query value
// is folded the same way before websearch_to_tsquery('simple', ...) parses it,
// so accents and case never matter and the 'simple' configuration (no stemming,
// no stop words, IMMUTABLE) only splits words.
//
//   _text     the root narrative: tags stripped (inline elements such as <b> or
//             <sub> join their neighbours, every other element separates words),
//             character and entity references decoded (XML's five, the Latin-1
//             set of HTML and a few typographic ones), comments, <script> and
//             <style> dropped, CDATA kept. Contained resources' narratives are
//             not the resource's narrative and are left out.
//   _content  every string value at any depth (not keys, numbers or booleans),
//             narratives (also of contained resources) as their text, without
//             `resourceType` and the server-managed meta.versionId and
//             meta.lastUpdated, so the document of a resource does not change
//             when only its version does.
// Runs without whitespace longer than kMaxFullTextWord bytes (base64 data of
// attachments, Binary.data) are dropped: they are not words anyone searches
// and PostgreSQL refuses to index words over 2 KB. A document is cut at
// kMaxFullTextBytes (at a word boundary), which keeps any tsvector far below
// PostgreSQL's 1 MB limit.
#pragma once

#include "json.h"
#include "registry.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace fhir {

enum class FullTextKind { None, Narrative, Content };

constexpr size_t kMaxFullTextBytes = 256 * 1024;
constexpr size_t kMaxFullTextWord = 256;

// Narrative for the built-in `_text`, Content for the built-in `_content`, None
// for every other parameter (a custom parameter with an expression is ordinary).
FullTextKind full_text_kind(const SearchParamDef &param);

// The text of an XHTML fragment: tags stripped, references decoded (see above).
// Not folded; never throws; the output is valid UTF-8 when the input is.
std::string narrative_text(std::string_view xhtml);

// The folded, capped document of `resource` for a full-text parameter; "" when
// the resource has no such text (or `kind` is None).
std::string full_text_document(FullTextKind kind, const Json &resource);

// Whether a folded query value holds anything websearch_to_tsquery makes a word
// of (a letter or digit); a value of punctuation alone would match nothing.
bool has_search_words(std::string_view folded_query);

} // namespace fhir
