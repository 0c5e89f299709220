// result_cache_sql.cpp: the SQL face of the result cache: fhir.cache_stats(),
// fhir.cache_reset() and fhir.cache_invalidate() (declared in src/sql/cache.sql).
#include "cpp_wrapper.h"
#include "result_cache.h"
#include "spi.h"

// fhir.cache_stats(): one row with the cache's size and counters.
FHIR_FUNCTION(fhir_cache_stats) {
    using namespace fhir_pg;
    cache::Stats s = cache::stats();
    const char *note = cache::unavailable_reason();
    TupleDesc desc = pg_call([fcinfo] {
        TupleDesc result_desc;
        if (get_call_result_type(fcinfo, nullptr, &result_desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "fhir_search: cache_stats must return a composite type");
        return BlessTupleDesc(result_desc);
    });
    constexpr int kColumns = 11;
    Datum values[kColumns];
    bool nulls[kColumns] = {false};
    values[0] = BoolGetDatum(s.available);
    values[1] = Int64GetDatum(static_cast<int64>(s.arena.entries));
    values[2] = Int64GetDatum(static_cast<int64>(s.arena.bytes));
    values[3] = Int64GetDatum(static_cast<int64>(s.arena.capacity));
    values[4] = Int64GetDatum(static_cast<int64>(s.arena.hits));
    values[5] = Int64GetDatum(static_cast<int64>(s.arena.misses));
    values[6] = Int64GetDatum(static_cast<int64>(s.arena.evictions));
    values[7] = Int64GetDatum(static_cast<int64>(s.arena.invalidations));
    values[8] = Int64GetDatum(static_cast<int64>(s.arena.stores));
    values[9] = Float8GetDatum(s.hit_rate);
    if (*note)
        values[10] = text_datum(note);
    else
        nulls[10] = true;
    if (desc->natts != kColumns)
        throw fhir::Error(fhir::ErrorKind::Internal, "fhir.cache_stats() is declared with the wrong columns");
    Datum *vals = values;
    bool *isnull = nulls;
    return pg_call([desc, vals, isnull] { return HeapTupleGetDatum(heap_form_tuple(desc, vals, isnull)); });
}

// fhir.cache_reset(): drops every entry and zeroes the counters.
FHIR_FUNCTION(fhir_cache_reset) {
    using namespace fhir_pg;
    spi_connect();
    cache::reset();
    spi_finish();
    PG_RETURN_VOID();
}

// fhir.cache_invalidate(resource_type): at commit, makes cached searches over the
// type (NULL: every type) stale, for writes that bypass fhir.create/update/delete.
FHIR_FUNCTION(fhir_cache_invalidate) {
    using namespace fhir_pg;
    if (PG_ARGISNULL(0)) {
        cache::note_write_all();
    } else {
        text *arg = fhir_pg::pg_call([fcinfo] { return PG_GETARG_TEXT_PP(0); });
        cache::note_write(std::string(VARDATA_ANY(arg), VARSIZE_ANY_EXHDR(arg)));
    }
    PG_RETURN_VOID();
}
