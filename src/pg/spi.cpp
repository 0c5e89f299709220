// spi.cpp: SPI helpers with a per-backend cache of prepared statements.
#include "spi.h"

#include "cpp_wrapper.h"

#include <unordered_map>

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace fhir_pg {

// Backend-lifetime cache of kept plans, keyed by SQL text.
static std::unordered_map<std::string, SPIPlanPtr> &plan_cache() {
    static std::unordered_map<std::string, SPIPlanPtr> cache;
    return cache;
}

void spi_connect() {
    pg_call([] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
    });
}

void spi_finish() {
    pg_call([] { SPI_finish(); });
}

int search_settings_push() {
    return pg_call([] {
        int nest_level = NewGUCNestLevel();
#if FHIR_HAVE_ENABLE_MEMOIZE
        (void)set_config_option("enable_memoize", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
#endif
        return nest_level;
    });
}

void search_settings_pop(int nest_level) {
    pg_call([nest_level] { AtEOXact_GUC(true, nest_level); });
}

SPIPlanPtr prepare_cached(const std::string &sql, const std::vector<Oid> &arg_types, int cursor_options) {
    auto &cache = plan_cache();
    const std::string key = std::to_string(cursor_options) + ":" + sql;
    auto it = cache.find(key);
    if (it != cache.end())
        return it->second;
    const char *text = sql.c_str();
    int nargs = static_cast<int>(arg_types.size());
    Oid *types = const_cast<Oid *>(arg_types.data());
    SPIPlanPtr plan = pg_call([text, nargs, types, cursor_options] {
        SPIPlanPtr p = SPI_prepare_cursor(text, nargs, types, cursor_options);
        if (!p)
            elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        return p;
    });
    cache.emplace(key, plan);
    return plan;
}

uint64_t spi_execute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long max_rows) {
    return pg_call([plan, values, nulls, read_only, max_rows] {
        // Results are read right after each statement, so the previous one can go:
        // long loops (bulk load) would otherwise keep every result until SPI_finish.
        if (SPI_tuptable)
            SPI_freetuptable(SPI_tuptable);
        SPI_tuptable = NULL;
        int rc = SPI_execute_plan(plan, values, nulls, read_only, max_rows);
        if (rc < 0)
            elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
        return SPI_processed;
    });
}

Portal spi_cursor_open(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only) {
    return pg_call([plan, values, nulls, read_only] {
        Portal portal = SPI_cursor_open(nullptr, plan, values, nulls, read_only);
        if (list_length(portal->stmts) != 1 || !IsA(linitial(portal->stmts), PlannedStmt))
            elog(ERROR, "fhir_search: a cursor must hold one planned statement");
        return portal;
    });
}

const PlannedStmt &spi_cursor_plan(Portal portal) { return *linitial_node(PlannedStmt, portal->stmts); }

uint64_t spi_cursor_fetch_all(Portal portal) {
    return pg_call([portal] {
        if (SPI_tuptable)
            SPI_freetuptable(SPI_tuptable);
        SPI_tuptable = NULL;
        SPI_cursor_fetch(portal, true, FETCH_ALL);
        return SPI_processed;
    });
}

void spi_cursor_close(Portal portal) {
    pg_call([portal] { SPI_cursor_close(portal); });
}

uint64_t spi_exec_sql(const std::string &sql, bool read_only) {
    const char *text = sql.c_str();
    return pg_call([text, read_only] {
        if (SPI_tuptable)
            SPI_freetuptable(SPI_tuptable);
        SPI_tuptable = NULL;
        int rc = SPI_execute(text, read_only, 0);
        if (rc < 0)
            elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
        return SPI_processed;
    });
}

// Reads one raw column value; `isnull` reports NULL.
static Datum get_binval(uint64_t row, int col, bool *isnull) {
    return pg_call([row, col, isnull] {
        return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
    });
}

bool spi_isnull(uint64_t row, int col) {
    bool isnull = false;
    get_binval(row, col, &isnull);
    return isnull;
}

int64_t spi_get_int64(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_binval(row, col, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

int32_t spi_get_int32(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_binval(row, col, &isnull);
    return isnull ? 0 : DatumGetInt32(d);
}

bool spi_get_bool(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_binval(row, col, &isnull);
    return isnull ? false : DatumGetBool(d);
}

std::string spi_get_text(uint64_t row, int col) {
    char *value = pg_call([row, col] { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col); });
    if (!value)
        return {};
    std::string out(value);
    pfree(value);
    return out;
}

Datum spi_get_datum(uint64_t row, int col) {
    bool isnull = false;
    return get_binval(row, col, &isnull);
}

Datum spi_get_datum_outer(uint64_t row, int col) {
    return pg_call([row, col] {
        bool isnull = false;
        Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
        if (isnull)
            return (Datum)0;
        Oid type = SPI_gettypeid(SPI_tuptable->tupdesc, col);
        int16 typlen;
        bool typbyval;
        get_typlenbyval(type, &typlen, &typbyval);
        return SPI_datumTransfer(d, typbyval, typlen);
    });
}

Datum text_datum(std::string_view text) {
    const char *data = text.data();
    int len = static_cast<int>(text.size());
    return pg_call([data, len] { return PointerGetDatum(cstring_to_text_with_len(data, len)); });
}

// Builds a one-dimensional array of pass-by-value elements.
template <typename T>
static Datum byval_array(const std::vector<T> &values, Oid elem_type, Datum (*to_datum)(T)) {
    size_t n = values.size();
    const T *src = values.data();
    return pg_call([n, src, elem_type, to_datum] {
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n ? n : 1)));
        for (size_t i = 0; i < n; i++)
            elems[i] = to_datum(src[i]);
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(elem_type, &typlen, &typbyval, &typalign);
        ArrayType *arr = construct_array(elems, static_cast<int>(n), elem_type, typlen, typbyval, typalign);
        return PointerGetDatum(arr);
    });
}

static Datum int64_to_datum(int64_t v) { return Int64GetDatum(v); }
static Datum int32_to_datum(int32_t v) { return Int32GetDatum(v); }
static Datum bool_to_datum(uint8_t v) { return BoolGetDatum(v != 0); }
static Datum ts_to_datum(int64_t v) { return TimestampTzGetDatum(unix_micros_to_timestamptz(v)); }

Datum int8_array(const std::vector<int64_t> &values) { return byval_array<int64_t>(values, INT8OID, int64_to_datum); }
Datum int4_array(const std::vector<int32_t> &values) { return byval_array<int32_t>(values, INT4OID, int32_to_datum); }
Datum bool_array(const std::vector<uint8_t> &values) { return byval_array<uint8_t>(values, BOOLOID, bool_to_datum); }
Datum timestamptz_array(const std::vector<int64_t> &unix_micros) {
    return byval_array<int64_t>(unix_micros, TIMESTAMPTZOID, ts_to_datum);
}

Datum text_array(const std::vector<std::string> &values) {
    size_t n = values.size();
    const std::string *src = values.data();
    return pg_call([n, src] {
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n ? n : 1)));
        for (size_t i = 0; i < n; i++)
            elems[i] = PointerGetDatum(cstring_to_text_with_len(src[i].data(), static_cast<int>(src[i].size())));
        ArrayType *arr = construct_array(elems, static_cast<int>(n), TEXTOID, -1, false, TYPALIGN_INT);
        return PointerGetDatum(arr);
    });
}

// PostgreSQL counts from 2000-01-01; the core from 1970-01-01.
static constexpr int64_t kPgEpochOffsetMicros = INT64CONST(946684800000000);

TimestampTz unix_micros_to_timestamptz(int64_t micros) {
    if (micros == INT64_MIN)
        return DT_NOBEGIN;
    if (micros == INT64_MAX)
        return DT_NOEND;
    return micros - kPgEpochOffsetMicros;
}

int64_t timestamptz_to_unix_micros(TimestampTz ts) {
    if (ts == DT_NOBEGIN)
        return INT64_MIN;
    if (ts == DT_NOEND)
        return INT64_MAX;
    return ts + kPgEpochOffsetMicros;
}

} // namespace fhir_pg
