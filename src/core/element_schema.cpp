// element_schema.cpp: lookups in the generated R4 element graph (element_schema.h).
#include "element_schema.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

namespace fhir::schema {

namespace {

constexpr unsigned char kResourceKind = 0;
constexpr unsigned char kDataTypeKind = 1;

const Structure *find_structure(std::string_view name, unsigned char kind) {
    const Structure *begin = r4::kSchemaStructures;
    const Structure *end = begin + r4::kSchemaStructureCount;
    auto it = std::lower_bound(begin, end, name,
                               [](const Structure &s, std::string_view key) { return s.name < key; });
    return it != end && name == it->name && it->kind == kind ? it : nullptr;
}

// The word `type` of the space-separated type list `types` (a view into it), or "".
std::string_view listed_type(std::string_view types, std::string_view type) {
    size_t pos = 0;
    while (pos < types.size()) {
        size_t end = types.find(' ', pos);
        if (end == std::string_view::npos)
            end = types.size();
        if (types.substr(pos, end - pos) == type)
            return types.substr(pos, end - pos);
        pos = end + 1;
    }
    return {};
}

constexpr std::array<std::string_view, 20> kPrimitives = {
    "base64Binary", "boolean", "canonical", "code", "date",        "dateTime", "decimal",     "id",  "instant", "integer",
    "markdown",     "oid",     "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid", "xhtml"};

// The family of types sharing one JSON form that FHIR derives from one another.
int family(std::string_view type) {
    static constexpr std::string_view kStrings[] = {"string", "code", "id", "markdown"};
    static constexpr std::string_view kUris[] = {"uri", "url", "canonical", "oid", "uuid"};
    static constexpr std::string_view kIntegers[] = {"integer", "positiveInt", "unsignedInt"};
    static constexpr std::string_view kQuantities[] = {"Quantity", "Age",           "Count",         "Distance",
                                                       "Duration", "SimpleQuantity", "MoneyQuantity"};
    auto in = [type](const auto &list) { return std::find(std::begin(list), std::end(list), type) != std::end(list); };
    if (in(kStrings))
        return 1;
    if (in(kUris))
        return 2;
    if (in(kIntegers))
        return 3;
    if (in(kQuantities))
        return 4;
    return 0;
}

} // namespace

const Structure *resource_structure(std::string_view resource_type) {
    return find_structure(resource_type, kResourceKind);
}

const Structure *type_structure(std::string_view data_type) {
    if (data_type == "SimpleQuantity" || data_type == "MoneyQuantity") // profiles of Quantity
        data_type = "Quantity";
    return find_structure(data_type, kDataTypeKind);
}

std::vector<std::string_view> Element::types() const {
    std::vector<std::string_view> out;
    std::string_view all = row->types;
    size_t pos = 0;
    while (pos < all.size()) {
        size_t end = all.find(' ', pos);
        if (end == std::string_view::npos)
            end = all.size();
        out.push_back(all.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

bool find_element_named(const Structure &s, std::string_view name, Element *found) {
    const r4::SchemaElement *begin = r4::kSchemaElements + s.first;
    const r4::SchemaElement *end = begin + s.count;
    auto it = std::lower_bound(begin, end, name,
                               [](const r4::SchemaElement &row, std::string_view key) { return row.name < key; });
    if (it == end || name != it->name)
        return false;
    found->row = it;
    found->type = (it->flags & r4::kChoiceFlag) ? std::string_view() : std::string_view(it->types);
    return true;
}

bool find_element(const Structure &s, std::string_view key, Element *found) {
    if (find_element_named(s, key, found) && !found->choice())
        return true;
    const r4::SchemaElement *begin = r4::kSchemaElements + s.first;
    for (const r4::SchemaElement *row = begin; row != begin + s.count; ++row) {
        if (!(row->flags & r4::kChoiceFlag))
            continue;
        const size_t n = std::strlen(row->name);
        if (key.size() <= n || key.compare(0, n, row->name) != 0)
            continue;
        const std::string type = type_of_suffix(key.substr(n));
        // A view of the row's own text, which outlives the call.
        std::string_view listed = type.empty() ? std::string_view() : listed_type(row->types, type);
        if (listed.empty())
            continue;
        found->row = row;
        found->type = listed;
        return true;
    }
    return false;
}

const Structure *value_structure(const Element &element, const Json &value) {
    const short target = element.row->structure;
    if (target >= 0)
        return &r4::kSchemaStructures[target];
    if (target == r4::kStructureBySuffix)
        return element.type.empty() ? nullptr : type_structure(element.type);
    if (target == r4::kStructureByResource) {
        const Json *type = json_member(value, "resourceType");
        return type && type->is_string() ? resource_structure(type->get_ref<const std::string &>()) : nullptr;
    }
    return nullptr;
}

std::string choice_key(std::string_view name, std::string_view type) {
    std::string key(name);
    key += type;
    if (key.size() > name.size())
        key[name.size()] = static_cast<char>(std::toupper(static_cast<unsigned char>(key[name.size()])));
    return key;
}

bool is_primitive_type(std::string_view type) {
    return std::find(kPrimitives.begin(), kPrimitives.end(), type) != kPrimitives.end();
}

bool is_known_type(std::string_view type) {
    return is_primitive_type(type) || type_structure(type) || resource_structure(type) || type == "Resource";
}

std::string type_of_suffix(std::string_view suffix) {
    if (suffix.empty() || !std::isupper(static_cast<unsigned char>(suffix[0])))
        return {};
    std::string lowered(suffix);
    lowered[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lowered[0])));
    if (is_primitive_type(lowered))
        return lowered;
    if (type_structure(suffix) || suffix == "SimpleQuantity" || suffix == "MoneyQuantity")
        return std::string(suffix);
    return {};
}

bool type_fits(std::string_view actual, std::string_view declared) {
    if (actual == declared)
        return true;
    if (declared == "Resource")
        return resource_structure(actual) != nullptr;
    if (declared == "dateTime" && (actual == "date" || actual == "instant"))
        return true;
    if (declared == "decimal" && family(actual) == 3) // every integer is a decimal
        return true;
    const int f = family(actual);
    return f != 0 && f == family(declared);
}

bool json_kind_fits(const Json &value, std::string_view type) {
    if (type == "boolean")
        return value.is_boolean();
    if (type == "integer")
        return value.is_number_integer();
    if (type == "unsignedInt")
        return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
    if (type == "positiveInt")
        return value.is_number_integer() && value.get<int64_t>() > 0;
    if (type == "decimal")
        return value.is_number() || value.is_binary();
    if (is_primitive_type(type))
        return value.is_string();
    return value.is_object();
}

} // namespace fhir::schema
