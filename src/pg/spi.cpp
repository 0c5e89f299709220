// spi.cpp: SPI helpers with a per-backend cache of prepared statements.
#include "spi.h"

#include "cpp_wrapper.h"

#include "guc.h"

#include <list>
#include <unordered_map>

extern "C" {
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "utils/array.h"
#include "utils/datum.h"
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

int index_scans_push() {
    return pg_call([] {
        int nest_level = NewGUCNestLevel();
        (void)set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
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

namespace {

// The values of a statement planned with them as constants. The plan cache runs
// parse analysis again whenever it revalidates the plan (after DDL or ANALYZE),
// calling inline_param_setup with this struct, so it lives as long as the plan,
// in a memory context of its own.
struct InlinedValues {
    int nargs;
    Oid *types;
    Datum *values;
    int16 *typlens;
    bool *byvals;
};

// Parser hook: $n becomes a Const holding the n-th value.
Node *inline_param_ref(ParseState *pstate, ParamRef *pref) {
    const InlinedValues *iv = static_cast<const InlinedValues *>(pstate->p_ref_hook_state);
    int n = pref->number;
    if (n <= 0 || n > iv->nargs)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_PARAMETER), errmsg("there is no parameter $%d", n)));
    Const *c = makeConst(iv->types[n - 1], -1, get_typcollation(iv->types[n - 1]), iv->typlens[n - 1],
                         iv->values[n - 1], false, iv->byvals[n - 1]);
    c->location = pref->location;
    return reinterpret_cast<Node *>(c);
}

void inline_param_setup(ParseState *pstate, void *arg) {
    pstate->p_paramref_hook = inline_param_ref;
    pstate->p_ref_hook_state = arg;
}

// A statement seen with these values: planned with them as constants once it
// runs a second time.
struct RememberedStatement {
    SPIPlanPtr plan = nullptr;
    MemoryContext values_context = nullptr;
};

// The last fhir_search.plan_cache_size statements with their values, most
// recently used first.
class StatementMemory {
  public:
    // The entry of `key`, moved to the front; nullptr when it was not there (it is
    // then added, and the least recently used entries beyond the limit dropped).
    RememberedStatement *touch(std::string key, size_t limit) {
        auto it = entries_.find(key);
        if (it != entries_.end()) {
            order_.splice(order_.begin(), order_, it->second.first);
            return &it->second.second;
        }
        order_.push_front(std::move(key));
        entries_.emplace(order_.front(), std::make_pair(order_.begin(), RememberedStatement{}));
        while (order_.size() > limit)
            drop(order_.back());
        return nullptr;
    }

  private:
    void drop(const std::string &key) {
        auto it = entries_.find(key);
        RememberedStatement r = it->second.second;
        order_.erase(it->second.first);
        entries_.erase(it);
        if (r.plan)
            pg_call([r] {
                SPI_freeplan(r.plan); // a plan still running is kept by its reference count
                MemoryContextDelete(r.values_context);
            });
    }

    std::list<std::string> order_;
    std::unordered_map<std::string, std::pair<std::list<std::string>::iterator, RememberedStatement>> entries_;
};

StatementMemory &statement_memory() {
    static StatementMemory memory;
    return memory;
}

// The statement and the bytes of its values: equal keys mean equal values.
std::string statement_key(const std::string &sql, const std::vector<Oid> &types, const std::vector<Datum> &values) {
    std::string key = sql;
    key.push_back('\0');
    for (size_t i = 0; i < values.size() && i < types.size(); i++) {
        Oid type = types[i];
        Datum value = values[i];
        const char *data = nullptr;
        size_t len = 0;
        Datum by_value = 0;
        pg_call([type, value, &data, &len, &by_value] {
            int16 typlen;
            bool byval;
            get_typlenbyval(type, &typlen, &byval);
            if (byval) {
                by_value = value;
                data = reinterpret_cast<const char *>(&by_value);
                len = sizeof(Datum);
            } else if (typlen == -1) {
                struct varlena *v = PG_DETOAST_DATUM_PACKED(value);
                data = VARDATA_ANY(v);
                len = VARSIZE_ANY_EXHDR(v);
            } else if (typlen == -2) {
                data = DatumGetCString(value);
                len = strlen(data);
            } else {
                data = DatumGetPointer(value);
                len = static_cast<size_t>(typlen);
            }
        });
        const uint32_t type_and_len[2] = {type, static_cast<uint32_t>(len)};
        key.append(reinterpret_cast<const char *>(type_and_len), sizeof type_and_len);
        key.append(data, len);
    }
    return key;
}

// The statement planned with `values` as constants, kept; its values live in a
// new memory context returned in `values_context`.
SPIPlanPtr prepare_inlined(const std::string &sql, const std::vector<Oid> &types, const std::vector<Datum> &values,
                           MemoryContext *values_context) {
    const char *text = sql.c_str();
    const int nargs = static_cast<int>(std::min(types.size(), values.size()));
    const Oid *type_data = types.data();
    const Datum *value_data = values.data();
    return pg_call([text, nargs, type_data, value_data, values_context] {
        MemoryContext context =
            AllocSetContextCreate(TopMemoryContext, "fhir_search inlined values", ALLOCSET_SMALL_SIZES);
        SPIPlanPtr plan = nullptr;
        PG_TRY();
        {
            MemoryContext old = MemoryContextSwitchTo(context);
            InlinedValues *iv = static_cast<InlinedValues *>(palloc(sizeof(InlinedValues)));
            iv->nargs = nargs;
            iv->types = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs + 1)));
            iv->values = static_cast<Datum *>(palloc(sizeof(Datum) * (nargs + 1)));
            iv->typlens = static_cast<int16 *>(palloc(sizeof(int16) * (nargs + 1)));
            iv->byvals = static_cast<bool *>(palloc(sizeof(bool) * (nargs + 1)));
            for (int i = 0; i < nargs; i++) {
                iv->types[i] = type_data[i];
                get_typlenbyval(type_data[i], &iv->typlens[i], &iv->byvals[i]);
                iv->values[i] = datumCopy(value_data[i], iv->byvals[i], iv->typlens[i]);
            }
            MemoryContextSwitchTo(old);
            plan = SPI_prepare_params(text, inline_param_setup, iv, 0);
            if (!plan)
                elog(ERROR, "SPI_prepare_params failed: %s", SPI_result_code_string(SPI_result));
            SPI_keepplan(plan);
        }
        PG_CATCH();
        {
            MemoryContextDelete(context);
            PG_RE_THROW();
        }
        PG_END_TRY();
        *values_context = context;
        return plan;
    });
}

} // namespace

static uint64_t kept_plans_used = 0;

uint64_t kept_plan_uses() { return kept_plans_used; }

SPIPlanPtr prepare_search_statement(const std::string &sql, const std::vector<Oid> &arg_types,
                                    const std::vector<Datum> &values) {
    if (guc_plan_cache_size <= 0)
        return prepare_cached(sql, arg_types, CURSOR_OPT_CUSTOM_PLAN);
    RememberedStatement *seen =
        statement_memory().touch(statement_key(sql, arg_types, values), static_cast<size_t>(guc_plan_cache_size));
    if (!seen)
        return prepare_cached(sql, arg_types, CURSOR_OPT_CUSTOM_PLAN);
    if (!seen->plan)
        seen->plan = prepare_inlined(sql, arg_types, values, &seen->values_context);
    kept_plans_used++;
    return seen->plan;
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

uint64_t spi_cursor_fetch(Portal portal, long count) {
    return pg_call([portal, count] {
        if (SPI_tuptable)
            SPI_freetuptable(SPI_tuptable);
        SPI_tuptable = NULL;
        SPI_cursor_fetch(portal, true, count);
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

int64_t now_unix_micros() {
    return timestamptz_to_unix_micros(pg_call([] { return GetCurrentTimestamp(); }));
}

void bind_sql_params(const std::vector<fhir::SqlParam> &params, std::vector<Oid> *types, std::vector<Datum> *values) {
    for (const fhir::SqlParam &p : params) {
        switch (p.kind) {
        case fhir::SqlParam::Text:
            types->push_back(TEXTOID);
            values->push_back(text_datum(p.text));
            break;
        case fhir::SqlParam::TextArray:
            types->push_back(TEXTARRAYOID);
            values->push_back(text_array(p.texts));
            break;
        case fhir::SqlParam::Int8Array:
            types->push_back(INT8ARRAYOID);
            values->push_back(int8_array(p.ints));
            break;
        case fhir::SqlParam::Int4Array: {
            std::vector<int32_t> ints(p.ints.begin(), p.ints.end());
            types->push_back(INT4ARRAYOID);
            values->push_back(int4_array(ints));
            break;
        }
        case fhir::SqlParam::TimestampTz:
            types->push_back(TIMESTAMPTZOID);
            values->push_back(TimestampTzGetDatum(unix_micros_to_timestamptz(p.micros)));
            break;
        case fhir::SqlParam::Numeric: {
            const char *text = p.text.c_str();
            types->push_back(NUMERICOID);
            values->push_back(pg_call([text] {
                return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                                           Int32GetDatum(-1));
            }));
            break;
        }
        case fhir::SqlParam::Bool:
            types->push_back(BOOLOID);
            values->push_back(BoolGetDatum(p.flag));
            break;
        }
    }
}

std::string optional_text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n))
        return std::string();
    text *t = pg_call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

} // namespace fhir_pg
