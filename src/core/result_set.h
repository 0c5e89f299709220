// result_set.h: the ordered matches of one search as the result cache keeps them
// for paging and prefetching (docs/cache.md, "Result sets and prefetching").
//
// A first-page search that may be cached fetches the rid, type, id and sort keys
// of its first N matches (N = the first prefetch threshold), not just of the page,
// and stores them as a result set. A page request whose cursor names that set is
// then served by slicing it and fetching the page's resources by rid, without
// running the search again; a request past the prefetched rows extends the set
// to the next threshold from the keyset of its last row.
#pragma once

#include "search_cursor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

struct ResultRow {
    int64_t rid = 0;
    std::string type;
    std::string id;
    std::vector<std::string> keys; // sort key values as text (the cursor's keys)
};

struct ResultSet {
    std::vector<ResultRow> rows;   // the first matches, in search order
    bool complete = false;         // rows hold every match
    std::optional<int64_t> total;  // Bundle.total computed by the first search (per _total)
};

std::string encode_result_set(const ResultSet &set);
// Throws fhir::Error(Internal) on bytes that are not an encoded set.
ResultSet decode_result_set(std::string_view bytes);

// Where a page lies in a set: rows [begin, end) in display order.
struct PageSlice {
    size_t begin = 0;
    size_t end = 0;
    bool more = false; // a row exists beyond the slice in the page's direction
};

// The page of `count` rows after (forward) or before (backward) the cursor's
// row, or nothing when the set cannot answer it: the cursor's row is not in the
// set (or its keys differ), or a forward page reaches past the prefetched rows of
// an incomplete set (then the set must be extended first: `needs_rows` is set to
// the number of rows the set must hold).
std::optional<PageSlice> locate_page(const ResultSet &set, const SearchCursor &cursor, size_t count,
                                     size_t *needs_rows = nullptr);

// The first page of a set.
PageSlice first_page(const ResultSet &set, size_t count);

// Parses fhir_search.cache_prefetch_thresholds: a comma-separated list of
// increasing positive row counts, optionally ending in -1 ("every match").
// Returns false (with a message) on anything else; never throws.
bool parse_prefetch_thresholds(const std::string &text, std::vector<int64_t> *out, std::string *message) noexcept;

// The number of rows to prefetch so that a set holds at least `needed` rows:
// the first threshold >= needed (-1 = every match: returns -1); past the last
// threshold, `needed` rounded up to a multiple of the last threshold.
int64_t prefetch_target(const std::vector<int64_t> &thresholds, int64_t needed);

} // namespace fhir
