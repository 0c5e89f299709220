// search_exec.cpp: fhir.search() and the binding of search parameters.
//
// This is the first cut of the search entry point: it evaluates every search
// parameter the core supports and returns a searchset Bundle with the first
// page (ordered by storage order). Paging links, _sort, _total, _summary,
// _elements, _include and the cache belong to the result-shaping and cache work
// and are not done here yet; their parameters are reported as ignored.
#include "search_exec.h"

#include "cpp_wrapper.h"
#include "guc.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "resource.h"
#include "search_query.h"
#include "spi.h"

namespace fhir_pg {

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

namespace {

// An OperationOutcome listing the parameters the search ignored.
fhir::Json ignored_outcome(const fhir::SearchQuery &query) {
    fhir::Json issues = fhir::Json::array();
    for (const auto &ignored : query.ignored)
        issues.push_back({{"severity", "warning"},
                          {"code", "not-supported"},
                          {"diagnostics", "parameter \"" + ignored.name + "\" ignored: " + ignored.reason}});
    for (const auto &result : query.result_params)
        if (result.name != "_count")
            issues.push_back({{"severity", "warning"},
                              {"code", "not-supported"},
                              {"diagnostics", "result parameter \"" + result.name + "\" is not supported yet; ignored"}});
    if (issues.empty())
        return nullptr;
    return {{"resourceType", "OperationOutcome"}, {"issue", issues}};
}

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_search) {
    using namespace fhir_pg;
    if (PG_ARGISNULL(0))
        throw fhir::Error(fhir::ErrorKind::UnsupportedFeature, "system-level search (type NULL) is not supported yet");
    text *type_arg = PG_GETARG_TEXT_PP(0);
    std::string type(VARDATA_ANY(type_arg), VARSIZE_ANY_EXHDR(type_arg));
    std::string query_text;
    if (!PG_ARGISNULL(1)) {
        text *q = PG_GETARG_TEXT_PP(1);
        query_text.assign(VARDATA_ANY(q), VARSIZE_ANY_EXHDR(q));
    }
    if (!fhir::Registry::is_resource_type(type))
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");

    spi_connect();
    const fhir::Registry &registry = current_registry();
    fhir::SearchQuery query = fhir::parse_search_query(registry, type, query_text, guc_strict_handling);
    int count = query.count ? *query.count : guc_default_count;
    if (count > guc_max_count)
        count = guc_max_count;
    fhir::SqlFragment where = fhir::build_where(query, "r", 4);

    std::string sql =
        "SELECT jsonb_build_object('resourceType', 'Bundle', 'type', 'searchset', "
        "  'link', jsonb_build_array(jsonb_build_object('relation', 'self', 'url', $2)), "
        "  'entry', coalesce(jsonb_agg(jsonb_build_object('fullUrl', $1 || m.rtype || '/' || m.id, "
        "    'resource', m.content, 'search', jsonb_build_object('mode', 'match')) ORDER BY m.rid), '[]'::jsonb)) "
        "FROM (SELECT r.rid, r.rtype, r.id, r.content FROM " + fhir::partition_table(type) + " r WHERE " + where.where +
        " ORDER BY r.rid LIMIT $3) m";
    std::vector<Oid> types = {TEXTOID, TEXTOID, INT4OID};
    std::vector<Datum> values = {text_datum(base_url_prefix()), text_datum(base_url_prefix() + type + "?" + query_text),
                                 Int32GetDatum(count)};
    bind_sql_params(where.params, &types, &values);
    SPIPlanPtr plan = prepare_cached(sql, types);
    spi_execute(plan, values.data(), nullptr, true, 1);
    Datum bundle_datum = spi_get_datum(0, 1);
    fhir::Json outcome = ignored_outcome(query);
    Datum result;
    if (outcome.is_null()) {
        result = pg_call([bundle_datum] { return SPI_datumTransfer(bundle_datum, false, -1); });
    } else {
        // Rare path: append the OperationOutcome entry (search.mode = outcome).
        fhir::Json bundle = jsonb_to_json(DatumGetJsonbP(bundle_datum));
        bundle["entry"].push_back({{"resource", outcome}, {"search", {{"mode", "outcome"}}}});
        std::string text = bundle.dump();
        const char *cstr = text.c_str();
        result = pg_call([cstr] {
            return SPI_datumTransfer(DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr)), false, -1);
        });
    }
    spi_finish();
    return result;
}
