// search_plan.h: from a query string to a SearchStatement: parsing against the
// registry, the searched table (a partition, fhir.resource, or the subquery of a
// _contained search), sort keys, paging and result options, and the WHERE clause
// with its bound values.
#pragma once

#include "search_statement.h"

#include <string>

namespace fhir_pg {

// Parses the query and prepares sort keys and options; build_search_where() adds
// the WHERE clause. An empty type is a system-level search over the _type list
// (or every type). `raw_query` is a query string (no leading '?', no URL).
// `compartment` ("Patient/123", or "" for none) restricts the search to a
// compartment; an empty type then searches every type the compartment holds.
SearchStatement plan_search(const std::string &type, const std::string &raw_query,
                            const std::string &compartment = std::string());

// Builds the WHERE clause and binds its values. Values that other stored
// resources define (token :in/:not-in/:above/:below, _list) are read here, so
// call it after cache::begin_search: those reads then share the snapshot of the
// result queries.
void build_search_where(SearchStatement &st);

} // namespace fhir_pg
