// mass_ingestion.cpp: the per-backend view of fhir.mass_ingestion (mass_ingestion.h).
// The SQL side (begin, end, the state table) is src/sql/api/60-mass-ingestion.sql.
#include "mass_ingestion.h"

#include "cpp_wrapper.h"
#include "spi.h"

extern "C" {
#include "utils/inval.h"
}

namespace fhir_pg {

namespace {

struct MassIngestionState {
    bool valid = false;
    Oid table = InvalidOid; // fhir.mass_ingestion, InvalidOid before the 0.3.0 upgrade
    int64_t pending = 0;
    bool callback_registered = false;
};

MassIngestionState &state() {
    static MassIngestionState s;
    return s;
}

// Relcache callback: a change of the table (or a full reset) drops the cached
// answer. Runs in PostgreSQL context: no allocation, no throw.
void on_relcache_invalidate(Datum, Oid relid) {
    MassIngestionState &s = state();
    if (relid == InvalidOid || relid == s.table)
        s.valid = false;
}

void load() {
    MassIngestionState &s = state();
    if (!s.callback_registered) {
        pg_call([] { CacheRegisterRelcacheCallback(on_relcache_invalidate, (Datum)0); });
        s.callback_registered = true;
    }
    // to_regclass: a library newer than the installed SQL (before ALTER EXTENSION
    // UPDATE) has no table to read, and no mass ingestion either.
    SPIPlanPtr find = prepare_cached("SELECT to_regclass('fhir.mass_ingestion')::oid", {});
    spi_execute(find, nullptr, nullptr, true, 1);
    s.table = spi_isnull(0, 1) ? InvalidOid : static_cast<Oid>(spi_get_int64(0, 1) & 0xffffffff);
    s.pending = 0;
    if (s.table != InvalidOid) {
        SPIPlanPtr count = prepare_cached("SELECT count(*) FROM fhir.mass_ingestion", {});
        spi_execute(count, nullptr, nullptr, true, 1);
        s.pending = spi_get_int64(0, 1);
    }
    s.valid = true;
}

} // namespace

int64_t mass_ingestion_pending_indexes() {
    if (!state().valid)
        load();
    return state().pending;
}

void warn_if_mass_ingestion() {
    if (mass_ingestion_pending_indexes() == 0)
        return;
    pg_call([] {
        ereport(WARNING, (errmsg("fhir_search: a mass ingestion is in progress: searches are correct but slow, "
                                 "its secondary indexes are dropped"),
                          errhint("Run SELECT fhir.end_mass_ingestion(); to rebuild the indexes fhir.mass_ingestion "
                                  "lists.")));
    });
}

} // namespace fhir_pg
