// search_cursor.h: the opaque `_cursor` value of paging links.
//
// Paging is keyset-based and stateless: a next/previous link carries the sort
// key values and rid of the boundary row of the current page, so any backend
// (through any connection pool) can continue the search without OFFSET scans
// and without session state. The token is base64url of a small JSON array.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fhir {

struct SearchCursor {
    bool backward = false;           // true: the page before the boundary row
    int64_t rid = 0;                 // boundary row's rid (the final tie-breaker)
    std::vector<std::string> keys;   // boundary row's sort key values, as text
};

std::string encode_cursor(const SearchCursor &cursor);
// Throws fhir::Error(InvalidSearch) when the token is not one of ours.
SearchCursor decode_cursor(const std::string &token, size_t expected_keys);

} // namespace fhir
