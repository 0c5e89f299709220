// everything_query.cpp: $everything's parameters, cursors and page SQL (everything_query.h).
#include "everything_query.h"

#include "error.h"
#include "resource.h"
#include "query_string.h"
#include "search_cursor.h"
#include "search_query.h"

#include <algorithm>

namespace fhir {
namespace {

std::string q(const std::string &text) { return "\"" + text.substr(0, 80) + "\""; }

DateRange parse_date_value(const std::string &name, const std::string &value) {
    auto range = parse_search_date(value);
    if (!range)
        throw Error(ErrorKind::InvalidSearch, "value " + q(value) + " of " + name + " is not a valid date");
    return *range;
}

// The filters of groups 1 and 2, over row alias `x` (columns rid, last_updated).
// The care range is one probe per row (a scalar subquery on search_date's rid
// index): NULL without a value of the type's clinical date parameter (kept),
// else whether a value overlaps the range (rows are [lo, hi)). As NOT EXISTS /
// EXISTS the planner hashed the whole of search_date for every partition.
std::string filters(const EverythingQuery &query, const std::string &x) {
    std::string where;
    if (query.since != kMinTime)
        where += " AND " + x + ".last_updated >= $3";
    if (query.dated)
        where += " AND (SELECT bool_or(d.hi > $4 AND d.lo < $5) FROM fhir.search_date d WHERE d.rid = " + x +
                 ".rid AND d.param = ANY ($6::int[])) IS NOT FALSE";
    return where;
}

} // namespace

EverythingQuery parse_everything_query(std::string_view query, bool care_dates) {
    EverythingQuery out;
    std::vector<std::string> seen;
    for (const QueryPair &pair : split_query_string(query_of_url(query))) {
        // _type may be repeated (the definitions give it 0..*): the lists add up.
        if (pair.name != "_type" && std::find(seen.begin(), seen.end(), pair.name) != seen.end())
            throw Error(ErrorKind::InvalidSearch, "$everything parameter " + pair.name + " is repeated");
        if (!care_dates && (pair.name == "start" || pair.name == "end"))
            throw Error(ErrorKind::InvalidSearch, "Encounter $everything has no parameter " + q(pair.name) +
                                                      " (R4 Encounter-everything takes _since, _type and _count)");
        seen.push_back(pair.name);
        if (pair.name == "_count") {
            out.count = parse_count(pair.value);
        } else if (pair.name == "_since") {
            out.since = parse_date_value(pair.name, pair.value).lo;
        } else if (pair.name == "start") {
            out.start = parse_date_value(pair.name, pair.value).lo;
            out.dated = true;
        } else if (pair.name == "end") {
            out.end = parse_date_value(pair.name, pair.value).hi;
            out.dated = true;
        } else if (pair.name == "_type") {
            for (const std::string &t : split_or_values(pair.value)) {
                if (!Registry::is_resource_type(t))
                    throw Error(ErrorKind::InvalidSearch, "unknown resource type " + q(t) + " in _type");
                if (std::find(out.types.begin(), out.types.end(), t) == out.types.end())
                    out.types.push_back(t);
            }
            if (split_or_values(pair.value).empty())
                throw Error(ErrorKind::InvalidSearch, "_type needs at least one resource type");
        } else if (pair.name == "_cursor") {
            out.cursor = decode_everything_cursor(pair.value);
            continue;
        } else {
            throw Error(ErrorKind::InvalidSearch, "unknown $everything parameter " + q(pair.name) +
                                                      " ($everything takes start, end, _since, _type and _count)");
        }
        out.link_query +=
            (out.link_query.empty() ? "" : "&") + percent_encode(pair.name) + "=" + percent_encode(pair.value);
    }
    if (out.start >= out.end)
        throw Error(ErrorKind::InvalidSearch, "$everything start must be before end");
    return out;
}

std::string encode_everything_cursor(const EverythingCursor &cursor) {
    SearchCursor c;
    c.rid = cursor.rid;
    c.keys = {std::to_string(cursor.group)};
    return encode_cursor(c);
}

EverythingCursor decode_everything_cursor(const std::string &token) {
    auto invalid = [] { return Error(ErrorKind::InvalidSearch, "invalid _cursor value (use the links of an $everything Bundle)"); };
    SearchCursor c;
    try {
        c = decode_cursor(token, 1);
    } catch (const Error &) {
        throw invalid();
    }
    if (c.backward || c.rid < 0 || c.keys[0].size() != 1 || c.keys[0][0] < '0' || c.keys[0][0] > '2')
        throw invalid();
    return EverythingCursor{c.keys[0][0] - '0', c.rid};
}

bool has_everything_operation(std::string_view type) { return type == "Patient" || type == "Encounter"; }

const SearchParamDef *clinical_date_param(const Registry &registry, std::string_view type) {
    static const char *const kNamed[][2] = {
        {"Condition", "onset-date"},          {"MedicationRequest", "authoredon"},
        {"MedicationAdministration", "effective-time"}, {"MedicationDispense", "whenhandedover"},
        {"MedicationStatement", "effective"}, {"ServiceRequest", "authored"},
        {"DeviceRequest", "event-date"},      {"ImagingStudy", "started"},
        {"Specimen", "collected"},            {"Claim", "created"},
        {"ExplanationOfBenefit", "created"}};
    for (const auto &named : kNamed)
        if (type == named[0]) {
            const SearchParamDef *p = registry.find(type, named[1]);
            return p && p->enabled && p->type == ParamType::Date ? p : nullptr;
        }
    const SearchParamDef *p = registry.find(type, "date");
    return p && p->enabled && p->type == ParamType::Date ? p : nullptr;
}

std::string everything_page_sql(const std::string &focal_type, const EverythingQuery &query,
                                const std::vector<EverythingMember> &members, const std::vector<std::string> &stored_types) {
    // A row of any stored type by (type, id) from the outer query: one branch per
    // partition, gated by the type (a one-time filter per probe), so a probe reads
    // one partition's primary key and the plan holds only the partitions with data.
    auto lookup = [&stored_types](const std::string &alias, const std::string &columns, const std::string &type_ref,
                                  const std::string &id_ref) {
        std::string sql;
        for (const std::string &t : stored_types)
            sql += (sql.empty() ? "" : " UNION ALL ") + std::string("SELECT ") + columns + " FROM " +
                   partition_table(t) + " " + alias + " WHERE " + type_ref + " = '" + t + "' AND " + alias +
                   ".rtype = '" + t + "' AND " + alias + ".id = " + id_ref; // both key columns: one index probe
        if (sql.empty())
            sql = "SELECT " + columns + " FROM fhir.resource " + alias + " WHERE false";
        return sql;
    };
    // Groups 0-1: the focal resource, then each member type's partition with its
    // own linking hashes (one GIN probe of a few hashes per partition; one array
    // of all of them over the parent made every partition probe them all, or
    // scan: 40 ms for a patient's 20 resources).
    std::string compartment = "SELECT f.rid, f.rtype, f.id, f.last_updated, 0 AS grp FROM " +
                              partition_table(focal_type) + " f WHERE f.id = $2";
    int param = kEverythingParamCount;
    for (const EverythingMember &m : members) {
        const std::string hashes = "$" + std::to_string(++param) + "::bigint[]";
        compartment += " UNION ALL SELECT r.rid, r.rtype, r.id, r.last_updated, 1 FROM " + partition_table(m.type) +
                       " r WHERE " +
                       (m.many_hashes ? "fhir.tokens_overlap(r.tokens, " + hashes + ")" : "r.tokens && " + hashes) +
                       " AND NOT (r.rtype = $1 AND r.id = $2)";
    }
    // Group 2: the distinct targets of the references of groups 0-1, each looked
    // up by its key in its own partition (`lookup`), minus groups 0-1. Through the
    // parent, the planner hashed a scan of every partition (300 ms for a patient's
    // 5,000 resources), or, kept a subquery, initialized and locked all 146
    // partitions for each page.
    const std::string referenced =
        "SELECT t.rid, t.rtype, t.id, 2 AS grp FROM (SELECT DISTINCT s.target_type, s.target_id "
        "FROM fhir.search_reference s WHERE s.rid IN (SELECT m.rid FROM m) AND s.target_type <> ''" +
        std::string(query.types.empty() ? "" : " AND s.target_type = ANY ($7::text[])") +
        ") g CROSS JOIN LATERAL (" + lookup("t", "t.rid, t.rtype, t.id, t.last_updated", "g.target_type", "g.target_id") +
        ") t "
        "WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.rid = t.rid)" + filters(query, "t");
    const std::string cursor = query.cursor ? " WHERE (a.grp, a.rid) > ($8, $9)" : "";
    // Groups 0-1 sort before group 2, so the page is m's rows after the cursor,
    // then x's: the LIMIT stops pulling before x when m fills the page, and x
    // (the reference lookups) is computed only for the pages that reach it.
    // The focal resource is kept whatever the filters ("at a minimum, the patient
    // resource itself is returned"); the filters apply to the materialized rows.
    return "WITH c AS MATERIALIZED (" + compartment + "), m AS MATERIALIZED (SELECT c.rid, c.rtype, c.id, c.grp FROM c "
           "WHERE c.grp = 0 OR (true" + filters(query, "c") + ")), x AS MATERIALIZED (" + referenced +
           ") SELECT p.grp, p.rid, p.rtype, p.id, c.content, (SELECT count(*) FROM m) AS total "
           "FROM (SELECT u.* FROM ((SELECT a.grp, a.rid, a.rtype, a.id FROM m a" + cursor +
           " ORDER BY a.grp, a.rid LIMIT $10) UNION ALL (SELECT a.grp, a.rid, a.rtype, a.id FROM x a" + cursor +
           " ORDER BY a.rid LIMIT $10)) u LIMIT $10) p "
           "CROSS JOIN LATERAL (" + lookup("c", "c.content", "p.rtype", "p.id") + ") c "
           "ORDER BY p.grp, p.rid";
}

} // namespace fhir
