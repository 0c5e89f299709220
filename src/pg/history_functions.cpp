// history_functions.cpp: fhir.history(), the history interaction at instance, type
// and system level as one page of a history Bundle.
//
// The query, its cursors and the page SQL are src/core/history_query.h; here the
// statements run and the Bundle is assembled: entries are built by the page
// statement, the frame (total, links) by a second one around them.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "guc.h"
#include "history_query.h"
#include "json.h"
#include "registry.h"
#include "resource.h"
#include "spi.h"

#include <algorithm>

extern "C" {
#include "utils/array.h"
}

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;
using fhir::HistoryCursor;
using fhir::HistoryLevel;

// A version's key as a page statement returns it (columns 1..4).
HistoryCursor row_key(uint64_t row, int64_t snapshot, bool backward) {
    HistoryCursor key;
    key.backward = backward;
    key.snapshot = snapshot;
    key.last_updated = timestamptz_to_unix_micros(DatumGetTimestampTz(spi_get_datum(row, 1)));
    key.type = spi_get_text(row, 2);
    key.id = spi_get_text(row, 3);
    key.version = spi_get_int32(row, 4);
    return key;
}

std::string link_url(const std::string &path, const std::string &link_query, const HistoryCursor *cursor) {
    std::string query = link_query;
    if (cursor)
        query += (query.empty() ? "" : "&") + std::string("_cursor=") + fhir::encode_history_cursor(*cursor);
    return base_url_prefix() + path + (query.empty() ? "" : "?" + query);
}

// A jsonb[] of the entry column (5) of the page's rows [begin, end), in that order
// (or reversed), in the current memory context.
Datum entry_array(uint64_t begin, uint64_t end, bool reversed) {
    std::vector<Datum> entries;
    for (uint64_t i = begin; i < end; i++)
        entries.push_back(spi_get_datum(i, 5));
    if (reversed)
        std::reverse(entries.begin(), entries.end());
    Datum *elems = entries.data();
    int n = static_cast<int>(entries.size());
    return pg_call([elems, n] { return PointerGetDatum(construct_array(elems, n, JSONBOID, -1, false, TYPALIGN_INT)); });
}

} // namespace
} // namespace fhir_pg

using namespace fhir_pg;

FHIR_FUNCTION(fhir_history) {
    std::string type = optional_text_arg(fcinfo, 0);
    std::string id = optional_text_arg(fcinfo, 1);
    // The 0.2.0 declaration (type, id) calls this symbol with two arguments.
    std::string query = PG_NARGS() > 2 ? optional_text_arg(fcinfo, 2) : std::string();
    if (PG_ARGISNULL(0) && !PG_ARGISNULL(1))
        throw Error(ErrorKind::InvalidSearch, "fhir.history needs a resource type with an id");
    HistoryLevel level = PG_ARGISNULL(0) ? HistoryLevel::System
                         : PG_ARGISNULL(1) ? HistoryLevel::Type
                                           : HistoryLevel::Instance;
    if (level != HistoryLevel::System && !fhir::Registry::is_resource_type(type))
        throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
    if (level == HistoryLevel::Instance && !fhir::is_valid_id(id))
        throw Error(ErrorKind::InvalidResource, "invalid resource id \"" + id.substr(0, 80) + "\"");

    fhir::HistoryQuery hq = fhir::parse_history_query(query);
    const int count = hq.count ? std::min(*hq.count, guc_max_count) : guc_default_count;
    const bool backward = hq.cursor && hq.cursor->backward;
    const int64_t snapshot = hq.cursor ? hq.cursor->snapshot : now_unix_micros();
    HistoryCursor position;
    if (hq.cursor) {
        position = *hq.cursor;
    } else {
        position.snapshot = snapshot;
        position.last_updated = snapshot + 1; // just after the snapshot: every version up to it
    }
    const std::string table = level == HistoryLevel::System ? "fhir.resource" : fhir::partition_table(type);
    const bool with_at = hq.at.has_value();
    const std::string base = base_url_prefix();

    spi_connect();
    std::vector<Oid> types = {TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT4OID, TIMESTAMPTZOID,
                              TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, TEXTOID,  TEXTOID, TEXTOID};
    Datum values[fhir::kHistoryParamCount] = {
        TimestampTzGetDatum(unix_micros_to_timestamptz(snapshot)),
        TimestampTzGetDatum(unix_micros_to_timestamptz(position.last_updated)),
        text_datum(position.type),
        text_datum(position.id),
        Int32GetDatum(position.version),
        TimestampTzGetDatum(unix_micros_to_timestamptz(hq.since)),
        TimestampTzGetDatum(unix_micros_to_timestamptz(with_at ? hq.at->lo : fhir::kMinTime)),
        TimestampTzGetDatum(unix_micros_to_timestamptz(with_at ? hq.at->hi : fhir::kMaxTime)),
        Int64GetDatum(static_cast<int64_t>(count) + 1),
        text_datum(type),
        text_datum(id),
        text_datum(base)};

    // The instance level's total, within the snapshot and filters; a resource
    // that never existed has no history (NULL, as fhir.read).
    std::optional<int64_t> total;
    if (level == HistoryLevel::Instance) {
        SPIPlanPtr count_plan = prepare_cached(fhir::history_count_sql(level, table, with_at), types);
        spi_execute(count_plan, values, nullptr, true, 1);
        total = spi_get_int64(0, 1);
        if (*total == 0) {
            Datum all[fhir::kHistoryParamCount];
            std::copy(values, values + fhir::kHistoryParamCount, all);
            all[0] = TimestampTzGetDatum(unix_micros_to_timestamptz(fhir::kMaxTime));
            all[5] = TimestampTzGetDatum(unix_micros_to_timestamptz(fhir::kMinTime));
            all[7] = TimestampTzGetDatum(unix_micros_to_timestamptz(fhir::kMaxTime));
            SPIPlanPtr exists_plan = prepare_cached(fhir::history_count_sql(level, table, false), types);
            spi_execute(exists_plan, all, nullptr, true, 1);
            if (spi_get_int64(0, 1) == 0) {
                spi_finish();
                PG_RETURN_NULL();
            }
        }
    }

    // Plans: the system level's statement is planned once (a custom plan would plan
    // both scans over every partition, ~30 ms, for each page); the type level's is
    // planned per call, so the type's statistics choose between walking the
    // history's lastUpdated index (a common type) and its (rtype, lastUpdated) one.
    const int plan_options = level == HistoryLevel::System ? CURSOR_OPT_GENERIC_PLAN
                             : level == HistoryLevel::Type ? CURSOR_OPT_CUSTOM_PLAN
                                                           : 0;
    SPIPlanPtr page_plan =
        prepare_cached(fhir::history_page_sql(level, table, backward, with_at), types, plan_options);
    uint64_t rows = spi_execute(page_plan, values, nullptr, true);
    const bool more = rows > static_cast<uint64_t>(count);
    const uint64_t shown = std::min<uint64_t>(rows, static_cast<uint64_t>(count));

    // Links. Rows are newest first, or oldest first on a backward page.
    const std::string path = fhir::history_path(level == HistoryLevel::System ? std::string() : type,
                                                level == HistoryLevel::Instance ? id : std::string());
    fhir::Json links = fhir::Json::array();
    links.push_back({{"relation", "self"}, {"url", link_url(path, hq.link_query, hq.cursor ? &*hq.cursor : nullptr)}});
    if (shown > 0) {
        uint64_t newest = backward ? shown - 1 : 0, oldest = backward ? 0 : shown - 1;
        if (backward || more) {
            HistoryCursor next = row_key(oldest, snapshot, false);
            links.push_back({{"relation", "next"}, {"url", link_url(path, hq.link_query, &next)}});
        }
        if (backward ? more : hq.cursor.has_value()) {
            HistoryCursor previous = row_key(newest, snapshot, true);
            links.push_back({{"relation", "previous"}, {"url", link_url(path, hq.link_query, &previous)}});
        }
    }
    Datum entries = entry_array(0, shown, backward);

    std::string bundle_sql = "SELECT jsonb_build_object('resourceType', 'Bundle', 'type', 'history', 'link', $2::jsonb";
    if (total)
        bundle_sql += ", 'total', $1";
    if (shown > 0)
        bundle_sql += ", 'entry', to_jsonb($3)";
    bundle_sql += ")";
    SPIPlanPtr bundle_plan = prepare_cached(bundle_sql, {INT8OID, TEXTOID, JSONBARRAYOID});
    Datum bundle_values[3] = {Int64GetDatum(total.value_or(0)), text_datum(links.dump()), entries};
    spi_execute(bundle_plan, bundle_values, nullptr, true, 1);
    Datum result = spi_get_datum_outer(0, 1);
    spi_finish();
    return result;
}
