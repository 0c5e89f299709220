// everything.h: the $everything operation (everything_functions.cpp), for
// fhir.everything() and fhir.request (rest_request.cpp).
#pragma once

#include "pg_includes.h"

#include <string>

namespace fhir_pg {

// One page of type/id/$everything (a searchset Bundle, in the caller's memory
// context); *found is false (and the result 0) when type/id is not stored.
// `query` is the query string as sent (a whole next link is accepted). Needs no
// SPI connection (makes its own).
Datum run_everything(const std::string &type, const std::string &id, const std::string &query, bool *found);

} // namespace fhir_pg
