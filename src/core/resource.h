// resource.h: what makes a JSON value a storable FHIR resource.
//
// Checks the write path performs before anything touches the database, so a bad
// resource is rejected with a message that names the problem and nothing is
// written. Also the identifier rules shared by writes, reads and references.
#pragma once

#include "json.h"

#include <string>
#include <string_view>

namespace fhir {

// FHIR id syntax: [A-Za-z0-9\-\.]{1,64}.
bool is_valid_id(std::string_view id);

// The resource's type and id after validation.
struct ResourceIdentity {
    std::string type;
    std::string id; // empty when the resource has none
};

// Throws fhir::Error when `resource` is not an object, has no or an unknown
// resourceType, or carries an id that is not a string of valid id syntax. When
// `expected_type` is non-empty the resourceType must equal it. Then applies
// validation on write (resource_validation.h): the limits always, the R4
// definitions as validation_settings.mode says. Every write path calls this.
ResourceIdentity validate_resource(const Json &resource, std::string_view expected_type = {});

// Formats 16 random bytes as a version-4 UUID string (ids for fhir.create).
std::string uuid_v4_from_bytes(const unsigned char bytes[16]);

// Builds a FHIR OperationOutcome with one issue, compact JSON text.
std::string operation_outcome(std::string_view severity, std::string_view code, std::string_view diagnostics);

} // namespace fhir

namespace fhir {
// Schema-qualified name of the fhir.resource partition for a resource type
// (e.g. fhir.resource_observation). Only call with registry-validated types: the
// result is spliced into SQL as an identifier.
std::string partition_table(std::string_view resource_type);
// Unqualified partition name (resource_observation).
std::string partition_name(std::string_view resource_type);
} // namespace fhir
