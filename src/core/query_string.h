// query_string.h: splitting a URL query string into decoded name/value pairs.
//
// The first step of every search (and of conditional references in Bundles):
// "a=1&b=x%7Cy" -> {("a","1"), ("b","x|y")}. Percent escapes are decoded; '+' is
// kept literally, because FHIR clients routinely send unescaped time-zone offsets
// like 2020-01-01T00:00:00+05:00. Empty pieces ("a=1&&b=2") are skipped.
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

// Throws fhir::Error(InvalidSearch) on a malformed percent escape.
std::vector<QueryPair> split_query_string(std::string_view query);

// Decodes %XX escapes; throws fhir::Error(InvalidSearch) when malformed.
std::string percent_decode(std::string_view text);

// Encodes a value for use in a query string (for Bundle links).
std::string percent_encode(std::string_view text);

// Splits on commas not escaped with a backslash (FHIR's OR separator), unescaping "\,".
std::vector<std::string> split_or_values(std::string_view value);

} // namespace fhir

namespace fhir {
// A canonical form of a query string for cache keys: pairs decoded, OR values
// sorted and de-duplicated, pairs sorted, everything re-encoded. Two queries that
// differ only in parameter order, percent-encoding or repeated OR values map to
// the same text.
std::string normalize_query(std::string_view query);
} // namespace fhir
