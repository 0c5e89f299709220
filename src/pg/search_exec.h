// search_exec.h: running a parsed FHIR search against the storage through SPI.
//
// The core (search_query.h, search_sql.h) turns a query string into a WHERE
// clause with $n placeholders and typed values; this file binds those values
// and runs the statement. Requires an SPI connection.
#pragma once

#include "pg_includes.h"

#include "search_sql.h"

#include <string>
#include <vector>

namespace fhir_pg {

// Converts core parameter values into SPI argument types and Datums.
void bind_sql_params(const std::vector<fhir::SqlParam> &params, std::vector<Oid> *types, std::vector<Datum> *values);

} // namespace fhir_pg
