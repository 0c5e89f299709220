// registry.cpp: the search-parameter registry behind registry.h.
//
// The built-in R4 definitions come from the constant tables generated into
// generated/r4_registry.cpp; builtin() turns them into SearchParamDefs once per
// process (a function-local static, so the first caller pays and later callers
// copy); the full-text parameters _text and _content start disabled. A Registry
// owns its entries in one vector and keeps four hash indexes into it; add()
// updates them in place rather than rebuilding, because the glue may add many
// custom SearchParameters at backend start. Built-ins replaced by an override are
// kept in a second vector, found by code (replaced_builtin) and canonical URL.
#include "registry.h"

#include <algorithm>
#include <string>

#include "error.h"
#include "fulltext.h"
#include "registry_tables.h"

namespace fhir {

namespace {

// Joins two key parts with a unit separator, which cannot occur in types, codes or URLs.
std::string make_key(std::string_view first, std::string_view second) {
    std::string key;
    key.reserve(first.size() + 1 + second.size());
    key.append(first);
    key.push_back('\x1f');
    key.append(second);
    return key;
}

// Expands an interned, space-separated list row of the generated tables.
std::vector<std::string> string_list(int row) {
    std::vector<std::string> items;
    if (row < 0)
        return items;
    std::string_view text = r4::kStringLists[row];
    while (!text.empty()) {
        size_t space = text.find(' ');
        items.emplace_back(text.substr(0, space));
        if (space == std::string_view::npos)
            break;
        text.remove_prefix(space + 1);
    }
    return items;
}

// Finds a type in the generated (sorted) type table, or returns null.
const r4::ResourceTypeRow *find_type_row(std::string_view name) {
    const r4::ResourceTypeRow *begin = r4::kResourceTypes;
    const r4::ResourceTypeRow *end = r4::kResourceTypes + r4::kResourceTypeCount;
    auto it = std::lower_bound(begin, end, name, [](const r4::ResourceTypeRow &row, std::string_view key) {
        return std::string_view(row.name) < key;
    });
    return (it != end && name == it->name) ? it : nullptr;
}

// Converts one generated row into the owning form the rest of the core uses.
SearchParamDef def_from_row(const r4::ParamRow &row) {
    SearchParamDef def;
    def.id = row.id;
    def.resource_type = r4::kResourceTypes[row.resource_type].name;
    def.code = row.code;
    def.type = row.type;
    def.expression = row.expression;
    def.url = row.url;
    def.targets = string_list(row.targets);
    def.modifiers = string_list(row.modifiers);
    def.comparators = string_list(row.comparators);
    for (int i = 0; i < row.component_count; i++) {
        const r4::ComponentRow &component = r4::kComponents[row.first_component + i];
        def.components.push_back({component.definition, component.expression});
    }
    return def;
}

} // namespace

// Names a type the way FHIR spells it in SearchParameter.type.
const char *param_type_name(ParamType type) {
    switch (type) {
    case ParamType::Number:
        return "number";
    case ParamType::Date:
        return "date";
    case ParamType::String:
        return "string";
    case ParamType::Token:
        return "token";
    case ParamType::Reference:
        return "reference";
    case ParamType::Composite:
        return "composite";
    case ParamType::Quantity:
        return "quantity";
    case ParamType::Uri:
        return "uri";
    case ParamType::Special:
        return "special";
    }
    return "unknown";
}

// Parses SearchParameter.type; FHIR codes are case-sensitive, so no folding.
bool parse_param_type(std::string_view name, ParamType *out) {
    static const ParamType all[] = {ParamType::Number,    ParamType::Date,     ParamType::String,
                                    ParamType::Token,     ParamType::Reference, ParamType::Composite,
                                    ParamType::Quantity,  ParamType::Uri,      ParamType::Special};
    for (ParamType type : all) {
        if (name == param_type_name(type)) {
            *out = type;
            return true;
        }
    }
    return false;
}

// Builds the generated built-ins once; callers get their own copy to adjust.
Registry Registry::builtin() {
    static const Registry cached = [] {
        Registry registry;
        registry.params_.reserve(r4::kParamCount);
        for (int i = 0; i < r4::kParamCount; i++) {
            registry.params_.push_back(def_from_row(r4::kParams[i]));
            registry.params_.back().may_hold_ranges =
                std::binary_search(r4::kRangeParams, r4::kRangeParams + r4::kRangeParamCount, r4::kParams[i].id);
            // Full text costs at every write (docs/architecture.md): off until a DBA turns it on.
            if (full_text_kind(registry.params_.back()) != FullTextKind::None)
                registry.params_.back().enabled = false;
            registry.index_entry(registry.params_.size() - 1);
        }
        return registry;
    }();
    return cached;
}

// Lists the type names once, as owned strings, for callers that iterate them.
const std::vector<std::string> &Registry::resource_types() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        out.reserve(r4::kResourceTypeCount);
        for (int i = 0; i < r4::kResourceTypeCount; i++)
            out.emplace_back(r4::kResourceTypes[i].name);
        return out;
    }();
    return names;
}

// Checks a name against the generated type table (exact, case-sensitive).
bool Registry::is_resource_type(std::string_view name) {
    return find_type_row(name) != nullptr;
}

// Tells whether a type carries DomainResource elements such as text and contained.
bool Registry::is_domain_resource(std::string_view name) {
    const r4::ResourceTypeRow *row = find_type_row(name);
    return row != nullptr && row->domain_resource;
}

// Adds params_[pos] to every index; the by-type list stays ordered by code.
void Registry::index_entry(size_t pos) {
    const SearchParamDef &def = params_[pos];
    by_key_[make_key(def.resource_type, def.code)] = pos;
    if (!def.url.empty())
        by_url_[make_key(def.resource_type, def.url)] = pos;
    by_id_[def.id] = pos;
    std::vector<size_t> &of_type = by_type_[def.resource_type];
    auto at = std::lower_bound(of_type.begin(), of_type.end(), def.code,
                               [this](size_t a, const std::string &code) { return params_[a].code < code; });
    of_type.insert(at, pos);
}

// Adds or replaces a custom parameter. A replacement with id 0 keeps the old id so
// rows already indexed under it stay attached; a new one with id 0 gets the next custom id.
void Registry::add(SearchParamDef def) {
    if (!is_resource_type(def.resource_type))
        throw Error(ErrorKind::UnknownResourceType,
                    "search parameter base \"" + def.resource_type + "\" is not an R4 resource type");
    if (def.code.empty())
        throw Error(ErrorKind::InvalidResource, "search parameter on \"" + def.resource_type + "\" has no code");

    auto existing = by_key_.find(make_key(def.resource_type, def.code));
    if (existing != by_key_.end() && params_[existing->second].id < kFirstCustomParamId)
        throw Error(ErrorKind::InvalidResource, "search parameter \"" + def.code + "\" of " + def.resource_type +
                                                    " is built in: only an override replaces it");
    if (def.id == 0) {
        if (existing != by_key_.end()) {
            def.id = params_[existing->second].id;
        } else {
            int next = kFirstCustomParamId;
            for (const SearchParamDef &p : params_)
                next = std::max(next, p.id + 1);
            def.id = next;
        }
    }
    auto same_id = by_id_.find(def.id);
    if (same_id != by_id_.end() && (existing == by_key_.end() || same_id->second != existing->second))
        throw Error(ErrorKind::InvalidResource,
                    "search parameter id " + std::to_string(def.id) + " is already used by " +
                        params_[same_id->second].resource_type + "." + params_[same_id->second].code);
    def.overrides_builtin = false;

    if (existing == by_key_.end()) {
        params_.push_back(std::move(def));
        index_entry(params_.size() - 1);
        return;
    }
    replace_entry(existing->second, std::move(def));
}

// Replaces a built-in with a custom definition under the built-in's id. The first
// override of an entry keeps the built-in aside (replaced_); a later one replaces
// only the override.
void Registry::override_builtin(SearchParamDef def) {
    check_override(def);
    size_t pos = by_key_.at(make_key(def.resource_type, def.code));
    if (!params_[pos].overrides_builtin) {
        const SearchParamDef &builtin = params_[pos];
        replaced_by_key_[make_key(builtin.resource_type, builtin.code)] = replaced_.size();
        if (!builtin.url.empty())
            replaced_by_url_[make_key(builtin.resource_type, builtin.url)] = replaced_.size();
        replaced_.push_back(builtin);
    }
    def.id = params_[pos].id;
    def.overrides_builtin = true;
    replace_entry(pos, std::move(def));
}

// The rules of an override, checked against the built-in definition (the one kept
// aside when (type, code) is overridden already).
void Registry::check_override(const SearchParamDef &def) const {
    if (!is_resource_type(def.resource_type))
        throw Error(ErrorKind::UnknownResourceType,
                    "search parameter base \"" + def.resource_type + "\" is not an R4 resource type");
    auto existing = by_key_.find(make_key(def.resource_type, def.code));
    if (existing == by_key_.end() || params_[existing->second].id >= kFirstCustomParamId)
        throw Error(ErrorKind::InvalidResource, "search parameter \"" + def.code + "\" of " + def.resource_type +
                                                    " is not built in: there is nothing to override");
    const SearchParamDef *builtin = replaced_builtin(def.resource_type, def.code);
    if (!builtin)
        builtin = &params_[existing->second];
    if (def.code == "_id" || def.code == "_lastUpdated")
        throw Error(ErrorKind::InvalidResource, "search parameter \"" + def.code + "\" of " + def.resource_type +
                                                    " is answered from the resource row itself and cannot be overridden");
    if (builtin->expression.empty())
        throw Error(ErrorKind::InvalidResource, "search parameter \"" + def.code + "\" of " + def.resource_type +
                                                    " has no FHIRPath expression to replace and cannot be overridden");
    if (def.id != 0 && def.id != builtin->id)
        throw Error(ErrorKind::InvalidResource, "an override of search parameter \"" + def.code + "\" of " +
                                                    def.resource_type + " must keep its id " +
                                                    std::to_string(builtin->id) + ", not " + std::to_string(def.id));
}

// Puts def at params_[pos] (same type and code): the position and by-type order are
// unchanged, only the id and URL keys can move.
void Registry::replace_entry(size_t pos, SearchParamDef def) {
    SearchParamDef &old = params_[pos];
    if (!old.url.empty())
        by_url_.erase(make_key(old.resource_type, old.url));
    by_id_.erase(old.id);
    old = std::move(def);
    if (!old.url.empty())
        by_url_[make_key(old.resource_type, old.url)] = pos;
    by_id_[old.id] = pos;
}

// Finds what an override of (type, code) replaced.
const SearchParamDef *Registry::replaced_builtin(std::string_view resource_type, std::string_view code) const {
    auto it = replaced_by_key_.find(make_key(resource_type, code));
    return it == replaced_by_key_.end() ? nullptr : &replaced_[it->second];
}

// Looks a parameter up by the name used in queries.
const SearchParamDef *Registry::find(std::string_view resource_type, std::string_view code) const {
    auto it = by_key_.find(make_key(resource_type, code));
    return it == by_key_.end() ? nullptr : &params_[it->second];
}

// Looks a parameter up by the id stored in the search side tables.
const SearchParamDef *Registry::find_by_id(int id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &params_[it->second];
}

// Looks a parameter up by canonical URL, as composite components and custom params refer to them.
const SearchParamDef *Registry::find_by_url(std::string_view resource_type, std::string_view url) const {
    std::string key = make_key(resource_type, url);
    auto it = by_url_.find(key);
    if (it != by_url_.end())
        return &params_[it->second];
    auto replaced = replaced_by_url_.find(key);
    return replaced == replaced_by_url_.end() ? nullptr : &replaced_[replaced->second];
}

// Lists a type's parameters in code order, so extraction and listings are deterministic.
std::vector<const SearchParamDef *> Registry::for_type(std::string_view resource_type) const {
    std::vector<const SearchParamDef *> out;
    auto it = by_type_.find(std::string(resource_type));
    if (it == by_type_.end())
        return out;
    out.reserve(it->second.size());
    for (size_t pos : it->second)
        out.push_back(&params_[pos]);
    return out;
}

// Switches a parameter on or off; an unknown id means the caller's table is out of step.
void Registry::set_enabled(int id, bool enabled) {
    auto it = by_id_.find(id);
    if (it == by_id_.end())
        throw Error(ErrorKind::UnknownParameter, "search parameter id " + std::to_string(id) + " does not exist");
    params_[it->second].enabled = enabled;
}

} // namespace fhir
