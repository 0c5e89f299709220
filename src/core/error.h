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
    Gone,                // the resource was deleted              -> FH410
    VersionConflict,     // If-Match / version check failed       -> FH409
    PreconditionFailed,  // conditional operation matched >1      -> FH412
    Internal,            // a bug of ours                         -> XX000
};

// The OperationOutcome issue type (R4 value set issue-type) of each kind: the
// code of the OperationOutcome an error carries when no more precise one is given.
inline const char *issue_type(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::InvalidJson:
        return "structure";
    case ErrorKind::InvalidResource:
    case ErrorKind::InvalidSearch:
        return "invalid";
    case ErrorKind::UnknownResourceType:
    case ErrorKind::UnknownParameter:
    case ErrorKind::UnsupportedFeature:
        return "not-supported";
    case ErrorKind::NotFound:
        return "not-found";
    case ErrorKind::Gone:
        return "deleted";
    case ErrorKind::VersionConflict:
        return "conflict";
    case ErrorKind::PreconditionFailed:
        return "multiple-matches";
    case ErrorKind::Internal:
        break;
    }
    return "exception";
}

class Error : public std::runtime_error {
  public:
    Error(ErrorKind kind, std::string message, std::string detail = {})
        : std::runtime_error(std::move(message)), kind_(kind), detail_(std::move(detail)) {}

    ErrorKind kind() const noexcept { return kind_; }
    // Optional DETAIL text: an OperationOutcome (JSON text) for FHIR clients. When
    // empty, the glue puts one built from the message and issue_type(kind) in DETAIL.
    const std::string &detail() const noexcept { return detail_; }

  private:
    ErrorKind kind_;
    std::string detail_;
};

} // namespace fhir
