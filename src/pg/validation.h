// validation.h: the PostgreSQL side of validation on write (validation_functions.cpp).
#pragma once

#include "pg_includes.h"

#include "json.h"

namespace fhir_pg {

// Points the core's lenient-mode callback at a NOTICE (called once, from _PG_init).
void install_validation_notice();

// The OperationOutcome (jsonb, palloc'd) of the full validation of `resource`.
Datum validation_outcome_jsonb(const fhir::Json &resource);

} // namespace fhir_pg
