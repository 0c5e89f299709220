// search_resolve.cpp: resolving :in/:not-in/:above/:below and _list values from
// stored resources (semantics in search_resolve.h).
#include "search_resolve.h"

#include "error.h"
#include "resource.h"

#include <algorithm>

namespace fhir {

namespace {

bool is_terminology_modifier(SearchModifier modifier) {
    return modifier == SearchModifier::In || modifier == SearchModifier::NotIn || modifier == SearchModifier::Above ||
           modifier == SearchModifier::Below;
}

// The ids of `type` on a stored List's current entries.
std::vector<std::string> listed_ids(const Json &list, const std::string &type) {
    std::vector<std::string> ids;
    const Json *entries = json_member(list, "entry");
    if (!entries || !entries->is_array())
        return ids;
    for (const Json &entry : *entries) {
        const Json *deleted = json_member(entry, "deleted");
        if (deleted && deleted->is_boolean() && deleted->get<bool>())
            continue;
        const Json *item = json_member(entry, "item");
        const Json *reference = item ? json_member(*item, "reference") : nullptr;
        std::string ref_type, ref_id;
        if (reference && reference->is_string() &&
            parse_local_reference(reference->get_ref<const std::string &>(), &ref_type, &ref_id) && ref_type == type)
            ids.push_back(ref_id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

} // namespace

bool needs_stored_values(const SearchClause &clause) {
    return clause.list || (clause.param && clause.param->type == ParamType::Token &&
                           is_terminology_modifier(clause.modifier));
}

std::vector<std::string> stored_value_types(const SearchQuery &query) {
    bool terminology = false, list = false;
    for (const SearchClause &clause : query.clauses) {
        list = list || clause.list;
        terminology = terminology || (needs_stored_values(clause) && !clause.list);
    }
    std::vector<std::string> types;
    if (terminology) {
        types.push_back("CodeSystem");
        types.push_back("ValueSet");
    }
    if (list)
        types.push_back("List");
    return types;
}

bool parse_local_reference(const std::string &reference, std::string *type, std::string *id) {
    std::string text = reference;
    size_t history = text.rfind("/_history/");
    if (history != std::string::npos && text.find('/', history + 10) == std::string::npos)
        text.erase(history);
    size_t last = text.rfind('/');
    if (last == std::string::npos || last == 0)
        return false;
    size_t before = text.rfind('/', last - 1);
    const bool absolute = text.find("://") != std::string::npos;
    if (before != std::string::npos && !absolute)
        return false; // a relative reference is exactly Type/id
    const size_t type_start = before == std::string::npos ? 0 : before + 1;
    std::string candidate_type = text.substr(type_start, last - type_start);
    std::string candidate_id = text.substr(last + 1);
    if (!Registry::is_resource_type(candidate_type) || !is_valid_id(candidate_id))
        return false;
    *type = std::move(candidate_type);
    *id = std::move(candidate_id);
    return true;
}

StoredValueResolver::StoredValueResolver(ResourceStore &store) : store_(store), terminology_(store) {}

void StoredValueResolver::resolve(SearchQuery &query) {
    for (SearchClause &clause : query.clauses)
        if (needs_stored_values(clause))
            resolve_clause(clause);
}

void StoredValueResolver::resolve_clause(SearchClause &clause) {
    for (SearchValue &value : clause.values) {
        if (clause.list) {
            const Json *list = store_.read("List", value.text);
            value.ids = list ? listed_ids(*list, clause.target_type) : std::vector<std::string>();
        } else if (clause.modifier == SearchModifier::In || clause.modifier == SearchModifier::NotIn) {
            value.codings = terminology_.expand(value.text);
        } else if (clause.modifier == SearchModifier::Below) {
            value.codings = terminology_.subsumed_by(value.token.system, value.token.code);
        } else {
            value.codings = terminology_.subsumers_of(value.token.system, value.token.code);
        }
        value.resolved = true;
    }
}

} // namespace fhir
