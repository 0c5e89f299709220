// search_exec.cpp: fhir.search() and fhir.explain(): from a query string to a
// searchset Bundle.
//
// Flow: split the raw query (minus our `_cursor`), parse it against the registry
// (core: search_query), build the WHERE clause with bound values (core:
// search_sql), add sort keys and the keyset condition of the requested page,
// run it through SPI, optionally count (_total, _summary=count), and assemble
// the Bundle in SQL so stored jsonb is copied, not re-parsed.
//
// Paging is keyset-based: ORDER BY <sort keys>, rid; a next/previous link
// carries the boundary row's keys and rid (search_cursor.h). No OFFSET, no
// session state: any backend can serve any page.
#include "search_exec.h"

#include "bundle_jsonb.h"
#include "cache_control.h"
#include "cpp_wrapper.h"
#include "guc.h"
#include "pg_json.h"
#include "projection.h"
#include "query_string.h"
#include "registry_cache.h"
#include "resource.h"
#include "resource_writer.h"
#include "result_cache.h"
#include "result_set.h"
#include "search_cursor.h"
#include "search_query.h"
#include "search_resolve.h"
#include "sort_sql.h"
#include "spi.h"
#include "stored_resources.h"
#include "values.h"

#include <random>
#include <set>

namespace fhir_pg {

void bind_sql_params(const std::vector<fhir::SqlParam> &params, std::vector<Oid> *types, std::vector<Datum> *values) {
    for (const fhir::SqlParam &p : params) {
        switch (p.kind) {
        case fhir::SqlParam::Text:
            types->push_back(TEXTOID);
            values->push_back(text_datum(p.text));
            break;
        case fhir::SqlParam::TextArray:
            types->push_back(TEXTARRAYOID);
            values->push_back(text_array(p.texts));
            break;
        case fhir::SqlParam::Int8Array:
            types->push_back(INT8ARRAYOID);
            values->push_back(int8_array(p.ints));
            break;
        case fhir::SqlParam::Int4Array: {
            std::vector<int32_t> ints(p.ints.begin(), p.ints.end());
            types->push_back(INT4ARRAYOID);
            values->push_back(int4_array(ints));
            break;
        }
        case fhir::SqlParam::TimestampTz:
            types->push_back(TIMESTAMPTZOID);
            values->push_back(TimestampTzGetDatum(unix_micros_to_timestamptz(p.micros)));
            break;
        case fhir::SqlParam::Numeric: {
            const char *text = p.text.c_str();
            types->push_back(NUMERICOID);
            values->push_back(pg_call([text] {
                return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                                           Int32GetDatum(-1));
            }));
            break;
        }
        case fhir::SqlParam::Bool:
            types->push_back(BOOLOID);
            values->push_back(BoolGetDatum(p.flag));
            break;
        }
    }
}

namespace {

using fhir::Error;
using fhir::ErrorKind;

enum class TotalMode { None, Estimated, Accurate };

// Everything a search run needs, built once per call.
struct SearchStatement {
    std::string type;              // "" for a system-level search
    std::string table;             // the partition, fhir.resource for a system-level search, or the
                                   // subquery of a _contained search (plan_contained)
    std::string entry_columns = "r.rtype, r.id"; // type and id of each match's fullUrl, as rtype, id
    bool late_rows = false;        // `table` is one type's partition: pages read their rows by rid (page_query)
    std::vector<std::string> system_types; // types of a system-level search (_type, or all)
    fhir::SearchQuery query;
    std::string base_query;        // the client's raw query without _cursor (for links)
    std::string parse_query;       // what the core parses: base_query, minus _type in a system-level search
    std::optional<fhir::SearchCursor> cursor;
    std::vector<fhir::SortKeySql> sort;
    std::string where;             // over alias r, placeholders from $1
    std::string driver;            // SqlFragment::driver of `where` (single-type searches)
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::vector<std::string> shown_values; // bound values as text, for explain
    size_t where_params = 0;       // how many of `values` the WHERE clause uses
    int count = 20;
    TotalMode total = TotalMode::None;
    bool summary_count = false;
    bool no_paging = false;        // Cache-Control no-store / max-results: one page, no links
    fhir::SummaryMode summary = fhir::SummaryMode::False;
    std::vector<std::string> elements;
};

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

// Parses the query and prepares the WHERE clause, sort keys and options.
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

// ---- _contained / _containedType ------------------------------------------

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
        st.table = "(SELECT o.rid, o.rtype, o.id, o.content, o.last_updated FROM " + partitions_union(row_types) +
                   " o WHERE o.rid IN (" + rids + "))";
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
        st.entry_columns = "r.entry_type AS rtype, r.entry_id AS id";
    }
    st.where = "true";
}

// Parses the query and prepares sort keys and options; build_search_where() adds
// the WHERE clause. An empty type is a system-level search over the _type list
// (or every type).
SearchStatement plan_search(const std::string &type, const std::string &raw_query) {
    SearchStatement st;
    st.type = type;
    std::vector<std::string> cursor_tokens;
    st.base_query = strip_param(raw_query, "_cursor", &cursor_tokens);
    std::string cursor_token = cursor_tokens.empty() ? std::string() : cursor_tokens.back();
    std::string parse_query = st.base_query;
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
        if (st.system_types.empty())
            st.system_types = fhir::Registry::resource_types();
        st.table = "fhir.resource";
        st.query = fhir::parse_search_query(registry, st.system_types[0], parse_query, guc_strict_handling);
    } else {
        if (!fhir::Registry::is_resource_type(type))
            throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
        st.table = fhir::partition_table(type);
        st.late_rows = true;
        st.query = fhir::parse_search_query(registry, type, parse_query, guc_strict_handling);
    }
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
            std::vector<std::string> more = fhir::parse_elements(r.value);
            st.elements.insert(st.elements.end(), more.begin(), more.end());
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

// Builds the WHERE clause and binds its values. Values that other stored
// resources define (token :in/:not-in/:above/:below, _list) are read here, so
// call it after cache::begin_search: those reads then share the snapshot of the
// result queries. A system-level search gives each type (r.rtype = T AND <its
// own WHERE>), because parameter ids, and so token hashes and side rows, are per type.
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
        for (const TypedQuery &q : queries) {
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
    bind_sql_params(params, &st.types, &st.values);
    for (const auto &p : params)
        st.shown_values.push_back(show_param(p));
    st.where_params = st.values.size();
}

// A kept plan of a search statement, planned anew for each execution's values
// (never the plan cache's generic plan): whether a token, reference or date value
// is rare or common decides between walking rid order with a filter and a bitmap
// scan plus a top-N sort, and a generic plan has to guess the same for every value
// (search 3 of bench/results/search.md walked 126k rows for a 232-row patient).
// A statement repeated with the same values keeps a plan made for them
// (prepare_search_statement).
SPIPlanPtr prepare_search_plan(const std::string &sql, const std::vector<Oid> &arg_types,
                               const std::vector<Datum> &values) {
    return prepare_search_statement(sql, arg_types, values);
}

// A statement with its bound values: the WHERE clause's own, then its extras.
struct BoundQuery {
    std::string sql;
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::vector<std::string> shown; // for explain
};

// Adds a bound value and returns its placeholder.
std::string bind_extra(BoundQuery &q, Oid type, Datum value, const std::string &shown) {
    q.types.push_back(type);
    q.values.push_back(value);
    q.shown.push_back(shown);
    return "$" + std::to_string(q.values.size());
}

// Which rows of a search a page statement covers: all of them (keys computed per
// row), or, when the first sort key comes from a side table, one of its zones
// (sort_sql.h): the matches with a value in key order, or those without one.
enum class Zone { All, Valued, Missing };

// Limits on the first key of a page statement (a side-table first key).
struct FirstKeyLimits {
    int64_t walk_window = 0;           // Zone::Valued: only among the walk's first side rows (SideSortKey::walk_window)
    std::optional<std::string> past;   // only keys past this one (as text) in page direction...
    bool past_inclusive = false;       // ...or at it
    std::optional<std::string> before; // only keys before this one in page direction
};

// Whether a search has conditions (a type-level search without any reads its
// partition as is; a _contained search's conditions are in its subquery).
bool filtered(const SearchStatement &st) {
    return st.where != "true" || st.query.contained != fhir::ContainedMode::False;
}

// The window of the valued zone's walk after `cursor` (SideSortKey::walk_window),
// its values bound into `q`.
std::string walk_window_sql(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor, bool backward,
                            int64_t budget, BoundQuery &q, bool distinct = true) {
    const fhir::SortKeySql &first = st.sort[0];
    std::string from_key;
    if (cursor)
        from_key = bind_extra(q, TEXTOID, text_datum(cursor->keys[0]), cursor->keys[0]) + "::" + first.type;
    return first.side->walk_window(first.descending != backward, from_key,
                                   bind_extra(q, INT8OID, Int64GetDatum(budget), std::to_string(budget)), distinct);
}

// The page query: rid, type, id, (content,) and sort keys as text of up to
// `limit` rows (-1: all) of `zone` after or before `cursor`, in page direction,
// within `limits`.
BoundQuery page_query(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor, bool backward,
                      bool with_content, int64_t limit, Zone zone = Zone::All, const FirstKeyLimits &limits = {}) {
    BoundQuery q;
    q.types.assign(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
    q.values.assign(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
    q.shown.assign(st.shown_values.begin(), st.shown_values.begin() + static_cast<long>(st.where_params));
    // Over a type's partition the page is first found by rid alone and only its
    // rows are read afterwards (`late`): conditions answered by side-table indexes
    // then walk the partition's rid index without reading a heap row per
    // candidate (2,259 rows for a page of 21 in search 6 of bench/results/search.md).
    const bool late = with_content && st.late_rows;
    // The valued zone's rid is its side row's: equal to the match's, and the one
    // the parameter's (key, rid) index is ordered by (a row looked up per side
    // row, SideSortKey::valued_rows, is not known to the planner to be equal).
    const std::string rid = zone == Zone::Valued ? "SELECT sk.rid" : "SELECT r.rid";
    const std::string select = late ? rid : rid + ", " + st.entry_columns + (with_content ? ", r.content" : "");
    // The keys computed per row: all of them, or those after a side-table first key.
    const size_t first_computed = zone == Zone::All ? 0 : 1;
    std::string computed;
    for (size_t i = first_computed; i < st.sort.size(); i++)
        computed += ", " + st.sort[i].expr + " AS k" + std::to_string(i);
    std::string inner;
    if (zone == Zone::All && late && st.sort.empty() && !st.driver.empty())
        // One side-table condition: start from its rows' distinct rids, which the
        // planner can sort and join in rid order, stopping at the page's end. As
        // an EXISTS it unique-ifies them by hashing (output unordered), probes the
        // partition for every match and sorts them all: `Patient?family=kow` at 1M,
        // 479 matches, 0.55 -> 0.11 ms.
        inner = "SELECT r.rid FROM (SELECT DISTINCT dr.rid FROM (" + st.driver + ") dr) d JOIN " + st.table +
                " r ON r.rid = d.rid";
    else if (zone == Zone::All)
        inner = select + computed + " FROM " + st.table + " r WHERE " + st.where;
    else if (zone == Zone::Valued && limits.walk_window > 0)
        inner = st.sort[0].side->window_rows(select, computed,
                                             walk_window_sql(st, cursor, backward, limits.walk_window, q), st.table,
                                             st.where);
    else if (zone == Zone::Valued)
        inner = st.sort[0].side->valued_rows(select, computed, st.table, st.where, !filtered(st));
    else {
        // A cursor here is in the missing zone (zone_walk), where one key leaves
        // rid as the order: the side rows to rule out start at the cursor too.
        std::string rid_bound;
        if (cursor && st.sort.size() == 1)
            rid_bound = std::string(backward ? "< " : "> ") +
                        bind_extra(q, INT8OID, Int64GetDatum(cursor->rid), std::to_string(cursor->rid));
        inner = st.sort[0].side->missing_rows(select, computed, st.table, st.where, rid_bound);
    }
    // ORDER BY in page direction (reversed for a backward page).
    std::string order;
    for (size_t i = 0; i < st.sort.size(); i++)
        order += "m.k" + std::to_string(i) + ((st.sort[i].descending != backward) ? " DESC" : " ASC") + ", ";
    order += std::string("m.rid") + (backward ? " DESC" : " ASC");
    std::string keyset = "true";
    if (cursor) {
        // (k0 op v0) OR (k0 = v0 AND k1 op v1) OR ... OR (all keys equal AND rid op vrid)
        std::vector<std::string> key_refs, value_refs;
        std::vector<bool> desc;
        for (size_t i = 0; i < st.sort.size(); i++) {
            key_refs.push_back("m.k" + std::to_string(i));
            value_refs.push_back(bind_extra(q, TEXTOID, text_datum(cursor->keys[i]), cursor->keys[i]) + "::" +
                                 st.sort[i].type);
            desc.push_back(st.sort[i].descending);
        }
        key_refs.push_back("m.rid");
        value_refs.push_back(bind_extra(q, INT8OID, Int64GetDatum(cursor->rid), std::to_string(cursor->rid)));
        desc.push_back(false);
        std::string terms;
        for (size_t i = 0; i < key_refs.size(); i++) {
            std::string term;
            for (size_t j = 0; j < i; j++)
                term += key_refs[j] + " = " + value_refs[j] + " AND ";
            term += key_refs[i] + ((desc[i] != backward) ? " < " : " > ") + value_refs[i];
            terms += (terms.empty() ? "(" : " OR (") + term + ")";
        }
        // The same bound on the first key alone, which an index on it can start from
        // (the OR above only filters): a deep page does not walk the pages before it.
        keyset = key_refs[0] + ((desc[0] != backward) ? " <= " : " >= ") + value_refs[0] + " AND (" + terms + ")";
    }
    const bool falling = !st.sort.empty() && st.sort[0].descending != backward; // the first key falls in page direction
    if (limits.past)
        keyset += " AND m.k0" +
                  std::string(falling ? (limits.past_inclusive ? " <= " : " < ") : (limits.past_inclusive ? " >= " : " > ")) +
                  bind_extra(q, TEXTOID, text_datum(*limits.past), *limits.past) + "::" + st.sort[0].type;
    if (limits.before)
        keyset += " AND m.k0" + std::string(falling ? " > " : " < ") +
                  bind_extra(q, TEXTOID, text_datum(*limits.before), *limits.before) + "::" + st.sort[0].type;
    std::string limit_clause;
    if (limit >= 0)
        limit_clause = " LIMIT " + bind_extra(q, INT8OID, Int64GetDatum(limit), std::to_string(limit));
    std::string keys_as_text;
    for (size_t i = 0; i < st.sort.size(); i++)
        keys_as_text += ", m.k" + std::to_string(i) + "::text";
    if (late) {
        std::string keys;
        for (size_t i = 0; i < st.sort.size(); i++)
            keys += ", m.k" + std::to_string(i);
        std::string outer_order = order;
        for (size_t at = outer_order.find("m."); at != std::string::npos; at = outer_order.find("m.", at + 2))
            outer_order[at] = 'p';
        std::string page = "SELECT m.rid" + keys + " FROM (" + inner + ") m WHERE " + keyset + " ORDER BY " + order + limit_clause;
        std::string p_keys;
        for (size_t i = 0; i < st.sort.size(); i++)
            p_keys += ", p.k" + std::to_string(i) + "::text";
        q.sql = "SELECT p.rid, c.rtype, c.id, c.content" + p_keys + " FROM (" + page + ") p JOIN " + st.table +
                " c ON c.rid = p.rid ORDER BY " + outer_order;
        return q;
    }
    q.sql = std::string("SELECT m.rid, m.rtype, m.id") + (with_content ? ", m.content" : "") + keys_as_text + " FROM (" +
            inner + ") m WHERE " + keyset + " ORDER BY " + order + limit_clause;
    return q;
}

// The zones the statements of a page walk, in page direction: the zone of the
// cursor (or where the display order starts) and, when its rows may not fill
// the page, the zone after it. Display order: the matches with a value, then
// those without; a backward page walks it in reverse.
struct ZoneWalk {
    Zone first = Zone::All;
    std::optional<Zone> then;
};

ZoneWalk zone_walk(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor) {
    if (st.sort.empty() || !st.sort[0].side)
        return {};
    const bool backward = cursor && cursor->backward;
    const Zone near = backward ? Zone::Missing : Zone::Valued;
    const Zone far = backward ? Zone::Valued : Zone::Missing;
    if (cursor && fhir::cursor_in_missing_zone(st.sort[0], cursor->keys) == !backward)
        return {far, std::nullopt}; // the cursor is in the far zone: the near one lies behind it
    return {near, far};
}

// The page query of the requested page (its first statement, for explain): count+1 rows with content.
BoundQuery page_query(const SearchStatement &st) {
    return page_query(st, st.cursor, st.cursor && st.cursor->backward, true, st.count + 1,
                      zone_walk(st, st.cursor).first);
}

// A row of a page statement, copied out of SPI.
struct Row {
    int64_t rid = 0;
    std::string type, id;
    Datum content = 0; // jsonb copy, or 0 without content
    std::vector<std::string> keys;
};

// The `n` rows of the last statement's result, copied out of SPI.
std::vector<Row> collect_rows(const SearchStatement &st, uint64_t n, bool with_content) {
    std::vector<Row> rows;
    rows.reserve(n);
    const int first_key = with_content ? 5 : 4;
    for (uint64_t r = 0; r < n; r++) {
        Row row;
        row.rid = spi_get_int64(r, 1);
        row.type = spi_get_text(r, 2);
        row.id = spi_get_text(r, 3);
        if (with_content) {
            Datum content = spi_get_datum(r, 4);
            row.content = pg_call([content] { return PointerGetDatum(DatumGetJsonbPCopy(content)); });
        }
        for (size_t k = 0; k < st.sort.size(); k++)
            row.keys.push_back(spi_get_text(r, static_cast<int>(first_key + k)));
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<Row> run_rows(const SearchStatement &st, BoundQuery q, bool with_content) {
    SPIPlanPtr plan = prepare_search_plan(q.sql, q.types, q.values);
    return collect_rows(st, spi_execute(plan, q.values.data(), nullptr, true), with_content);
}

// The page's LIMIT node in a plan: the top of the plan, or, when the page's rows
// are read afterwards (late rows, page_query), inside the join that reads them.
const Plan *page_limit(const Plan *p) {
    if (!p || IsA(p, Limit))
        return p;
    if (IsA(p, SubqueryScan))
        return page_limit(reinterpret_cast<const SubqueryScan *>(p)->subplan);
    if (const Plan *inner = page_limit(p->lefttree))
        return inner;
    return page_limit(p->righttree);
}

// Whether a page statement's plan reads its rows through a full sort (every
// candidate read first), rather than in an index's order until the LIMIT.
bool plan_sorts(const PlannedStmt &stmt) {
    const Plan *limit = page_limit(stmt.planTree);
    const Plan *p = limit ? limit->lefttree : nullptr;
    while (p && (IsA(p, Result) || IsA(p, Gather) || IsA(p, GatherMerge) || IsA(p, SubqueryScan)))
        p = IsA(p, SubqueryScan) ? reinterpret_cast<const SubqueryScan *>(p)->subplan : p->lefttree;
    return p && IsA(p, Sort);
}

// Runs a page statement when its plan (made for these values) sorts; nothing
// when it walks an index instead (the statement is then not run).
std::optional<std::vector<Row>> run_rows_if_sorting(const SearchStatement &st, BoundQuery q, bool with_content) {
    SPIPlanPtr plan = prepare_search_plan(q.sql, q.types, q.values);
    Portal cursor = spi_cursor_open(plan, q.values.data(), nullptr, true);
    if (!plan_sorts(spi_cursor_plan(cursor))) {
        spi_cursor_close(cursor);
        return std::nullopt;
    }
    std::vector<Row> rows = collect_rows(st, spi_cursor_fetch_all(cursor), with_content);
    spi_cursor_close(cursor);
    return rows;
}

// The most side rows the walk of a filtered page may pass before the page gives
// up on index order (see add_valued_rows): per row of the page, and in all.
constexpr int64_t kWalkRowsPerPageRow = 50;
constexpr int64_t kMinWalkRows = 1000;
constexpr int64_t kMaxWalkRows = 20000;

// Appends the valued zone's rows after `cursor` to *rows (up to `limit` rows in
// all, -1: every row). Returns true when what it added also covers every row
// after the zone, so the page is complete.
//
// The planner walks the parameter's index when it expects the page's matches
// to come early in key order, which assumes the search's conditions are
// independent of the key. They often are not: a heart rate's values lie in the
// middle of all Observation quantities, so `code=<heart rate>&_sort=-value-quantity`
// first passes every larger value of other codes (8k side rows at 100k
// resources: 77 ms, against about 20 ms for computing the keys of the 5.5k matches).
// So when the plan of a filtered search walks (its plan has no full sort), the
// walk is confined to a window of its first side rows; when that window does
// not fill the page (and the zone goes on past it), the rest comes from
// computing the keys of the matches past it (Zone::All), which is what the
// search costs without the walk. Plans that sort read each match once anyway.
bool add_valued_rows(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor, bool backward,
                     bool with_content, int64_t limit, std::vector<Row> *rows) {
    const int64_t want = limit < 0 ? -1 : limit - static_cast<int64_t>(rows->size());
    auto append = [rows, want](std::vector<Row> more) {
        const bool full = want >= 0 && static_cast<int64_t>(more.size()) >= want;
        for (Row &r : more)
            rows->push_back(std::move(r));
        return full;
    };
    if (!filtered(st) || want < 0)
        return append(run_rows(st, page_query(st, cursor, backward, with_content, want, Zone::Valued), with_content));
    if (std::optional<std::vector<Row>> sorted =
            run_rows_if_sorting(st, page_query(st, cursor, backward, with_content, want, Zone::Valued), with_content))
        return append(std::move(*sorted));
    const int64_t window = std::clamp(want * kWalkRowsPerPageRow, kMinWalkRows, kMaxWalkRows);
    // The key at the window's end when the zone goes on past it: the walk's
    // window-th side row (as walked, so a resource's repeated values count).
    // Rows of that key may continue past the window, so the window serves only
    // the keys before it, and the rest starts at it.
    BoundQuery q;
    const std::string walk_sql = walk_window_sql(st, cursor, backward, window, q, /*distinct=*/false);
    const bool falling = st.sort[0].descending != backward;
    SPIPlanPtr plan = prepare_search_plan("SELECT w.k::text FROM " + walk_sql + " w ORDER BY w.k" +
                                              (falling ? " DESC" : "") + " OFFSET " +
                                              bind_extra(q, INT8OID, Int64GetDatum(window - 1), std::to_string(window - 1)) +
                                              " LIMIT 1",
                                          q.types, q.values);
    std::optional<std::string> end_key;
    if (spi_execute(plan, q.values.data(), nullptr, true, 1) > 0)
        end_key = spi_get_text(0, 1);
    FirstKeyLimits in_window;
    in_window.walk_window = window;
    in_window.before = end_key;
    if (append(run_rows(st, page_query(st, cursor, backward, with_content, want, Zone::Valued, in_window),
                        with_content)))
        return true;
    if (!end_key)
        return false; // the window held the rest of the zone
    FirstKeyLimits from_end;
    from_end.past = end_key;
    from_end.past_inclusive = true;
    append(run_rows(st,
                    page_query(st, std::nullopt, backward, with_content, limit - static_cast<int64_t>(rows->size()),
                               Zone::All, from_end),
                    with_content));
    return true;
}

// Up to `limit` rows (-1: all) after (or, backward, before) `cursor`, in page
// direction. A search sorted first by a side-table key runs as two statements,
// the matches with a value in key order and then, only when the page reaches
// past them, the matches without one (one UNION ALL was planned as a hash join
// over the whole side table: bench/results/search.md, run C notes).
std::vector<Row> page_rows(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor,
                           bool with_content, int64_t limit) {
    const bool backward = cursor && cursor->backward;
    const ZoneWalk walk = zone_walk(st, cursor);
    std::vector<Row> rows;
    bool complete = false;
    if (walk.first == Zone::Valued)
        complete = add_valued_rows(st, cursor, backward, with_content, limit, &rows);
    else
        rows = run_rows(st, page_query(st, cursor, backward, with_content, limit, walk.first), with_content);
    if (complete || !walk.then || (limit >= 0 && static_cast<int64_t>(rows.size()) >= limit))
        return rows;
    // Every row of the next zone follows the cursor.
    if (*walk.then == Zone::Valued) {
        add_valued_rows(st, std::nullopt, backward, with_content, limit, &rows);
    } else {
        const int64_t rest = limit < 0 ? -1 : limit - static_cast<int64_t>(rows.size());
        std::vector<Row> more =
            run_rows(st, page_query(st, std::nullopt, backward, with_content, rest, *walk.then), with_content);
        for (Row &r : more)
            rows.push_back(std::move(r));
    }
    return rows;
}

// Counts matches exactly, or estimates them from the planner.
std::optional<int64_t> count_matches(const SearchStatement &st, TotalMode mode) {
    std::string body = "FROM " + st.table + " r WHERE " + st.where;
    // Only the WHERE clause's own parameters: the page's extra ones are not referenced.
    std::vector<Oid> types(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
    std::vector<Datum> values(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
    if (mode == TotalMode::Accurate) {
        SPIPlanPtr plan = prepare_search_plan("SELECT count(*) " + body, types, values);
        spi_execute(plan, values.data(), nullptr, true, 1);
        return spi_get_int64(0, 1);
    }
    if (mode == TotalMode::Estimated) {
        SPIPlanPtr plan = prepare_cached("EXPLAIN (FORMAT JSON) SELECT 1 " + body, types);
        spi_execute(plan, values.data(), nullptr, false, 1); // SPI refuses utility statements when read-only
        fhir::Json plan_json = fhir::Json::parse(spi_get_text(0, 1), nullptr, false);
        if (plan_json.is_array() && !plan_json.empty())
            return plan_json[0]["Plan"].value("Plan Rows", int64_t(0));
    }
    return std::nullopt;
}


// One page of matches.
struct Page {
    std::vector<int64_t> rids;
    std::vector<std::string> types;
    std::vector<std::string> ids;
    std::vector<Datum> contents; // jsonb, valid until the next statement frees the result: copied
    std::vector<std::vector<std::string>> keys;
    bool more = false;           // a row beyond the page exists in the page direction
    // Boundary rows for the links when they differ from the first/last row
    // present (a page from a cached result set whose rows were deleted since).
    std::optional<fhir::ResultRow> first_row, last_row;
};

// Runs the page query and collects rows in display order.
Page fetch_page(SearchStatement &st) {
    std::vector<Row> rows = page_rows(st, st.cursor, true, st.count + 1);
    Page page;
    page.more = rows.size() > static_cast<size_t>(st.count);
    rows.resize(std::min(rows.size(), static_cast<size_t>(st.count)));
    for (Row &row : rows) {
        page.rids.push_back(row.rid);
        page.types.push_back(std::move(row.type));
        page.ids.push_back(std::move(row.id));
        page.contents.push_back(row.content);
        page.keys.push_back(std::move(row.keys));
    }
    if (st.cursor && st.cursor->backward) {
        std::reverse(page.rids.begin(), page.rids.end());
        std::reverse(page.types.begin(), page.types.end());
        std::reverse(page.ids.begin(), page.ids.end());
        std::reverse(page.contents.begin(), page.contents.end());
        std::reverse(page.keys.begin(), page.keys.end());
    }
    return page;
}

// The most rows a result set with "every match" (-1) fetches: what fits in the
// largest cache entry at ~32 bytes a row.
int64_t max_set_rows() { return std::max<int64_t>(1000, int64_t(cache::guc_max_entry_kb) * 1024 / 32); }

// Prefetch: rid, type, id and sort keys (no content) of up to `limit` matches
// (-1: every match, up to max_set_rows) after `after`, for a cached result set.
fhir::ResultSet fetch_result_set(const SearchStatement &st, const std::optional<fhir::SearchCursor> &after, int64_t limit) {
    const int64_t cap = limit < 0 ? max_set_rows() : limit;
    std::vector<Row> rows = page_rows(st, after, false, cap + 1);
    fhir::ResultSet set;
    set.complete = rows.size() <= static_cast<size_t>(cap);
    rows.resize(std::min(rows.size(), static_cast<size_t>(cap)));
    set.rows.reserve(rows.size());
    for (Row &row : rows)
        set.rows.push_back({row.rid, std::move(row.type), std::move(row.id), std::move(row.keys)});
    return set;
}

// A page of a cached result set: its rows' resources fetched by rid (the floor
// of a search: no matching, no sorting), in the set's order. A row deleted since
// the set was computed (possible in time mode) is skipped; the links still
// continue from the set's boundary rows.
Page page_from_set(const SearchStatement &st, const fhir::ResultSet &set, const fhir::PageSlice &slice) {
    Page page;
    page.more = slice.more;
    if (slice.begin >= slice.end)
        return page;
    page.first_row = set.rows[slice.begin];
    page.last_row = set.rows[slice.end - 1];
    std::vector<int64_t> rids;
    std::vector<std::string> types;
    for (size_t i = slice.begin; i < slice.end; i++) {
        rids.push_back(set.rows[i].rid);
        if (std::find(types.begin(), types.end(), set.rows[i].type) == types.end())
            types.push_back(set.rows[i].type);
    }
    std::vector<Oid> arg_types;
    std::vector<Datum> values;
    const bool contained = st.query.contained != fhir::ContainedMode::False;
    if (contained) { // the table is plan_contained's subquery: it holds the WHERE clause and its values
        arg_types.assign(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
        values.assign(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
    }
    arg_types.push_back(INT8ARRAYOID);
    values.push_back(int8_array(rids));
    std::string sql = "SELECT r.rid, r.content FROM " + st.table + " r WHERE r.rid = ANY($" + std::to_string(values.size()) + ")";
    if (st.type.empty() && !contained) { // system search: prune to the page's partitions (a row's type is its rtype)
        arg_types.push_back(TEXTARRAYOID);
        values.push_back(text_array(types));
        sql += " AND r.rtype = ANY($" + std::to_string(values.size()) + ")";
    }
    SPIPlanPtr plan = prepare_search_plan(sql, arg_types, values);
    uint64_t n = spi_execute(plan, values.data(), nullptr, true);
    std::unordered_map<int64_t, Datum> contents;
    for (uint64_t r = 0; r < n; r++) {
        Datum c = spi_get_datum(r, 2);
        contents.emplace(spi_get_int64(r, 1), pg_call([c] { return PointerGetDatum(DatumGetJsonbPCopy(c)); }));
    }
    for (size_t i = slice.begin; i < slice.end; i++) {
        auto it = contents.find(set.rows[i].rid);
        if (it == contents.end())
            continue;
        page.rids.push_back(set.rows[i].rid);
        page.types.push_back(set.rows[i].type);
        page.ids.push_back(set.rows[i].id);
        page.contents.push_back(it->second);
        page.keys.push_back(set.rows[i].keys);
    }
    return page;
}

// An OperationOutcome entry resource listing ignored parameters, or null.
fhir::Json ignored_outcome(const fhir::SearchQuery &query) {
    static const char *const kHandled[] = {"_count", "_sort", "_total", "_cursor", "_summary", "_elements",
                                           "_contained", "_containedType",
                                           "_include", "_revinclude",
                                           "_include:iterate", "_revinclude:iterate", "_include:recurse",
                                           "_revinclude:recurse"};
    fhir::Json issues = fhir::Json::array();
    for (const auto &ignored : query.ignored)
        issues.push_back({{"severity", "warning"},
                          {"code", "not-supported"},
                          {"diagnostics", "parameter \"" + ignored.name + "\" ignored: " + ignored.reason}});
    for (const auto &result : query.result_params) {
        bool handled = false;
        for (const char *h : kHandled)
            handled = handled || result.name == h;
        if (!handled)
            issues.push_back({{"severity", "warning"},
                              {"code", "not-supported"},
                              {"diagnostics", "result parameter \"" + result.name + "\" is not supported yet; ignored"}});
    }
    if (issues.empty())
        return nullptr;
    return {{"resourceType", "OperationOutcome"}, {"issue", issues}};
}

// A link URL for this search with an optional cursor.
std::string link_url(const SearchStatement &st, const std::string &cursor) {
    std::string query = st.base_query;
    if (!cursor.empty())
        query += (query.empty() ? "" : "&") + std::string("_cursor=") + cursor;
    return base_url_prefix() + (st.type.empty() ? std::string() : st.type) + (query.empty() ? "" : "?" + query);
}

// One _include/_revinclude directive after validation.
struct IncludeSpec {
    bool reverse = false;
    bool iterate = false;
    std::string source_type;                       // the resource type holding the reference
    std::vector<const fhir::SearchParamDef *> params; // reference parameters of source_type
    std::string target_type;                       // optional :Target ("" = every target of the parameter)
};

// Parses "Source:param[:Target]" (or "*" / "Source:*") of _include/_revinclude.
// `any_source`: the page's matches can be of any type (the containers of a
// _contained search), so a non-iterating _include may start from any type.
IncludeSpec parse_include(const std::string &name, const std::string &value, const std::string &searched_type,
                          bool any_source) {
    const fhir::Registry &registry = current_registry();
    IncludeSpec spec;
    spec.reverse = name.rfind("_revinclude", 0) == 0;
    spec.iterate = name.find(":iterate") != std::string::npos || name.find(":recurse") != std::string::npos;
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t colon = value.find(':', start);
        parts.push_back(value.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    if (parts.size() == 1 && parts[0] == "*") {
        parts = {spec.reverse ? "" : searched_type, "*"};
        if (spec.reverse)
            throw Error(ErrorKind::InvalidSearch, "_revinclude=* needs a source type, e.g. Observation:*");
    }
    if (parts.size() < 2 || parts.size() > 3 || !fhir::Registry::is_resource_type(parts[0]))
        throw Error(ErrorKind::InvalidSearch, "invalid " + name + " value '" + value + "': expected SourceType:parameter[:TargetType]");
    spec.source_type = parts[0];
    if (parts.size() == 3) {
        if (!fhir::Registry::is_resource_type(parts[2]))
            throw Error(ErrorKind::InvalidSearch, "unknown target type '" + parts[2] + "' in " + name);
        spec.target_type = parts[2];
    }
    if (parts[1] == "*") {
        for (const fhir::SearchParamDef *p : registry.for_type(spec.source_type))
            if (p->enabled && p->type == fhir::ParamType::Reference)
                spec.params.push_back(p);
    } else {
        const fhir::SearchParamDef *p = registry.find(spec.source_type, parts[1]);
        if (!p || !p->enabled || p->type != fhir::ParamType::Reference)
            throw Error(ErrorKind::InvalidSearch,
                        "'" + parts[1] + "' is not a reference search parameter of " + spec.source_type + " (in " + name + ")");
        spec.params.push_back(p);
    }
    if (!spec.reverse && !spec.iterate && !any_source && spec.source_type != searched_type)
        throw Error(ErrorKind::InvalidSearch,
                    name + "=" + value + " does not start from the searched type " + searched_type + " (use :iterate)");
    return spec;
}

// A resource of the page or added to it by _include/_revinclude: top-level, or
// contained (then `id` is its local id and the entry's fullUrl is the
// container's URL + "#" + id).
struct Included {
    int64_t rid;
    std::string type, id;
    Datum content;
    bool contained = false;
    std::string container_type, container_id;

    // "Type/id", or "ContainerType/containerId#localid": the entry's URL after the base.
    std::string path() const {
        return contained ? container_type + "/" + container_id + "#" + id : type + "/" + id;
    }
};

// Copies the jsonb in column `col` of SPI result row `r` out of SPI's memory.
Datum copied_jsonb(uint64_t r, int col) {
    Datum c = spi_get_datum(r, col);
    return pg_call([c] { return PointerGetDatum(DatumGetJsonbPCopy(c)); });
}

// Contained resources found by a statement returning (rid, rtype, id,
// container_type, container_id, content).
void add_contained_rows(SPIPlanPtr plan, Datum *values, std::vector<Included> *out) {
    uint64_t n = spi_execute(plan, values, nullptr, true);
    for (uint64_t r = 0; r < n; r++) {
        Included inc{spi_get_int64(r, 1), spi_get_text(r, 2), spi_get_text(r, 3), copied_jsonb(r, 6)};
        inc.contained = true;
        inc.container_type = spi_get_text(r, 4);
        inc.container_id = spi_get_text(r, 5);
        out->push_back(std::move(inc));
    }
}

// The local-reference test: `holder`'s tokens hold Reference("#" || <local>.id)
// for reference parameter `param` (extract.cpp stores "#id" references as written).
std::string holds_local_reference(const std::string &holder, int param, const std::string &local) {
    return holder + ".tokens @> ARRAY[fhir.token_hash(" + std::to_string(param) + ", " +
           std::to_string(static_cast<int>(fhir::TokenForm::Reference)) + ", '#' || " + local + ".id)]";
}

// The contained siblings of type `type` of contained resources `rids`: those
// `rids` reference through `param` as "#id" (`forward`), or those referencing
// `rids` so (not forward). Siblings share a container, which the search saw, so
// they are read directly.
void add_siblings(int param, const std::vector<int64_t> &rids, const std::string &type, bool forward,
                  std::vector<Included> *out) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT DISTINCT s.rid, s.rtype, s.id, s.container_type, s.container_id, s.content "
        "FROM fhir.contained_resource f JOIN fhir.contained_resource s ON s.container_rid = f.container_rid AND s.rid <> f.rid "
        "WHERE f.rid = ANY($1) AND s.rtype = $2 AND " +
            (forward ? holds_local_reference("f", param, "s") : holds_local_reference("s", param, "f")) +
            " ORDER BY s.rid LIMIT 1000",
        {INT8ARRAYOID, TEXTOID});
    Datum v[2] = {int8_array(rids), text_datum(type)};
    add_contained_rows(plan, v, out);
}

// Local references of contained resources `rids` (of the directive's source
// type) to their siblings of type `target`.
void include_siblings(int param, const std::vector<int64_t> &rids, const std::string &target, std::vector<Included> *out) {
    add_siblings(param, rids, target, /*forward=*/true, out);
}

// What references contained resources `rids` through `param` of `source`:
// only their container and its other contained resources can (as "#id").
void revinclude_local(int param, const std::string &source, const std::vector<int64_t> &rids, std::vector<Included> *out) {
    SPIPlanPtr containers = prepare_cached(
        "SELECT DISTINCT o.rid, o.id, o.content FROM fhir.contained_resource f JOIN " + fhir::partition_table(source) +
            " o ON o.rid = f.container_rid WHERE f.rid = ANY($1) AND " + holds_local_reference("o", param, "f") +
            " ORDER BY o.rid LIMIT 1000",
        {INT8ARRAYOID});
    Datum v[1] = {int8_array(rids)};
    uint64_t n = spi_execute(containers, v, nullptr, true);
    for (uint64_t r = 0; r < n; r++)
        out->push_back({spi_get_int64(r, 1), source, spi_get_text(r, 2), copied_jsonb(r, 3)});
    add_siblings(param, rids, source, /*forward=*/false, out);
}

// Resources of this page referenced by (or referencing) `from`, per one directive.
// Top-level resources are found through search_reference by rid (forward; the
// rows of contained resources are there too) or by type and id (reverse);
// contained ones through their local "#id" references (siblings, containers).
void include_step(const IncludeSpec &spec, const std::vector<Included> &from, std::vector<Included> *out) {
    for (const fhir::SearchParamDef *param : spec.params) {
        if (spec.reverse) {
            // Sources whose reference param points at one of `from`: one statement
            // per target type present in `from`. A contained resource has no
            // type/id of its own outside its container.
            std::map<std::string, std::vector<std::string>> by_type;
            std::vector<int64_t> contained_rids;
            for (const Included &f : from) {
                if (!spec.target_type.empty() && f.type != spec.target_type)
                    continue;
                if (f.contained)
                    contained_rids.push_back(f.rid);
                else
                    by_type[f.type].push_back(f.id);
            }
            for (const auto &[type, type_ids] : by_type) {
                SPIPlanPtr plan = prepare_cached(
                    "SELECT DISTINCT s.rid, s.id, s.content FROM fhir.search_reference x JOIN " +
                        fhir::partition_table(spec.source_type) + " s ON s.rid = x.rid "
                        "WHERE x.param = " + std::to_string(param->id) + " AND x.target_type = $1 AND x.target_id = ANY($2) "
                        "ORDER BY s.rid LIMIT 1000",
                    {TEXTOID, TEXTARRAYOID});
                Datum v[2] = {text_datum(type), text_array(type_ids)};
                uint64_t n = spi_execute(plan, v, nullptr, true);
                for (uint64_t r = 0; r < n; r++)
                    out->push_back({spi_get_int64(r, 1), spec.source_type, spi_get_text(r, 2), copied_jsonb(r, 3)});
            }
            if (!contained_rids.empty())
                revinclude_local(param->id, spec.source_type, contained_rids, out);
        } else {
            std::vector<int64_t> rids, contained_rids;
            for (const Included &f : from) {
                if (f.type != spec.source_type)
                    continue;
                rids.push_back(f.rid);
                if (f.contained)
                    contained_rids.push_back(f.rid);
            }
            if (rids.empty())
                continue;
            std::vector<std::string> targets = spec.target_type.empty() ? param->targets
                                                                         : std::vector<std::string>{spec.target_type};
            for (const std::string &target : targets) {
                if (!fhir::Registry::is_resource_type(target))
                    continue;
                SPIPlanPtr plan = prepare_cached(
                    "SELECT DISTINCT t.rid, t.id, t.content FROM fhir.search_reference x JOIN " +
                        fhir::partition_table(target) + " t ON t.rtype = $2 AND t.id = x.target_id "
                        "WHERE x.rid = ANY($1) AND x.param = " + std::to_string(param->id) + " AND x.target_type = $2 "
                        "ORDER BY t.rid LIMIT 1000",
                    {INT8ARRAYOID, TEXTOID});
                Datum v[2] = {int8_array(rids), text_datum(target)};
                uint64_t n = spi_execute(plan, v, nullptr, true);
                for (uint64_t r = 0; r < n; r++)
                    out->push_back({spi_get_int64(r, 1), target, spi_get_text(r, 2), copied_jsonb(r, 3)});
                if (!contained_rids.empty())
                    include_siblings(param->id, contained_rids, target, out);
            }
        }
    }
}

// The page's matches as include sources: of the searched type, or (a
// _contained search) containers of any type, or contained resources of the
// searched type whose entry id is "containerId#localid".
std::vector<Included> page_resources(const SearchStatement &st, const Page &page) {
    const bool contained_entries =
        st.query.contained != fhir::ContainedMode::False && st.query.contained_type == fhir::ContainedType::Contained;
    std::vector<Included> out;
    for (size_t i = 0; i < page.rids.size(); i++) {
        Included inc{page.rids[i], st.type, page.ids[i], page.contents[i]};
        size_t hash = page.ids[i].find('#'); // never in a resource id
        if (contained_entries && hash != std::string::npos) {
            inc.contained = true;
            inc.container_type = page.types[i];
            inc.container_id = page.ids[i].substr(0, hash);
            inc.id = page.ids[i].substr(hash + 1);
        } else if (st.query.contained != fhir::ContainedMode::False) {
            inc.type = page.types[i]; // a container, or a top-level match (both)
        }
        out.push_back(std::move(inc));
    }
    return out;
}

// Applies every _include/_revinclude of the query to a page: each included
// resource once, none that is already a match; :iterate repeats on what was
// included, at most 3 rounds (cycle-safe through the seen set).
std::vector<Included> collect_includes(const SearchStatement &st, const Page &page) {
    const bool containers =
        st.query.contained != fhir::ContainedMode::False && st.query.contained_type == fhir::ContainedType::Container;
    std::vector<IncludeSpec> specs;
    for (const auto &r : st.query.result_params)
        if (r.name.rfind("_include", 0) == 0 || r.name.rfind("_revinclude", 0) == 0)
            specs.push_back(parse_include(r.name, r.value, st.type, containers));
    std::vector<Included> result;
    if (specs.empty() || page.rids.empty())
        return result;
    std::set<std::string> seen;
    std::vector<Included> frontier = page_resources(st, page);
    for (const Included &match : frontier)
        seen.insert(match.path());
    for (int round = 0; round < 3 && !frontier.empty(); round++) {
        std::vector<Included> found;
        for (const IncludeSpec &spec : specs)
            if (round == 0 || spec.iterate)
                include_step(spec, frontier, &found);
        std::vector<Included> next;
        for (Included &inc : found)
            if (seen.insert(inc.path()).second)
                next.push_back(inc);
        result.insert(result.end(), next.begin(), next.end());
        frontier = std::move(next);
    }
    return result;
}

// What the last fhir.search() of this backend did, for fhir.last_search()
// (a thin server's X-Cache and timing headers).
struct LastSearch {
    std::string cache = "NONE";  // HIT, MISS, BYPASS (no-store), UNAVAILABLE
    std::string store;           // what storing the result did
    std::string entry_id;
    std::string page_source;     // "result set" when a page came from a cached result set
    int64_t prefetched = -1;     // rows the result set holds after this search (-1: none)
    uint64_t kept_plans_before = 0; // kept_plan_uses() when the search began
    uint64_t kept_plans = 0;     // statements that ran with a plan kept for their values
    double parse_ms = 0, sql_ms = 0, assembly_ms = 0, cache_ms = 0;
};
LastSearch &last_search() {
    static LastSearch last;
    return last;
}

// Milliseconds between two unix-microsecond readings.
double ms_between(int64_t from, int64_t to) { return static_cast<double>(to - from) / 1000.0; }

// Resource types whose writes can change this search's result: the searched
// type (and the ValueSets, CodeSystems or Lists its values name), or every
// type ("*") once chains, _has or includes are involved.
std::vector<std::string> dependency_types(const SearchStatement &st) {
    bool wide = st.type.empty() && st.system_types.size() == fhir::Registry::resource_types().size();
    for (const auto &clause : st.query.clauses)
        wide = wide || !clause.chain.empty();
    for (const auto &r : st.query.result_params)
        wide = wide || r.name.rfind("_include", 0) == 0 || r.name.rfind("_revinclude", 0) == 0;
    wide = wide || st.query.contained != fhir::ContainedMode::False; // containers are of any type
    if (wide)
        return {"*"};
    std::vector<std::string> types = st.type.empty() ? st.system_types : std::vector<std::string>{st.type};
    for (const std::string &t : fhir::stored_value_types(st.query))
        if (std::find(types.begin(), types.end(), t) == types.end())
            types.push_back(t);
    return types;
}

// The cache key: security context, type, canonical query, and every setting
// that changes the Bundle.
std::string cache_key(const std::string &type, const std::string &raw_query) {
    return cache::security_context() + "\x1f" + (type.empty() ? "*" : type) + "\x1f" + fhir::normalize_query(raw_query) +
           "\x1f" + base_url_prefix() + "\x1f" + std::to_string(guc_default_count) + "/" +
           std::to_string(guc_max_count) + "/" + (guc_strict_handling ? "strict" : "lenient");
}

// The public id of a cache entry: the id of the Bundle it stores.
constexpr size_t kBundleIdLength = 36;

// A cached Bundle, as stored: it already carries the entry's id and the time of
// the original search. Copied back as is: no parsing, no SPI.
Datum bundle_from_hit(const cache::Hit &hit) {
    const char *data = hit.payload.data() + kBundleIdLength;
    size_t len = hit.payload.size() >= kBundleIdLength ? hit.payload.size() - kBundleIdLength : 0;
    return pg_call([data, len] {
        if (len < VARHDRSZ || VARSIZE(data) != len)
            elog(ERROR, "fhir_search: corrupt cache entry");
        void *copy = palloc(len);
        memcpy(copy, data, len);
        return PointerGetDatum(copy);
    });
}

// A Bundle id (UUID v4). Bundle ids need to be unique, not unpredictable: no
// function looks a Bundle or cache entry up by its id (resource ids keep
// pg_strong_random). A generator per backend, seeded once from
// pg_strong_random, instead of OpenSSL's RAND_bytes per search (5 % of a
// 0.08 ms search).
std::string new_bundle_id() {
    static std::mt19937_64 generator = [] {
        uint64_t seed[2] = {0, 0};
        uint64_t *seed_data = seed;
        pg_call([seed_data] {
            if (!pg_strong_random(seed_data, 2 * sizeof(uint64_t)))
                elog(ERROR, "could not seed the Bundle id generator");
        });
        std::seed_seq sequence{static_cast<uint32_t>(seed[0]), static_cast<uint32_t>(seed[0] >> 32),
                               static_cast<uint32_t>(seed[1]), static_cast<uint32_t>(seed[1] >> 32)};
        return std::mt19937_64(sequence);
    }();
    const uint64_t halves[2] = {generator(), generator()};
    unsigned char bytes[16];
    memcpy(bytes, halves, sizeof bytes);
    return fhir::uuid_v4_from_bytes(bytes);
}

// Runs a search and returns the Bundle (jsonb, in the caller's memory context).
Datum run_search(const std::string &type, const std::string &raw_query, const std::string &cache_control) {
    LastSearch &last = last_search();
    last = LastSearch();
    last.kept_plans_before = kept_plan_uses();
    int64_t t_start = now_unix_micros();
    fhir::CacheControl cc = fhir::parse_cache_control(cache_control);

    // The cache first: an identical search (only valid searches are ever stored)
    // is answered without parsing, planning or SPI, unless no-cache/no-store.
    std::string key;
    if (!cache::available()) {
        last.cache = "UNAVAILABLE";
        static bool told = false; // once per backend, so logs and clients are not flooded
        if (!told) {
            told = true;
            const char *reason = cache::unavailable_reason();
            pg_call([reason] {
                ereport(NOTICE, (errmsg("fhir_search: the result cache is not available (%s); searches run uncached",
                                        reason),
                                 errhint("Add fhir_search to shared_preload_libraries and restart to enable it.")));
            });
        }
    } else if (cc.no_store) {
        last.cache = "BYPASS";
    } else {
        key = cache_key(type, raw_query + (cc.max_results ? "&_max_results=" + std::to_string(*cc.max_results) : ""));
    }
    if (!key.empty() && !cc.no_cache) {
        std::optional<cache::Hit> hit = cache::lookup(key);
        if (hit && hit->fresh) {
            Datum result = bundle_from_hit(*hit);
            last.cache = "HIT";
            last.entry_id = hit->payload.substr(0, kBundleIdLength);
            last.cache_ms = ms_between(t_start, now_unix_micros());
            return result;
        }
    }
    if (!key.empty())
        last.cache = "MISS";

    spi_connect();
    const int settings = search_settings_push();
    SearchStatement st = plan_search(type, raw_query);
    if (cc.no_store || cc.max_results) {
        // All results at once, no paging (capped by max-results and fhir_search.max_count).
        st.count = std::min(cc.max_results.value_or(guc_max_count), guc_max_count);
        st.no_paging = true;
    }
    int64_t t_parsed = now_unix_micros();
    last.parse_ms = ms_between(t_start, t_parsed);
    std::optional<cache::SearchStamp> stamp;
    if (!key.empty())
        stamp = cache::begin_search(dependency_types(st));
    build_search_where(st);
    // Result sets (docs/cache.md, "Result sets and prefetching"): a first page
    // stores its rows as the start of the search's result set; a later page whose
    // cursor row is in the newest set of the same search is served from it (even
    // with cache_reuse_ms = 0), first extending it to the next prefetch threshold
    // when the page reaches past the rows it holds.
    // Links stay plain keyset cursors, so they work with or without the cache.
    const bool use_sets = stamp && !st.summary_count && !st.no_paging;
    const std::string set_key = use_sets ? cache_key(type, st.base_query) + "\x1fresult-set" : std::string();
    int64_t t_sql = now_unix_micros();
    std::optional<int64_t> total;
    Page page;
    bool have_page = false;
    if (st.summary_count) {
        total = count_matches(st, TotalMode::Accurate);
        have_page = true;
    } else if (use_sets && !st.cursor) {
        // The first page is computed as usual (count+1 rows, so it returns as soon
        // as it is ready) and becomes the start of the search's result set; the
        // first request past it prefetches up to the first threshold.
        page = fetch_page(st);
        if (st.total != TotalMode::None)
            total = count_matches(st, st.total);
        else if (!page.more)
            total = static_cast<int64_t>(page.rids.size()); // known for free
        fhir::ResultSet set;
        for (size_t i = 0; i < page.rids.size(); i++)
            set.rows.push_back({page.rids[i], page.types[i], page.ids[i], page.keys[i]});
        set.complete = !page.more;
        set.total = total;
        std::string set_id;
        cache::store(set_key, *stamp, fhir::encode_result_set(set), static_cast<int64_t>(set.rows.size()), &set_id);
        last.prefetched = static_cast<int64_t>(set.rows.size());
        have_page = true;
    } else if (use_sets && !cc.no_cache) {
        // A page request: the newest set of this search, if it holds the cursor's row.
        if (std::optional<cache::Hit> hit = cache::find_result_set(set_key)) {
            fhir::ResultSet set = fhir::decode_result_set(hit->payload);
            size_t needs = 0;
            std::optional<fhir::PageSlice> slice =
                fhir::locate_page(set, *st.cursor, static_cast<size_t>(st.count), &needs);
            last.page_source = "result set";
            if (!slice && needs > 0 && !set.rows.empty()) {
                // Past the prefetched rows: extend the set to the next threshold,
                // continuing from the keyset of its last row.
                int64_t target = fhir::prefetch_target(cache::prefetch_thresholds(), static_cast<int64_t>(needs));
                const fhir::ResultRow &tail_row = set.rows.back();
                fhir::SearchCursor after{false, tail_row.rid, tail_row.keys};
                fhir::ResultSet tail = fetch_result_set(
                    st, after, target < 0 ? -1 : std::max<int64_t>(1, target - static_cast<int64_t>(set.rows.size())));
                for (fhir::ResultRow &row : tail.rows)
                    set.rows.push_back(std::move(row));
                set.complete = tail.complete;
                last.prefetched = static_cast<int64_t>(set.rows.size());
                last.page_source = "result set, extended";
                std::string extended_id;
                cache::store(set_key, *stamp, fhir::encode_result_set(set), static_cast<int64_t>(set.rows.size()),
                             &extended_id);
                slice = fhir::locate_page(set, *st.cursor, static_cast<size_t>(st.count));
            }
            if (slice) {
                page = page_from_set(st, set, *slice);
                if (st.total != TotalMode::None)
                    total = set.total;
                last.cache = "HIT";
                have_page = true;
            } else {
                last.page_source.clear();
            }
        }
    }
    if (!have_page) {
        page = fetch_page(st);
        bool first_page = !st.cursor;
        if (st.total != TotalMode::None)
            total = count_matches(st, st.total);
        else if (first_page && !page.more)
            total = static_cast<int64_t>(page.rids.size()); // known for free
    }

    // Links: self, and next/previous from the boundary rows of this page.
    std::vector<BundleLink> links;
    std::string self_cursor;
    if (st.cursor)
        self_cursor = fhir::encode_cursor(*st.cursor);
    links.push_back({"self", link_url(st, self_cursor)});
    bool backward = st.cursor && st.cursor->backward;
    bool nonempty = !page.rids.empty() || page.first_row;
    bool has_next = !st.no_paging && nonempty && (backward ? true : page.more);
    bool has_prev = !st.no_paging && nonempty && (backward ? page.more : st.cursor.has_value());
    if (has_next) {
        fhir::SearchCursor c = page.last_row ? fhir::SearchCursor{false, page.last_row->rid, page.last_row->keys}
                                             : fhir::SearchCursor{false, page.rids.back(), page.keys.back()};
        links.push_back({"next", link_url(st, fhir::encode_cursor(c))});
    }
    if (has_prev) {
        fhir::SearchCursor c = page.first_row ? fhir::SearchCursor{true, page.first_row->rid, page.first_row->keys}
                                              : fhir::SearchCursor{true, page.rids.front(), page.keys.front()};
        links.push_back({"previous", link_url(st, fhir::encode_cursor(c))});
    }

    std::vector<Datum> contents = page.contents;
    std::vector<Included> included = collect_includes(st, page);
    if (st.summary != fhir::SummaryMode::False || !st.elements.empty()) {
        // _summary / _elements: project in C++; untouched resources keep their stored jsonb.
        auto project = [&st](Datum content) {
            fhir::Json resource = jsonb_to_json(DatumGetJsonbP(content), /*exact_decimals=*/true);
            if (!fhir::project_resource(resource, st.summary, st.elements))
                return content;
            fhir::mark_subsetted(resource);
            return json_to_jsonb_exact(resource);
        };
        for (Datum &c : contents)
            c = project(c);
        for (Included &inc : included)
            inc.content = project(inc.content);
    }
    BundleParts bundle_parts;
    const std::string bundle_id = new_bundle_id(); // also the cache entry's public id
    const std::string base = base_url_prefix();
    bundle_parts.id = bundle_id;
    bundle_parts.last_updated = fhir::format_instant(now_unix_micros());
    bundle_parts.total = total;
    bundle_parts.links = std::move(links);
    for (size_t i = 0; i < page.ids.size(); i++)
        bundle_parts.entries.push_back({base + page.types[i] + "/" + page.ids[i], contents[i], "match"});
    for (const Included &inc : included)
        bundle_parts.entries.push_back({base + inc.path(), inc.content, "include"});
    fhir::Json outcome = ignored_outcome(st.query);
    if (!outcome.is_null())
        bundle_parts.entries.push_back({"", json_to_jsonb(outcome), "outcome"});
    bundle_parts.omit_entry = st.summary_count && outcome.is_null();
    Datum bundle = build_bundle_jsonb(bundle_parts);
    Datum result = pg_call([bundle] { return SPI_datumTransfer(bundle, false, -1); }); // out of SPI's context
    int64_t t_assembled = now_unix_micros();
    last.assembly_ms = ms_between(t_sql, t_assembled); // includes the SQL of the page, includes and count
    if (stamp) {
        cache::end_search(&*stamp);
        Jsonb *bundle_jsonb = DatumGetJsonbP(result);
        // Payload: the Bundle id, then the binary jsonb itself. The Bundle already
        // carries that id and the time of this search, which is what a hit must
        // show, so a hit copies it back unchanged.
        std::string payload = bundle_id;
        payload.append(reinterpret_cast<const char *>(bundle_jsonb), VARSIZE(bundle_jsonb));
        std::string entry_id;
        cache::StoreOutcome stored = cache::store(key, *stamp, payload, static_cast<int64_t>(page.rids.size()), &entry_id);
        last.store = cache::store_outcome_name(stored);
        last.entry_id = bundle_id;
        last.cache_ms = ms_between(t_assembled, now_unix_micros());
    }
    last.kept_plans = kept_plan_uses() - last.kept_plans_before;
    search_settings_pop(settings);
    spi_finish();
    return result;
}

// fhir.last_search(): the cache status and timings of this backend's last search.
Datum last_search_info() {
    const LastSearch &last = last_search();
    fhir::Json info = {{"cache", last.cache},
                       {"store", last.store},
                       {"entry_id", last.entry_id},
                       {"page_source", last.page_source.empty() ? fhir::Json(nullptr) : fhir::Json(last.page_source)},
                       {"prefetched", last.prefetched < 0 ? fhir::Json(nullptr) : fhir::Json(last.prefetched)},
                       {"kept_plans", last.kept_plans},
                       {"parse_ms", last.parse_ms},
                       {"db_ms", last.assembly_ms},
                       {"cache_ms", last.cache_ms},
                       {"total_ms", last.parse_ms + last.assembly_ms + last.cache_ms}};
    return json_to_jsonb(info);
}

// The explain document of a search: SQL, parameters, plan, indexes used.
Datum run_explain(const std::string &type, const std::string &raw_query) {
    spi_connect();
    const int settings = search_settings_push();
    SearchStatement st = plan_search(type, raw_query);
    build_search_where(st);
    BoundQuery q = page_query(st);
    const std::string &sql = q.sql;
    SPIPlanPtr plan = prepare_cached("EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS) " + sql, q.types);
    spi_execute(plan, q.values.data(), nullptr, false);
    fhir::Json plan_json = fhir::Json::parse(spi_get_text(0, 1), nullptr, false);
    std::vector<std::string> indexes;
    std::function<void(const fhir::Json &)> walk = [&](const fhir::Json &node) {
        if (node.is_object()) {
            if (node.contains("Index Name") && node["Index Name"].is_string())
                indexes.push_back(node["Index Name"].get<std::string>());
            for (auto it = node.begin(); it != node.end(); ++it)
                walk(*it);
        } else if (node.is_array()) {
            for (const auto &child : node)
                walk(child);
        }
    };
    walk(plan_json);
    std::sort(indexes.begin(), indexes.end());
    indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
    fhir::Json doc = {{"resourceType", type.empty() ? fhir::Json(nullptr) : fhir::Json(type)},
                      {"query", raw_query},
                      {"sql", sql},
                      {"parameters", q.shown},
                      {"indexes", indexes},
                      {"cache", cache::available() ? "available: see fhir.last_search() after fhir.search() for HIT/MISS"
                                                   : cache::unavailable_reason()},
                      {"plan", plan_json}};
    Datum result = json_to_jsonb(doc);
    result = pg_call([result] { return SPI_datumTransfer(result, false, -1); });
    search_settings_pop(settings);
    spi_finish();
    return result;
}

} // namespace
} // namespace fhir_pg

// Reads an optional text argument.
static std::string optional_text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n))
        return std::string();
    text *t = fhir_pg::pg_call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

FHIR_FUNCTION(fhir_search) {
    if (!PG_ARGISNULL(0) && optional_text_arg(fcinfo, 0).empty())
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType, "resource type must not be empty (use NULL for a system-level search)");
    // The query as clients send it ("?code=x", a whole next link): links and the cache
    // key are then built from the query string alone.
    const std::string query(fhir::query_of_url(optional_text_arg(fcinfo, 1)));
    return fhir_pg::run_search(optional_text_arg(fcinfo, 0), query, optional_text_arg(fcinfo, 2));
}

FHIR_FUNCTION(fhir_explain) {
    const std::string query(fhir::query_of_url(optional_text_arg(fcinfo, 1)));
    return fhir_pg::run_explain(optional_text_arg(fcinfo, 0), query);
}

FHIR_FUNCTION(fhir_last_search) { return fhir_pg::last_search_info(); }
