// fhirpath_patch.h: FHIRPath Patch (R4 fhirpatch.html), the Parameters form of
// FHIR's patch interaction (R4 http.html#patch).
//
// Each `parameter` named "operation" has parts: type (add, insert, delete,
// replace, move), path (a FHIRPath expression of the subset in fhirpath.h),
// and as the type needs name, value, index, source, destination. A value is a
// part's value[x] (valueDate, valueHumanName, ...), a resource, or, for types
// Parameters cannot hold (a BackboneElement such as Patient.contact), nested
// parts named by the element's children.
//
//   add      path: one element; adds its child `name` (appended when the child
//            repeats; an error when a single-valued child is already there)
//   insert   path: a list (ending in the list's element name, which may be absent
//            yet); inserts at `index` (0 ... the list's size)
//   delete   path: at most one element; removes it (matching nothing is no change)
//   replace  path: one element; replaces its value
//   move     path: a list; moves the element at `source` to `destination`
//
// Paths select elements of the patched resource itself (resolve() only reaches
// contained resources). What the JSON cannot say (whether an element repeats,
// its type, how a choice is spelled) comes from the R4 definitions
// (element_schema.h): a value of the wrong type, an unknown element name or a
// second value for a single-valued element is an error. Removing an element
// also removes its primitive extensions (`_birthDate`, the matching entry of
// `_given`) and lists or objects it leaves empty. Operations apply in order to a
// copy of the resource, so the patch is atomic; errors are those of
// patch_error.h, with the operation's index and its place in the Parameters
// (OperationOutcome.issue.expression "Parameters.parameter[2]").
#pragma once

#include "json.h"

#include <optional>
#include <string>
#include <string_view>

namespace fhir {

// Applies `parameters` to a copy of `resource` and returns the result.
Json apply_fhirpath_patch(const Json &resource, const Json &parameters);

// The list part of an insert or move path: "Patient.name[0].given" ->
// {"Patient.name[0]", "given"}; nullopt when the path does not end in an element
// name after a top-level '.'.
struct ListPath {
    std::string parent;
    std::string name;
};
std::optional<ListPath> split_list_path(std::string_view path);

} // namespace fhir
