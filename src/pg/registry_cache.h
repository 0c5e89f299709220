// registry_cache.h: this backend's search parameter registry and extractor.
//
// Built on first use from the generated built-ins plus fhir.search_param_override
// (DBA enable/disable, custom parameters, and overrides: a definition stored under
// a built-in's id replaces that built-in), then kept until that table changes:
// its statement trigger (fhir._registry_changed) sends a relcache invalidation
// that every backend receives at commit, which drops the cached copy.
#pragma once

#include "pg_includes.h"

#include "extract.h"
#include "registry.h"

namespace fhir_pg {

// Requires an SPI connection (reads the override table on first use).
const fhir::Registry &current_registry();
const fhir::Extractor &current_extractor();

} // namespace fhir_pg
