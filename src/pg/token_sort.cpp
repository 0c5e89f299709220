// token_sort.cpp: fhir.token_sort_key(), the key `_sort` orders a token parameter by.
//
// Tokens are stored as hashes, which have no useful order, so a token sort key is
// computed from the resource itself for the rows being sorted (search_exec.cpp,
// sort_sql): the parameter's FHIRPath expression is evaluated and its codes are
// walked as at write time (fhir::Extractor::token_sort_range). Only the top-level
// members the expression can read are converted from jsonb (fhir::MemberFilter),
// which makes a key several times cheaper than converting the whole resource.
// Keeping the keys at write time instead cost about 8% of bulk-load CPU and 10% of
// storage for a sort few searches use (docs/architecture.md, "Sorting by a token").
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "spi.h"

// fhir.token_sort_key(resource jsonb, param_id integer, highest boolean): the
// lowest (or highest) key of the parameter's codes, NULL when it has none.
FHIR_FUNCTION(fhir_token_sort_key) {
    Jsonb *resource = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(0); });
    int param_id = PG_GETARG_INT32(1);
    bool highest = PG_GETARG_BOOL(2);
    const fhir::Extractor &extractor = fhir_pg::current_extractor();
    const fhir::MemberFilter *members = extractor.token_sort_members(param_id);
    if (!members)
        PG_RETURN_NULL();
    fhir::Json part = members->all ? fhir_pg::jsonb_to_json(resource)
                                   : fhir_pg::jsonb_members_to_json(
                                         resource, [members](std::string_view m) { return members->keeps(m); });
    std::optional<fhir::TokenSortRange> range = extractor.token_sort_range(part, param_id);
    if (!range)
        PG_RETURN_NULL();
    return fhir_pg::text_datum(highest ? range->hi : range->lo);
}
