// conditional.cpp: conditional matching through the search engine.
//
// ifNoneExist, conditional references and conditional update/delete are searches
// ("identifier=sys|val") restricted to ids; they use the same parser and SQL
// generator as fhir.search, in strict mode (an unknown parameter must not widen
// the match to "everything").
#include "conditional.h"

#include "cpp_wrapper.h"
#include "error.h"
#include "registry_cache.h"
#include "resource.h"
#include "search_query.h"
#include "search_resolve.h"
#include "spi.h"
#include "stored_resources.h"

namespace fhir_pg {

std::vector<std::string> match_conditional(const std::string &type, const std::string &query, long limit) {
    const fhir::Registry &registry = current_registry();
    fhir::SearchQuery parsed = fhir::parse_search_query(registry, type, query, /*strict=*/true);
    if (parsed.clauses.empty())
        throw fhir::Error(fhir::ErrorKind::InvalidSearch, "conditional \"" + query + "\" has no search parameters");
    SpiResourceStore store(/*read_only=*/false); // ValueSets/Lists written earlier in the Bundle count
    fhir::StoredValueResolver(store).resolve(parsed);
    fhir::SqlFragment where = fhir::build_where(parsed, "r", 1);
    std::string sql = "SELECT r.id FROM " + fhir::partition_table(type) + " r WHERE " + where.where +
                      " ORDER BY r.id LIMIT " + std::to_string(limit);
    std::vector<Oid> types;
    std::vector<Datum> values;
    bind_sql_params(where.params, &types, &values);
    SPIPlanPtr plan = prepare_cached(sql, types);
    // read_only = false: the conditional must see this statement's earlier writes.
    uint64_t n = spi_execute(plan, values.data(), nullptr, false);
    std::vector<std::string> ids;
    for (uint64_t r = 0; r < n; r++)
        ids.push_back(spi_get_text(r, 1));
    return ids;
}

} // namespace fhir_pg
