// compartments.cpp: lookups in the generated compartment tables and the token
// hashes of a compartment search (compartments.h).
#include "compartments.h"

#include "error.h"
#include "resource.h"
#include "values.h"

#include <algorithm>

namespace fhir {
namespace {

// The space-separated codes of a generated member row.
std::vector<std::string> split_codes(std::string_view codes) {
    std::vector<std::string> out;
    while (!codes.empty()) {
        size_t space = codes.find(' ');
        out.emplace_back(codes.substr(0, space));
        codes = space == std::string_view::npos ? std::string_view() : codes.substr(space + 1);
    }
    return out;
}

std::string type_list() {
    std::string list;
    for (const std::string &t : compartment_types())
        list += (list.empty() ? "" : ", ") + t;
    return list;
}

} // namespace

std::vector<std::string> compartment_types() {
    std::vector<std::string> types;
    for (size_t i = 0; i < r4::kCompartmentsCount; i++)
        types.emplace_back(r4::kCompartments[i].type);
    return types;
}

bool is_compartment_type(std::string_view type) { return !compartment_url(type).empty(); }

std::string compartment_url(std::string_view type) {
    for (size_t i = 0; i < r4::kCompartmentsCount; i++)
        if (type == r4::kCompartments[i].type)
            return r4::kCompartments[i].url;
    return std::string();
}

Compartment parse_compartment(std::string_view text) {
    const std::string shown(text.substr(0, 80));
    size_t slash = text.find('/');
    if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos)
        throw Error(ErrorKind::InvalidSearch,
                    "compartment \"" + shown + "\" must be Type/id, e.g. Patient/123 (types: " + type_list() + ")");
    Compartment c{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
    if (!is_compartment_type(c.type))
        throw Error(ErrorKind::InvalidSearch, "\"" + c.type.substr(0, 80) +
                                                  "\" has no compartment in FHIR R4 (compartments: " + type_list() + ")");
    if (!is_valid_id(c.id))
        throw Error(ErrorKind::InvalidSearch, "invalid id \"" + c.id.substr(0, 80) + "\" in compartment \"" + shown + "\"");
    return c;
}

std::vector<std::string> compartment_params(std::string_view compartment_type, std::string_view resource_type) {
    for (size_t i = 0; i < r4::kCompartmentMembersCount; i++) {
        const r4::CompartmentMember &m = r4::kCompartmentMembers[i];
        if (compartment_type != m.compartment || resource_type != m.resource_type)
            continue;
        std::vector<std::string> codes = split_codes(m.params);
        codes.erase(std::remove(codes.begin(), codes.end(), "{def}"), codes.end());
        return codes;
    }
    return {};
}

std::vector<std::string> compartment_member_types(std::string_view compartment_type) {
    std::vector<std::string> types;
    if (!is_compartment_type(compartment_type))
        return types;
    types.emplace_back(compartment_type);
    for (size_t i = 0; i < r4::kCompartmentMembersCount; i++)
        if (compartment_type == r4::kCompartmentMembers[i].compartment &&
            compartment_type != r4::kCompartmentMembers[i].resource_type)
            types.emplace_back(r4::kCompartmentMembers[i].resource_type);
    std::sort(types.begin(), types.end());
    return types;
}

bool is_compartment_member(std::string_view compartment_type, std::string_view resource_type) {
    if (!is_compartment_type(compartment_type))
        return false;
    if (compartment_type == resource_type)
        return true;
    return !compartment_params(compartment_type, resource_type).empty();
}

CompartmentCondition compartment_condition(const Registry &registry, const Compartment &compartment,
                                           std::string_view resource_type, std::string_view base_url) {
    CompartmentCondition condition;
    condition.focal = compartment.type == resource_type;
    const std::string relative = compartment.type + "/" + compartment.id;
    const bool absolute_base = base_url.find("://") != std::string_view::npos;
    for (const std::string &code : compartment_params(compartment.type, resource_type)) {
        const SearchParamDef *param = registry.find(resource_type, code);
        if (!param || !param->enabled) {
            condition.disabled.push_back(code);
            continue;
        }
        condition.hashes.push_back(token_hash(param->id, TokenForm::Reference, relative));
        if (absolute_base)
            condition.hashes.push_back(token_hash(param->id, TokenForm::Reference, std::string(base_url) + relative));
    }
    return condition;
}

SqlFragment compartment_where(const Registry &registry, const Compartment &compartment,
                              const std::vector<std::string> &types, std::string_view base_url, const std::string &row,
                              int first_param) {
    constexpr size_t kMaxOverlapHashes = 64; // as search_sql.cpp: above it, && rechecks slowly
    SqlFragment fragment;
    std::vector<int64_t> hashes;
    bool focal = false;
    for (const std::string &type : types) {
        CompartmentCondition c = compartment_condition(registry, compartment, type, base_url);
        hashes.insert(hashes.end(), c.hashes.begin(), c.hashes.end());
        focal = focal || c.focal;
    }
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    int next = first_param;
    std::vector<std::string> terms;
    if (!hashes.empty()) {
        SqlParam p;
        p.kind = SqlParam::Int8Array;
        p.ints = hashes;
        fragment.params.push_back(std::move(p));
        const std::string ref = "$" + std::to_string(next++) + "::bigint[]";
        terms.push_back(hashes.size() > kMaxOverlapHashes ? "fhir.tokens_overlap(" + row + ".tokens, " + ref + ")"
                                                          : row + ".tokens && " + ref);
    }
    if (focal) {
        SqlParam id;
        id.kind = SqlParam::Text;
        id.text = compartment.id;
        fragment.params.push_back(std::move(id));
        std::string term = row + ".id = $" + std::to_string(next++) + "::text";
        if (types.size() > 1) {
            SqlParam type;
            type.kind = SqlParam::Text;
            type.text = compartment.type;
            fragment.params.push_back(std::move(type));
            term = "(" + row + ".rtype = $" + std::to_string(next++) + "::text AND " + term + ")";
        }
        terms.push_back(term);
    }
    if (terms.empty())
        fragment.where = "false";
    else if (terms.size() == 1)
        fragment.where = terms[0];
    else
        fragment.where = "(" + terms[0] + " OR " + terms[1] + ")";
    return fragment;
}

} // namespace fhir
