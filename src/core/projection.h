// projection.h: result shaping for search and read, i.e. _summary and _elements.
//
// A projection edits a resource in place (keys are erased, nothing is copied)
// because it runs on every resource of a result page. Which elements survive
// comes from the FHIR R4 definitions: tools/gen_summary.py generates
// generated/r4_summary.cpp, a schema graph with one node per resource type,
// complex data type and BackboneElement that lists the children marked
// isSummary, those with min >= 1 and the choice elements. Rules (see also
// docs/projection.md):
//   _summary=true   keep the summary elements at every depth (plus mandatory
//                   ones); resourceType, id and meta are always kept whole.
//   _summary=text   keep text, id, meta and the top-level mandatory elements.
//   _summary=data   remove text.
//   _summary=false  no change; _summary=count is the caller's business (no change here).
//   _elements=a,b.c keep the listed elements (nested paths keep only the listed
//                   children), the top-level mandatory ones and resourceType/id/meta.
// When _elements is given it wins over any _summary value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace fhir {

enum class SummaryMode { False, True, Text, Data, Count };

// Parses a _summary value (true, text, data, count, false); throws InvalidSearch otherwise.
SummaryMode parse_summary(std::string_view value);

// Parses an _elements value: a comma list of element paths such as "name" or
// "name.family"; a leading capitalised segment names a resource type
// ("Patient.name") and restricts that path to resources of that type; a choice
// may be written "value" or "value[x]". Throws InvalidSearch on an empty list,
// an empty path or segment, or a character outside [A-Za-z0-9_].
std::vector<std::string> parse_elements(std::string_view value);

// Applies _summary / _elements to one resource in place. Returns true if
// anything was removed, so that the caller can mark_subsetted(). Resources of
// a type the definitions do not know are left unchanged by _summary=true/text.
bool project_resource(Json &resource, SummaryMode mode, const std::vector<std::string> &elements);

// Adds the v3-ObservationValue SUBSETTED tag to meta.tag unless already there.
void mark_subsetted(Json &resource);

namespace r4 {

// Layout of the generated tables (generated/r4_summary.cpp); only projection.cpp reads them.
constexpr unsigned char kSummaryFlag = 1;   // ElementDefinition.isSummary
constexpr unsigned char kMandatoryFlag = 2; // ElementDefinition.min >= 1
constexpr unsigned char kChoiceFlag = 4;    // value[x]; the row name is "value"
constexpr short kKeepWhole = -1;            // SummaryChild::node: do not filter the value
constexpr short kNodeBySuffix = -2;         // SummaryChild::node: data type named by the key suffix

struct SummaryChild {
    const char *name;
    unsigned char flags;
    short node; // index into kSummaryNodes, or kKeepWhole / kNodeBySuffix
};

struct SummaryNode {
    const char *name;    // resource type, data type, or backbone path ("Observation.component")
    unsigned char kind;  // 0 resource, 1 data type, 2 backbone
    unsigned short first; // first row in kSummaryChildren
    unsigned short count; // rows, sorted by name
};

extern const SummaryChild kSummaryChildren[];
extern const int kSummaryChildCount;
extern const SummaryNode kSummaryNodes[]; // sorted by name
extern const int kSummaryNodeCount;

} // namespace r4
} // namespace fhir
