// search_pages.h: the rows of a planned search (search_plan.h): a page after or
// before a keyset cursor, a result set's rows for the cache, a page of a cached
// result set, and the count.
//
// Paging is keyset-based: ORDER BY <sort keys>, rid; a next/previous link
// carries the boundary row's keys and rid (search_cursor.h). No OFFSET, no
// session state: any backend can serve any page.
#pragma once

#include "search_statement.h"

#include "result_set.h"

#include <optional>
#include <string>
#include <vector>

namespace fhir_pg {

// A row of a page statement, copied out of SPI.
struct Row {
    int64_t rid = 0;
    std::string type, id;
    Datum content = 0; // jsonb copy, or 0 without content
    std::vector<std::string> keys;
};

// Up to `limit` rows (-1: all) after (or, backward, before) `cursor`, in page
// direction, with their content when `with_content`.
std::vector<Row> page_rows(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor,
                           bool with_content, int64_t limit);

// One page of matches.
struct Page {
    std::vector<int64_t> rids;
    std::vector<std::string> types;
    std::vector<std::string> ids;
    std::vector<Datum> contents; // jsonb, valid until the next statement frees the result: copied
    std::vector<std::vector<std::string>> keys;
    bool more = false;           // a row beyond the page exists in the page direction
    // Boundary rows for the links when they differ from the first/last row
    // present (a page from a cached result set whose rows were deleted since).
    std::optional<fhir::ResultRow> first_row, last_row;
};

// The requested page (st.cursor, st.count), in display order.
Page fetch_page(SearchStatement &st);

// Counts matches exactly, or estimates them from the planner.
std::optional<int64_t> count_matches(const SearchStatement &st, TotalMode mode);

// Prefetch: rid, type, id and sort keys (no content) of up to `limit` matches
// (-1: every match, up to what the largest cache entry holds) after `after`,
// for a cached result set.
fhir::ResultSet fetch_result_set(const SearchStatement &st, const std::optional<fhir::SearchCursor> &after, int64_t limit);

// A page of a cached result set: its rows' resources fetched by rid, in the
// set's order (rows deleted since are skipped; the links continue from the
// set's boundary rows).
Page page_from_set(const SearchStatement &st, const fhir::ResultSet &set, const fhir::PageSlice &slice);

// The first statement of the requested page (count+1 rows with content), for explain.
BoundQuery first_page_query(const SearchStatement &st);

} // namespace fhir_pg
