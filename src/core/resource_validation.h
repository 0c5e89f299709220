// resource_validation.h: validation of resources on write against the R4
// StructureDefinitions (the generated element graph of element_schema.h).
//
// A write hands every resource to validate_resource (resource.h), which runs
// enforce_validation() below: the FHIR JSON rules (no nested arrays, no null
// outside primitive arrays and their aligned `_x` arrays, no empty objects,
// arrays or strings, well formed `_element` extensions), known element names
// per resource type and data type (choices as value[x]), the lexical forms of
// the primitive types, cardinality (max 1, min 1) and, likewise, contained and
// nested resources. Every issue is collected with its FHIRPath location
// (Patient.name[0].given[1]) so one OperationOutcome tells a client all that is
// wrong. Limits on nesting depth and size are checked first, whatever the mode,
// so that a hostile document is refused before anything recurses through it.
//
// The settings are process-wide plain data: the PostgreSQL glue points its GUCs
// (fhir_search.validation, fhir_search.max_resource_depth,
// fhir_search.max_resource_size) at them and installs the notice callback that
// reports lenient-mode issues. The core itself never reads configuration.
#pragma once

#include "json.h"

#include <cstddef>
#include <string>
#include <vector>

namespace fhir {

enum ValidationMode : int {
    kValidationOff = 0,     // only the limits are checked
    kValidationLenient = 1, // resources with issues are stored; the issues go to the notice callback
    kValidationStrict = 2,  // a resource with an issue is refused (ErrorKind::InvalidResource)
};

struct ValidationSettings {
    int mode = kValidationStrict;
    int max_depth = 100;          // nesting of objects and arrays; 0 = no limit
    int max_size_kb = 32768;      // compact JSON text size of a resource in kB; 0 = no limit
};

// The settings enforce_validation() applies (GUC storage in the glue).
extern ValidationSettings validation_settings;

// Called in lenient mode with a one-line message and the OperationOutcome text.
using ValidationNotice = void (*)(const std::string &message, const std::string &outcome);
extern ValidationNotice validation_notice;

struct ValidationIssue {
    const char *code;        // OperationOutcome issue type: structure, value, required, too-long, ...
    std::string expression;  // FHIRPath location, e.g. Patient.name[0].given[1]
    std::string diagnostics; // what is wrong, lowercase
};

struct ValidationResult {
    std::vector<ValidationIssue> issues; // at most kMaxValidationIssues
    size_t omitted = 0;                  // issues beyond that, counted only
    bool limit_exceeded = false;         // depth or size: the content was not checked further
    size_t size = 0;                     // compact JSON text size in bytes (approximate for decimals)
    bool ok() const { return issues.empty(); }
};

// Issues kept in one result; more are counted in `omitted`.
constexpr size_t kMaxValidationIssues = 100;

// Checks `resource` against the limits and, unless `full` is false, the R4
// definitions. Never throws for bad content (a non-object, a missing or unknown
// resourceType are issues too).
ValidationResult check_resource(const Json &resource, const ValidationSettings &settings, bool full = true);

// The OperationOutcome of a result as compact JSON text: one error issue per
// issue found (with expression), or one information issue when there is none.
std::string validation_outcome(const ValidationResult &result);

// A one-line summary: "3 issues, first: Patient.birthDate: ...".
std::string validation_summary(const ValidationResult &result);

// Applies validation_settings to a resource about to be written: throws
// fhir::Error(InvalidResource) with the OperationOutcome in its detail when a
// limit is exceeded or (strict) any issue is found; in lenient mode passes the
// issues to validation_notice and returns.
void enforce_validation(const Json &resource);

// The primitive lexical checks, exposed for the unit tests: whether `text` is a
// valid R4 date, dateTime, instant or time.
bool is_fhir_date(std::string_view text);
bool is_fhir_date_time(std::string_view text);
bool is_fhir_instant(std::string_view text);
bool is_fhir_time(std::string_view text);

} // namespace fhir
