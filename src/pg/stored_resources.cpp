// stored_resources.cpp: reading ValueSets, CodeSystems and Lists for a search.
//
// A canonical lookup goes through the partition's GIN index on `tokens` (the
// `url` search parameter's Uri hash) when that parameter is enabled, and then
// compares the url and version in the stored content, so a hash collision or
// a disabled parameter can never pick the wrong resource.
#include "stored_resources.h"

#include "cpp_wrapper.h"
#include "error.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "resource.h"
#include "spi.h"
#include "values.h"

namespace fhir_pg {

namespace {

// The partition of a type the core asks for; only registry types reach SQL.
std::string checked_partition(std::string_view type) {
    if (!fhir::Registry::is_resource_type(type))
        throw fhir::Error(fhir::ErrorKind::Internal, "no resource type " + std::string(type) + " to read");
    return fhir::partition_table(type);
}

} // namespace

// Converts the first column of the last statement's first row, or reports none.
const fhir::Json *SpiResourceStore::keep(const std::string &key, bool found) {
    std::unique_ptr<fhir::Json> json;
    if (found) {
        Datum content = spi_get_datum(0, 1);
        Jsonb *jsonb = pg_call([content] { return DatumGetJsonbP(content); });
        json = std::make_unique<fhir::Json>(jsonb_to_json(jsonb));
    }
    return loaded_.emplace(key, std::move(json)).first->second.get();
}

const fhir::Json *SpiResourceStore::find_canonical(std::string_view type, const std::string &url,
                                                   const std::string &version) {
    const std::string key = "canonical\x1f" + std::string(type) + "\x1f" + url + "\x1f" + version;
    auto it = loaded_.find(key);
    if (it != loaded_.end())
        return it->second.get();
    const std::string table = checked_partition(type);
    const fhir::SearchParamDef *url_param = current_registry().find(type, "url");
    const bool indexed = url_param && url_param->enabled && url_param->type == fhir::ParamType::Uri;
    // Newest first when several versions (or copies) share the url.
    SPIPlanPtr plan = prepare_cached("SELECT r.content FROM " + table + " r WHERE " +
                                         (indexed ? "r.tokens @> $3::bigint[] AND " : "") +
                                         "r.content->>'url' = $1 AND ($2::text IS NULL OR r.content->>'version' = $2) "
                                         "ORDER BY r.last_updated DESC, r.rid DESC LIMIT 1",
                                     indexed ? std::vector<Oid>{TEXTOID, TEXTOID, INT8ARRAYOID}
                                             : std::vector<Oid>{TEXTOID, TEXTOID});
    Datum values[3] = {text_datum(url), version.empty() ? Datum(0) : text_datum(version), Datum(0)};
    if (indexed)
        values[2] = int8_array({fhir::token_hash(url_param->id, fhir::TokenForm::Uri, url)});
    const char nulls[4] = {' ', version.empty() ? 'n' : ' ', ' ', '\0'};
    uint64_t n = spi_execute(plan, values, nulls, read_only_, 1);
    return keep(key, n > 0);
}

const fhir::Json *SpiResourceStore::read(std::string_view type, const std::string &id) {
    const std::string key = "read\x1f" + std::string(type) + "\x1f" + id;
    auto it = loaded_.find(key);
    if (it != loaded_.end())
        return it->second.get();
    if (!fhir::is_valid_id(id))
        return keep(key, false);
    SPIPlanPtr plan = prepare_cached("SELECT content FROM " + checked_partition(type) + " WHERE rtype = $1 AND id = $2",
                                     {TEXTOID, TEXTOID});
    Datum values[2] = {text_datum(type), text_datum(id)};
    uint64_t n = spi_execute(plan, values, nullptr, read_only_, 1);
    return keep(key, n > 0);
}

} // namespace fhir_pg
