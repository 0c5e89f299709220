// bundle_jsonb.h: assembles a searchset Bundle directly as jsonb.
//
// The stored resources are already binary jsonb. Building the Bundle with SQL
// (jsonb_build_object per entry, jsonb_agg, jsonb_build_object, key deletion)
// walked and re-encoded every resource four to five times; here each resource is
// pushed once into one JsonbParseState and the Bundle is encoded once, which is
// the same work as `jsonb_agg(content)` over the page's rows (the search
// benchmark's floor). Key order is jsonb's own, so the result equals the SQL one.
#pragma once

#include "pg_includes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fhir_pg {

struct BundleEntry {
    std::string full_url;   // "" = no fullUrl (the OperationOutcome entry)
    Datum resource;         // jsonb
    std::string mode;       // search.mode: match, include, outcome
};

struct BundleParts {
    std::string id;
    std::string last_updated;     // meta.lastUpdated (FHIR instant)
    std::optional<int64_t> total; // absent = no "total"
    Datum links;                  // jsonb array
    std::vector<BundleEntry> entries;
    bool omit_entry = false;      // _summary=count without an outcome: no "entry"
};

// The Bundle as a jsonb Datum in the current memory context.
Datum build_bundle_jsonb(const BundleParts &parts);

} // namespace fhir_pg
