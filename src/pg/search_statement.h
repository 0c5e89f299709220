// search_statement.h: one fhir.search() as planned (search_plan.h) and run
// (search_pages.h, search_includes.h, search_exec.cpp): the parsed query, its
// table, WHERE clause with bound values, sort keys and paging options.
#pragma once

#include "pg_includes.h"

#include "projection.h"
#include "search_cursor.h"
#include "search_query.h"
#include "sort_sql.h"

#include <optional>
#include <string>
#include <vector>

namespace fhir_pg {

// How a search reports its total (_total, _summary=count).
enum class TotalMode { None, Estimated, Accurate };

// Everything a search run needs, built once per call.
struct SearchStatement {
    std::string type;              // "" for a system-level search
    std::string table;             // the partition, fhir.resource for a system-level search, or the
                                   // subquery of a _contained search (plan_contained)
    std::string entry_columns = "r.rtype, r.id"; // type and id of each match's fullUrl, as rtype, id
    bool late_rows = false;        // `table` is one type's partition: pages read their rows by rid (page_query)
    bool one_partition = false;    // `table` is one type's partition (late_rows may still be off)
    std::vector<std::string> system_types; // types of a system-level search (_type, or all)
    fhir::SearchQuery query;
    std::string base_query;        // the client's raw query without _cursor (for links)
    std::string parse_query;       // what the core parses: base_query, minus _type in a system-level search
    std::optional<fhir::SearchCursor> cursor;
    std::vector<fhir::SortKeySql> sort;
    std::string where;             // over alias r, placeholders from $1
    std::string driver;            // SqlFragment::driver of `where` (single-type searches)
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::vector<std::string> shown_values; // bound values as text, for explain
    size_t where_params = 0;       // how many of `values` the WHERE clause uses
    int count = 20;
    TotalMode total = TotalMode::None;
    bool summary_count = false;
    bool no_paging = false;        // Cache-Control no-store / max-results: one page, no links
    fhir::SummaryMode summary = fhir::SummaryMode::False;
    std::vector<std::string> elements;
};

// A statement with its bound values: the WHERE clause's own, then its extras.
struct BoundQuery {
    std::string sql;
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::vector<std::string> shown; // for explain
};

// Adds a bound value to `q` and returns its placeholder ($n).
std::string bind_extra(BoundQuery &q, Oid type, Datum value, const std::string &shown);

} // namespace fhir_pg
