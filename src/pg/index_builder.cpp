// index_builder.cpp: the DBA's interface to search parameters and their indexes:
// the registry as a set (fhir._search_params, behind the fhir.search_parameters
// view), index builders (create/drop/DDL for CONCURRENTLY), enabling and
// disabling parameters, custom SearchParameters and overrides of built-in ones
// (add and drop), and re-indexing.
//
// DDL text is assembled only from registry data (index_plan.cpp); the resource
// type and code given by the caller are looked up in the registry first.
#include "pg_includes.h"

#include "cpp_wrapper.h"
#include "index_plan.h"
#include "pg_json.h"
#include "registry_cache.h"
#include "resource.h"
#include "resource_writer.h"
#include "spi.h"
#include "srf.h"

namespace {

using fhir::Error;
using fhir::ErrorKind;

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    text *t = fhir_pg::pg_call([fcinfo, n] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// The parameters an index-builder call is about: one (type, code) or all of a type.
std::vector<const fhir::SearchParamDef *> selected_params(const fhir::Registry &registry, const std::string &type,
                                                          const std::string *code) {
    if (!fhir::Registry::is_resource_type(type))
        throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
    if (code) {
        const fhir::SearchParamDef *p = registry.find(type, *code);
        if (!p)
            throw Error(ErrorKind::UnknownParameter, "unknown search parameter \"" + *code + "\" for " + type);
        return {p};
    }
    std::vector<const fhir::SearchParamDef *> all;
    for (const fhir::SearchParamDef *p : registry.for_type(type))
        if (p->enabled)
            all.push_back(p);
    return all;
}

// Distinct index specs of some parameters (shared indexes once).
std::vector<fhir::IndexSpec> specs_for(const std::vector<const fhir::SearchParamDef *> &params) {
    std::vector<fhir::IndexSpec> specs;
    for (const fhir::SearchParamDef *p : params)
        for (const fhir::IndexSpec &s : fhir::index_specs(*p)) {
            bool seen = false;
            for (const auto &have : specs)
                seen = seen || have.name == s.name;
            if (!seen)
                specs.push_back(s);
        }
    return specs;
}

// Returns a text[] Datum.
Datum names_array(const std::vector<fhir::IndexSpec> &specs) {
    std::vector<std::string> names;
    for (const auto &s : specs)
        names.push_back(s.name);
    return fhir_pg::text_array(names);
}

// Emits each string as a row of a SETOF text function.
Datum return_text_rows(FunctionCallInfo fcinfo, const std::vector<std::string> &rows) {
    ReturnSetInfo *rsinfo = fhir_pg::begin_materialized_srf(fcinfo);
    for (const std::string &row : rows) {
        Datum v[1] = {fhir_pg::text_datum(row)};
        bool n[1] = {false};
        fhir_pg::srf_put_row(rsinfo, v, n);
    }
    return (Datum)0;
}

} // namespace

// One row per (resource type, search parameter) with its state.
FHIR_FUNCTION(fhir_search_params) {
    fhir_pg::spi_connect();
    const fhir::Registry &registry = fhir_pg::current_registry();
    ReturnSetInfo *rsinfo = fhir_pg::begin_materialized_srf(fcinfo);
    for (const fhir::SearchParamDef &p : registry.all()) {
        std::vector<std::string> targets(p.targets.begin(), p.targets.end());
        std::vector<fhir::IndexSpec> specs = fhir::index_specs(p);
        std::vector<fhir::IndexSpec> serving;
        for (const fhir::IndexSpec &spec : specs)
            if (!spec.sort_only)
                serving.push_back(spec);
        Datum v[10] = {Int32GetDatum(p.id),
                      fhir_pg::text_datum(p.resource_type),
                      fhir_pg::text_datum(p.code),
                      fhir_pg::text_datum(fhir::param_type_name(p.type)),
                      fhir_pg::text_datum(p.expression),
                      fhir_pg::text_array(targets),
                      BoolGetDatum(p.enabled),
                      BoolGetDatum(p.id < fhir::kFirstCustomParamId),
                      names_array(specs), names_array(serving)};
        bool n[10] = {false, false, false, false, p.expression.empty(), false, false, false, false, false};
        fhir_pg::srf_put_row(rsinfo, v, n);
    }
    fhir_pg::spi_finish();
    return (Datum)0;
}

// CREATE INDEX for a parameter (or all enabled parameters of a type).
FHIR_FUNCTION(fhir_create_index) {
    std::string type = text_arg(fcinfo, 0);
    std::string code = PG_ARGISNULL(1) ? std::string() : text_arg(fcinfo, 1);
    fhir_pg::spi_connect();
    auto specs = specs_for(selected_params(fhir_pg::current_registry(), type, PG_ARGISNULL(1) ? nullptr : &code));
    std::vector<std::string> created;
    for (const auto &s : specs) {
        fhir_pg::spi_exec_sql(s.create_sql(false));
        created.push_back(s.name);
    }
    fhir_pg::spi_finish();
    return return_text_rows(fcinfo, created);
}

// The CREATE INDEX statements, for running CONCURRENTLY outside a transaction (psql \gexec).
FHIR_FUNCTION(fhir_index_ddl) {
    std::string type = text_arg(fcinfo, 0);
    std::string code = PG_ARGISNULL(1) ? std::string() : text_arg(fcinfo, 1);
    bool concurrently = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
    fhir_pg::spi_connect();
    auto specs = specs_for(selected_params(fhir_pg::current_registry(), type, PG_ARGISNULL(1) ? nullptr : &code));
    fhir_pg::spi_finish();
    std::vector<std::string> ddl;
    for (const auto &s : specs)
        ddl.push_back(s.create_sql(concurrently));
    return return_text_rows(fcinfo, ddl);
}

// DROP INDEX for a parameter's own indexes (indexes shared with other parameters stay).
FHIR_FUNCTION(fhir_drop_index) {
    std::string type = text_arg(fcinfo, 0);
    std::string code = text_arg(fcinfo, 1);
    fhir_pg::spi_connect();
    auto specs = specs_for(selected_params(fhir_pg::current_registry(), type, &code));
    std::vector<std::string> dropped;
    for (const auto &s : specs) {
        if (s.shared)
            continue;
        fhir_pg::spi_exec_sql(s.drop_sql(false));
        dropped.push_back(s.name);
    }
    fhir_pg::spi_finish();
    return return_text_rows(fcinfo, dropped);
}

namespace {

// The index specs of the default set (string and date parameters most searched).
std::vector<fhir::IndexSpec> default_index_specs(const fhir::Registry &registry) {
    std::vector<const fhir::SearchParamDef *> params;
    for (const std::string &key : fhir::default_indexed_params()) {
        size_t slash = key.find('/');
        const fhir::SearchParamDef *p = registry.find(key.substr(0, slash), key.substr(slash + 1));
        if (p)
            params.push_back(p);
    }
    std::vector<fhir::IndexSpec> specs;
    for (const auto &s : specs_for(params))
        if (!s.sort_only) // made on demand by fhir.create_index
            specs.push_back(s);
    return specs;
}

} // namespace

// Creates the default set of indexes (also run at CREATE EXTENSION).
FHIR_FUNCTION(fhir_create_default_indexes) {
    fhir_pg::spi_connect();
    std::vector<std::string> created;
    for (const auto &s : default_index_specs(fhir_pg::current_registry())) {
        fhir_pg::spi_exec_sql(s.create_sql(false));
        created.push_back(s.name);
    }
    fhir_pg::spi_finish();
    return return_text_rows(fcinfo, created);
}

// The names of the default set's indexes, without creating them (upgrade scripts
// tell the install script's indexes from a DBA's by them).
FHIR_FUNCTION(fhir_default_index_names) {
    fhir_pg::spi_connect();
    std::vector<std::string> names;
    for (const auto &s : default_index_specs(fhir_pg::current_registry()))
        names.push_back(s.name);
    fhir_pg::spi_finish();
    return return_text_rows(fcinfo, names);
}

// Enables or disables a parameter; a disabled parameter is not extracted at write
// time and not searchable. Returns whether a re-index is needed to search it.
FHIR_FUNCTION(fhir_set_search_param_enabled) {
    std::string type = text_arg(fcinfo, 0);
    std::string code = text_arg(fcinfo, 1);
    bool enabled = PG_GETARG_BOOL(2);
    fhir_pg::spi_connect();
    const fhir::SearchParamDef *p = selected_params(fhir_pg::current_registry(), type, &code)[0];
    bool was_enabled = p->enabled;
    SPIPlanPtr plan = fhir_pg::prepare_cached(
        "INSERT INTO fhir.search_param_override (id, resource_type, code, enabled) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled",
        {INT4OID, TEXTOID, TEXTOID, BOOLOID});
    Datum v[4] = {Int32GetDatum(p->id), fhir_pg::text_datum(type), fhir_pg::text_datum(code), BoolGetDatum(enabled)};
    fhir_pg::spi_execute(plan, v, nullptr, false);
    fhir_pg::spi_finish();
    PG_RETURN_BOOL(enabled && !was_enabled);
}

namespace {

// Tells the DBA what a registry change means for resources stored before it: their
// search values are those of the previous definition until fhir.reindex(type).
void notice_reindex(const std::string &what, const std::string &type, const std::string &code,
                    const std::string &hint) {
    std::string message = "search parameter \"" + code + "\" of " + type + " " + what;
    const char *m = message.c_str();
    const char *h = hint.c_str();
    fhir_pg::pg_call([m, h] { ereport(NOTICE, (errmsg("%s", m), errhint("%s", h))); });
}

} // namespace

// Adds (or replaces) a custom SearchParameter for each of its base types; on a base
// where its code is a built-in one it overrides that built-in under the built-in's id
// (registry.h), so the stored values, token hashes and partial indexes of that id
// serve the override and come back to the built-in when it is dropped.
FHIR_FUNCTION(fhir_add_search_param) {
    Jsonb *def_jsonb = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(0); });
    fhir::Json def = fhir_pg::jsonb_to_json(def_jsonb);
    if (!def.is_object() || def.value("resourceType", std::string()) != "SearchParameter")
        throw Error(ErrorKind::InvalidResource, "expected a SearchParameter resource");
    std::string code = def.value("code", std::string());
    std::string type_name = def.value("type", std::string());
    fhir::ParamType type;
    if (code.empty() || !fhir::parse_param_type(type_name, &type))
        throw Error(ErrorKind::InvalidResource, "SearchParameter needs a code and a valid type");
    if (!def.contains("base") || !def["base"].is_array() || def["base"].empty())
        throw Error(ErrorKind::InvalidResource, "SearchParameter needs base resource types");
    std::string expression = def.value("expression", std::string());
    if (expression.empty() && type != fhir::ParamType::Special)
        throw Error(ErrorKind::InvalidResource, "SearchParameter needs an expression");
    if (!expression.empty())
        fhir::fhirpath::Expression::compile(expression); // reject what we cannot evaluate, now
    fhir_pg::spi_connect();
    // Every base is checked before any row is written, so a bad base changes nothing
    // (and the registry, reloaded after the first write, is not read past it).
    struct Change {
        std::string type;
        int builtin_id = 0;          // overriding this built-in, or 0 for a custom parameter
        std::string notice, hint;
    };
    std::vector<Change> changes;
    const fhir::Registry &registry = fhir_pg::current_registry();
    for (const auto &base : def["base"]) {
        Change change;
        change.type = base.is_string() ? base.get<std::string>() : std::string();
        if (!fhir::Registry::is_resource_type(change.type))
            throw Error(ErrorKind::UnknownResourceType, "unknown base resource type \"" + change.type + "\"");
        const std::string reindex = "fhir.reindex('" + change.type + "')";
        const fhir::SearchParamDef *existing = registry.find(change.type, code);
        if (existing && existing->id < fhir::kFirstCustomParamId) {
            fhir::SearchParamDef probe;
            probe.resource_type = change.type;
            probe.code = code;
            probe.type = type;
            registry.check_override(probe);
            change.builtin_id = existing->id;
            change.notice = existing->overrides_builtin ? "has a new custom definition in place of the built-in one"
                                                        : "now has a custom definition in place of the built-in one";
        } else {
            change.notice = existing ? "has a new definition" : "was added";
        }
        if (!existing)
            change.hint = change.type + " resources stored before are found by it only after " + reindex + ".";
        else if (existing->type != type)
            change.hint = std::string("Its type changes from ") + fhir::param_type_name(existing->type) + " to " +
                          type_name + ": " + change.type + " resources stored before are found by it only after " +
                          reindex + ", and fhir.create_index('" + change.type + "', '" + code +
                          "') builds the indexes of its new type.";
        else
            change.hint = change.type + " resources stored before keep the values of the previous definition until " +
                          reindex + ".";
        changes.push_back(std::move(change));
    }
    std::vector<std::string> added;
    for (const Change &change : changes) {
        Datum v[4] = {fhir_pg::text_datum(change.type), fhir_pg::text_datum(code), PointerGetDatum(def_jsonb),
                      Int32GetDatum(change.builtin_id)};
        if (change.builtin_id != 0) {
            // The built-in's id, whatever row (an enabled flag) it has already.
            SPIPlanPtr plan = fhir_pg::prepare_cached(
                "INSERT INTO fhir.search_param_override (id, resource_type, code, enabled, definition) "
                "VALUES ($4, $1, $2, true, $3) "
                "ON CONFLICT (resource_type, code) DO UPDATE SET definition = EXCLUDED.definition, enabled = true",
                {TEXTOID, TEXTOID, JSONBOID, INT4OID});
            fhir_pg::spi_execute(plan, v, nullptr, false);
        } else {
            SPIPlanPtr plan = fhir_pg::prepare_cached(
                "INSERT INTO fhir.search_param_override (id, resource_type, code, enabled, definition) "
                "VALUES (coalesce((SELECT id FROM fhir.search_param_override WHERE resource_type = $1 AND code = $2), "
                "nextval('fhir.custom_param_id_seq')), $1, $2, true, $3) "
                "ON CONFLICT (resource_type, code) DO UPDATE SET definition = EXCLUDED.definition, enabled = true",
                {TEXTOID, TEXTOID, JSONBOID});
            fhir_pg::spi_execute(plan, v, nullptr, false);
        }
        notice_reindex(change.notice, change.type, code, change.hint);
        added.push_back(change.type + "/" + code);
    }
    fhir_pg::spi_finish();
    return return_text_rows(fcinfo, added);
}

// Removes a custom SearchParameter from one base, or drops the override of a
// built-in there so that its R4 definition is in force again. The indexes only the
// dropped definition used (its partial indexes, when the one in force has others
// or none) are dropped with it; the values stored under its id are replaced at
// fhir.reindex(type), and until then never searched (a removed parameter) or
// searched with the built-in's conditions (a dropped override of the same type).
FHIR_FUNCTION(fhir_drop_search_param) {
    std::string type = text_arg(fcinfo, 0);
    std::string code = text_arg(fcinfo, 1);
    fhir_pg::spi_connect();
    const fhir::Registry &registry = fhir_pg::current_registry();
    const fhir::SearchParamDef *p = selected_params(registry, type, &code)[0];
    // Read before the first write: the registry is rebuilt once the override table changes.
    int id = p->id;
    bool overridden = p->overrides_builtin;
    if (id < fhir::kFirstCustomParamId && !overridden)
        throw Error(ErrorKind::InvalidResource, "search parameter \"" + code + "\" of " + type +
                                                    " is built in and has no custom definition to drop");
    std::vector<fhir::IndexSpec> dropped_specs = fhir::index_specs(*p);
    std::vector<fhir::IndexSpec> kept_specs;
    if (overridden)
        kept_specs = fhir::index_specs(*registry.replaced_builtin(type, code));
    SPIPlanPtr plan = fhir_pg::prepare_cached(
        overridden ? "UPDATE fhir.search_param_override SET definition = NULL WHERE id = $1"
                   : "DELETE FROM fhir.search_param_override WHERE id = $1",
        {INT4OID});
    Datum v[1] = {Int32GetDatum(id)};
    fhir_pg::spi_execute(plan, v, nullptr, false);
    std::vector<std::string> dropped_names;
    SPIPlanPtr exists = fhir_pg::prepare_cached("SELECT to_regclass($1) IS NOT NULL", {TEXTOID});
    for (const fhir::IndexSpec &spec : dropped_specs) {
        bool kept = spec.shared;
        for (const fhir::IndexSpec &have : kept_specs)
            kept = kept || have.name == spec.name;
        Datum name[1] = {fhir_pg::text_datum("fhir." + spec.name)};
        if (kept || fhir_pg::spi_execute(exists, name, nullptr, true) != 1 || !fhir_pg::spi_get_bool(0, 1))
            continue;
        fhir_pg::spi_exec_sql(spec.drop_sql(false));
        dropped_names.push_back(spec.name);
    }
    std::string dropped;
    for (const std::string &name : dropped_names)
        dropped += (dropped.empty() ? "" : ", ") + name;
    if (!dropped.empty())
        dropped = (dropped_names.size() == 1 ? " Dropped its index " : " Dropped its indexes ") + dropped + ".";
    const std::string reindex = "fhir.reindex('" + type + "')";
    if (overridden)
        notice_reindex("has its built-in definition again", type, code,
                       type + " resources stored before keep the values of the custom definition until " + reindex +
                           "." + dropped);
    else
        notice_reindex("was removed", type, code,
                       "Its values stay with the " + type + " resources stored before, never searched, until " +
                           reindex + "." + dropped);
    fhir_pg::spi_finish();
    return fhir_pg::text_datum(overridden ? "built-in restored" : "removed");
}

// Re-extracts search values of every resource of a type (or of all types).
FHIR_FUNCTION(fhir_reindex) {
    fhir_pg::spi_connect();
    uint64_t total = 0;
    if (PG_ARGISNULL(0)) {
        for (const std::string &type : fhir::Registry::resource_types())
            total += fhir_pg::reindex_type(type);
    } else {
        std::string type = text_arg(fcinfo, 0);
        if (!fhir::Registry::is_resource_type(type))
            throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + type + "\"");
        total = fhir_pg::reindex_type(type);
    }
    fhir_pg::spi_finish();
    PG_RETURN_INT64(static_cast<int64>(total));
}
