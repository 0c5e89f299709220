// mass_ingestion.h: whether a mass ingestion is in progress (fhir.mass_ingestion
// has rows: secondary indexes dropped by fhir.begin_mass_ingestion and not yet
// rebuilt), cached per backend.
//
// The cached answer is dropped when the table changes: its statement trigger
// (fhir._registry_changed) sends a relcache invalidation that every backend
// receives at commit, as for the registry (registry_cache.h).
#pragma once
#include "pg_includes.h"

namespace fhir_pg {

// Number of indexes waiting to be rebuilt (0: none). Requires an SPI connection.
int64_t mass_ingestion_pending_indexes();

// Raises a WARNING when a mass ingestion is in progress: searches are correct but
// run without the dropped indexes. Requires an SPI connection.
void warn_if_mass_ingestion();

} // namespace fhir_pg
