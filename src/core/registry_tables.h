// registry_tables.h: the row layout of the generated R4 registry tables.
//
// tools/gen_registry.py writes src/core/generated/r4_registry.cpp as plain
// constant arrays in this layout, so the built-in definitions cost no start-up
// parsing and no heap until Registry::builtin() turns them into SearchParamDefs.
// Only registry.cpp and the generated file include this; everyone else uses
// registry.h. String lists (targets, modifiers, comparators) are interned as
// space-separated rows of kStringLists and referenced by index, -1 meaning none.
#pragma once

#include "registry.h"

namespace fhir {
namespace r4 {

struct ResourceTypeRow {
    const char *name;
    bool domain_resource; // derives from DomainResource, so it has text, contained, extensions
};

struct ComponentRow {
    const char *definition;
    const char *expression;
};

struct ParamRow {
    int id;
    int resource_type; // index into kResourceTypes
    const char *code;
    ParamType type;
    const char *expression;
    const char *url;
    int targets;     // index into kStringLists, or -1
    int modifiers;   // index into kStringLists, or -1
    int comparators; // index into kStringLists, or -1
    int first_component; // index into kComponents, or -1
    int component_count;
};

extern const ResourceTypeRow kResourceTypes[]; // sorted by name
extern const int kResourceTypeCount;
extern const char *const kStringLists[];
extern const int kStringListCount;
extern const ComponentRow kComponents[];
extern const int kComponentCount;
extern const ParamRow kParams[]; // sorted by (resource type, code); ids 1..kParamCount
extern const int kParamCount;
extern const int kRangeParams[]; // ids whose values may be Ranges, ascending
extern const int kRangeParamCount;

} // namespace r4
} // namespace fhir
