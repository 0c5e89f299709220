// local_time_zone.h: fhir_search.default_timezone, the zone dates and times
// without an offset are read in (core: fhir::set_local_time_zone).
#pragma once

#include <string>

namespace fhir_pg {

// Registers the setting (from define_gucs in module.cpp).
void define_local_time_zone_guc();

// The setting's value as a cache key part: results depend on it through the
// search values a query's dates become.
std::string local_time_zone_key();

} // namespace fhir_pg
