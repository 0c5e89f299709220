// everything_query.cpp: $everything's parameters, cursors and page SQL (everything_query.h).
#include "everything_query.h"

#include "error.h"
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

// The filters every group passes, over row alias `x`.
std::string filters(const EverythingQuery &query, const std::string &x) {
    std::string where;
    if (query.since != kMinTime)
        where += " AND " + x + ".last_updated >= $5";
    if (query.dated)
        // Kept without a value of the type's clinical date parameter, or with one
        // that overlaps the care range (rows are [lo, hi), search_date's form).
        where += " AND (NOT EXISTS (SELECT 1 FROM fhir.search_date d WHERE d.rid = " + x +
                 ".rid AND d.param = ANY ($8::int[])) OR EXISTS (SELECT 1 FROM fhir.search_date d WHERE d.rid = " + x +
                 ".rid AND d.param = ANY ($8::int[]) AND d.hi > $6 AND d.lo < $7))";
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

std::string everything_page_sql(const EverythingQuery &query, bool many_hashes) {
    const std::string in_compartment =
        many_hashes ? "fhir.tokens_overlap(r.tokens, $2::bigint[])" : "r.tokens && $2::bigint[]";
    // Groups 0-1: one scan of the member types' partitions through the parent
    // (the GIN index answers the hashes in each).
    // The focal resource comes first whatever the filters ("at a minimum, the
    // patient resource itself is returned").
    const std::string members =
        "SELECT f.rid, f.rtype, f.id, 0 AS grp FROM fhir.resource f WHERE f.rtype = $3 AND f.id = $4 UNION ALL "
        "SELECT r.rid, r.rtype, r.id, 1 AS grp FROM fhir.resource r WHERE r.rtype = ANY ($1::text[]) AND " +
        in_compartment + " AND NOT (r.rtype = $3 AND r.id = $4)" + filters(query, "r");
    // Group 2: the distinct targets of the references of groups 0-1, each looked up by its
    // key in its own partition (LATERAL: a probe per target, the other partitions
    // pruned at run time), minus groups 0-1.
    const std::string referenced =
        "SELECT t.rid, t.rtype, t.id, 2 AS grp FROM (SELECT DISTINCT s.target_type, s.target_id "
        "FROM fhir.search_reference s WHERE s.rid IN (SELECT m.rid FROM m) AND s.target_type <> ''" +
        std::string(query.types.empty() ? "" : " AND s.target_type = ANY ($9::text[])") +
        ") g CROSS JOIN LATERAL (SELECT t.rid, t.rtype, t.id, t.last_updated FROM fhir.resource t "
        "WHERE t.rtype = g.target_type AND t.id = g.target_id) t "
        "WHERE NOT EXISTS (SELECT 1 FROM m WHERE m.rid = t.rid)" + filters(query, "t");
    const std::string cursor = query.cursor ? " WHERE (a.grp, a.rid) > ($10, $11)" : "";
    return "WITH m AS MATERIALIZED (" + members + "), x AS MATERIALIZED (" + referenced +
           "), a AS (SELECT * FROM m UNION ALL SELECT * FROM x) "
           "SELECT p.grp, p.rid, p.rtype, p.id, c.content, (SELECT count(*) FROM m) AS total "
           "FROM (SELECT a.grp, a.rid, a.rtype, a.id FROM a" + cursor + " ORDER BY a.grp, a.rid LIMIT $12) p "
           "CROSS JOIN LATERAL (SELECT c.content FROM fhir.resource c WHERE c.rtype = p.rtype AND c.id = p.id) c "
           "ORDER BY p.grp, p.rid";
}

} // namespace fhir
