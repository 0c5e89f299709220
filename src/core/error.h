// error.h: the one exception type the pure C++ core throws.
//
// The core never includes PostgreSQL headers, so it cannot name SQLSTATEs. It
// classifies each failure with an ErrorKind instead; the PostgreSQL glue
// (src/pg/cpp_wrapper.h) maps every kind to one SQLSTATE. Messages follow
// PostgreSQL style: lowercase, no trailing period, naming the bad input.
#pragma once

#include <stdexcept>
#include <string>

namespace fhir {

enum class ErrorKind {
    InvalidJson,         // text that is not JSON                 -> 22P02
    InvalidResource,     // JSON that is not a valid FHIR resource -> 22023
    UnknownResourceType, // resourceType not in the R4 registry   -> 42704
    InvalidSearch,       // malformed search query or value       -> 22023
    UnknownParameter,    // unknown search parameter (strict)     -> 42704
    UnsupportedFeature,  // valid FHIR we do not implement        -> 0A000
    NotFound,            // a referenced resource does not exist  -> FH404
    VersionConflict,     // If-Match / version check failed       -> FH409
    PreconditionFailed,  // conditional operation matched >1      -> FH412
    Internal,            // a bug of ours                         -> XX000
};

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, std::string message, std::string detail = {})
        : std::runtime_error(std::move(message)), kind_(kind), detail_(std::move(detail)) {}

    ErrorKind kind() const noexcept { return kind_; }
    // Optional DETAIL text; for FHIR clients the glue puts an OperationOutcome here.
    const std::string &detail() const noexcept { return detail_; }

  private:
    ErrorKind kind_;
    std::string detail_;
};

} // namespace fhir
