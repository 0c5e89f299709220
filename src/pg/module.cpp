// module.cpp: the library's entry point: PG_MODULE_MAGIC, _PG_init and every GUC.
//
// All fhir_search.* settings are registered here and nowhere else, so the list
// below is the complete reference (README "Settings" mirrors it).
#include "pg_includes.h"

#include "guc.h"
#include "local_time_zone.h"
#include "result_cache.h"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace fhir_pg {

char *guc_base_url = nullptr;
int guc_default_count = 20;
int guc_max_count = 1000;
bool guc_strict_handling = false;
int guc_plan_cache_size = 64;
int guc_match_url_cache_size = 0;
bool loaded_at_startup = false;

// Registers the settings; some only while shared_preload_libraries is loading us.
static void define_gucs() {
    DefineCustomStringVariable("fhir_search.base_url",
                               "Base URL of the FHIR endpoint, used for Bundle fullUrl and link values.",
                               "Empty means relative URLs (Patient/123).", &guc_base_url, "", PGC_USERSET, 0,
                               nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.default_count", "Page size of a search without _count.", nullptr,
                            &guc_default_count, 20, 1, 100000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_count", "Largest page size a search may ask for with _count.",
                            nullptr, &guc_max_count, 1000, 1, 100000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("fhir_search.strict_handling",
                             "Reject unknown or unsupported search parameters instead of ignoring them.",
                             "Like FHIR's Prefer: handling=strict; per request, the query may also say so.",
                             &guc_strict_handling, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.plan_cache_size",
                            "Search statements per backend whose values are remembered for planning repeats once.",
                            "A search statement run again with the same values uses a plan made for those values "
                            "(parsed and planned once); others are planned per execution. 0 turns this off.",
                            &guc_plan_cache_size, 64, 0, 100000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.match_url_cache_size",
                            "Conditional URLs per backend whose matches are remembered across transactions.",
                            "Match-URL cache for ifNoneExist, conditional references and conditional update/patch: "
                            "an answer is reused until a write of its resource type commits. 0 (the default) turns "
                            "it off; needs shared_preload_libraries.",
                            &guc_match_url_cache_size, 0, 0, 1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    define_local_time_zone_guc();
    cache::define_gucs();
    FHIR_RESERVE_GUC_PREFIX("fhir_search");
}

std::string base_url_prefix() {
    std::string base = guc_base_url ? guc_base_url : "";
    if (!base.empty() && base.back() != '/')
        base.push_back('/');
    return base;
}

// Shared memory for the result cache, requested and attached through the
// standard hooks (chained to whatever was installed before us).
#if FHIR_HAVE_SHMEM_REQUEST_HOOK
static shmem_request_hook_type prev_shmem_request_hook = nullptr;
static void fhir_shmem_request() {
    if (prev_shmem_request_hook)
        prev_shmem_request_hook();
    cache::request_shmem();
}
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = nullptr;
static void fhir_shmem_startup() {
    if (prev_shmem_startup_hook)
        prev_shmem_startup_hook();
    cache::startup_shmem();
}

} // namespace fhir_pg

void _PG_init(void) {
    fhir_pg::loaded_at_startup = process_shared_preload_libraries_in_progress;
    fhir_pg::define_gucs();
    if (process_shared_preload_libraries_in_progress) {
#if FHIR_HAVE_SHMEM_REQUEST_HOOK
        fhir_pg::prev_shmem_request_hook = shmem_request_hook;
        shmem_request_hook = fhir_pg::fhir_shmem_request;
#else
        fhir_pg::cache::request_shmem();
#endif
        fhir_pg::prev_shmem_startup_hook = shmem_startup_hook;
        shmem_startup_hook = fhir_pg::fhir_shmem_startup;
    }
}
