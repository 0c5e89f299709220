// search_rows.cpp: fhir.search_rows(type, query), every match of a search as
// SQL rows (resource_type, id, version_id, last_updated, resource), for joins
// with application tables, views and aggregates.
//
// The same planner as fhir.search (search_plan.h): the same WHERE clause and
// sort keys, so the rows are the Bundle's matches in the Bundle's order, but
// without pages: one statement, read through a cursor in batches into the
// result's tuplestore (which spills to disk past work_mem), in the caller's
// snapshot (the function is STABLE and reads read-only). Not cached: the cache
// holds Bundles.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "projection.h"
#include "query_string.h"
#include "search_plan.h"
#include "spi.h"
#include "srf.h"

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

// Result parameters that shape pages or add non-matches: refused, since the
// rows are every match and nothing else.
void refuse_page_parameters(const SearchStatement &st) {
    for (const auto &r : st.query.result_params) {
        const std::string &n = r.name;
        if (n.rfind("_include", 0) == 0 || n.rfind("_revinclude", 0) == 0)
            throw Error(ErrorKind::UnsupportedFeature,
                        "fhir.search_rows returns matches only; " + n + " adds other resources (use fhir.search, or join)");
    }
    if (st.summary_count)
        throw Error(ErrorKind::UnsupportedFeature, "fhir.search_rows with _summary=count: use SELECT count(*)");
    if (st.query.contained != fhir::ContainedMode::False)
        throw Error(ErrorKind::UnsupportedFeature, "fhir.search_rows does not search contained resources (_contained)");
    if (st.cursor)
        throw Error(ErrorKind::UnsupportedFeature, "fhir.search_rows returns every match; _cursor selects a page");
}

constexpr long kBatchRows = 1000;

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_search_rows) {
    using namespace fhir_pg;
    if (!PG_ARGISNULL(0) && optional_text_arg(fcinfo, 0).empty())
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType,
                          "resource type must not be empty (use NULL for a system-level search)");
    const std::string type = optional_text_arg(fcinfo, 0);
    const std::string query(fhir::query_of_url(optional_text_arg(fcinfo, 1)));
    ReturnSetInfo *rsinfo = begin_materialized_srf(fcinfo);

    spi_connect();
    const int settings = search_settings_push();
    SearchStatement st = plan_search(type, query);
    refuse_page_parameters(st);
    build_search_where(st);
    std::string order;
    for (size_t i = 0; i < st.sort.size(); i++)
        order += st.sort[i].expr + (st.sort[i].descending ? " DESC, " : " ASC, ");
    const std::string sql = "SELECT r.rtype, r.id, r.version_id, r.last_updated, r.content FROM " + st.table +
                            " r WHERE " + st.where + " ORDER BY " + order + "r.rid";
    std::vector<Oid> types(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
    std::vector<Datum> values(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
    SPIPlanPtr plan = prepare_cached(sql, types);
    Portal cursor = spi_cursor_open(plan, values.data(), nullptr, true);
    const bool project = st.summary != fhir::SummaryMode::False || !st.elements.empty();
    // Projected copies live until their batch is in the tuplestore.
    MemoryContext batch_context = pg_call([] {
        return AllocSetContextCreate(CurrentMemoryContext, "fhir.search_rows batch", ALLOCSET_DEFAULT_SIZES);
    });
    for (;;) {
        uint64_t n = spi_cursor_fetch(cursor, kBatchRows);
        if (n == 0)
            break;
        for (uint64_t row = 0; row < n; row++) {
            Datum v[5];
            bool nulls[5] = {false, false, false, false, false};
            for (int col = 0; col < 5; col++)
                v[col] = pg_call([row, col, &nulls] {
                    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col + 1, &nulls[col]);
                });
            if (project && !nulls[4]) {
                fhir::Json resource = jsonb_to_json(DatumGetJsonbP(v[4]), /*exact_decimals=*/true);
                if (fhir::project_resource(resource, st.summary, st.elements)) {
                    fhir::mark_subsetted(resource);
                    MemoryContext previous = MemoryContextSwitchTo(batch_context);
                    try {
                        v[4] = json_to_jsonb_exact(resource);
                    } catch (...) {
                        MemoryContextSwitchTo(previous);
                        throw;
                    }
                    MemoryContextSwitchTo(previous);
                }
            }
            srf_put_row(rsinfo, v, nulls); // copies the row into the tuplestore
        }
        pg_call([batch_context] { MemoryContextReset(batch_context); });
        check_for_interrupts();
    }
    spi_cursor_close(cursor);
    search_settings_pop(settings);
    spi_finish();
    return (Datum)0;
}
