// json_patch.h: JSON Patch (RFC 6902), the application/json-patch+json form of
// FHIR's patch interaction (R4 http.html#patch).
//
// A patch is a JSON array of operations, each an object with "op" (add, remove,
// replace, move, copy, test), "path" (a JSON Pointer, json_pointer.h) and, as the
// operation needs, "value" or "from". Members the RFC does not define are
// ignored. Operations apply in order to a copy of the document, so the patch is
// atomic: the first failing operation (a failed test included) throws and the
// document is left as it was.
//
// Numbers: a document read from jsonb with exact decimals (src/pg/pg_json.h)
// holds a number with a fraction or exponent as a binary value of its decimal
// text; copies keep it, and test compares it with other numbers by value
// (1.50 equals 1.5 and 15e-1), as the RFC's equality asks.
#pragma once

#include "json.h"

namespace fhir {

// Applies `patch` to a copy of `document` and returns the result. Throws the
// errors of patch_error.h ("JSON Patch operation 2 (test): ...").
Json apply_json_patch(const Json &document, const Json &patch);

// RFC 6902 section 4.6 equality: same type and value, numbers by numeric value
// (including binary decimal texts), objects by members regardless of order.
bool json_patch_equal(const Json &a, const Json &b);

} // namespace fhir
