// search_pages.cpp: the page, result-set and count statements of a planned
// search (search_pages.h), run through SPI.
#include "search_pages.h"

#include "cpp_wrapper.h"
#include "result_cache.h"
#include "spi.h"

#include <algorithm>
#include <unordered_map>

namespace fhir_pg {

std::string bind_extra(BoundQuery &q, Oid type, Datum value, const std::string &shown) {
    q.types.push_back(type);
    q.values.push_back(value);
    q.shown.push_back(shown);
    return "$" + std::to_string(q.values.size());
}

namespace {

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

// How an unsorted page statement finds its rows (unsorted_rows): as the planner
// chooses, walking the partition in rid order (conditions as a filter), or from
// every match (an index's matches, sorted by rid).
enum class Start { Planner, Walk, Matches };

// Where in rid order an unsorted page statement starts and stops, in page direction.
struct RidRange {
    Start start = Start::Planner;
    std::optional<int64_t> before; // only rows before this rid
    std::optional<int64_t> from;   // only rows at or past this rid
};

// The page query: rid, type, id, (content,) and sort keys as text of up to
// `limit` rows (-1: all) of `zone` after or before `cursor`, in page direction,
// within `limits`.
BoundQuery page_query(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor, bool backward,
                      bool with_content, int64_t limit, Zone zone = Zone::All, const FirstKeyLimits &limits = {},
                      const RidRange &rids = {}) {
    BoundQuery q;
    q.types.assign(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
    q.values.assign(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
    q.shown.assign(st.shown_values.begin(), st.shown_values.begin() + static_cast<long>(st.where_params));
    // Over a type's partition the page is first found by rid alone and only its
    // rows are read afterwards (`late`): conditions answered by side-table indexes
    // then walk the partition's rid index without reading a heap row per
    // candidate (2,259 rows for a page of 21 in search 6 of bench/results/search.md).
    const bool late = with_content && (st.late_rows || rids.start == Start::Matches);
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
    if (zone == Zone::All && late && st.sort.empty() && !st.driver.empty() && rids.start != Start::Walk)
        // One side-table condition: start from its rows' distinct rids, which the
        // planner can sort and join in rid order, stopping at the page's end. As
        // an EXISTS it unique-ifies them by hashing (output unordered), probes the
        // partition for every match and sorts them all: `Patient?family=kow` at 1M,
        // 479 matches, 0.55 -> 0.11 ms.
        inner = "SELECT r.rid FROM (SELECT DISTINCT dr.rid FROM (" + st.driver + ") dr) d JOIN " + st.table +
                " r ON r.rid = d.rid";
    else if (zone == Zone::All && rids.start == Start::Matches)
        // Every match first (no rid order to walk): OFFSET 0 keeps the planner from
        // walking the rid index with the conditions as a filter.
        inner = select + computed + " FROM " + st.table + " r WHERE " + st.where + " OFFSET 0";
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
    if (rids.before)
        keyset += std::string(" AND m.rid ") + (backward ? "> " : "< ") +
                  bind_extra(q, INT8OID, Int64GetDatum(*rids.before), std::to_string(*rids.before));
    if (rids.from)
        keyset += std::string(" AND m.rid ") + (backward ? "<= " : ">= ") +
                  bind_extra(q, INT8OID, Int64GetDatum(*rids.from), std::to_string(*rids.from));
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

// Whether the plan of a page statement (made for its values) sorts.
bool plans_to_sort(BoundQuery q) {
    SPIPlanPtr plan = prepare_search_plan(q.sql, q.types, q.values);
    Portal cursor = spi_cursor_open(plan, q.values.data(), nullptr, true);
    const bool sorts = plan_sorts(spi_cursor_plan(cursor));
    spi_cursor_close(cursor);
    return sorts;
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

// The most rows a result set with "every match" (-1) fetches: what fits in the
// largest cache entry at ~32 bytes a row.
int64_t max_set_rows() { return std::max<int64_t>(1000, int64_t(cache::guc_max_entry_kb) * 1024 / 32); }

// The rows of a partition ("fhir.<name>", from the registry) as the planner
// estimates them: its current size at the row density of its last ANALYZE
// (about 20 rows a page before one).
double estimated_rows(const std::string &table) {
    const size_t dot = table.find('.');
    if (dot == std::string::npos)
        return 0;
    const std::string schema = table.substr(0, dot), name = table.substr(dot + 1);
    return pg_call([&schema, &name] {
        Oid relid = get_relname_relid(name.c_str(), get_namespace_oid(schema.c_str(), false));
        if (!OidIsValid(relid))
            return 0.0;
        Relation rel = relation_open(relid, AccessShareLock);
        const double pages = static_cast<double>(RelationGetNumberOfBlocks(rel));
        const double density = rel->rd_rel->relpages > 0 && rel->rd_rel->reltuples >= 0
                                   ? rel->rd_rel->reltuples / rel->rd_rel->relpages
                                   : 20.0;
        relation_close(rel, AccessShareLock);
        return density * pages;
    });
}

// Whether unsorted_rows chooses how a page statement of `st` starts: filtered,
// unsorted searches of one partition with a page size.
bool start_chosen(const SearchStatement &st, int64_t limit) {
    return st.sort.empty() && st.one_partition && st.where != "true" && limit >= 0 &&
           st.query.contained == fhir::ContainedMode::False;
}

// How many side rows unsorted_start counts, what reading a match costs against
// passing a row in a walk of rid order, and the walk budgets.
constexpr int64_t kCountedMatches = 1000;
constexpr int64_t kMatchCostInWalkedRows = 10;
constexpr int64_t kMinWalkBudget = 1000;
constexpr int64_t kWalkBudgetPerPageRow = 200; // conditions on the row itself (tokens, lastUpdated)
constexpr int64_t kMaxWalkBudget = 50000;

// How the unsorted page of up to `limit` rows after `cursor` starts. Walking the
// partition in rid order with the conditions as a filter stops at the page's end:
// cheap when matches are spread through it, but matches often cluster (a
// patient's resources, written by one transaction Bundle, are neighbours in rid
// order; so are the rows of a lastUpdated window), and then the walk passes every
// row before them (`subject=Patient/x` on 205k Synthea Observations walked 52k
// rows for 21 of 430 matches: 72 ms). So a walk gets a budget of rows, the rid at
// its end bounding it (Start::Walk, RidRange::before); when it ends before the
// page is full, the rest comes from reading every match past it and sorting
// their rids (Start::Matches, page_rows), which costs about ten walked rows a
// match. A lone side-table condition (SearchStatement::driver) can count its
// matches cheaply in its index (up to kCountedMatches): the page then walks
// only when walking the rows spread matches would need is cheaper than reading
// them, within four times that many rows. Conditions on the row itself (tokens,
// lastUpdated) cannot be counted without reading the rows (a GIN match is
// rechecked on the heap: 5,000 of 9,160 token matches took longer than the
// search), so they walk kWalkBudgetPerPageRow rows per page row first, unless the planner
// already reads the matches (its plan sorts them: it expects few; page_rows). A
// partition smaller than the budget is left to the planner (walk_may_stray).
// Pages are in rid order: rows = the partition's estimated rows (estimated_rows).
int64_t walk_budget(int64_t limit) { return std::clamp(limit * kWalkBudgetPerPageRow, kMinWalkBudget, kMaxWalkBudget); }

// Whether a walk of the partition (`rows` of them) could pass many more rows
// than the page needs; if not, the page statement is left to the planner.
bool walk_may_stray(const SearchStatement &st, double rows, int64_t limit) {
    return rows > static_cast<double>(st.driver.empty() ? walk_budget(limit) : kMinWalkBudget);
}

RidRange unsorted_start(const SearchStatement &st, const std::optional<fhir::SearchCursor> &cursor, bool backward,
                        int64_t limit, double rows) {
    RidRange range;
    int64_t budget = walk_budget(limit);
    if (!st.driver.empty()) {
        BoundQuery q;
        q.types.assign(st.types.begin(), st.types.begin() + static_cast<long>(st.where_params));
        q.values.assign(st.values.begin(), st.values.begin() + static_cast<long>(st.where_params));
        const std::string counted = "SELECT count(*) FROM (SELECT 1 FROM (" + st.driver + ") d LIMIT " +
                                    bind_extra(q, INT8OID, Int64GetDatum(kCountedMatches), std::to_string(kCountedMatches)) +
                                    ") x";
        // From the condition's index: a sequential scan, which the planner takes for
        // a LIMIT it expects to reach early, passes every row before the matches.
        const int settings = index_scans_push();
        spi_execute(prepare_search_plan(counted, q.types, q.values), q.values.data(), nullptr, true, 1);
        search_settings_pop(settings);
        const int64_t matches = spi_get_int64(0, 1);
        range.start = Start::Matches;
        if (matches == 0)
            return range;
        const double walk = static_cast<double>(limit) * rows / static_cast<double>(matches);
        if (walk > static_cast<double>(matches * kMatchCostInWalkedRows))
            return range;
        budget = std::max<int64_t>(kMinWalkBudget, static_cast<int64_t>(4 * walk));
    }
    range.start = Start::Walk;
    BoundQuery b;
    std::string after = "true";
    if (cursor)
        after = std::string("r.rid ") + (backward ? "< " : "> ") +
                bind_extra(b, INT8OID, Int64GetDatum(cursor->rid), std::to_string(cursor->rid));
    const std::string sql = "SELECT r.rid FROM " + st.table + " r WHERE " + after + " ORDER BY r.rid" +
                            (backward ? " DESC" : "") + " OFFSET " +
                            bind_extra(b, INT8OID, Int64GetDatum(budget), std::to_string(budget)) + " LIMIT 1";
    if (spi_execute(prepare_search_plan(sql, b.types, b.values), b.values.data(), nullptr, true, 1) > 0)
        range.before = spi_get_int64(0, 1);
    return range;
}

} // namespace

BoundQuery first_page_query(const SearchStatement &st) {
    const bool backward = st.cursor && st.cursor->backward;
    const Zone zone = zone_walk(st, st.cursor).first;
    RidRange range;
    const double rows = zone == Zone::All && start_chosen(st, st.count + 1) ? estimated_rows(st.table) : 0;
    if (rows > 0 && walk_may_stray(st, rows, st.count + 1) &&
        (!st.driver.empty() || !plans_to_sort(page_query(st, st.cursor, backward, true, st.count + 1))))
        range = unsorted_start(st, st.cursor, backward, st.count + 1, rows);
    return page_query(st, st.cursor, backward, true, st.count + 1, zone, {}, range);
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
    else if (const double partition_rows =
                 walk.first == Zone::All && start_chosen(st, limit) ? estimated_rows(st.table) : 0;
             partition_rows > 0 && walk_may_stray(st, partition_rows, limit)) {
        if (st.driver.empty())
            // A plan that reads the matches and sorts them (the planner expects
            // few) is what Start::Matches would run: keep it.
            if (std::optional<std::vector<Row>> sorted =
                    run_rows_if_sorting(st, page_query(st, cursor, backward, with_content, limit), with_content))
                return std::move(*sorted);
        const RidRange range = unsorted_start(st, cursor, backward, limit, partition_rows);
        rows = run_rows(st, page_query(st, cursor, backward, with_content, limit, Zone::All, {}, range), with_content);
        if (range.start == Start::Walk && range.before && static_cast<int64_t>(rows.size()) < limit) {
            // The walk ran out of budget: the rest of the page from the matches past it.
            RidRange rest;
            rest.start = Start::Matches;
            rest.from = range.before;
            for (Row &r : run_rows(st,
                                   page_query(st, cursor, backward, with_content,
                                              limit - static_cast<int64_t>(rows.size()), Zone::All, {}, rest),
                                   with_content))
                rows.push_back(std::move(r));
        }
        return rows;
    } else
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
    if (st.table_binds) { // the table is a subquery using the WHERE clause's values (plan_contained, compartments)
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

} // namespace fhir_pg
