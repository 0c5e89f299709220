// registry_cache.cpp: per-backend registry, invalidated through the relcache.
#include "registry_cache.h"

#include "cpp_wrapper.h"
#include "pg_json.h"
#include "result_cache.h"
#include "spi.h"

#include <memory>

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
}

namespace fhir_pg {

namespace {

struct RegistryState {
    std::unique_ptr<fhir::Registry> registry;
    std::unique_ptr<fhir::Extractor> extractor;
    Oid override_table = InvalidOid;
    bool callback_registered = false;
};

RegistryState &state() {
    static RegistryState s;
    return s;
}

// Relcache callback: any invalidation of the override table (or a full reset)
// drops the cached registry. Runs in PostgreSQL context: no allocation, no throw.
void on_relcache_invalidate(Datum, Oid relid) {
    RegistryState &s = state();
    if (relid == InvalidOid || relid == s.override_table)
        s.override_table = InvalidOid; // marks the cache stale; rebuilt on next use
}

// Turns a stored custom SearchParameter definition into a registry entry.
fhir::SearchParamDef custom_param(int id, const std::string &type, const std::string &code, const fhir::Json &def) {
    fhir::SearchParamDef p;
    p.id = id;
    p.resource_type = type;
    p.code = code;
    fhir::parse_param_type(def.value("type", std::string("token")), &p.type);
    p.expression = def.value("expression", std::string());
    p.url = def.value("url", std::string());
    p.may_hold_ranges = true; // an untyped path (Observation.value) may reach a Range
    if (def.contains("target") && def["target"].is_array())
        for (const auto &t : def["target"])
            if (t.is_string())
                p.targets.push_back(t.get<std::string>());
    if (def.contains("component") && def["component"].is_array())
        for (const auto &c : def["component"])
            p.components.push_back({c.value("definition", std::string()), c.value("expression", std::string())});
    return p;
}

void load() {
    RegistryState &s = state();
    if (!s.callback_registered) {
        pg_call([] { CacheRegisterRelcacheCallback(on_relcache_invalidate, (Datum)0); });
        s.callback_registered = true;
    }
    auto registry = std::make_unique<fhir::Registry>(fhir::Registry::builtin());
    static const std::string sql =
        "SELECT 'fhir.search_param_override'::regclass::oid, o.id, o.resource_type, o.code, o.enabled, o.definition "
        "FROM (SELECT 1) one LEFT JOIN fhir.search_param_override o ON true ORDER BY o.id";
    SPIPlanPtr plan = prepare_cached(sql, {});
    uint64_t n = spi_execute(plan, nullptr, nullptr, true);
    Oid table = InvalidOid;
    for (uint64_t row = 0; row < n; row++) {
        table = static_cast<Oid>(spi_get_int64(row, 1) & 0xffffffff);
        if (spi_isnull(row, 2))
            continue;
        int id = spi_get_int32(row, 2);
        std::string type = spi_get_text(row, 3);
        std::string code = spi_get_text(row, 4);
        bool enabled = spi_get_bool(row, 5);
        if (!spi_isnull(row, 6)) {
            Jsonb *def = DatumGetJsonbP(spi_get_datum(row, 6));
            fhir::SearchParamDef custom = custom_param(id, type, code, jsonb_to_json(def));
            // A definition stored under a built-in's id replaces that built-in (fhir.add_search_param).
            if (id < fhir::kFirstCustomParamId)
                registry->override_builtin(std::move(custom));
            else
                registry->add(std::move(custom));
        }
        if (registry->find_by_id(id))
            registry->set_enabled(id, enabled);
    }
    s.extractor.reset();
    s.registry = std::move(registry);
    s.extractor = std::make_unique<fhir::Extractor>(*s.registry);
    s.override_table = table;
}

} // namespace

const fhir::Registry &current_registry() {
    RegistryState &s = state();
    if (!s.registry || s.override_table == InvalidOid)
        load();
    return *s.registry;
}

const fhir::Extractor &current_extractor() {
    current_registry();
    return *state().extractor;
}

} // namespace fhir_pg

// Statement trigger on fhir.search_param_override: tells every backend (at commit)
// to rebuild its registry.
extern "C" {
PG_FUNCTION_INFO_V1(fhir_registry_changed);
Datum fhir_registry_changed(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("fhir._registry_changed() must be called as a trigger")));
    TriggerData *trigdata = (TriggerData *)fcinfo->context;
    CacheInvalidateRelcache(trigdata->tg_relation);
    // What a search means changed: every cached result is stale at commit.
    return fhir_pg::guarded_call([] {
        fhir_pg::cache::note_write_all();
        return PointerGetDatum(NULL);
    });
}
}
