// index_plan.h: which PostgreSQL indexes serve a search parameter.
//
// The index builders (fhir.create_index and friends) and the registry view ask
// this file; it only knows names and DDL, built from registry data (parameter
// ids, partition names), never from user text.
//   string, uri(:below/:above)  partial btrees on fhir.search_string (norm, rid) and
//                               (norm DESC, rid) WHERE param = <id>
//   date                        partial btrees on fhir.search_date (lo, rid, hi), (hi DESC, rid), (rid, lo, hi)
//   number / quantity           partial btrees on fhir.search_number/quantity (value, rid)
//                               and (value DESC, rid)
//   token, uri, composite       the type's GIN index on fhir.resource_<type>.tokens
//                               (one index shared by all of them); composites with
//                               a range component also use the (key, value) and
//                               (key, lo, hi) btrees of fhir.search_composite_number
//                               and _date, made with the extension (the key is
//                               unique per parameter, so they serve every composite)
//   reference                   the GIN index for conditions, and partial btrees on
//                               fhir.search_reference ((target_type || '/' || target_id),
//                               rid) and (... DESC, rid) for _sort
//   _text, _content             the GIN index on fhir.search_text (doc), shared
//   _lastUpdated                btree on fhir.resource_<type>.last_updated
//   _id                         the partition's primary key (always present)
// The (key, rid) pairs, one per direction, are what a _sort on the parameter walks
// (sort_sql.h): ties go by rid ascending in either direction.
#pragma once

#include "registry.h"

#include <string>
#include <vector>

namespace fhir {

struct IndexSpec {
    std::string name;   // index name in schema fhir
    std::string table;  // schema-qualified table
    bool shared = false; // serves several parameters (GIN tokens, last_updated, PK): never dropped per parameter
    bool permanent = false; // the primary key: cannot be dropped
    // Serves only _sort (a reference's key btrees, the descending key btree of a
    // string, number or quantity): made by fhir.create_index, not by the default
    // set, and not needed for `indexed`.
    bool sort_only = false;
    // CREATE INDEX statement (IF NOT EXISTS), optionally CONCURRENTLY.
    std::string create_sql(bool concurrently) const;
    std::string drop_sql(bool concurrently) const;
    std::string definition; // "USING gin (tokens)" or "(norm) WHERE param = 12"
};

// The indexes that serve `param` (empty for parameters that cannot be indexed).
std::vector<IndexSpec> index_specs(const SearchParamDef &param);

// Parameters indexed by default at install time ("resource_type/code").
const std::vector<std::string> &default_indexed_params();

} // namespace fhir
