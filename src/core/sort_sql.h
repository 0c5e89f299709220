// sort_sql.h: the SQL of a _sort key, and how a page walks a side-table key in
// index order.
//
// Every key is an expression over the row alias r that is never NULL: a resource
// without a value gets the key's `missing` value, which sorts after every value
// in the key's direction (last ascending and descending). A side-table key
// (string, uri, date, number, quantity, reference) is the least value of the
// resource's rows for the parameter ascending, the greatest descending:
//   string, uri   fhir.search_string.norm (C collation)
//   date          fhir.search_date.lo ascending, .hi descending
//   number        fhir.search_number.value
//   quantity      fhir.search_quantity.value
//   reference     fhir.search_reference.target_type || '/' || target_id
// Tokens are computed from the resource (fhir.token_sort_key, token_sort.cpp);
// _id and _lastUpdated are columns of the row.
//
// Computing the key per match costs a probe per match and a sort of all of them.
// When the first key is a side-table key, a page instead runs as two statements
// ("zones", search_exec.cpp page_rows):
//   valued   each match through the one side row that holds its key: rows whose
//            value sorts before `missing`, without a row of the same resource
//            that sorts before them (ties by ctid, so exactly one row), joined
//            to the match. ORDER BY k0, rid LIMIT n then walks the parameter's
//            (value, rid) or (value DESC, rid) index (index_plan.h) and stops
//            when the page is full; later keys are computed per row and ordered
//            by an Incremental Sort within equal first keys.
//   missing  the matches without such a row, whose first key is `missing`.
// The valued zone of a filtered search may also be read from a window of the
// walk's first side rows (walk_window, window_rows: see add_valued_rows in
// search_exec.cpp for why).
// Only values that sort before `missing` count in the valued zone, and the
// missing zone holds exactly the resources without one, so a resource whose
// only values equal `missing` (a string parameter whose text normalizes to ''
// in a descending sort) keeps the key it has per row, and the two zones follow
// each other in page order: every valued key sorts before `missing`.
#pragma once

#include "search_query.h"

#include <optional>
#include <string>
#include <vector>

namespace fhir {

// A key read from the rows of one side table for one parameter.
struct SideSortKey {
    std::string table;     // "fhir.search_string"
    std::string column;    // the value column; empty for a reference ("Type/id")
    int param = 0;         // the parameter id (side rows' param)
    bool descending = false;
    std::string missing;   // the key of a resource without a value, as SQL

    // The key one side row of alias `a` contributes (the expression the index builders index).
    std::string value(const std::string &a) const;
    // "<" ascending, ">" descending: `x before y` sorts x before y.
    const char *before() const { return descending ? " > " : " < "; }
    // The rows of the valued zone: `select` (over alias r, ending before the key),
    // then the key as k0, then `more` (", <expr> AS k1, ..."), from the side row
    // sk joined to `from` r, for the matches of `where`. With `probe` (`from` a
    // table, no conditions), each side row looks up its row of `from` instead of
    // being joined to it: the planner estimates a join on rid from the side
    // table's statistics, whose rids belong to every resource type, and so
    // expects a small fraction of the side rows to join (2.6% for Patient at 100k
    // generated resources) and a page to need them all, and sorts instead of
    // walking; a lookup is one row per side row. The lookup still reads the row
    // (rows of contained resources, and rows a row-level security policy hides,
    // share the side table and must not count).
    std::string valued_rows(const std::string &select, const std::string &more, const std::string &from,
                            const std::string &where, bool probe = false) const;
    // The rows of the missing zone (k0 = missing), with the same columns.
    std::string missing_rows(const std::string &select, const std::string &more, const std::string &from,
                             const std::string &where,
                             const std::string &rid_bound = {}) const;
    // The start of the valued zone's walk in page direction (`falling`: keys
    // descending), as a relation of (rid, k): the first `budget` (an SQL value)
    // side rows from the keys at or past `from_key` (an SQL value; empty: from
    // the start). Rows of the last key may go on past the window (the caller
    // reads that key first and takes only keys before it from the window).
    // `distinct`: each (rid, key) once, in key order, `budget` pairs (for the
    // page); without, the side rows as walked, `budget` of them unless the zone
    // ends first (for finding that end).
    std::string walk_window(bool falling, const std::string &from_key, const std::string &budget,
                            bool distinct = true) const;
    // The valued zone's rows among the pairs of `window` (walk_window), with the
    // columns of valued_rows.
    std::string window_rows(const std::string &select, const std::string &more, const std::string &window,
                            const std::string &from, const std::string &where) const;
};

// One _sort key as SQL.
struct SortKeySql {
    std::string expr;          // the key of row r, never NULL
    std::string type;          // its SQL type (cursor values are cast back to it)
    bool descending = false;
    std::optional<SideSortKey> side; // set when the key comes from a side table
    std::string missing_text;  // side keys: the key of a resource without a value as text (as in a cursor)
};

// The SQL of `key`. Throws Error(UnsupportedFeature) for a type that cannot be sorted by.
SortKeySql sort_key_sql(const SortKey &key);

// Whether a cursor's keys (as text) lie in the missing zone of a search sorted
// first by side key `first` (false for any other first key).
bool cursor_in_missing_zone(const SortKeySql &first, const std::vector<std::string> &cursor_keys);

} // namespace fhir
