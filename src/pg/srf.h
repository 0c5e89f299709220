// srf.h: set-returning functions in materialize mode (a tuplestore filled in one call).
#pragma once

#include "pg_includes.h"

namespace fhir_pg {

// Prepares the tuplestore and result descriptor of a materializing SRF.
// Returns the ReturnSetInfo whose setResult/setDesc receive the rows.
ReturnSetInfo *begin_materialized_srf(FunctionCallInfo fcinfo);

// Appends one row.
void srf_put_row(ReturnSetInfo *rsinfo, Datum *values, bool *nulls);

} // namespace fhir_pg
