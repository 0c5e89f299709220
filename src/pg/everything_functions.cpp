// everything_functions.cpp: fhir.everything(), the R4 operations
// Patient/[id]/$everything and Encounter/[id]/$everything as one page of a
// searchset Bundle.
//
// The parameters, cursors and the page statement are src/core/everything_query.h;
// the compartment's hashes come from src/core/compartments.h. Here the focal
// resource is looked up, the one page statement runs (focal resource, compartment,
// referenced resources and the total together) and the Bundle is assembled like a
// search's (bundle_jsonb.h: stored resources are copied, not re-encoded).
#include "pg_includes.h"

#include "bundle_jsonb.h"
#include "compartments.h"
#include "cpp_wrapper.h"
#include "everything.h"
#include "everything_query.h"
#include "guc.h"
#include "partition_rows.h"
#include "registry_cache.h"
#include "resource.h"
#include "resource_writer.h"
#include "spi.h"

#include <algorithm>

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

std::string link_url(const std::string &type, const std::string &id, const std::string &link_query,
                     const fhir::EverythingCursor *cursor) {
    std::string query = link_query;
    if (cursor)
        query += (query.empty() ? "" : "&") + std::string("_cursor=") + fhir::encode_everything_cursor(*cursor);
    return base_url_prefix() + type + "/" + id + "/$everything" + (query.empty() ? "" : "?" + query);
}

// Whether the focal resource is stored (current, not deleted).
bool focal_exists(const std::string &type, const std::string &id) {
    SPIPlanPtr plan = prepare_cached("SELECT 1 FROM " + fhir::partition_table(type) + " WHERE id = $1", {TEXTOID});
    Datum v[1] = {text_datum(id)};
    return spi_execute(plan, v, nullptr, true, 1) > 0;
}

} // namespace

// One page of $everything of type/id, or NULL when the focal resource is not stored.
Datum run_everything(const std::string &type, const std::string &id, const std::string &query, bool *found) {
    if (!fhir::Registry::is_resource_type(type))
        throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type.substr(0, 80) + "\"");
    if (!fhir::has_everything_operation(type))
        throw Error(ErrorKind::InvalidSearch,
                    "$everything is defined for Patient and Encounter only (R4 OperationDefinitions Patient-everything, "
                    "Encounter-everything), not for " + type);
    if (!fhir::is_valid_id(id))
        throw Error(ErrorKind::InvalidSearch, "invalid resource id \"" + id.substr(0, 80) + "\"");
    fhir::EverythingQuery eq = fhir::parse_everything_query(query, type == "Patient");
    const int count = eq.count ? std::min(*eq.count, guc_max_count) : guc_default_count;

    spi_connect();
    if (!focal_exists(type, id)) {
        spi_finish();
        *found = false;
        return (Datum)0;
    }
    *found = true;
    const fhir::Registry &registry = current_registry();
    const fhir::Compartment compartment{type, id};
    // Group 1: the compartment's member types within _type, each with its hashes.
    std::vector<fhir::EverythingMember> members;
    // $1 focal type, $2 focal id, ... (everything_query.h), then each member's hashes.
    std::vector<Oid> types = {TEXTOID,      TEXTOID,      TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
                              INT4ARRAYOID, TEXTARRAYOID, INT4OID,        INT8OID,        INT8OID};
    std::vector<int32_t> date_params;
    // The clinical date parameters of every type a page can hold (group 2: any type).
    if (eq.dated)
        for (const std::string &t : eq.types.empty() ? fhir::Registry::resource_types() : eq.types)
            if (const fhir::SearchParamDef *p = fhir::clinical_date_param(registry, t))
                date_params.push_back(p->id);
    const fhir::EverythingCursor position = eq.cursor.value_or(fhir::EverythingCursor{});
    std::vector<Datum> values = {text_datum(type),
                                 text_datum(id),
                                 TimestampTzGetDatum(unix_micros_to_timestamptz(eq.since)),
                                 TimestampTzGetDatum(unix_micros_to_timestamptz(eq.start)),
                                 TimestampTzGetDatum(unix_micros_to_timestamptz(eq.end)),
                                 int4_array(date_params),
                                 text_array(eq.types),
                                 Int32GetDatum(position.group),
                                 Int64GetDatum(position.rid),
                                 Int64GetDatum(static_cast<int64_t>(count) + 1)};
    std::vector<std::string> member_types;
    for (const std::string &t : fhir::compartment_member_types(type))
        if (eq.types.empty() || std::find(eq.types.begin(), eq.types.end(), t) != eq.types.end())
            member_types.push_back(t);
    for (const std::string &t : types_with_partition_rows(member_types)) {
        fhir::CompartmentCondition c = fhir::compartment_condition(registry, compartment, t, base_url_prefix());
        if (c.hashes.empty())
            continue; // only the focal resource ({def}), or every linking parameter disabled
        std::sort(c.hashes.begin(), c.hashes.end());
        members.push_back({t, c.hashes.size() > 64});
        types.push_back(INT8ARRAYOID);
        values.push_back(int8_array(c.hashes));
    }
    // One generic plan per statement text, kept by the backend (planning the
    // member branches and the 146-partition lookups per call cost more than the
    // page). Index probes only: a generic plan cannot estimate `tokens && $n` and
    // chose sequential scans of mid-sized partitions. Without JIT: the statement's estimates (a LATERAL probe per reference target
    // over 146 partitions) pass jit_above_cost, and compiling its ~1,500
    // expressions took 10 s for a page that runs in 70 ms.
    const int settings = search_settings_push();
    pg_call([] {
        (void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
        (void)set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    });
    SPIPlanPtr plan = prepare_cached(fhir::everything_page_sql(type, eq, members, types_with_partition_rows(fhir::Registry::resource_types())), types, CURSOR_OPT_GENERIC_PLAN);
    const uint64_t rows = spi_execute(plan, values.data(), nullptr, true);
    search_settings_pop(settings);
    const bool more = rows > static_cast<uint64_t>(count);
    const uint64_t shown = std::min<uint64_t>(rows, static_cast<uint64_t>(count));

    BundleParts parts;
    parts.id = new_resource_id();
    parts.last_updated = fhir::format_instant(now_unix_micros());
    if (rows > 0)
        parts.total = spi_get_int64(0, 6);
    else if (!eq.cursor)
        parts.total = 0;
    parts.links.push_back({"self", link_url(type, id, eq.link_query, eq.cursor ? &*eq.cursor : nullptr)});
    if (more) {
        fhir::EverythingCursor next{spi_get_int32(shown - 1, 1), spi_get_int64(shown - 1, 2)};
        parts.links.push_back({"next", link_url(type, id, eq.link_query, &next)});
    }
    const std::string base = base_url_prefix();
    for (uint64_t i = 0; i < shown; i++)
        parts.entries.push_back({base + spi_get_text(i, 3) + "/" + spi_get_text(i, 4), spi_get_datum(i, 5),
                                 spi_get_int32(i, 1) < 2 ? "match" : "include"});
    Datum bundle = build_bundle_jsonb(parts);
    Datum result = pg_call([bundle] { return SPI_datumTransfer(bundle, false, -1); });
    spi_finish();
    return result;
}

} // namespace fhir_pg

// fhir.everything(type, id, query): NULL when type/id is not stored.
FHIR_FUNCTION(fhir_everything) {
    using namespace fhir_pg;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        throw fhir::Error(fhir::ErrorKind::InvalidSearch, "fhir.everything needs a resource type and an id");
    bool found = false;
    Datum result = run_everything(optional_text_arg(fcinfo, 0), optional_text_arg(fcinfo, 1),
                                  PG_NARGS() > 2 ? optional_text_arg(fcinfo, 2) : std::string(), &found);
    if (!found)
        PG_RETURN_NULL();
    return result;
}
