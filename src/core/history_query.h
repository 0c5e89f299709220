// history_query.h: the query of a FHIR history interaction and the SQL of its pages.
//
// fhir.history() serves the three levels of R4's history interaction
// (https://hl7.org/fhir/R4/http.html#history): one resource (type and id), one type
// (type), the whole system (neither). The client's query string carries the R4
// history parameters:
//   _count   page size (the glue caps it at fhir_search.max_count)
//   _since   versions with lastUpdated >= the instant; a partial date means its start
//   _at      per resource, the version current at some point of the period the
//            date(Time) denotes (a partial date is its whole year/month/day, as in
//            search): lastUpdated < period end and the next version's lastUpdated
//            (none: still current) > period start. Tombstones count as versions.
//   _cursor  ours: the opaque position of a next/previous link
// Anything else is an error: history has no lenient mode.
//
// Pages are newest first, ordered by (lastUpdated, type, id, version) descending, and
// keyset-paged: a cursor holds the boundary version's key and the snapshot bound of
// the first page (its "now"); every page reads only versions with lastUpdated <=
// that bound, so versions written while a client pages do not shift the pages. A
// page is the merge of two ordered LIMIT scans, of fhir.resource (current versions)
// and of fhir.resource_history (older versions and tombstones), each served by a
// lastUpdated index.
#pragma once

#include "values.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fhir {

enum class HistoryLevel { System, Type, Instance };

// A position in a history: the boundary version's key, and the snapshot bound.
struct HistoryCursor {
    bool backward = false;    // true: the page of newer versions before the boundary
    int64_t snapshot = 0;     // lastUpdated upper bound (inclusive) of every page
    int64_t last_updated = 0; // boundary version's key ...
    std::string type;
    std::string id;
    int version = 0;
};

struct HistoryQuery {
    std::optional<int> count;
    int64_t since = kMinTime;              // lastUpdated >= since
    std::optional<DateRange> at;           // _at's period [lo, hi)
    std::optional<HistoryCursor> cursor;
    std::string link_query;                // the parameters but _cursor, re-encoded, for links
};

// Parses a query string as clients send it (query_string.h: a leading '?' or a
// whole URL, '+' as space). Throws fhir::Error(InvalidSearch) on an unknown or
// repeated parameter or a bad value.
HistoryQuery parse_history_query(std::string_view query);

std::string encode_history_cursor(const HistoryCursor &cursor);
// Throws fhir::Error(InvalidSearch) when the token is not one of ours.
HistoryCursor decode_history_cursor(const std::string &token);

// The path of a history's links: "Patient/1/_history", "Patient/_history", "_history".
std::string history_path(const std::string &type, const std::string &id);

// The parameters of history_page_sql and history_count_sql, in order ($1..$11).
//   $1 snapshot timestamptz   $2..$5 cursor key (timestamptz, text, text, int4)
//   $6 since timestamptz      $7, $8 _at period lo, hi (timestamptz; -infinity, infinity)
//   $9 limit int8             $10 type text        $11 id text   $12 base URL text
constexpr int kHistoryParamCount = 12;

// One page, newest first (oldest first when backward): columns last_updated,
// rtype, id, version_id and the Bundle entry (jsonb). `current_table` is the
// registry's table of current versions: a partition for the type and instance
// levels, fhir.resource for the system level. The first page passes a cursor key
// just after the snapshot ((snapshot + 1us, '', '', 0)).
std::string history_page_sql(HistoryLevel level, const std::string &current_table, bool backward, bool with_at);

// The number of versions a history holds within the snapshot and filters (the
// instance level's `total`): one bigint column. Ignores $2..$5 and $9.
std::string history_count_sql(HistoryLevel level, const std::string &current_table, bool with_at);

} // namespace fhir
