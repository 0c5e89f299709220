// conditional.h: finding the resources a conditional operation refers to
// (ifNoneExist, conditional references "Patient?identifier=a|b", conditional
// update/delete). Requires an SPI connection.
#pragma once

#include <string>
#include <vector>

namespace fhir_pg {

// Ids of resources of `type` matching `query`, at most `limit` of them.
std::vector<std::string> match_conditional(const std::string &type, const std::string &query, long limit);

} // namespace fhir_pg
