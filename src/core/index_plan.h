// index_plan.h: which PostgreSQL indexes serve a search parameter.
//
// The index builders (fhir.create_index and friends) and the registry view ask
// this file; it only knows names and DDL, built from registry data (parameter
// ids, partition names), never from user text.
//   string, uri(:below/:above)  partial btree on fhir.search_string (norm) WHERE param = <id>
//   date                        partial btrees on fhir.search_date (lo, rid, hi), (hi DESC, rid), (rid, lo, hi)
//   number / quantity           partial btree on fhir.search_number/quantity (value)
//   token, reference, uri,      the type's GIN index on fhir.resource_<type>.tokens
//   composite                   (one index shared by all of them); composites with
//                               a range component also use the (key, value) and
//                               (key, lo, hi) btrees of fhir.search_composite_number
//                               and _date, made with the extension (the key is
//                               unique per parameter, so they serve every composite)
//   _text, _content             the GIN index on fhir.search_text (doc), shared
//   _lastUpdated                btree on fhir.resource_<type>.last_updated
//   _id                         the partition's primary key (always present)
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
