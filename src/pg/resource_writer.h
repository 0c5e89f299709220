// resource_writer.h: the write path shared by create/update/delete, patch
// (patch_writer.h), transactions and bulk load.
//
// A write validates the resource, locks the current row, moves the superseded
// version into fhir.resource_history, stores the new version with server-managed
// id/meta, and replaces the resource's search values (tokens array and side
// rows). The stored jsonb is the client's, with only id and meta changed in SQL,
// so decimals keep their exact text.
#pragma once

#include "pg_includes.h"

#include "error.h"
#include "json.h"
#include "resource.h"

#include <optional>
#include <string>
#include <vector>

namespace fhir_pg {

struct StoredResource {
    std::string type;
    std::string id;
    int version = 0;
    int64_t last_updated = 0; // unix micros
    bool created = false;     // false when an existing resource got a new version
    Datum content = 0;        // the stored jsonb, valid until spi_finish
};

// Creates or updates `resource` (already parsed into `parsed`, which the write
// stamps with id/meta and extracts from: callers move it in). `content` is the
// same resource as a jsonb Datum (stored as is, apart from id/meta). When `id` is
// empty a new UUID is assigned (FHIR create). `if_match` demands the current
// version number. Requires an SPI connection.
StoredResource write_resource(Datum content, fhir::Json parsed, const std::string &type, const std::string &id,
                              std::optional<int> if_match);

// The error of a failed version check (if_match, If-Match) of type/id:
// `current` is its current version, nullopt when it has none. SQLSTATE FH409.
fhir::Error version_conflict(const std::string &type, const std::string &id, std::optional<int> current,
                             int expected);

// Deletes the current version; returns false if there was none. Requires SPI.
bool delete_resource(const std::string &type, const std::string &id);

// A new random FHIR id (UUID v4 from PostgreSQL's strong random source).
std::string new_resource_id();

// One resource of a bulk batch: parsed, with its original JSON text.
struct PendingWrite {
    std::string type;
    std::string id;
    fhir::Json parsed;
    std::string text;
    // The writer promises that no resource of this type ever had this id (a
    // fresh UUID): it is inserted without looking for a current or past version.
    // Should it exist after all, the write fails (unique violation), never
    // silently overwriting it.
    bool known_new = false;
};

// Writes many resources (update semantics, client ids) with a few set-based
// statements per type. Requires SPI. Returns the number written; with `results`,
// also what each write stored (aligned with `batch`; content is not set).
uint64_t write_batch(std::vector<PendingWrite> &batch, std::vector<StoredResource> *results = nullptr);

// Re-extracts the search values of every resource of a type (after enabling a
// parameter or adding a custom one). Requires SPI. Returns the number of resources.
uint64_t reindex_type(const std::string &type);

} // namespace fhir_pg
