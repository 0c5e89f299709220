// element_names.h: the top-level element names of each R4 resource type (generated
// from the StructureDefinitions into generated/r4_element_names.cpp), for checking
// what _elements names.
#pragma once

#include <cstddef>
#include <string_view>

namespace fhir {

namespace r4 {
struct ResourceElements {
    const char *type;
    const char *names; // space-separated, sorted; choice elements end in "[x]"
};
extern const ResourceElements kResourceElements[];
extern const size_t kResourceElementsCount;
} // namespace r4

// Whether `element` (an _elements entry: a name, or a path whose first part is
// checked) is a top-level element of `type`: "gender", "value" or "valueQuantity"
// for value[x]. Unknown types have no elements.
bool is_resource_element(std::string_view type, std::string_view element);

} // namespace fhir
