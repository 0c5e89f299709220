// crud_functions.cpp: SQL entry points for single-resource operations
// (fhir.create/update/patch/read/vread/delete) and small helpers; fhir.history is
// history_functions.cpp.
//
// Each function is declared with FHIR_FUNCTION, so its body runs inside the
// C++/PostgreSQL error boundary (cpp_wrapper.h).
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "patch_writer.h"
#include "pg_json.h"
#include "registry.h"
#include "resource.h"
#include "resource_writer.h"
#include "spi.h"
#include "values.h"

#include <malloc.h>

extern "C" {
#include "nodes/memnodes.h"
#include "utils/memutils.h"
}

using fhir_pg::spi_connect;
using fhir_pg::spi_finish;

namespace {

// Reads a text argument into a std::string.
std::string text_arg(FunctionCallInfo fcinfo, int n) {
    text *t = fhir_pg::pg_call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// Validates a (type, id) pair given as separate arguments.
void check_type_and_id(const std::string &type, const std::string &id) {
    if (!fhir::Registry::is_resource_type(type))
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
    if (!fhir::is_valid_id(id))
        throw fhir::Error(fhir::ErrorKind::InvalidResource, "invalid resource id \"" + id.substr(0, 80) + "\"");
}

// Shared body of fhir.create and fhir.update.
Datum create_or_update(FunctionCallInfo fcinfo, bool is_create) {
    Jsonb *content = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(0); });
    fhir::Json parsed = fhir_pg::jsonb_to_json(content);
    fhir::ResourceIdentity identity = fhir::validate_resource(parsed);
    std::optional<int> if_match;
    if (!is_create) {
        if (identity.id.empty())
            throw fhir::Error(fhir::ErrorKind::InvalidResource,
                              "fhir.update needs a resource with an id; use fhir.create to have one assigned",
                              fhir::operation_outcome("error", "required", "id is missing"));
        if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
            if_match = PG_GETARG_INT32(1);
    }
    spi_connect();
    fhir_pg::StoredResource stored = fhir_pg::write_resource(PointerGetDatum(content), std::move(parsed), identity.type,
                                                             is_create ? std::string() : identity.id, if_match);
    Datum stored_content = stored.content;
    Datum result = fhir_pg::pg_call([stored_content] { return SPI_datumTransfer(stored_content, false, -1); });
    spi_finish();
    return result;
}

} // namespace

FHIR_FUNCTION(fhir_create) { return create_or_update(fcinfo, true); }

FHIR_FUNCTION(fhir_update) {
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    return create_or_update(fcinfo, false);
}

// fhir.patch(type, id, patch, if_match): NULL when type, id or patch is NULL,
// as fhir.update is for a NULL resource (the function is not STRICT so that
// if_match may be NULL).
FHIR_FUNCTION(fhir_patch) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        PG_RETURN_NULL();
    std::string type = text_arg(fcinfo, 0);
    std::string id = text_arg(fcinfo, 1);
    check_type_and_id(type, id);
    Jsonb *patch_jsonb = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(2); });
    fhir::Json patch = fhir_pg::jsonb_to_json(patch_jsonb, /*exact_decimals=*/true);
    std::optional<int> if_match;
    if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
        if_match = PG_GETARG_INT32(3);
    spi_connect();
    fhir_pg::StoredResource stored = fhir_pg::patch_resource(type, id, patch, if_match);
    Datum stored_content = stored.content;
    Datum result = fhir_pg::pg_call([stored_content] { return SPI_datumTransfer(stored_content, false, -1); });
    spi_finish();
    return result;
}

FHIR_FUNCTION(fhir_read) {
    std::string type = text_arg(fcinfo, 0);
    std::string id = text_arg(fcinfo, 1);
    check_type_and_id(type, id);
    spi_connect();
    SPIPlanPtr plan = fhir_pg::prepare_cached(
        "SELECT content FROM " + fhir::partition_table(type) + " WHERE rtype = $1 AND id = $2", {TEXTOID, TEXTOID});
    Datum v[2] = {fhir_pg::text_datum(type), fhir_pg::text_datum(id)};
    uint64_t n = fhir_pg::spi_execute(plan, v, nullptr, true, 1);
    Datum result = n ? fhir_pg::spi_get_datum_outer(0, 1) : (Datum)0;
    spi_finish();
    if (!n)
        PG_RETURN_NULL();
    return result;
}

FHIR_FUNCTION(fhir_vread) {
    std::string type = text_arg(fcinfo, 0);
    std::string id = text_arg(fcinfo, 1);
    int version = PG_GETARG_INT32(2);
    check_type_and_id(type, id);
    spi_connect();
    SPIPlanPtr plan = fhir_pg::prepare_cached(
        "SELECT content FROM " + fhir::partition_table(type) + " WHERE rtype = $1 AND id = $2 AND version_id = $3 "
        "UNION ALL SELECT content FROM fhir.resource_history "
        "WHERE rtype = $1 AND id = $2 AND version_id = $3 AND NOT deleted LIMIT 1",
        {TEXTOID, TEXTOID, INT4OID});
    Datum v[3] = {fhir_pg::text_datum(type), fhir_pg::text_datum(id), Int32GetDatum(version)};
    uint64_t n = fhir_pg::spi_execute(plan, v, nullptr, true, 1);
    Datum result = n ? fhir_pg::spi_get_datum_outer(0, 1) : (Datum)0;
    spi_finish();
    if (!n)
        PG_RETURN_NULL();
    return result;
}

FHIR_FUNCTION(fhir_delete) {
    std::string type = text_arg(fcinfo, 0);
    std::string id = text_arg(fcinfo, 1);
    check_type_and_id(type, id);
    spi_connect();
    bool deleted = fhir_pg::delete_resource(type, id);
    spi_finish();
    PG_RETURN_BOOL(deleted);
}

// Set-returning: every R4 resource type.
FHIR_FUNCTION(fhir_resource_types) {
    FuncCallContext *funcctx;
    if (SRF_IS_FIRSTCALL())
        funcctx = fhir_pg::pg_call([fcinfo] { return SRF_FIRSTCALL_INIT(); });
    funcctx = fhir_pg::pg_call([fcinfo] { return SRF_PERCALL_SETUP(); });
    const auto &types = fhir::Registry::resource_types();
    if (funcctx->call_cntr < types.size()) {
        Datum value = fhir_pg::text_datum(types[funcctx->call_cntr]);
        SRF_RETURN_NEXT(funcctx, value);
    }
    SRF_RETURN_DONE(funcctx);
}

FHIR_FUNCTION(fhir_partition_name) {
    std::string type = text_arg(fcinfo, 0);
    if (!fhir::Registry::is_resource_type(type))
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
    return fhir_pg::text_datum(fhir::partition_name(type));
}

FHIR_FUNCTION(fhir_token_hash) {
    int param = PG_GETARG_INT32(0);
    int form = PG_GETARG_INT32(1);
    std::string value = text_arg(fcinfo, 2);
    if (form < 1 || form > 255)
        throw fhir::Error(fhir::ErrorKind::InvalidSearch, "token form must be between 1 and 255");
    PG_RETURN_INT64(fhir::token_hash(param, static_cast<fhir::TokenForm>(form), value));
}

// Sums the bytes allocated in a memory context tree.
static int64 context_bytes(MemoryContext context) {
    MemoryContextCounters counters;
    memset(&counters, 0, sizeof(counters));
    context->methods->stats(context, NULL, NULL, &counters, false);
    int64 total = counters.totalspace - counters.freespace;
    for (MemoryContext child = context->firstchild; child; child = child->nextchild)
        total += context_bytes(child);
    return total;
}

FHIR_FUNCTION(fhir_memory_usage) {
    ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
    (void)rsinfo;
    TupleDesc desc;
    fhir_pg::pg_call([fcinfo, &desc] {
        if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "return type must be a row type");
        desc = BlessTupleDesc(desc);
    });
    struct mallinfo2 mi = mallinfo2();
    Datum values[2];
    bool nulls[2] = {false, false};
    values[0] = Int64GetDatum(fhir_pg::pg_call([] { return context_bytes(TopMemoryContext); }));
    values[1] = Int64GetDatum(static_cast<int64>(mi.uordblks + mi.hblkhd));
    return fhir_pg::pg_call([desc, &values, &nulls] { return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)); });
}
