// search_exec.h: one search, from the result cache or planned and run, as a
// searchset Bundle; and what the backend's last search did (cache status,
// timings), for fhir.last_search() and the one-call responses (rest_request.cpp).
#pragma once

#include "pg_includes.h"

#include <string>

namespace fhir_pg {

// Runs a search and returns the Bundle (jsonb, in the caller's memory context).
// `raw_query` is a query string (query_of_url already applied). Needs no SPI
// connection (makes its own).
// `compartment` is "Patient/123" for a compartment search, "" for none.
Datum run_search(const std::string &type, const std::string &raw_query, const std::string &cache_control,
                 const std::string &compartment = std::string());

// What the last run_search of this backend did.
struct SearchReport {
    std::string cache;    // HIT, MISS, BYPASS (no-store), UNAVAILABLE
    std::string entry_id; // the cache entry (= Bundle id) served or stored, or ""
    double parse_ms = 0, db_ms = 0, cache_ms = 0;
};
SearchReport last_search_report();

} // namespace fhir_pg
