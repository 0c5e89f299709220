// search_plan.cpp: plan_search() and build_search_where() (search_plan.h).
//
// The core parses the query against the registry (search_query) and builds the
// WHERE clause with bound values (search_sql); this file picks the table, reads
// what the plan depends on from the database (contained resources present,
// single-valued date parameters, stored ValueSets and Lists) and binds the values.
#include "search_plan.h"

#include "element_names.h"

#include "cpp_wrapper.h"
#include "guc.h"
#include "mass_ingestion.h"
#include "partition_rows.h"
#include "query_string.h"
#include "registry_cache.h"
#include "resource.h"
#include "search_resolve.h"
#include "spi.h"
#include "stored_resources.h"
#include "values.h"

#include <algorithm>
#include <set>

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

// Describes a bound parameter for explain output.
std::string show_param(const fhir::SqlParam &p) {
    switch (p.kind) {
    case fhir::SqlParam::Text:
    case fhir::SqlParam::Numeric:
        return p.text;
    case fhir::SqlParam::TextArray: {
        fhir::Json a = p.texts;
        return a.dump();
    }
    case fhir::SqlParam::Int8Array:
    case fhir::SqlParam::Int4Array: {
        fhir::Json a = p.ints;
        return a.dump();
    }
    case fhir::SqlParam::TimestampTz:
        return p.micros == fhir::kMinTime ? "-infinity" : p.micros == fhir::kMaxTime ? "infinity" : fhir::format_instant(p.micros);
    case fhir::SqlParam::Bool:
        return p.flag ? "true" : "false";
    }
    return "";
}

// Removes every `name=` piece from a raw query, collecting their decoded values.
std::string strip_param(const std::string &raw, const std::string &name, std::vector<std::string> *values) {
    std::string kept;
    const std::string prefix = name + "=";
    size_t start = 0;
    while (start <= raw.size()) {
        size_t amp = raw.find('&', start);
        if (amp == std::string::npos)
            amp = raw.size();
        std::string piece = raw.substr(start, amp - start);
        if (piece.rfind(prefix, 0) == 0) {
            for (const std::string &v : fhir::split_or_values(fhir::form_decode(piece.substr(prefix.size()))))
                values->push_back(v);
        } else if (!piece.empty()) {
            kept += (kept.empty() ? "" : "&") + piece;
        }
        start = amp + 1;
    }
    return kept;
}

// The container types of contained resources of `type`, by a loose index scan
// over (rtype, container_type): one index probe per distinct container type.
std::vector<std::string> container_types_of(const std::string &type) {
    SPIPlanPtr plan = prepare_cached(
        "WITH RECURSIVE t(ct) AS ("
        "  (SELECT container_type FROM fhir.contained_resource WHERE rtype = $1 ORDER BY container_type LIMIT 1) "
        "  UNION ALL "
        "  SELECT (SELECT c.container_type FROM fhir.contained_resource c WHERE c.rtype = $1 AND c.container_type > t.ct "
        "          ORDER BY c.container_type LIMIT 1) FROM t WHERE t.ct IS NOT NULL) "
        "SELECT ct FROM t WHERE ct IS NOT NULL",
        {TEXTOID});
    Datum v[1] = {text_datum(type)};
    uint64_t n = spi_execute(plan, v, nullptr, true);
    std::vector<std::string> types;
    for (uint64_t r = 0; r < n; r++)
        types.push_back(spi_get_text(r, 1));
    return types;
}

// True for a parameter every resource has (R4 "Resource-*": _tag, _profile,
// _security, _source and _id, _lastUpdated): with _containedType=container,
// whose matches are containers of any type, each container sorts by its own.
bool is_resource_level(const fhir::SearchParamDef &p) {
    return p.code == "_id" || p.code == "_lastUpdated" ||
           p.url.rfind("http://hl7.org/fhir/SearchParameter/Resource-", 0) == 0;
}

// Checks what a _contained=true|both search can be combined with. _include in a
// system-level search and _sort other than _id/_lastUpdated there are refused
// by plan_search for every system-level search.
void check_contained_combinations(const SearchStatement &st) {
    const fhir::SearchQuery &q = st.query;
    if (q.contained_type == fhir::ContainedType::Container)
        for (const fhir::SortKey &key : q.sort)
            if (!is_resource_level(*key.param))
                throw Error(ErrorKind::UnsupportedFeature,
                            "with _containedType=container the matches are containers of any type, which have no '" +
                                key.param->code + "' of the searched type: _sort takes only parameters every resource "
                                "has (_id, _lastUpdated, _tag, _profile, _security, _source)");
}

// The types among `types` that have contained resources now (one index probe each).
std::set<std::string> types_with_contained(const std::vector<std::string> &types) {
    std::set<std::string> with_contained;
    if (types.empty())
        return with_contained;
    SPIPlanPtr plan = prepare_cached("SELECT t FROM unnest($1::text[]) t "
                                     "WHERE EXISTS (SELECT 1 FROM fhir.contained_resource c WHERE c.rtype = t)",
                                     {TEXTARRAYOID});
    Datum v[1] = {text_array(types)};
    uint64_t n = spi_execute(plan, v, nullptr, true);
    for (uint64_t r = 0; r < n; r++)
        with_contained.insert(spi_get_text(r, 1));
    return with_contained;
}

// The current rows of the given types, straight from their partitions (so
// row-level security policies on a partition apply, which they do not through
// the parent table), as one relation; empty for no types.
std::string partitions_union(const std::vector<std::string> &types) {
    std::string sql;
    for (const std::string &t : types) {
        if (!fhir::Registry::is_resource_type(t))
            continue; // contained_resource.container_type comes from our writer; never spliced unchecked
        sql += (sql.empty() ? "" : " UNION ALL ") + std::string("SELECT rid, rtype, id, content, last_updated FROM ") +
               fhir::partition_table(t);
    }
    if (sql.empty())
        sql = "SELECT NULL::bigint AS rid, NULL::text AS rtype, NULL::text AS id, NULL::jsonb AS content, "
              "NULL::timestamptz AS last_updated WHERE false";
    return "(" + sql + ")";
}

// A searched type's query, parsed and resolved for that type (a system-level
// search has one per type: parameter ids, and so hashes, are per type).
struct TypedQuery {
    std::string type;
    fhir::SearchQuery query;
};

// With _containedType=container, a sort key on a parameter every resource has
// (check_contained_combinations) becomes each row's own: a CASE over the row
// types of the page (`types`), each branch the key of that type's parameter.
void sort_by_own_parameters(SearchStatement &st, const std::vector<std::string> &types) {
    const fhir::Registry &registry = current_registry();
    for (size_t i = 0; i < st.query.sort.size() && !types.empty(); i++) {
        const fhir::SortKey &key = st.query.sort[i];
        if (key.param->code == "_id" || key.param->code == "_lastUpdated")
            continue; // columns of every row
        std::string expr = "CASE r.rtype";
        for (const std::string &t : types) {
            const fhir::SearchParamDef *own = registry.find(t, key.param->code);
            if (!own || !fhir::Registry::is_resource_type(t))
                throw Error(ErrorKind::Internal, "no " + key.param->code + " parameter for " + t);
            expr += " WHEN '" + t + "' THEN " + fhir::sort_key_sql(fhir::SortKey{own, key.descending}).expr;
        }
        st.sort[i].expr = expr + " END";
        st.sort[i].side.reset(); // not one parameter's index
    }
}

// Turns a search with _contained=true|both into a search over a subquery
// (alias r, the columns page_sql and the sort keys read) that holds the
// conditions itself, built per row alias with the same placeholders:
//   contained rows  fhir.contained_resource c of the searched type(s), joined
//                   to their container (so a container hidden by row-level
//                   security hides its contained resources too); the fullUrl
//                   is the container's + "#" + local id
//   top-level rows  the type's partition t (both); in a system-level search the
//                   parent fhir.resource, as for every system-level search
//   containers      the partitions of the container types found (o) whose
//                   rid is a matching contained row's container_rid (or, for
//                   both, a matching top-level row's rid): each container once
// A system-level search ORs one branch per type ((c.rtype = T AND <T's
// conditions>), as build_search_where does for top-level rows), over the types
// that have contained resources. `params` holds the WHERE values on return.
// Call check_contained_combinations first.
void plan_contained(SearchStatement &st, const std::vector<TypedQuery> &queries, const fhir::SqlOptions &options,
                    std::vector<fhir::SqlParam> &params) {
    const bool system_level = st.type.empty();
    const bool both = st.query.contained == fhir::ContainedMode::Both;
    const bool containers = st.query.contained_type == fhir::ContainedType::Container;
    fhir::SqlOptions contained_rows = options;
    contained_rows.contained_rows = true; // "#id" references and _has go through c's container
    std::vector<std::string> types, container_types;
    for (const TypedQuery &q : queries)
        types.push_back(q.type);
    const std::set<std::string> with_contained =
        system_level ? types_with_contained(types) : std::set<std::string>{st.type};
    std::string on_contained, on_top_level;
    for (const TypedQuery &q : queries) {
        const bool has_contained = with_contained.count(q.type) > 0;
        if (!has_contained && !both)
            continue;
        fhir::SqlFragment c = fhir::build_where(q.query, "c", static_cast<int>(params.size()) + 1, contained_rows);
        fhir::SqlFragment t = fhir::build_where(q.query, "t", static_cast<int>(params.size()) + 1, options); // same values
        params.insert(params.end(), c.params.begin(), c.params.end());
        fhir::SqlParam type_param;
        type_param.kind = fhir::SqlParam::Text;
        type_param.text = q.type;
        params.push_back(type_param);
        const std::string type_ref = "$" + std::to_string(params.size()) + "::text";
        if (has_contained) {
            on_contained += (on_contained.empty() ? "" : " OR ") + std::string("(c.rtype = ") + type_ref + " AND (" +
                            c.where + "))";
            for (const std::string &ct : container_types_of(q.type))
                if (std::find(container_types.begin(), container_types.end(), ct) == container_types.end())
                    container_types.push_back(ct);
        }
        if (both)
            on_top_level += system_level ? std::string(on_top_level.empty() ? "" : " OR ") + "(t.rtype = " + type_ref +
                                               " AND " + t.where + ")"
                                         : t.where;
    }
    if (on_contained.empty())
        on_contained = "false";
    const std::string top_level = system_level ? "fhir.resource" : fhir::partition_table(st.type);
    if (containers) {
        std::vector<std::string> row_types = container_types;
        if (both)
            for (const std::string &t : types)
                if (std::find(row_types.begin(), row_types.end(), t) == row_types.end())
                    row_types.push_back(t);
        std::string rids = "SELECT c.container_rid FROM fhir.contained_resource c WHERE " + on_contained;
        if (both)
            rids += " UNION ALL SELECT t.rid FROM " + top_level + " t WHERE " + on_top_level;
        st.late_rows = false;
        st.one_partition = false;
        st.table = "(SELECT o.rid, o.rtype, o.id, o.content, o.last_updated FROM " + partitions_union(row_types) +
                   " o WHERE o.rid IN (" + rids + "))";
        st.table_binds = true;
        sort_by_own_parameters(st, row_types);
    } else {
        std::string rows =
            "SELECT c.rid, c.rtype, c.id, c.content, c.last_updated, c.container_type AS entry_type, "
            "c.container_id || '#' || c.id AS entry_id FROM fhir.contained_resource c JOIN " +
            partitions_union(container_types) + " o ON o.rid = c.container_rid WHERE " + on_contained;
        if (both)
            rows = "SELECT t.rid, t.rtype, t.id, t.content, t.last_updated, t.rtype AS entry_type, t.id AS entry_id FROM " +
                   top_level + " t WHERE " + on_top_level + " UNION ALL " + rows;
        st.table = "(" + rows + ")";
        st.late_rows = false;
        st.one_partition = false;
        st.entry_columns = "r.entry_type AS rtype, r.entry_id AS id";
        st.table_binds = true;
    }
    st.where = "true";
}

// The outcome's note for searched types that no compartment of `compartment_type` holds.
std::string not_in_compartment_note(const std::vector<std::string> &types, const std::string &compartment_type) {
    std::string list;
    for (const std::string &t : types)
        list += (list.empty() ? "" : ", ") + t;
    return list + (types.size() == 1 ? " is" : " are") + " not in the " + compartment_type +
           " compartment (" + fhir::compartment_url(compartment_type) + "): no resource of " +
           (types.size() == 1 ? "that type" : "those types") + " can match";
}

} // namespace

// Parses the query and prepares sort keys and options; build_search_where() adds
// the WHERE clause. An empty type is a system-level search over the _type list
// (or every type).
SearchStatement plan_search(const std::string &type, const std::string &raw_query, const std::string &compartment) {
    SearchStatement st;
    st.type = type;
    if (!compartment.empty())
        st.compartment = fhir::parse_compartment(compartment);
    std::vector<std::string> cursor_tokens;
    st.base_query = strip_param(raw_query, "_cursor", &cursor_tokens);
    std::string cursor_token = cursor_tokens.empty() ? std::string() : cursor_tokens.back();
    std::string parse_query = st.base_query;
    warn_if_mass_ingestion();
    const fhir::Registry &registry = current_registry();
    if (type.empty()) {
        std::vector<std::string> listed;
        parse_query = strip_param(st.base_query, "_type", &listed);
        for (const std::string &t : listed) {
            if (!fhir::Registry::is_resource_type(t))
                throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + t + "\" in _type");
            if (std::find(st.system_types.begin(), st.system_types.end(), t) == st.system_types.end())
                st.system_types.push_back(t);
        }
        if (st.compartment) {
            // Every type the compartment holds, or those of _type that it holds.
            const std::vector<std::string> members = fhir::compartment_member_types(st.compartment->type);
            std::vector<std::string> kept, outside;
            for (const std::string &t : st.system_types.empty() ? members : st.system_types)
                (std::binary_search(members.begin(), members.end(), t) ? kept : outside).push_back(t);
            if (!outside.empty())
                st.compartment_note = not_in_compartment_note(outside, st.compartment->type);
            // Nothing left: an empty result over the compartment's own type (where = false).
            st.system_types = kept.empty() ? std::vector<std::string>{st.compartment->type} : kept;
            st.compartment_empty = kept.empty();
        }
        if (st.system_types.empty())
            st.system_types = fhir::Registry::resource_types();
        st.table = "fhir.resource";
        st.query = fhir::parse_search_query(registry, st.system_types[0], parse_query, guc_strict_handling);
    } else {
        if (!fhir::Registry::is_resource_type(type))
            throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
        st.table = fhir::partition_table(type);
        st.late_rows = true;
        st.one_partition = true;
        st.query = fhir::parse_search_query(registry, type, parse_query, guc_strict_handling);
        if (st.compartment && !fhir::is_compartment_member(st.compartment->type, type))
            st.compartment_note = not_in_compartment_note({type}, st.compartment->type);
    }
    if (st.compartment && st.query.contained != fhir::ContainedMode::False)
        throw Error(ErrorKind::UnsupportedFeature, "_contained in a compartment search is not supported");
    st.count = st.query.count ? std::min(*st.query.count, guc_max_count) : guc_default_count;
    for (const auto &r : st.query.result_params) {
        if (r.name == "_total") {
            if (r.value == "none")
                st.total = TotalMode::None;
            else if (r.value == "estimated")
                st.total = TotalMode::Estimated;
            else if (r.value == "accurate")
                st.total = TotalMode::Accurate;
            else
                throw Error(ErrorKind::InvalidSearch, "_total must be none, estimated or accurate, not '" + r.value + "'");
        } else if (r.name == "_summary") {
            st.summary = fhir::parse_summary(r.value);
            st.summary_count = st.summary == fhir::SummaryMode::Count;
        } else if (r.name == "_elements") {
            // Names that are no element of the searched type(s) are unknown
            // parameters are: an error when strict, ignored with a warning when not.
            for (std::string &element : fhir::parse_elements(r.value)) {
                bool known = false;
                for (const std::string &t : type.empty() ? st.system_types : std::vector<std::string>{type})
                    known = known || fhir::is_resource_element(t, element);
                if (known) {
                    st.elements.push_back(std::move(element));
                    continue;
                }
                const std::string reason = "\"" + element + "\" is not an element of " +
                                           (type.empty() ? std::string("the searched types") : type);
                if (guc_strict_handling)
                    throw Error(ErrorKind::UnknownParameter, "unknown _elements name: " + reason);
                st.query.ignored.push_back({"_elements", element, reason});
            }
        } else if (type.empty() && (r.name.rfind("_include", 0) == 0 || r.name.rfind("_revinclude", 0) == 0)) {
            throw Error(ErrorKind::UnsupportedFeature, "_include/_revinclude in a system-level search are not supported yet");
        }
    }
    if (st.query.contained != fhir::ContainedMode::False)
        check_contained_combinations(st);
    for (const fhir::SortKey &key : st.query.sort) {
        if (type.empty() && key.param->code != "_id" && key.param->code != "_lastUpdated")
            throw Error(ErrorKind::UnsupportedFeature, "a system-level search sorts by _id or _lastUpdated only");
        st.sort.push_back(fhir::sort_key_sql(key));
    }
    if (!cursor_token.empty())
        st.cursor = fhir::decode_cursor(cursor_token, st.sort.size());
    st.parse_query = parse_query;
    return st;
}

namespace {

// The forward chain targets of `queries` that have contained resources now, so
// build_where plans the chain into contained resources only where it can match
// (one index probe per target type; nothing without chains). Read after
// cache::begin_search like the other values the search depends on.
std::set<std::string> chain_targets_with_contained(const std::vector<TypedQuery> &queries) {
    std::vector<std::string> targets;
    for (const TypedQuery &q : queries)
        for (const fhir::SearchClause &clause : q.query.clauses)
            for (const fhir::ChainLink &link : clause.chain)
                if (!link.reverse && std::find(targets.begin(), targets.end(), link.type) == targets.end())
                    targets.push_back(link.type);
    return types_with_contained(targets);
}

// The parameters among `ids` that no resource has several values of, read with
// the search's snapshot (the search_date_multi_idx index): their date clauses
// may be tested on one row (search_sql.h, SqlOptions).
std::vector<int> single_valued_date_params(const std::vector<int> &ids) {
    std::vector<int> single;
    if (ids.empty())
        return single;
    SPIPlanPtr plan = prepare_cached("SELECT p::bigint FROM unnest($1::int[]) p WHERE NOT EXISTS "
                                     "(SELECT 1 FROM fhir.search_date d WHERE d.param = p AND d.multi)",
                                     {INT4ARRAYOID});
    Datum v[1] = {int4_array(std::vector<int32_t>(ids.begin(), ids.end()))};
    uint64_t n = spi_execute(plan, v, nullptr, true);
    for (uint64_t i = 0; i < n; i++)
        single.push_back(static_cast<int>(spi_get_int64(i, 1)));
    return single;
}

// `options` with the single-valued date parameters of `q` (SqlOptions).
fhir::SqlOptions with_date_rows(fhir::SqlOptions options, const fhir::SearchQuery &q) {
    options.single_valued_date_params = single_valued_date_params(fhir::repeated_date_params(q));
    return options;
}

} // namespace

// A system-level search gives each type (r.rtype = T AND <its own WHERE>), because
// parameter ids, and so token hashes and side rows, are per type.
void build_search_where(SearchStatement &st) {
    const fhir::Registry &registry = current_registry();
    SpiResourceStore store(/*read_only=*/true);
    fhir::StoredValueResolver resolver(store);
    std::vector<TypedQuery> queries;
    if (st.type.empty()) {
        for (const std::string &t : st.system_types) {
            queries.push_back({t, t == st.system_types[0]
                                      ? st.query
                                      : fhir::parse_search_query(registry, t, st.parse_query, guc_strict_handling)});
            resolver.resolve(queries.back().query);
        }
    } else {
        resolver.resolve(st.query);
        queries.push_back({st.type, st.query});
    }
    fhir::SqlOptions options;
    options.contained_types = chain_targets_with_contained(queries);
    std::vector<fhir::SqlParam> params;
    if (st.query.contained != fhir::ContainedMode::False) {
        plan_contained(st, queries, options, params);
    } else if (st.type.empty()) {
        std::string where;
        bool unconditional = st.compartment.has_value(); // every branch "true": one rtype = ANY (compartments)
        for (const TypedQuery &q : queries)
            unconditional = unconditional && q.query.clauses.empty();
        for (const TypedQuery &q : unconditional ? std::vector<TypedQuery>() : queries) {
            fhir::SqlParam rtype;
            rtype.kind = fhir::SqlParam::Text;
            rtype.text = q.type;
            params.push_back(rtype);
            std::string rtype_ref = "$" + std::to_string(params.size()) + "::text";
            fhir::SqlFragment fragment =
                fhir::build_where(q.query, "r", static_cast<int>(params.size()) + 1, with_date_rows(options, q.query));
            params.insert(params.end(), fragment.params.begin(), fragment.params.end());
            where += (where.empty() ? "(" : " OR (") + std::string("r.rtype = ") + rtype_ref + " AND " + fragment.where + ")";
        }
        if (unconditional) {
            fhir::SqlParam rtypes;
            rtypes.kind = fhir::SqlParam::TextArray;
            rtypes.texts = st.system_types;
            params.push_back(rtypes);
            where = "r.rtype = ANY ($" + std::to_string(params.size()) + "::text[])";
        }
        st.where = "(" + where + ")";
    } else {
        fhir::SqlFragment fragment = fhir::build_where(st.query, "r", 1, with_date_rows(options, st.query));
        st.where = fragment.where;
        st.driver = fragment.driver;
        params = fragment.params;
        // Reading rows late pays when conditions are answered by side tables (the
        // generated SQL's subqueries); conditions on the row's own columns (tokens,
        // id, lastUpdated) are one scan of the partition, cheaper to plan (no join:
        // 0.12 -> 0.10 ms for a 20-row token page at 1M) and to run.
        if (st.sort.empty() && st.where.find("SELECT") == std::string::npos)
            st.late_rows = false;
    }
    if (st.compartment && !st.type.empty()) {
        // One more condition on the row's own tokens (and id): the search's other
        // conditions, paging, sorts and includes are unchanged by it.
        fhir::SqlFragment in_compartment = fhir::compartment_where(
            registry, *st.compartment, {st.type}, base_url_prefix(), "r", static_cast<int>(params.size()) + 1);
        params.insert(params.end(), in_compartment.params.begin(), in_compartment.params.end());
        st.where = "(" + st.where + ") AND " + in_compartment.where;
        st.driver.clear(); // the driver's rows would skip the compartment condition
    } else if (st.compartment) {
        // Every member type: the searched rows are the union of each type's
        // partition under its own compartment condition (a few hashes each), and
        // the system-level WHERE clause applies to them. One array of every type's
        // hashes over the parent made each partition probe all of them or scan
        // (60 ms for a patient's 21 resources; 1.8 ms this way).
        // Partitions that never held a row are left out (partition_rows.h): the
        // statement then plans the few member types that hold data, not all 66.
        std::string rows;
        for (const std::string &t :
             st.compartment_empty ? std::vector<std::string>() : types_with_partition_rows(st.system_types)) {
            fhir::SqlFragment in_compartment = fhir::compartment_where(
                registry, *st.compartment, {t}, base_url_prefix(), "p", static_cast<int>(params.size()) + 1);
            if (in_compartment.where == "false")
                continue;
            params.insert(params.end(), in_compartment.params.begin(), in_compartment.params.end());
            rows += (rows.empty() ? "" : " UNION ALL ") +
                    std::string("SELECT p.rid, p.rtype, p.id, p.version_id, p.last_updated, p.content, p.tokens FROM ") +
                    fhir::partition_table(t) + " p WHERE " + in_compartment.where;
        }
        if (rows.empty()) {
            st.where = "false";
        } else {
            st.table = "(" + rows + ")";
            st.table_binds = true;
        }
    }
    bind_sql_params(params, &st.types, &st.values);
    for (const auto &p : params)
        st.shown_values.push_back(show_param(p));
    st.where_params = st.values.size();
}

} // namespace fhir_pg
