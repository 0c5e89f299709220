// guc.h: the fhir_search.* settings, defined in module.cpp.
#pragma once

#include <string>

namespace fhir_pg {

extern char *guc_base_url;       // fhir_search.base_url
extern int guc_default_count;    // fhir_search.default_count
extern int guc_max_count;        // fhir_search.max_count
extern bool guc_strict_handling; // fhir_search.strict_handling
extern int guc_plan_cache_size;  // fhir_search.plan_cache_size (statements per backend)
extern int guc_match_url_cache_size; // fhir_search.match_url_cache_size (0: off)
extern bool loaded_at_startup;   // true when loaded through shared_preload_libraries

// fhir_search.base_url with a trailing '/', or "" when unset (relative URLs).
std::string base_url_prefix();

} // namespace fhir_pg
