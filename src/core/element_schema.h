// element_schema.h: the elements of every R4 resource, data type and backbone
// element: their names, whether they repeat or are required, their types (generated from the
// StructureDefinitions into generated/r4_element_schema.cpp by
// tools/gen_element_schema.py).
//
// FHIRPath Patch needs what the JSON alone cannot say: that Patient.identifier
// is an array even when absent, that birthDate takes a date, that
// Observation.value[x] holding a Quantity is written valueQuantity, what a
// nested object is (Patient.contact, a HumanName); validation on write
// (resource_validation.h) checks documents against it. Lookups walk the graph from a
// resource type down through the keys of a document.
#pragma once

#include "json.h"

#include <string>
#include <string_view>
#include <vector>

namespace fhir {

namespace r4 {
// Layout of the generated tables; only element_schema.cpp reads them.
constexpr unsigned char kRepeatsFlag = 1;   // max != "1"
constexpr unsigned char kChoiceFlag = 2;    // value[x]; the row's name is "value"
constexpr unsigned char kRequiredFlag = 4;  // min >= 1
constexpr short kPrimitiveValue = -1;       // SchemaElement::structure: no structure
constexpr short kStructureBySuffix = -2;    // a choice: the data type its key's suffix names
constexpr short kStructureByResource = -3;  // a resource: the one its resourceType names

struct SchemaElement {
    const char *name;
    unsigned char flags;
    short structure;   // index into kSchemaStructures, or one of the values above
    const char *types; // type codes, space-separated ("boolean dateTime" for a choice)
};

struct SchemaStructure {
    const char *name;     // resource type, data type, or backbone path ("Patient.contact")
    unsigned char kind;   // 0 resource, 1 data type, 2 backbone
    unsigned short first; // first row in kSchemaElements
    unsigned short count; // rows, sorted by name
};

extern const SchemaElement kSchemaElements[];
extern const int kSchemaElementCount;
extern const SchemaStructure kSchemaStructures[]; // sorted by name
extern const int kSchemaStructureCount;
} // namespace r4

namespace schema {

using Structure = r4::SchemaStructure;

// The structure of a resource type or a complex data type, or null.
const Structure *resource_structure(std::string_view resource_type);
const Structure *type_structure(std::string_view data_type);

// An element of a structure as one JSON key holds it.
struct Element {
    const r4::SchemaElement *row = nullptr;
    std::string_view type; // for a choice key its suffix's type (valueQuantity: "Quantity"), else the element's type

    bool repeats() const { return row->flags & r4::kRepeatsFlag; }
    bool choice() const { return row->flags & r4::kChoiceFlag; }
    bool required() const { return row->flags & r4::kRequiredFlag; }
    std::string_view name() const { return row->name; } // "value" for value[x]
    // The types the element allows (one, or a choice's several).
    std::vector<std::string_view> types() const;
};

// The rows of a structure, sorted by name: [elements_begin, elements_end).
inline const r4::SchemaElement *elements_begin(const Structure &s) { return r4::kSchemaElements + s.first; }
inline const r4::SchemaElement *elements_end(const Structure &s) { return r4::kSchemaElements + s.first + s.count; }

// The element that key `key` of an object of structure `s` holds: an element of
// that name, else a choice element whose name is followed by one of its types'
// names (valueQuantity, valueDateTime). `found` false when there is none.
bool find_element(const Structure &s, std::string_view key, Element *found);

// The element named `name` itself (a choice by its base name "value"), or false.
bool find_element_named(const Structure &s, std::string_view name, Element *found);

// The structure a value of `element` has: its backbone or data type, the data
// type of a choice key's suffix, or the resource `value` names by its
// resourceType; null for primitives and what the schema does not know.
const Structure *value_structure(const Element &element, const Json &value);

// The JSON key for choice element `name` holding a value of `type`
// ("value" + "dateTime" -> "valueDateTime").
std::string choice_key(std::string_view name, std::string_view type);

// Whether `type` is a primitive type of R4 (lowercase-first names such as
// "string", "dateTime"), and whether it is any R4 type (primitive or complex).
bool is_primitive_type(std::string_view type);
bool is_known_type(std::string_view type);

// The R4 type a choice suffix or a Parameters value[x] suffix names ("DateTime"
// -> "dateTime", "Quantity" -> "Quantity"), or "" when it names none.
std::string type_of_suffix(std::string_view suffix);

// Whether a value of type `actual` may stand where `declared` is expected: the
// same type, types that specialize one another with the same JSON form (code
// and string, canonical and uri, positiveInt and integer, Age and Quantity), or
// a date or instant where a dateTime is declared, an integer where a decimal is.
bool type_fits(std::string_view actual, std::string_view declared);

// Whether `value`'s JSON kind is the one type `type` is written in: booleans,
// numbers (integer types whole), strings for the other primitives, objects for
// complex types and resources. Binary values are decimal texts (json_patch.h).
bool json_kind_fits(const Json &value, std::string_view type);

} // namespace schema
} // namespace fhir
