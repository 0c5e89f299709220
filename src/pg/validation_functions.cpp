// validation_functions.cpp: validation on write as PostgreSQL sees it: the
// NOTICE that lenient mode (fhir_search.validation = lenient) reports issues
// with, and fhir.validate(resource), the OperationOutcome behind $validate.
//
// The checks themselves are the core's (src/core/resource_validation.h); every
// write path reaches them through fhir::validate_resource. The GUCs that set
// fhir::validation_settings are registered in module.cpp.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "resource_validation.h"
#include "validation.h"

namespace fhir_pg {

namespace {

// fhir::validation_notice: a NOTICE with the OperationOutcome as its DETAIL.
void notice_validation_issues(const std::string &message, const std::string &outcome) {
    const char *m = message.c_str();
    const char *d = outcome.c_str();
    pg_call([m, d] { ereport(NOTICE, (errmsg("fhir_search: %s", m), errdetail("%s", d))); });
}

} // namespace

void install_validation_notice() { fhir::validation_notice = &notice_validation_issues; }

Datum validation_outcome_jsonb(const fhir::Json &resource) {
    // Always the full check, whatever fhir_search.validation says: the caller asked.
    fhir::ValidationResult result = fhir::check_resource(resource, fhir::validation_settings, true);
    return text_to_jsonb(fhir::validation_outcome(result));
}

} // namespace fhir_pg

// fhir.validate(resource jsonb) -> jsonb: the OperationOutcome of validating the
// resource against R4 and the limits (an information issue when it is valid).
FHIR_FUNCTION(fhir_validate) {
    Jsonb *content = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(0); });
    return fhir_pg::validation_outcome_jsonb(fhir_pg::jsonb_to_json(content));
}
