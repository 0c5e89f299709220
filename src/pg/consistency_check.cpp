// consistency_check.cpp: fhir.check(), which recomputes the search values of stored
// resources and reports where the stored ones differ (issue 16: after a crash, a
// restore or a registry change, do the side tables agree with the resources?).
//
// Per batch of 500 resources (all of them in rid order, or a random sample): the
// content is extracted again with the current registry in C++, and one statement
// compares, per resource, the stored tokens array with the extracted one and the
// number of rows each side table holds under its rid with the number the values
// make. Side rows whose rid belongs to no resource and no contained resource are
// counted per table at the end of a full check. Contained resources (rows under
// their own rids) are not re-extracted.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "resource_writer.h"
#include "spi.h"
#include "srf.h"

#include <vector>

namespace fhir_pg {
namespace {

constexpr int kBatch = 500;

// Side tables in the order of SideRowCounts.
const char *const kSideTables[] = {"search_string",           "search_date",           "search_number",
                                   "search_quantity",         "search_reference",      "search_composite_number",
                                   "search_composite_date",   "search_composite_string", "search_text"};
constexpr int kSideTableCount = sizeof(kSideTables) / sizeof(kSideTables[0]);

std::string compare_sql() {
    std::string counts, problems;
    for (int t = 0; t < kSideTableCount; t++) {
        const std::string name = kSideTables[t];
        const std::string expected = "$" + std::to_string(5 + t) + "[e.k::int]";
        counts += ", (SELECT count(*) FROM fhir." + name + " x WHERE x.rid = r.rid) AS c" + std::to_string(t);
        problems += ", CASE WHEN c.c" + std::to_string(t) + " <> " + expected + " THEN '" + name + ": ' || c.c" +
                    std::to_string(t) + " || ' rows, the content makes ' || " + expected + " END";
    }
    return "SELECT r.rtype, r.id, p.problem "
           "FROM unnest($1::bigint[]) WITH ORDINALITY AS e(rid, k) "
           "JOIN fhir.resource r ON r.rid = e.rid "
           "CROSS JOIN LATERAL (SELECT 1 AS one" + counts + ") c "
           "CROSS JOIN LATERAL unnest(ARRAY[CASE WHEN r.tokens IS DISTINCT FROM $2[$3[e.k::int] + 1 : $3[e.k::int] + $4[e.k::int]] "
           "  THEN 'tokens differ from the content''s search values' END" + problems + "]) AS p(problem) "
           "WHERE p.problem IS NOT NULL ORDER BY e.k";
}

// Checks the resources `rids`; appends a row per problem.
void check_batch(const std::vector<int64_t> &rids, ReturnSetInfo *rsinfo, uint64_t *problems) {
    const fhir::Extractor &extractor = current_extractor();
    SPIPlanPtr read = prepare_cached("SELECT r.rid, r.content FROM fhir.resource r WHERE r.rid = ANY($1) ORDER BY r.rid",
                                     {INT8ARRAYOID});
    Datum rv[1] = {int8_array(rids)};
    uint64_t n = spi_execute(read, rv, nullptr, true);
    std::vector<int64_t> found, tokens;
    std::vector<int32_t> offsets, counts;
    std::vector<std::vector<int32_t>> side(kSideTableCount);
    for (uint64_t row = 0; row < n; row++) {
        found.push_back(spi_get_int64(row, 1));
        fhir::Json resource = jsonb_datum_to_json(spi_get_datum(row, 2));
        fhir::IndexRows rows = extractor.extract(resource);
        offsets.push_back(static_cast<int32_t>(tokens.size()));
        counts.push_back(static_cast<int32_t>(rows.tokens.size()));
        tokens.insert(tokens.end(), rows.tokens.begin(), rows.tokens.end());
        SideRowCounts c = side_row_counts(rows);
        const int32_t values[kSideTableCount] = {c.strings,           c.dates,           c.numbers,
                                                 c.quantities,        c.references,      c.composite_numbers,
                                                 c.composite_dates,   c.composite_strings, c.texts};
        for (int t = 0; t < kSideTableCount; t++)
            side[t].push_back(values[t]);
    }
    if (found.empty())
        return;
    std::vector<Oid> types = {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID};
    std::vector<Datum> values = {int8_array(found), int8_array(tokens), int4_array(offsets), int4_array(counts)};
    for (int t = 0; t < kSideTableCount; t++) {
        types.push_back(INT4ARRAYOID);
        values.push_back(int4_array(side[t]));
    }
    SPIPlanPtr compare = prepare_cached(compare_sql(), types, CURSOR_OPT_GENERIC_PLAN);
    uint64_t m = spi_execute(compare, values.data(), nullptr, true);
    for (uint64_t row = 0; row < m; row++) {
        Datum v[3] = {text_datum(spi_get_text(row, 1)), text_datum(spi_get_text(row, 2)),
                      text_datum(spi_get_text(row, 3))};
        bool nulls[3] = {false, false, false};
        srf_put_row(rsinfo, v, nulls);
        (*problems)++;
    }
}

// Side rows of no resource and no contained resource, per table.
void check_orphans(ReturnSetInfo *rsinfo) {
    for (const char *table : kSideTables) {
        uint64_t n = spi_exec_sql(std::string("SELECT count(*) FROM fhir.") + table +
                                      " x WHERE NOT EXISTS (SELECT 1 FROM fhir.resource r WHERE r.rid = x.rid) "
                                      "AND NOT EXISTS (SELECT 1 FROM fhir.contained_resource c WHERE c.rid = x.rid)",
                                  true);
        int64_t orphans = n > 0 ? spi_get_int64(0, 1) : 0;
        if (orphans == 0)
            continue;
        Datum v[3] = {0, 0, text_datum(std::string(table) + ": " + std::to_string(orphans) +
                                       " rows belong to no stored resource")};
        bool nulls[3] = {true, true, false};
        srf_put_row(rsinfo, v, nulls);
    }
}

} // namespace
} // namespace fhir_pg

// fhir.check(sample integer DEFAULT NULL) -> setof (resource_type, id, problem)
FHIR_FUNCTION(fhir_check) {
    using namespace fhir_pg;
    const bool sampled = !PG_ARGISNULL(0);
    const int sample = sampled ? PG_GETARG_INT32(0) : 0;
    if (sampled && sample < 1)
        throw fhir::Error(fhir::ErrorKind::InvalidResource, "sample must be at least 1");
    spi_connect();
    ReturnSetInfo *rsinfo = begin_materialized_srf(fcinfo);
    uint64_t problems = 0;
    if (sampled) {
        SPIPlanPtr pick = prepare_cached("SELECT rid FROM fhir.resource ORDER BY random() LIMIT $1", {INT4OID});
        Datum v[1] = {Int32GetDatum(sample)};
        uint64_t n = spi_execute(pick, v, nullptr, true);
        std::vector<int64_t> rids;
        for (uint64_t r = 0; r < n; r++)
            rids.push_back(spi_get_int64(r, 1));
        for (size_t i = 0; i < rids.size(); i += kBatch) {
            check_for_interrupts();
            check_batch(std::vector<int64_t>(rids.begin() + i, rids.begin() + std::min(rids.size(), i + kBatch)),
                        rsinfo, &problems);
        }
    } else {
        SPIPlanPtr next = prepare_cached("SELECT rid FROM fhir.resource WHERE rid > $1 ORDER BY rid LIMIT " +
                                             std::to_string(kBatch),
                                         {INT8OID});
        int64_t after = 0;
        for (;;) {
            check_for_interrupts();
            Datum v[1] = {Int64GetDatum(after)};
            uint64_t n = spi_execute(next, v, nullptr, true);
            if (n == 0)
                break;
            std::vector<int64_t> rids;
            for (uint64_t r = 0; r < n; r++)
                rids.push_back(spi_get_int64(r, 1));
            after = rids.back();
            check_batch(rids, rsinfo, &problems);
        }
        check_orphans(rsinfo);
    }
    spi_finish();
    return (Datum)0;
}
