// conditional_cache.cpp: the match-URL cache (Smile CDR's "Match URL Cache") in
// front of match_conditional.
//
// Freshness rides on the result cache's per-type change counters (result_cache.h,
// type_generation): the counter is read before the search runs (its snapshot is
// taken after), and an answer is reused only while the counter has not moved, so a
// committed create, update or delete of the type, by any backend, retires every
// answer over that type. A transaction that wrote the type neither reuses nor
// remembers answers over it. Answers are keyed by database and by the OID of the
// type's storage table, so a dropped and recreated extension starts afresh.
#include "conditional_cache.h"

#include "conditional.h"
#include "cpp_wrapper.h"
#include "guc.h"
#include "match_url_cache.h"
#include "pg_includes.h"
#include "resource.h"
#include "result_cache.h"

#include "bundle_plan.h"

#include <memory>

extern "C" {
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
}

namespace fhir_pg {
namespace {

fhir::MatchUrlCache &backend_cache() {
    static std::unique_ptr<fhir::MatchUrlCache> cache;
    static int capacity = -1;
    if (!cache || capacity != guc_match_url_cache_size) {
        capacity = guc_match_url_cache_size;
        cache = std::make_unique<fhir::MatchUrlCache>(static_cast<size_t>(capacity));
    }
    return *cache;
}

// OID of the table holding `type`'s resources (InvalidOid if there is none).
Oid storage_table_oid(const std::string &type) {
    const std::string qualified = fhir::partition_table(type); // fhir.resource_<type>
    const std::string relname = qualified.substr(qualified.find('.') + 1);
    const char *name = relname.c_str();
    return pg_call([name] {
        Oid ns = get_namespace_oid("fhir", true);
        return OidIsValid(ns) ? get_relname_relid(name, ns) : InvalidOid;
    });
}

} // namespace

std::vector<std::string> match_conditional_cached(const std::string &type, const std::string &query, long limit) {
    if (guc_match_url_cache_size <= 0 || !fhir::conditional_reads_only_its_type(query))
        return match_conditional(type, query, limit);
    std::optional<uint64_t> generation = cache::type_generation(type); // before the search's snapshot
    Oid table = storage_table_oid(type);
    if (!generation || !OidIsValid(table))
        return match_conditional(type, query, limit);
    const std::string key = std::to_string(MyDatabaseId) + "/" + std::to_string(table) + "/" + std::to_string(limit) +
                            "/" + type + "?" + query;
    fhir::MatchUrlCache &cache = backend_cache();
    if (const std::vector<std::string> *ids = cache.find(key, *generation)) {
        const std::string url = type + "?" + query;
        const char *text = url.c_str();
        pg_call([text] { elog(DEBUG1, "fhir_search: match-URL cache hit: %s", text); });
        return *ids;
    }
    std::vector<std::string> ids = match_conditional(type, query, limit);
    cache.put(key, *generation, ids);
    return ids;
}

} // namespace fhir_pg
