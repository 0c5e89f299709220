// patch_writer.cpp: read, patch and write one resource (see patch_writer.h).
#include "patch_writer.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "resource.h"
#include "spi.h"

namespace fhir_pg {

using fhir::Error;
using fhir::ErrorKind;

namespace {

// Why type/id has no current version: it was deleted (FH410) or never existed (FH404).
Error missing(const std::string &type, const std::string &id) {
    SPIPlanPtr plan = prepare_cached("SELECT version_id, deleted FROM fhir.resource_history "
                                     "WHERE rtype = $1 AND id = $2 ORDER BY version_id DESC LIMIT 1",
                                     {TEXTOID, TEXTOID});
    Datum v[2] = {text_datum(type), text_datum(id)};
    const std::string what = type + "/" + id;
    if (spi_execute(plan, v, nullptr, false, 1) > 0 && spi_get_bool(0, 2)) {
        const std::string version = std::to_string(spi_get_int32(0, 1));
        return Error(ErrorKind::Gone, what + " was deleted (version " + version + "); there is nothing to patch",
                     fhir::operation_outcome("error", "deleted", what + " was deleted (version " + version + ")"));
    }
    return Error(ErrorKind::NotFound, what + " is not known; there is nothing to patch",
                 fhir::operation_outcome("error", "not-found", what + " is not known"));
}

} // namespace

fhir::Json patch_document(const std::string &text) {
    // nlohmann checks the syntax first, for an OperationOutcome PostgreSQL's error would not carry.
    if (!fhir::Json::accept(text))
        throw Error(ErrorKind::InvalidJson, "the patch is not valid JSON",
                    fhir::operation_outcome("error", "structure", "the patch is not valid JSON"));
    Datum jsonb = text_to_jsonb(text);
    return jsonb_to_json(pg_call([jsonb] { return DatumGetJsonbP(jsonb); }), /*exact_decimals=*/true);
}

StoredResource patch_resource(const std::string &type, const std::string &id, const fhir::Json &patch,
                              std::optional<int> if_match, fhir::PatchMediaType expected) {
    SPIPlanPtr lock = prepare_cached("SELECT version_id, content FROM " + fhir::partition_table(type) +
                                         " WHERE rtype = $1 AND id = $2 FOR UPDATE",
                                     {TEXTOID, TEXTOID});
    Datum key[2] = {text_datum(type), text_datum(id)};
    if (spi_execute(lock, key, nullptr, false, 1) == 0)
        throw missing(type, id);
    const int current = spi_get_int32(0, 1);
    if (if_match && *if_match != current)
        throw version_conflict(type, id, current, *if_match);
    Datum stored = spi_get_datum(0, 2);
    fhir::Json resource = jsonb_to_json(pg_call([stored] { return DatumGetJsonbP(stored); }), /*exact_decimals=*/true);

    fhir::Json patched = fhir::patch_resource(resource, patch, expected);
    fhir::validate_resource(patched, type);
    // Stored with the patch's and the old version's exact decimals; extraction
    // reads the same jsonb with numbers as doubles, as for any other write.
    Datum content = json_to_jsonb_exact(patched);
    fhir::Json parsed = jsonb_to_json(pg_call([content] { return DatumGetJsonbP(content); }));
    return write_resource(content, std::move(parsed), type, id, if_match);
}

} // namespace fhir_pg
