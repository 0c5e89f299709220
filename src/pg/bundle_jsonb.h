// bundle_jsonb.h: assembles a searchset Bundle directly as jsonb.
//
// The stored resources are already binary jsonb. The Bundle's frame (id, meta,
// total, links, entry objects) is encoded by fhir::jsonb (src/core/jsonb_encoder.h)
// and each resource's container is copied into it byte for byte: no resource is
// unpacked or re-encoded. (PostgreSQL's own builder, like `jsonb_agg(content)`,
// unpacks every resource into a JsonbValue tree and encodes it again.) The bytes
// are what PostgreSQL would produce for the same JSON: same key order, same
// layout (pg_regress `search_bundle_jsonb` compares them).
#pragma once

#include "pg_includes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fhir_pg {

struct BundleEntry {
    std::string full_url;   // "" = no fullUrl (the OperationOutcome entry)
    Datum resource;         // jsonb object
    std::string mode;       // search.mode: match, include, outcome
};

struct BundleLink {
    std::string relation;   // self, next, previous
    std::string url;
};

struct BundleParts {
    std::string id;
    std::string last_updated;     // meta.lastUpdated (FHIR instant)
    std::optional<int64_t> total; // absent = no "total"
    std::vector<BundleLink> links;
    std::vector<BundleEntry> entries;
    bool omit_entry = false;      // _summary=count without an outcome: no "entry"
};

// The Bundle as a jsonb Datum in the current memory context.
Datum build_bundle_jsonb(const BundleParts &parts);

} // namespace fhir_pg
