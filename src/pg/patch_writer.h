// patch_writer.h: the write path of FHIR's patch interaction (fhir.patch,
// PATCH through fhir.request, PATCH entries of Bundles).
//
// The current version is read and locked (FOR UPDATE, so concurrent patches of
// one resource apply one after the other and none is lost), the patch applied in
// the core (resource_patch.h) with exact decimals, and the result written by
// write_resource like any update: validation, a new version, history, side rows,
// cache invalidation.
#pragma once

#include "pg_includes.h"

#include "json.h"
#include "resource_patch.h"
#include "resource_writer.h"

#include <optional>
#include <string>

namespace fhir_pg {

// Patches type/id with `patch` (a JSON Patch array or a FHIRPath Patch
// Parameters, read from jsonb with exact decimals). `if_match` demands the
// current version (FH409 as update's check); `expected` is the form a request's
// Content-Type names. A resource that does not exist is FH404, a deleted one
// FH410; a patch that does not apply 22023 naming the failing operation.
// Requires SPI.
StoredResource patch_resource(const std::string &type, const std::string &id, const fhir::Json &patch,
                              std::optional<int> if_match,
                              fhir::PatchMediaType expected = fhir::PatchMediaType::Any);

// A patch document (request body or Bundle entry text) as the core reads it,
// parsed by PostgreSQL's JSON parser with exact decimals; invalid JSON is 22P02
// with an OperationOutcome.
fhir::Json patch_document(const std::string &text);

} // namespace fhir_pg
