// patch_error.h: the error a patch document raises, naming the operation that failed.
//
// JSON Patch and FHIRPath Patch report every problem the same way: an
// ErrorKind::InvalidResource error (SQLSTATE 22023) whose message and
// OperationOutcome say which operation (0-based index, as the document counts
// them) failed and why. Issue code "invalid" is a malformed document (unknown
// operation, bad pointer or path, missing or mistyped member); "processing" one
// that is well-formed but does not apply to the resource (a path that matches
// nothing or too much, an index out of range, a failed test).
#pragma once

#include "error.h"

#include <optional>
#include <string>
#include <string_view>

namespace fhir {

enum class PatchIssue { Invalid, Processing };

// `form` is "JSON Patch" or "FHIRPath Patch"; `op` the operation's name as the
// document gave it (may be empty); `expression`, when not empty, the FHIRPath of
// the failing element of the patch document (OperationOutcome.issue.expression).
Error patch_error(std::string_view form, std::optional<size_t> index, std::string_view op, std::string_view message,
                  PatchIssue issue, std::string_view expression = {});

} // namespace fhir
