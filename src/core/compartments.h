// compartments.h: the R4 compartments (CompartmentDefinitions patient, encounter,
// relatedPerson, practitioner, device; generated into generated/r4_compartments.cpp
// by tools/gen_compartments.py) and what puts a resource in one: a compartment
// search (`GET [base]/Patient/123/Observation`) finds the resources of which any
// linking parameter references the compartment's focal resource.
#pragma once

#include "registry.h"
#include "search_sql.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

namespace r4 {
struct CompartmentDefinition {
    const char *type; // the focal resource type, e.g. "Patient"
    const char *url;  // canonical URL of the CompartmentDefinition
};
struct CompartmentMember {
    const char *compartment;   // a CompartmentDefinition's type
    const char *resource_type; // a type the definition lists with parameters
    const char *params;        // space-separated search parameter codes; "{def}" = the focal resource itself
};
extern const CompartmentDefinition kCompartments[];
extern const size_t kCompartmentsCount;
extern const CompartmentMember kCompartmentMembers[]; // sorted by compartment, then resource type
extern const size_t kCompartmentMembersCount;
} // namespace r4

// One compartment: "Patient/123" is {"Patient", "123"}.
struct Compartment {
    std::string type;
    std::string id;
};

// Reads "Type/id" (a relative reference to the focal resource). Throws
// Error(InvalidSearch) naming the problem for anything else: no or several
// slashes, a type that has no compartment, an invalid id.
Compartment parse_compartment(std::string_view text);

// The compartment types (Device, Encounter, Patient, Practitioner, RelatedPerson).
std::vector<std::string> compartment_types();
bool is_compartment_type(std::string_view type);
// The CompartmentDefinition's canonical URL; "" for a type without a compartment.
std::string compartment_url(std::string_view type);

// The codes of the parameters by which a `resource_type` resource is in a
// compartment of `compartment_type`, as the definition lists them but without
// "{def}"; empty when the type is no member (or only through "{def}").
std::vector<std::string> compartment_params(std::string_view compartment_type, std::string_view resource_type);

// The types a compartment can hold, sorted: those the definition lists with
// parameters, and the compartment's own type, whose focal resource is in its
// compartment (Patient/123 is in the Patient/123 compartment; the definitions
// say so with "{def}", the patient one through "link", the device one not at all).
std::vector<std::string> compartment_member_types(std::string_view compartment_type);
bool is_compartment_member(std::string_view compartment_type, std::string_view resource_type);

// What puts a `resource_type` row in `compartment`: its tokens hold one of
// `hashes`, or (`focal`) it is the focal resource itself (its id is the
// compartment's id). The hashes are the Reference token forms (values.h) that
// the extractor stores for a reference to the focal resource under each linking
// parameter that is enabled: "Type/id" (a relative reference, also versioned,
// "Type/id/_history/n") and, when `base_url` is absolute, "[base_url]Type/id"
// (an absolute reference to this server, also versioned). Disabled parameters
// write no tokens, so they cannot be used: they are listed in `disabled`.
struct CompartmentCondition {
    std::vector<int64_t> hashes;
    bool focal = false;
    std::vector<std::string> disabled;
};
CompartmentCondition compartment_condition(const Registry &registry, const Compartment &compartment,
                                           std::string_view resource_type, std::string_view base_url);

// The condition over row alias `row` (placeholders from $first_param) that puts a
// row of one of `types` in `compartment`: one `row.tokens && $n::bigint[]` over
// the hashes of every type's linking parameters (parameter ids differ per type,
// so one array serves a search over several types; above 64 hashes
// fhir.tokens_overlap, the same GIN condition with a cheaper recheck), OR the
// focal resource itself (`row.id = $m`, with `row.rtype` in a search over several
// `types`). "false" when no type can be in the compartment.
SqlFragment compartment_where(const Registry &registry, const Compartment &compartment,
                              const std::vector<std::string> &types, std::string_view base_url, const std::string &row,
                              int first_param);

} // namespace fhir
