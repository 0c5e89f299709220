// module.cpp: the library's entry point: PG_MODULE_MAGIC, _PG_init and every GUC.
//
// All fhir_search.* settings are registered here and nowhere else, so the list
// below is the complete reference (README "Settings" mirrors it).
#include "pg_includes.h"

#include "guc.h"
#include "local_time_zone.h"
#include "resource_validation.h"
#include "search_query.h"
#include "result_cache.h"
#include "validation.h"

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
int guc_max_include_rounds = 3;
int guc_max_included = 1000;
bool loaded_at_startup = false;

// fhir_search.validation's values (fhir::ValidationMode).
static const struct config_enum_entry validation_modes[] = {
    {"strict", fhir::kValidationStrict, false},
    {"lenient", fhir::kValidationLenient, false},
    {"off", fhir::kValidationOff, false},
    {nullptr, 0, false},
};

// Validation on write: the core reads these through fhir::validation_settings.
// Superuser-only (or ALTER ROLE/DATABASE ... SET by one): what may be stored is the
// DBA's choice, not that of every session that writes.
static void define_validation_gucs() {
    DefineCustomEnumVariable("fhir_search.validation", "Validation of resources on write against FHIR R4.",
                             "strict refuses an invalid resource (SQLSTATE 22023, the OperationOutcome in DETAIL); "
                             "lenient stores it and reports the issues in a NOTICE; off checks only the limits.",
                             &fhir::validation_settings.mode, fhir::kValidationStrict, validation_modes, PGC_SUSET,
                             0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_resource_depth",
                            "Deepest nesting of JSON objects and arrays a written resource may have.",
                            "Checked on every write, whatever fhir_search.validation says.",
                            &fhir::validation_settings.max_depth, 100, 8, 1000, PGC_SUSET, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("fhir_search.max_resource_size", "Largest resource a write accepts, as compact JSON text.",
                            "Checked on every write, whatever fhir_search.validation says. 0 means no limit.",
                            &fhir::validation_settings.max_size_kb, 32768, 0, 1024 * 1024, PGC_SUSET, GUC_UNIT_KB,
                            nullptr, nullptr, nullptr);
}

// Limits of a search (issue 16): what a request may ask for; exceeding the first
// three is an error (22023), reaching the include limits a warning in the Bundle.
static void define_search_limit_gucs() {
    DefineCustomIntVariable("fhir_search.max_query_length", "Longest search query string accepted, in bytes.",
                            "0 means no limit.", &fhir::search_limits.max_query_length, 65536, 0, 64 * 1024 * 1024,
                            PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_query_parameters", "Most name=value pairs a search may have.",
                            "0 means no limit.", &fhir::search_limits.max_parameters, 256, 0, 100000, PGC_USERSET, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_chain_depth",
                            "Most chain and _has links one search parameter may have.", nullptr,
                            &fhir::search_limits.max_chain_depth, 4, 1, 16, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_include_rounds",
                            "Rounds of _include/_revinclude a page runs, the first included and :iterate ones.",
                            "When more would be included, the Bundle's OperationOutcome says so.",
                            &guc_max_include_rounds, 3, 1, 100, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.max_included", "Most resources _include/_revinclude add to one page.",
                            "When more would be included, the Bundle's OperationOutcome says so. 0 means no limit.",
                            &guc_max_included, 1000, 0, 1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

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
    define_validation_gucs();
    define_search_limit_gucs();
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
    fhir_pg::install_validation_notice();
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
