// json.h: the JSON document type of the core.
//
// Resources are stored as jsonb, which keeps its own key order, so the core uses
// plain nlohmann::json (sorted keys). Include this instead of nlohmann directly.
#pragma once

#include <nlohmann/json.hpp>

namespace fhir {
using Json = nlohmann::json;
} // namespace fhir
