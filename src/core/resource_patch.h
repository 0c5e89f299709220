// resource_patch.h: FHIR's patch interaction on a resource (R4 http.html#patch):
// which patch form a document or a request's Content-Type is, and applying it.
//
// The two forms: JSON Patch (json_patch.h; a JSON array, media type
// application/json-patch+json) and FHIRPath Patch (fhirpath_patch.h; a
// Parameters resource, application/fhir+json). A patch may edit anything but the
// resource's identity: a result with another resourceType or id is an error.
// The caller validates and stores the result as any update.
#pragma once

#include "json.h"

#include <string_view>

namespace fhir {

enum class PatchFormat { JsonPatch, FhirPathPatch };

// The form of a patch document: a JSON array is a JSON Patch, a Parameters
// resource a FHIRPath Patch. Throws InvalidResource (22023) for anything else.
PatchFormat patch_format(const Json &patch);

// What a PATCH request's Content-Type allows (parameters such as charset and
// case are ignored): application/json-patch+json a JSON Patch,
// application/fhir+json a FHIRPath Patch, application/json or no header either
// form (the body decides), anything else (XML included) nothing.
enum class PatchMediaType { Any, JsonPatch, FhirPathPatch, Unsupported };
PatchMediaType patch_media_type(std::string_view content_type);

// Applies `patch` to `resource` and returns the patched copy. `expected` is the
// request's media type: a body of the other form is an error. Errors (22023,
// OperationOutcome in DETAIL) name the failing operation (patch_error.h), or say
// that the patch changed resourceType or id.
Json patch_resource(const Json &resource, const Json &patch, PatchMediaType expected = PatchMediaType::Any);

} // namespace fhir
