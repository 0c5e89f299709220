// sort_sql.cpp: _sort keys as SQL and the zones of an index-ordered page (see sort_sql.h).
#include "sort_sql.h"

#include "error.h"

namespace fhir {

std::string SideSortKey::value(const std::string &a) const {
    if (column.empty())
        return "(" + a + ".target_type || '/' || " + a + ".target_id)";
    return a + "." + column;
}

std::string SideSortKey::valued_rows(const std::string &select, const std::string &more, const std::string &from,
                                     const std::string &where, bool probe) const {
    const std::string p = std::to_string(param);
    const std::string key = value("sk"), other = value("sk2");
    const std::string rows = probe ? " CROSS JOIN LATERAL (SELECT * FROM " + from + " rl WHERE rl.rid = sk.rid LIMIT 1) r"
                                   : " JOIN " + from + " r ON r.rid = sk.rid";
    return select + ", " + key + " AS k0" + more + " FROM " + table + " sk" + rows + " WHERE sk.param = " + p +
           " AND " + key + before() + missing + " AND (" + where + ") AND NOT EXISTS (SELECT 1 FROM " + table + " sk2 WHERE sk2.rid = sk.rid AND sk2.param = " + p + " AND (" +
           other + before() + key + " OR (" + other + " = " + key + " AND sk2.ctid < sk.ctid)))";
}

std::string SideSortKey::missing_rows(const std::string &select, const std::string &more, const std::string &from,
                                      const std::string &where, const std::string &rid_bound) const {
    // `rid_bound` (e.g. "> $7") repeats the page's bound on r.rid for the side rows:
    // the planner merges the anti-join over the side table's rid index and does not
    // carry an inequality across `sk2.rid = r.rid`, so without it every deeper page
    // scanned the side rows of all the pages before it.
    return select + ", " + missing + " AS k0" + more + " FROM " + from + " r WHERE (" + where +
           ") AND NOT EXISTS (SELECT 1 FROM " + table + " sk2 WHERE sk2.rid = r.rid AND sk2.param = " +
           std::to_string(param) + (rid_bound.empty() ? "" : " AND sk2.rid " + rid_bound) + " AND " + value("sk2") +
           before() + missing + ")";
}

std::string SideSortKey::walk_window(bool falling, const std::string &from_key, const std::string &budget,
                                     bool distinct) const {
    // The first side rows in key order (an index walk that stops at the budget).
    // With `distinct`, each (key, rid) once, still in key order (a Unique over the
    // index walk, so a page stops walking as soon as it has its rows: 244 of 1,050
    // for the first 21 heart rates by date at 1M, 2.4 -> 0.4 ms; a hash DISTINCT
    // read the whole window first). The budget then counts pairs, not rows: the
    // window reaches at least as far as the budget's rows, which is all that the
    // window's end key (read from the rows, distinct=false) needs.
    const std::string key = value("sw");
    std::string sql = std::string("(SELECT ") + (distinct ? "DISTINCT ON (k, sw.rid) " : "") + "sw.rid, " + key +
                      " AS k FROM " + table + " sw WHERE sw.param = " + std::to_string(param) + " AND " + key +
                      before() + missing;
    if (!from_key.empty())
        sql += " AND " + key + (falling ? " <= " : " >= ") + from_key;
    sql += " ORDER BY k" + std::string(falling ? " DESC" : "") + (distinct ? ", sw.rid" : "") + " LIMIT " + budget + ")";
    return sql;
}

std::string SideSortKey::window_rows(const std::string &select, const std::string &more, const std::string &window,
                                     const std::string &from, const std::string &where) const {
    // The window holds each (rid, key) once, so a resource's best row is the one
    // without a row of a better key; no tie-break by ctid is needed.
    return select + ", sk.k AS k0" + more + " FROM " + window + " sk JOIN " + from + " r ON r.rid = sk.rid WHERE (" +
           where + ") AND NOT EXISTS (SELECT 1 FROM " + table + " sk2 WHERE sk2.rid = sk.rid AND sk2.param = " +
           std::to_string(param) + " AND " + value("sk2") + before() + "sk.k)";
}

namespace {

// A side-table key of `p`: its per-row expression is the least (ascending) or
// greatest (descending) value of the resource's rows, else `missing`.
SortKeySql side_key(const SearchParamDef &p, bool descending, const char *table, const char *column,
                    const char *type, const char *missing, const char *missing_text) {
    SortKeySql s;
    s.descending = descending;
    s.type = type;
    s.missing_text = missing_text;
    SideSortKey side;
    side.table = table;
    side.column = column;
    side.param = p.id;
    side.descending = descending;
    side.missing = missing;
    s.expr = std::string("coalesce((SELECT ") + (descending ? "max(" : "min(") + side.value("ks") + ") FROM " + table +
             " ks WHERE ks.rid = r.rid AND ks.param = " + std::to_string(p.id) + "), " + missing + ")";
    s.side = std::move(side);
    return s;
}

} // namespace

SortKeySql sort_key_sql(const SortKey &key) {
    const SearchParamDef &p = *key.param;
    const bool desc = key.descending;
    // U+10FFFF sorts after every string a resource holds; '' before every one. (A
    // reference key compares in the database's collation, but holds only a type
    // name, '/' and an id: ASCII letters, digits, '-' and '.'.)
    const char *text_missing = desc ? "''" : "U&'\\+10FFFF'";
    const char *text_missing_text = desc ? "" : "\xF4\x8F\xBF\xBF";
    if (p.code == "_id") {
        SortKeySql s;
        s.descending = desc;
        s.expr = "r.id";
        s.type = "text";
        return s;
    }
    if (p.code == "_lastUpdated") {
        SortKeySql s;
        s.descending = desc;
        s.expr = "r.last_updated";
        s.type = "timestamptz";
        return s;
    }
    switch (p.type) {
    case ParamType::String:
    case ParamType::Uri:
        return side_key(p, desc, "fhir.search_string", "norm", "text", text_missing, text_missing_text);
    case ParamType::Date:
        return side_key(p, desc, "fhir.search_date", desc ? "hi" : "lo", "timestamptz",
                        desc ? "'-infinity'::timestamptz" : "'infinity'::timestamptz", desc ? "-infinity" : "infinity");
    case ParamType::Number:
    case ParamType::Quantity:
        return side_key(p, desc, p.type == ParamType::Number ? "fhir.search_number" : "fhir.search_quantity", "value",
                        "numeric", desc ? "'-Infinity'::numeric" : "'Infinity'::numeric",
                        desc ? "-Infinity" : "Infinity");
    case ParamType::Reference:
        return side_key(p, desc, "fhir.search_reference", "", "text", text_missing, text_missing_text);
    case ParamType::Token: {
        // Computed from the resource (token_sort.cpp): tokens are stored as hashes.
        // Keys hold chr(1), so '' is below every key; the order is byte-wise.
        SortKeySql s;
        s.descending = desc;
        s.expr = "coalesce(fhir.token_sort_key(r.content, " + std::to_string(p.id) + ", " +
                 (desc ? "true" : "false") + "), " + text_missing + ") COLLATE \"C\"";
        s.type = "text";
        return s;
    }
    case ParamType::Composite:
    case ParamType::Special:
        break;
    }
    throw Error(ErrorKind::UnsupportedFeature,
                "_sort on " + std::string(param_type_name(p.type)) + " parameter '" + p.code + "' is not supported");
}

bool cursor_in_missing_zone(const SortKeySql &first, const std::vector<std::string> &cursor_keys) {
    return first.side && !cursor_keys.empty() && cursor_keys[0] == first.missing_text;
}

} // namespace fhir
