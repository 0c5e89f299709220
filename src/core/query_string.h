// query_string.h: splitting a URL query string into decoded name/value pairs.
//
// The first step of every search (and of conditional references in Bundles):
// "a=1&b=x%7Cy+z" -> {("a","1"), ("b","x|y z")}. Decoded as browsers and HTTP
// libraries encode forms (application/x-www-form-urlencoded: Python's urlencode,
// JavaScript's URLSearchParams): percent escapes, and '+' as a space. A client that
// leaves a time-zone offset unescaped (date=ge2020-01-01T00:00:00+05:00) thus sends a
// space there; date search values read " hh:mm" after a time as "+hh:mm"
// (search_query.cpp). Empty pieces ("a=1&&b=2") are skipped.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fhir {

struct QueryPair {
    std::string name;  // decoded, including any ":modifier" suffix
    std::string value; // decoded
};

// Throws fhir::Error(InvalidSearch) on a malformed percent escape or when the
// decoded text is not valid UTF-8.
std::vector<QueryPair> split_query_string(std::string_view query);

// Decodes %XX escapes; throws fhir::Error(InvalidSearch) when malformed.
std::string percent_decode(std::string_view text);

// percent_decode that also reads '+' as a space (query string names and values).
std::string form_decode(std::string_view text);

// The query string of what a client passes where a query string belongs: a query
// string as is ("code=x"), with the '?' that URL.search gives ("?code=x"), or a whole
// search URL, absolute or relative, with or without a base ("http://h/fhir/Observation?
// code=x", "/fhir/Observation?code=x", "Observation?code=x"; a next link passed back).
// Text before the first '?' is a URL only when it holds no '=' or '&' (a value such as
// "url=http://x?y" keeps its '?'); a URL without '?' has an empty query.
std::string_view query_of_url(std::string_view text);

// Encodes a value for use in a query string (for Bundle links).
std::string percent_encode(std::string_view text);

// Splits on commas not escaped with a backslash (FHIR's OR separator), unescaping "\,".
std::vector<std::string> split_or_values(std::string_view value);

} // namespace fhir

namespace fhir {
// A canonical form of a query string for cache keys: pairs decoded, OR values
// sorted and de-duplicated, pairs sorted, everything re-encoded. Two queries that
// differ only in parameter order, percent-encoding ('+' or %20), a leading '?' or a
// URL before it, or repeated OR values map to the same text. _sort keeps its keys
// and its repetitions in their order (they order the result).
std::string normalize_query(std::string_view query);
} // namespace fhir
