// terminology.cpp: expanding stored ValueSets and walking stored CodeSystem
// hierarchies (rules and error policy in terminology.h).
//
// Code sets are sorted, unique vectors of Coding, so unions, intersections and
// exclusions are linear merges. A CodeSystem is indexed once per Terminology:
// codes get positions, the hierarchy becomes parent and child lists of
// positions, and subsumption is a breadth-first walk with a visited set (which
// also makes cyclic hierarchies harmless).
#include "terminology.h"

#include "error.h"
#include "resource.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <unordered_map>

namespace fhir {

namespace {

constexpr std::string_view kParentPropertyUri = "http://hl7.org/fhir/concept-properties#parent";
constexpr std::string_view kChildPropertyUri = "http://hl7.org/fhir/concept-properties#child";
constexpr size_t kNone = static_cast<size_t>(-1);

// Quotes a url, code or filter for an error message.
std::string q(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// object[key] when it is a string, else nullptr.
const std::string *string_member(const Json &object, std::string_view key) {
    const Json *value = json_member(object, key);
    return value && value->is_string() ? &value->get_ref<const std::string &>() : nullptr;
}

// object[key] when it is a non-empty array, else nullptr.
const Json *array_member(const Json &object, std::string_view key) {
    const Json *value = json_member(object, key);
    return value && value->is_array() && !value->empty() ? value : nullptr;
}

// True when object[key] is the boolean `expected`.
bool bool_member_is(const Json &object, std::string_view key, bool expected) {
    const Json *value = json_member(object, key);
    return value && value->is_boolean() && value->get<bool>() == expected;
}

// "url" or "url|version", as canonicals are written.
std::string canonical_label(const std::string &url, const std::string &version) {
    return version.empty() ? url : url + "|" + version;
}

std::vector<Coding> sorted_unique(std::vector<Coding> codes) {
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    return codes;
}

std::vector<Coding> unite(const std::vector<Coding> &a, const std::vector<Coding> &b) {
    std::vector<Coding> out;
    out.reserve(a.size() + b.size());
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::vector<Coding> intersect(const std::vector<Coding> &a, const std::vector<Coding> &b) {
    std::vector<Coding> out;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::vector<Coding> subtract(const std::vector<Coding> &a, const std::vector<Coding> &b) {
    std::vector<Coding> out;
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::vector<size_t> intersect_positions(const std::vector<size_t> &a, const std::vector<size_t> &b) {
    std::vector<size_t> out;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

// Pops the innermost value set being expanded when an expansion ends, also by exception.
class ExpandingScope {
  public:
    ExpandingScope(std::vector<std::pair<const Json *, std::string>> &stack, const Json *value_set,
                   const std::string &reference)
        : stack_(stack) {
        stack_.emplace_back(value_set, reference);
    }
    ~ExpandingScope() { stack_.pop_back(); }
    ExpandingScope(const ExpandingScope &) = delete;
    ExpandingScope &operator=(const ExpandingScope &) = delete;

  private:
    std::vector<std::pair<const Json *, std::string>> &stack_;
};

} // namespace

// A CodeSystem's codes and hierarchy, by code position.
struct Terminology::CodeSystemIndex {
    std::string url;
    std::string label; // url or url|version, for messages
    std::vector<std::string> codes;
    std::unordered_map<std::string, size_t> position;
    std::vector<std::vector<size_t>> children;
    std::vector<std::vector<size_t>> parents;
    std::vector<bool> inactive;
    // Each concept's property values as text (valueCode, valueString, valueCoding's
    // code, valueBoolean as true/false, numbers and dates as written), by property
    // code; "display" holds the concept's display. For property filters.
    std::vector<std::vector<std::pair<std::string, std::string>>> properties;

    size_t find(const std::string &code) const {
        auto it = position.find(code);
        return it == position.end() ? kNone : it->second;
    }

    size_t add(const std::string &code) {
        auto [it, inserted] = position.emplace(code, codes.size());
        if (inserted) {
            codes.push_back(code);
            children.emplace_back();
            parents.emplace_back();
            inactive.push_back(false);
            properties.emplace_back();
        }
        return it->second;
    }

    void link(size_t parent, size_t child) {
        children[parent].push_back(child);
        parents[child].push_back(parent);
    }

    // `start` and every position reachable below (down) or above it, sorted.
    std::vector<size_t> closure(size_t start, bool down) const {
        std::vector<bool> seen(codes.size(), false);
        std::vector<size_t> out{start}, frontier{start};
        seen[start] = true;
        while (!frontier.empty()) {
            size_t at = frontier.back();
            frontier.pop_back();
            for (size_t next : down ? children[at] : parents[at]) {
                if (!seen[next]) {
                    seen[next] = true;
                    out.push_back(next);
                    frontier.push_back(next);
                }
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    std::vector<size_t> all() const {
        std::vector<size_t> out(codes.size());
        for (size_t i = 0; i < out.size(); i++)
            out[i] = i;
        return out;
    }

    std::vector<Coding> codings(const std::vector<size_t> &positions) const {
        std::vector<Coding> out;
        out.reserve(positions.size());
        for (size_t p : positions)
            out.push_back({url, codes[p]});
        return sorted_unique(std::move(out));
    }
};

namespace {

// Indexes a stored CodeSystem resource: codes, hierarchy, inactive flags.
std::unique_ptr<Terminology::CodeSystemIndex> index_code_system(const Json &resource, const std::string &url,
                                                                const std::string &label);

} // namespace

Terminology::Terminology(ResourceStore &store) : store_(store) {}
Terminology::~Terminology() = default;

const std::vector<Coding> &Terminology::expand(const std::string &reference) {
    return expand_reference(reference, "");
}

std::vector<Coding> Terminology::subsumed_by(const std::string &system, const std::string &code) {
    const CodeSystemIndex &cs = code_system(system, "", "the :below modifier");
    size_t at = cs.find(code);
    if (at == kNone)
        throw Error(ErrorKind::InvalidSearch, "code " + q(code) + " is not defined in code system " + q(cs.label));
    return cs.codings(cs.closure(at, true));
}

std::vector<Coding> Terminology::subsumers_of(const std::string &system, const std::string &code) {
    const CodeSystemIndex &cs = code_system(system, "", "the :above modifier");
    size_t at = cs.find(code);
    if (at == kNone)
        throw Error(ErrorKind::InvalidSearch, "code " + q(code) + " is not defined in code system " + q(cs.label));
    return cs.codings(cs.closure(at, false));
}

// Looks a CodeSystem up once and indexes it; only complete code systems can answer exactly.
const Terminology::CodeSystemIndex &Terminology::code_system(const std::string &url, const std::string &version,
                                                             const std::string &needed_by) {
    const std::string label = canonical_label(url, version);
    auto it = code_systems_.find(label);
    if (it != code_systems_.end())
        return *it->second;
    const Json *resource = store_.find_canonical("CodeSystem", url, version);
    if (!resource)
        throw Error(ErrorKind::InvalidSearch,
                    "code system " + q(label) + " is not stored (needed by " + needed_by + ")");
    const std::string *content = string_member(*resource, "content");
    if (content && *content != "complete")
        throw Error(ErrorKind::UnsupportedFeature, "code system " + q(label) + " has content " + q(*content) +
                                                       " (needed by " + needed_by +
                                                       "); only a complete code system can be expanded exactly");
    auto index = index_code_system(*resource, url, label);
    return *code_systems_.emplace(label, std::move(index)).first->second;
}

// Resolves a value set reference (canonical or ValueSet/id), expanding it once per resource.
const std::vector<Coding> &Terminology::expand_reference(const std::string &reference, const std::string &included_by) {
    auto known = by_reference_.find(reference);
    if (known != by_reference_.end())
        return *known->second;
    const Json *value_set = nullptr;
    const std::string literal_prefix = "ValueSet/";
    if (reference.rfind(literal_prefix, 0) == 0 && is_valid_id(reference.substr(literal_prefix.size()))) {
        value_set = store_.read("ValueSet", reference.substr(literal_prefix.size()));
    } else {
        size_t bar = reference.find('|');
        std::string url = reference.substr(0, bar);
        std::string version = bar == std::string::npos ? std::string() : reference.substr(bar + 1);
        if (url.empty())
            throw Error(ErrorKind::InvalidSearch, "value set reference " + q(reference) + " has no url");
        value_set = store_.find_canonical("ValueSet", url, version);
    }
    if (!value_set)
        throw Error(ErrorKind::InvalidSearch,
                    "value set " + q(reference) + " is not stored" +
                        (included_by.empty() ? std::string() : " (included by value set " + q(included_by) + ")"));
    auto done = by_resource_.find(value_set);
    if (done == by_resource_.end()) {
        for (size_t i = 0; i < expanding_.size(); i++) {
            if (expanding_[i].first != value_set)
                continue;
            std::string path;
            for (size_t j = i; j < expanding_.size(); j++)
                path += q(expanding_[j].second) + " -> ";
            throw Error(ErrorKind::InvalidSearch,
                        "value set " + q(reference) + " includes itself: " + path + q(reference));
        }
        std::vector<Coding> codes;
        {
            ExpandingScope scope(expanding_, value_set, reference);
            codes = expand_resource(*value_set, reference);
        }
        done = by_resource_.emplace(value_set, std::move(codes)).first;
    }
    by_reference_.emplace(reference, &done->second);
    return done->second;
}

// A complete stored expansion as is, else the compose.
std::vector<Coding> Terminology::expand_resource(const Json &value_set, const std::string &label) {
    const Json *expansion = json_member(value_set, "expansion");
    const Json *compose = json_member(value_set, "compose");
    if (expansion && expansion->is_object()) {
        std::vector<Coding> codes;
        int64_t listed = 0;
        std::vector<const Json *> pending{expansion};
        while (!pending.empty()) {
            const Json *node = pending.back();
            pending.pop_back();
            const Json *contains = json_member(*node, "contains");
            if (!contains || !contains->is_array())
                continue;
            for (const Json &entry : *contains) {
                if (!entry.is_object())
                    continue;
                const std::string *code = string_member(entry, "code");
                if (code && !code->empty()) {
                    listed++;
                    if (!bool_member_is(entry, "abstract", true)) {
                        const std::string *system = string_member(entry, "system");
                        codes.push_back({system ? *system : std::string(), *code});
                    }
                }
                pending.push_back(&entry);
            }
        }
        const Json *offset = json_member(*expansion, "offset");
        const Json *total = json_member(*expansion, "total");
        const bool partial = (offset && offset->is_number_integer() && offset->get<int64_t>() > 0) ||
                             (total && total->is_number_integer() && total->get<int64_t>() > listed);
        if (!partial)
            return sorted_unique(std::move(codes));
        if (!compose || !compose->is_object())
            throw Error(ErrorKind::UnsupportedFeature,
                        "value set " + q(label) + " holds a partial expansion (" + std::to_string(listed) + " of " +
                            (total && total->is_number_integer() ? std::to_string(total->get<int64_t>()) : "more") +
                            " codes) and no compose to expand");
    }
    if (compose && compose->is_object())
        return compose_codes(*compose, label);
    throw Error(ErrorKind::UnsupportedFeature, "value set " + q(label) + " has neither a compose nor an expansion");
}

// Union of the includes minus the union of the excludes.
std::vector<Coding> Terminology::compose_codes(const Json &compose, const std::string &label) {
    const Json *includes = array_member(compose, "include");
    if (!includes)
        throw Error(ErrorKind::InvalidSearch, "value set " + q(label) + " has a compose without include");
    const bool inactive_too = !bool_member_is(compose, "inactive", false);
    std::vector<Coding> codes;
    for (const Json &include : *includes)
        codes = unite(codes, include_codes(include, label, inactive_too));
    if (const Json *excludes = array_member(compose, "exclude")) {
        std::vector<Coding> removed;
        for (const Json &exclude : *excludes)
            removed = unite(removed, include_codes(exclude, label, true));
        codes = subtract(codes, removed);
    }
    return codes;
}

// One include (or exclude): its system part intersected with each of its value sets.
std::vector<Coding> Terminology::include_codes(const Json &include, const std::string &label, bool inactive_too) {
    if (!include.is_object())
        throw Error(ErrorKind::InvalidSearch, "value set " + q(label) + " has an include that is not an object");
    const std::string *system = string_member(include, "system");
    const std::string *version = string_member(include, "version");
    const Json *concepts = array_member(include, "concept");
    const Json *filters = array_member(include, "filter");
    if (concepts && filters)
        throw Error(ErrorKind::InvalidSearch, "value set " + q(label) + " has an include of " +
                                                  q(system ? *system : "") + " with both concept and filter");
    if ((concepts || filters) && (!system || system->empty()))
        throw Error(ErrorKind::InvalidSearch,
                    "value set " + q(label) + " has an include with concept or filter but no system");
    std::optional<std::vector<Coding>> codes;
    if (system && !system->empty()) {
        if (concepts) {
            std::vector<Coding> listed;
            for (const Json &concept : *concepts) {
                const std::string *code = concept.is_object() ? string_member(concept, "code") : nullptr;
                if (!code || code->empty())
                    throw Error(ErrorKind::InvalidSearch,
                                "value set " + q(label) + " lists a concept of " + q(*system) + " without a code");
                listed.push_back({*system, *code});
            }
            codes = sorted_unique(std::move(listed));
        } else {
            const CodeSystemIndex &cs =
                code_system(*system, version ? *version : std::string(), "value set " + q(label));
            std::vector<size_t> selected = cs.all();
            if (filters) {
                for (const Json &filter : *filters)
                    selected = intersect_positions(selected, filter_codes(cs, filter, label));
            }
            if (!inactive_too)
                selected.erase(std::remove_if(selected.begin(), selected.end(),
                                              [&](size_t p) { return cs.inactive[p]; }),
                               selected.end());
            codes = cs.codings(selected);
        }
    }
    if (const Json *value_sets = json_member(include, "valueSet"); value_sets && value_sets->is_array()) {
        for (const Json &reference : *value_sets) {
            if (!reference.is_string())
                continue;
            const std::vector<Coding> &included = expand_reference(reference.get<std::string>(), label);
            codes = codes ? intersect(*codes, included) : included;
        }
    }
    if (!codes)
        throw Error(ErrorKind::InvalidSearch,
                    "value set " + q(label) + " has an include or exclude with neither a system nor a value set");
    return std::move(*codes);
}

// The code positions one filter selects (sorted): hierarchy filters on the concept,
// value filters on other properties. No regex: a pattern from a stored ValueSet
// would run inside the backend without interrupt checks.
std::vector<size_t> Terminology::filter_codes(const CodeSystemIndex &cs, const Json &filter, const std::string &label) {
    const std::string *property = filter.is_object() ? string_member(filter, "property") : nullptr;
    const std::string *op = filter.is_object() ? string_member(filter, "op") : nullptr;
    const std::string *value = filter.is_object() ? string_member(filter, "value") : nullptr;
    if (!property || !op || !value)
        throw Error(ErrorKind::InvalidSearch,
                    "value set " + q(label) + " has a filter without property, op or value");
    const std::string shown = q(*property + " " + *op + " " + *value);
    auto defined = [&](const std::string &code) {
        size_t at = cs.find(code);
        if (at == kNone)
            throw Error(ErrorKind::InvalidSearch, "value set " + q(label) + ": filter " + shown + ": code " + q(code) +
                                                      " is not defined in code system " + q(cs.label));
        return at;
    };
    // The comma-separated codes of an in / not-in value.
    auto listed = [&]() {
        std::set<std::string> out;
        size_t start = 0;
        while (start <= value->size()) {
            size_t comma = value->find(',', start);
            if (comma == std::string::npos)
                comma = value->size();
            out.insert(value->substr(start, comma - start));
            start = comma + 1;
        }
        return out;
    };
    if (*property == "concept" || *property == "code") {
        if (*op == "is-a")
            return cs.closure(defined(*value), true);
        if (*op == "descendent-of") {
            size_t at = defined(*value);
            std::vector<size_t> below = cs.closure(at, true);
            below.erase(std::remove(below.begin(), below.end(), at), below.end());
            return below;
        }
        if (*op == "generalizes")
            return cs.closure(defined(*value), false);
        if (*op == "is-not-a") {
            std::vector<size_t> below = cs.closure(defined(*value), true), out;
            std::vector<size_t> all = cs.all();
            std::set_difference(all.begin(), all.end(), below.begin(), below.end(), std::back_inserter(out));
            return out;
        }
        if (*op == "=")
            return {defined(*value)};
        if (*op == "in") {
            std::vector<size_t> out;
            for (const std::string &code : listed())
                out.push_back(defined(code));
            std::sort(out.begin(), out.end());
            return out;
        }
    }
    if ((*property == "concept" || *property == "code") && *op == "not-in") {
        std::set<std::string> excluded = listed();
        for (const std::string &code : excluded)
            defined(code);
        std::vector<size_t> out;
        for (size_t p = 0; p < cs.codes.size(); p++)
            if (!excluded.count(cs.codes[p]))
                out.push_back(p);
        return out;
    }
    if (*property != "concept" && *property != "code" &&
        (*op == "=" || *op == "in" || *op == "not-in" || *op == "exists")) {
        // Any other property (or the concept's display): the codes whose values of it
        // match. not-in keeps the codes without the property; exists takes true or false.
        if (*op == "exists" && *value != "true" && *value != "false")
            throw Error(ErrorKind::InvalidSearch,
                        "value set " + q(label) + ": filter " + shown + ": exists takes true or false");
        const std::set<std::string> values = *op == "in" || *op == "not-in" ? listed() : std::set<std::string>{*value};
        std::vector<size_t> out;
        for (size_t p = 0; p < cs.codes.size(); p++) {
            bool has = false, hit = false;
            for (const auto &[name, text] : cs.properties[p]) {
                if (name != *property)
                    continue;
                has = true;
                hit = hit || values.count(text) > 0;
            }
            const bool keep = *op == "exists" ? has == (*value == "true") : *op == "not-in" ? !hit : hit;
            if (keep)
                out.push_back(p);
        }
        return out;
    }
    throw Error(ErrorKind::UnsupportedFeature,
                "value set " + q(label) + ": filter " + shown +
                    " is not supported (supported: property concept with is-a, descendent-of, is-not-a, "
                    "generalizes, =, in or not-in; any other property or display with =, in, not-in or exists)");
}

namespace {

// A concept property's value as text, for property filters: codes, strings and
// a Coding's code as they are, booleans as true/false, numbers and dates as
// written (a filter's value is a string). Nothing for other value types.
std::optional<std::string> property_value_text(const Json &property) {
    for (const char *key : {"valueCode", "valueString", "valueDateTime"})
        if (const std::string *v = string_member(property, key))
            return *v;
    if (const Json *coding = json_member(property, "valueCoding"); coding && coding->is_object())
        if (const std::string *code = string_member(*coding, "code"))
            return *code;
    if (const Json *b = json_member(property, "valueBoolean"); b && b->is_boolean())
        return b->get<bool>() ? "true" : "false";
    for (const char *key : {"valueInteger", "valueDecimal"})
        if (const Json *n = json_member(property, key); n && n->is_number())
            return n->dump();
    return std::nullopt;
}

std::unique_ptr<Terminology::CodeSystemIndex> index_code_system(const Json &resource, const std::string &url,
                                                                const std::string &label) {
    auto cs = std::make_unique<Terminology::CodeSystemIndex>();
    cs->url = url;
    cs->label = label;
    std::set<std::string> parent_codes{"parent"}, child_codes{"child"};
    if (const Json *properties = array_member(resource, "property")) {
        for (const Json &property : *properties) {
            const std::string *code = property.is_object() ? string_member(property, "code") : nullptr;
            const std::string *uri = property.is_object() ? string_member(property, "uri") : nullptr;
            if (code && uri && *uri == kParentPropertyUri)
                parent_codes.insert(*code);
            if (code && uri && *uri == kChildPropertyUri)
                child_codes.insert(*code);
        }
    }
    // Walk the nested concepts iteratively (nesting depth is the data's, not ours to bound).
    struct Edge {
        size_t at;
        std::string other;
        bool other_is_parent;
    };
    std::vector<Edge> edges;
    std::vector<std::pair<const Json *, size_t>> pending{{&resource, kNone}};
    while (!pending.empty()) {
        auto [node, parent] = pending.back();
        pending.pop_back();
        const Json *concepts = array_member(*node, "concept");
        if (!concepts)
            continue;
        for (const Json &concept : *concepts) {
            if (!concept.is_object())
                continue;
            const std::string *code = string_member(concept, "code");
            size_t at = code && !code->empty() ? cs->add(*code) : kNone;
            if (at != kNone && parent != kNone)
                cs->link(parent, at);
            if (at != kNone) {
                if (const std::string *display = string_member(concept, "display"))
                    cs->properties[at].emplace_back("display", *display);
                if (const Json *properties = array_member(concept, "property")) {
                    for (const Json &property : *properties) {
                        const std::string *name = property.is_object() ? string_member(property, "code") : nullptr;
                        if (!name)
                            continue;
                        if (std::optional<std::string> text = property_value_text(property))
                            cs->properties[at].emplace_back(*name, std::move(*text));
                        const std::string *value_code = string_member(property, "valueCode");
                        if (value_code && parent_codes.count(*name))
                            edges.push_back({at, *value_code, true});
                        else if (value_code && child_codes.count(*name))
                            edges.push_back({at, *value_code, false});
                        else if (*name == "inactive" && bool_member_is(property, "valueBoolean", true))
                            cs->inactive[at] = true;
                        else if (*name == "status" && value_code &&
                                 (*value_code == "retired" || *value_code == "inactive"))
                            cs->inactive[at] = true;
                    }
                }
            }
            pending.push_back({&concept, at});
        }
    }
    // Property edges to codes the system does not define are not part of its hierarchy.
    for (const Edge &edge : edges) {
        size_t other = cs->find(edge.other);
        if (other == kNone)
            continue;
        if (edge.other_is_parent)
            cs->link(other, edge.at);
        else
            cs->link(edge.at, other);
    }
    return cs;
}

} // namespace

} // namespace fhir
