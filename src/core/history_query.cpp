// history_query.cpp: parsing a history query, its cursors and its page SQL (see history_query.h).
#include "history_query.h"

#include "error.h"
#include "query_string.h"
#include "search_cursor.h"
#include "search_query.h"

#include <algorithm>
#include <climits>

namespace fhir {
namespace {

std::string q(const std::string &text) { return "\"" + text.substr(0, 80) + "\""; }

// A FHIR date, dateTime or instant as search reads it (values.h), including the
// space that an unescaped '+' of a time-zone offset arrives as (query_string.h).
DateRange parse_date_value(const std::string &name, const std::string &value) {
    auto range = parse_search_date(value);
    if (!range)
        throw Error(ErrorKind::InvalidSearch, "value " + q(value) + " of " + name + " is not a valid date");
    return *range;
}

// A decimal int64 written by encode_history_cursor.
bool parse_int64(const std::string &text, int64_t *out) {
    if (text.empty() || text.size() > 20)
        return false;
    size_t start = text[0] == '-' ? 1 : 0;
    if (start == text.size() ||
        !std::all_of(text.begin() + static_cast<long>(start), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    try {
        *out = std::stoll(text);
    } catch (const std::exception &) {
        return false;
    }
    return true;
}

// The order of a page, by output column (1 last_updated, 2 rtype, 3 id, 4
// version_id). Below the system level the type is fixed: leaving it out lets the
// (rtype, last_updated) index deliver the order.
std::string page_order(HistoryLevel level, bool backward) {
    const char *dir = backward ? "" : " DESC";
    std::string order = std::string("1") + dir;
    if (level == HistoryLevel::System)
        order += std::string(", 2") + dir;
    return order + ", 3" + dir + ", 4" + dir;
}

// The conditions a version of one table must meet (alias.* columns).
std::string conditions(HistoryLevel level, const std::string &current_table, const std::string &alias,
                       bool is_history, bool with_cursor, bool backward, bool with_at) {
    const std::string a = alias + ".";
    std::string where = a + "last_updated <= $1 AND " + a + "last_updated >= $6 AND " + a + "last_updated < $8";
    if (level != HistoryLevel::System)
        where += " AND " + a + "rtype = $10";
    if (level == HistoryLevel::Instance)
        where += " AND " + a + "id = $11";
    if (with_cursor) {
        // The leading column alone bounds the lastUpdated index scan; the row
        // comparison places the cursor among versions of the same instant.
        where += backward ? " AND " + a + "last_updated >= $2" : " AND " + a + "last_updated <= $2";
        if (level == HistoryLevel::System)
            where += " AND (" + a + "last_updated, " + a + "rtype COLLATE \"C\", " + a + "id COLLATE \"C\", " + a +
                     "version_id) " + (backward ? ">" : "<") + " ($2, $3, $4, $5)";
        else
            where += " AND (" + a + "last_updated, " + a + "id COLLATE \"C\", " + a + "version_id) " +
                     (backward ? ">" : "<") + " ($2, $4, $5)";
    }
    if (with_at && is_history) {
        // Superseded at the next version's lastUpdated (versions are numbered without
        // gaps; the next one is older history or the current version); a tombstone
        // never followed by a new version stays current.
        where += " AND coalesce((SELECT n.last_updated FROM fhir.resource_history n WHERE n.rtype = " + a +
                 "rtype AND n.id = " + a + "id AND n.version_id = " + a +
                 "version_id + 1), (SELECT c.last_updated FROM " + current_table + " c WHERE c.rtype = " + a +
                 "rtype AND c.id = " + a + "id AND c.version_id = " + a +
                 "version_id + 1), 'infinity'::timestamptz) > $7";
    }
    return where;
}

} // namespace

HistoryQuery parse_history_query(std::string_view query) {
    HistoryQuery out;
    bool have_count = false, have_since = false, have_at = false, have_cursor = false;
    auto once = [](bool &seen, const std::string &name) {
        if (seen)
            throw Error(ErrorKind::InvalidSearch, "history parameter " + name + " is repeated");
        seen = true;
    };
    for (const QueryPair &pair : split_query_string(query_of_url(query))) {
        if (pair.name == "_count") {
            once(have_count, pair.name);
            out.count = parse_count(pair.value);
        } else if (pair.name == "_since") {
            once(have_since, pair.name);
            out.since = parse_date_value(pair.name, pair.value).lo;
        } else if (pair.name == "_at") {
            once(have_at, pair.name);
            out.at = parse_date_value(pair.name, pair.value);
        } else if (pair.name == "_cursor") {
            once(have_cursor, pair.name);
            out.cursor = decode_history_cursor(pair.value);
            continue;
        } else {
            throw Error(ErrorKind::InvalidSearch,
                        "unknown history parameter " + q(pair.name) + " (history takes _count, _since and _at)");
        }
        out.link_query += (out.link_query.empty() ? "" : "&") + percent_encode(pair.name) + "=" +
                          percent_encode(pair.value);
    }
    return out;
}

std::string encode_history_cursor(const HistoryCursor &cursor) {
    SearchCursor c;
    c.backward = cursor.backward;
    c.rid = cursor.version;
    c.keys = {std::to_string(cursor.snapshot), std::to_string(cursor.last_updated), cursor.type, cursor.id};
    return encode_cursor(c);
}

HistoryCursor decode_history_cursor(const std::string &token) {
    auto invalid = [] { return Error(ErrorKind::InvalidSearch, "invalid _cursor value (use the links of a history Bundle)"); };
    SearchCursor c;
    try {
        c = decode_cursor(token, 4);
    } catch (const Error &) {
        throw invalid();
    }
    HistoryCursor out;
    out.backward = c.backward;
    if (c.rid < 0 || c.rid > INT_MAX || !parse_int64(c.keys[0], &out.snapshot) ||
        !parse_int64(c.keys[1], &out.last_updated))
        throw invalid();
    out.version = static_cast<int>(c.rid);
    out.type = c.keys[2];
    out.id = c.keys[3];
    return out;
}

std::string history_path(const std::string &type, const std::string &id) {
    if (type.empty())
        return "_history";
    if (id.empty())
        return type + "/_history";
    return type + "/" + id + "/_history";
}

std::string history_page_sql(HistoryLevel level, const std::string &current_table, bool backward, bool with_at) {
    const std::string order = page_order(level, backward);
    // Both branches name rtype and id in C collation: the set operation's ORDER BY
    // takes output columns only, and the cursor compares them so.
    const std::string history_branch =
        "(SELECT h.last_updated, h.rtype COLLATE \"C\" AS rtype, h.id COLLATE \"C\" AS id, h.version_id, h.deleted, "
        "h.content FROM fhir.resource_history h WHERE " +
        conditions(level, current_table, "h", true, true, backward, with_at) + " ORDER BY " + order + " LIMIT $9)";
    const std::string current_branch =
        "(SELECT r.last_updated, r.rtype COLLATE \"C\" AS rtype, r.id COLLATE \"C\" AS id, r.version_id, "
        "false AS deleted, r.content FROM " +
        current_table + " r WHERE " + conditions(level, current_table, "r", false, true, backward, with_at) +
        " ORDER BY " + order + " LIMIT $9)";
    // Entries as fhir.history has always written them: request.method POST for
    // version 1, DELETE for a tombstone (no resource), PUT otherwise.
    const std::string response_common =
        "'etag', 'W/\"' || p.version_id || '\"', 'lastModified', to_char(p.last_updated AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
    const std::string entry =
        "CASE WHEN p.deleted THEN jsonb_build_object('fullUrl', $12 || p.rtype || '/' || p.id, "
        "'request', jsonb_build_object('method', 'DELETE', 'url', p.rtype || '/' || p.id), "
        "'response', jsonb_build_object('status', '204', " + response_common + ")) "
        "ELSE jsonb_build_object('fullUrl', $12 || p.rtype || '/' || p.id, 'resource', p.content, "
        "'request', jsonb_build_object('method', CASE WHEN p.version_id = 1 THEN 'POST' ELSE 'PUT' END, "
        "'url', p.rtype || '/' || p.id), "
        "'response', jsonb_build_object('status', CASE WHEN p.version_id = 1 THEN '201' ELSE '200' END, " +
        response_common + ")) END";
    return "SELECT p.last_updated, p.rtype, p.id, p.version_id, " + entry + " FROM (" + history_branch +
           " UNION ALL " + current_branch + " ORDER BY " + order + " LIMIT $9) p ORDER BY " + order;
}

std::string history_count_sql(HistoryLevel level, const std::string &current_table, bool with_at) {
    return "SELECT (SELECT count(*) FROM fhir.resource_history h WHERE " +
           conditions(level, current_table, "h", true, false, false, with_at) +
           ") + (SELECT count(*) FROM " + current_table + " r WHERE " +
           conditions(level, current_table, "r", false, false, false, with_at) + ")";
}

} // namespace fhir
