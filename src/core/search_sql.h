// search_sql.h: the SQL WHERE condition for a parsed FHIR search.
//
// build_where() turns a SearchQuery (search_query.h) into one boolean SQL
// expression over a resource partition row (alias chosen by the caller) plus its
// parameters. User text never becomes SQL text: values travel as $n parameters,
// and the only things spliced in are registry-derived identifiers (partition
// tables, parameter ids and resource type names, which are checked to be plain
// words before use) and the caller's alias. Storage is src/sql/fhir_search.sql;
// what is stored per parameter is src/core/extract.cpp.
//
// Semantics chosen (https://hl7.org/fhir/R4/search.html):
//   - token/reference/uri/composite exact matches: `tokens && $n::bigint[]` over
//     the token hashes the extractor writes (one array for all OR-ed values).
//     Token "system|" matches hash System("system|"), "|code" NoSystemCode.
//   - :missing (every type): the Present hash, `tokens @> $n`.
//   - token :in, :above, :below: `tokens && $n::bigint[]` over the codings the
//     caller resolved from stored ValueSets/CodeSystems (search_resolve.h), each
//     as SystemCode("system|code") and NoSystemCode("code") (primitive `code`
//     elements such as status or gender are stored without a system). Above 64
//     hashes the test is `fhir.tokens_overlap(tokens, $n)` instead: the same
//     result and GIN index condition, without `&&`'s all-pairs comparison when
//     the planner filters rows with it. :not-in is NOT of that, like :not:
//     resources without a value for the parameter match.
//   - _list: `id = ANY($n::text[])` over the ids the caller read from the List.
//   - string: starts-with on normalized text as a C-collation range
//     [prefix, successor(prefix)); :exact on the text as written; :contains as a
//     LIKE on the normalized text with %, _ and \ escaped.
//   - date: stored [lo, hi) against the search value's range [slo, shi):
//     eq lo>=slo AND hi<=shi; ne NOT eq; gt hi>shi; lt lo<slo; ge gt OR eq;
//     le lt OR eq; sa lo>=shi; eb hi<=slo; ap: the ranges overlap after widening
//     the search range on both sides by 10% of the distance between now and the
//     search value, at least one day. _lastUpdated compares r.last_updated as
//     the instant [t, t+1us). Stored rows have lo <= hi, so eq, le and eb also
//     get the implied bound lo <= shi (eq, le) / lo <= slo (eb), which lets the
//     parameter's (lo, rid, hi) index serve them as a range. Several clauses on
//     a parameter listed in SqlOptions::single_valued_date_params are one
//     EXISTS whose row satisfies all of them.
//   - number/quantity: eq matches a stored value inside the search value's
//     implicit precision range ("100" = [99.5, 100.5)), ne is its negation; gt lt
//     ge le compare the stored value with the search value exactly, as R4 words
//     them ("the value in the resource is greater than the provided value");
//     sa/eb mean above/below the whole precision range; ap accepts the precision
//     range or within 10% of the search value. The stored precision range (lo/hi)
//     is not used: R4 defines the comparisons on the resource's value.
//     Quantity "n|system|code" also requires system and code; "n||code" matches
//     code or unit. A stored Range is a row without a value spanning [lo, hi]
//     (inclusive, an absent bound infinite); prefixes compare it as R4 compares
//     ranges: eq the search precision range contains the span, gt/ge the span's
//     high end is above the value, lt/le its low end below, sa/eb the span lies
//     wholly above/below the precision range, ap it overlaps the value +-10%.
//     Only parameters that may hold Ranges (an "as Range" in the R4 expression,
//     or a custom parameter) get that second condition, so the others keep the
//     plain value condition; composites' number/quantity components likewise.
//   - uri :below is a prefix range on the stored text, :above keeps stored
//     values that are a prefix of the search value.
//   - _text/_content: `doc @@ websearch_to_tsquery('simple', $n)` on
//     fhir.search_text with the value folded by normalize_string, as the stored
//     document was: words AND-ed, "quoted phrases", `or`, `-word`; whole words
//     only (no stemming, no prefixes). Comma values OR, repeated parameters AND.
//   - composites with range or string components: an EXISTS over the pair rows
//     (fhir.search_composite_number / _date / _string) whose key is the hash of
//     the value's token components and whose value matches the range component
//     with the same prefix semantics as the plain number, quantity and date
//     parameters above (a string component: starts-with on the normalized text); further range components must match rows of the same
//     composite node (grp). Token "|code" in a composite matches any system.
//   - chains: the rows holding a reference (search_reference row) of the
//     parameter to one of the chained type's matching ids, found through the
//     tokens GIN index: `tokens && ReferenceId hashes of those ids`, then
//     Reference("Type/id") hashes or a search_reference probe confirm the type
//     (see forward_link in search_sql.cpp). A chain also follows local "#id"
//     references into the contained resources of the same container (R4: a
//     chain is evaluated inside contained resources): Reference("#id") hashes
//     of the matching contained rows join the same `tokens &&` superset,
//     confirmed by the row's container holding the matching contained row
//     (for types that have contained resources: SqlOptions::contained_types).
//   - _has: r.id IN (target ids of the source type's matching top-level rows);
//     for contained rows (options.contained_rows, or a chain's contained
//     targets): the container or a sibling of the source type that references
//     the row as "#id" and matches.
#pragma once

#include "search_query.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

struct SqlParam {
    enum Kind { Text, TextArray, Int8Array, Int4Array, TimestampTz /* unix micros */, Numeric /* decimal text */, Bool };
    Kind kind = Text;
    std::string text;               // Text, Numeric
    std::vector<std::string> texts; // TextArray
    std::vector<int64_t> ints;      // Int8Array, Int4Array
    int64_t micros = 0;             // TimestampTz; kMinTime/kMaxTime mean -infinity/infinity
    bool flag = false;              // Bool
};

struct SqlFragment {
    std::string where; // boolean expression; "true" for a query without clauses
    // When `where` is one EXISTS over a side table's rows (a single clause such
    // as a string prefix or a date range): the same rows as a relation of rids
    // (`SELECT s.rid FROM fhir.<side> s WHERE ...`, with duplicates), for a page
    // statement that starts from them (search_exec.cpp, page_query). Else empty.
    std::string driver;
    std::vector<SqlParam> params; // params[i] is $(first_param + i)
};

struct SqlOptions {
    int64_t now_micros = 0; // "now" for the date prefix ap; 0 = the system clock
    // Date parameters no resource has several values of (the caller read it with
    // the search's snapshot: no fhir.search_date row of the parameter has multi).
    // Several plain date clauses on such a parameter hold exactly when one stored
    // row satisfies all of them, so they become one EXISTS over one row.
    std::vector<int> single_valued_date_params;
    // The alias's rows are fhir.contained_resource rows (_contained searches):
    // their "#id" references and _has follow their container_rid. The values
    // (params) are the same as for top-level rows, in the same order.
    bool contained_rows = false;
    // The resource types that have contained resources, when the caller knows:
    // a chain follows "#id" references into contained resources of the types
    // listed only (nullopt: of every type). Saves planning the contained parts
    // of chains over data without contained resources of the target type.
    std::optional<std::set<std::string>> contained_types;
};

// Date parameters with two or more plain (unchained, unmodified) clauses in
// `query`: those whose clauses build_where can test on one row when
// SqlOptions::single_valued_date_params says the parameter allows it.
std::vector<int> repeated_date_params(const SearchQuery &query);

// The condition for all clauses of `query` over the row alias `alias` (a plain
// lowercase SQL identifier), numbering placeholders from $first_param.
// Throws fhir::Error(Internal) for an alias that is not a plain identifier.
SqlFragment build_where(const SearchQuery &query, std::string_view alias = "r", int first_param = 1,
                        const SqlOptions &options = {});

// The escaped form of `text` for a LIKE pattern with the default escape '\'.
std::string escape_like(std::string_view text);

// The least string greater than every string starting with `prefix` under
// byte-wise (C) collation, valid UTF-8 when `prefix` is; "" when there is none.
std::string prefix_successor(std::string_view prefix);

} // namespace fhir
