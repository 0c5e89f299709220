// search_includes.cpp: collect_includes() (search_includes.h). Top-level
// resources are found through fhir.search_reference; contained ones through
// their local "#id" references (siblings, containers).
#include "search_includes.h"

#include "cpp_wrapper.h"
#include "guc.h"
#include "registry_cache.h"
#include "resource.h"
#include "spi.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

// One _include/_revinclude directive after validation.
struct IncludeSpec {
    bool reverse = false;
    bool iterate = false;
    std::string source_type;                       // the resource type holding the reference
    std::vector<const fhir::SearchParamDef *> params; // reference parameters of source_type
    std::string target_type;                       // optional :Target ("" = every target of the parameter)
};

// Parses "Source:param[:Target]" (or "*" / "Source:*") of _include/_revinclude.
// `any_source`: the page's matches can be of any type (the containers of a
// _contained search), so a non-iterating _include may start from any type.
IncludeSpec parse_include(const std::string &name, const std::string &value, const std::string &searched_type,
                          bool any_source) {
    const fhir::Registry &registry = current_registry();
    IncludeSpec spec;
    spec.reverse = name.rfind("_revinclude", 0) == 0;
    spec.iterate = name.find(":iterate") != std::string::npos || name.find(":recurse") != std::string::npos;
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t colon = value.find(':', start);
        parts.push_back(value.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
        if (colon == std::string::npos)
            break;
        start = colon + 1;
    }
    if (parts.size() == 1 && parts[0] == "*") {
        parts = {spec.reverse ? "" : searched_type, "*"};
        if (spec.reverse)
            throw Error(ErrorKind::InvalidSearch, "_revinclude=* needs a source type, e.g. Observation:*");
    }
    if (parts.size() < 2 || parts.size() > 3 || !fhir::Registry::is_resource_type(parts[0]))
        throw Error(ErrorKind::InvalidSearch, "invalid " + name + " value '" + value + "': expected SourceType:parameter[:TargetType]");
    spec.source_type = parts[0];
    if (parts.size() == 3) {
        if (!fhir::Registry::is_resource_type(parts[2]))
            throw Error(ErrorKind::InvalidSearch, "unknown target type '" + parts[2] + "' in " + name);
        spec.target_type = parts[2];
    }
    if (parts[1] == "*") {
        for (const fhir::SearchParamDef *p : registry.for_type(spec.source_type))
            if (p->enabled && p->type == fhir::ParamType::Reference)
                spec.params.push_back(p);
    } else {
        const fhir::SearchParamDef *p = registry.find(spec.source_type, parts[1]);
        if (!p || !p->enabled || p->type != fhir::ParamType::Reference)
            throw Error(ErrorKind::InvalidSearch,
                        "'" + parts[1] + "' is not a reference search parameter of " + spec.source_type + " (in " + name + ")");
        spec.params.push_back(p);
    }
    if (!spec.reverse && !spec.iterate && !any_source && spec.source_type != searched_type)
        throw Error(ErrorKind::InvalidSearch,
                    name + "=" + value + " does not start from the searched type " + searched_type + " (use :iterate)");
    return spec;
}

// Copies the jsonb in column `col` of SPI result row `r` out of SPI's memory.
Datum copied_jsonb(uint64_t r, int col) {
    Datum c = spi_get_datum(r, col);
    return pg_call([c] { return PointerGetDatum(DatumGetJsonbPCopy(c)); });
}

// Contained resources found by a statement returning (rid, rtype, id,
// container_type, container_id, content).
void add_contained_rows(SPIPlanPtr plan, Datum *values, std::vector<Included> *out) {
    uint64_t n = spi_execute(plan, values, nullptr, true);
    for (uint64_t r = 0; r < n; r++) {
        Included inc{spi_get_int64(r, 1), spi_get_text(r, 2), spi_get_text(r, 3), copied_jsonb(r, 6)};
        inc.contained = true;
        inc.container_type = spi_get_text(r, 4);
        inc.container_id = spi_get_text(r, 5);
        out->push_back(std::move(inc));
    }
}

// The local-reference test: `holder`'s tokens hold Reference("#" || <local>.id)
// for reference parameter `param` (extract.cpp stores "#id" references as written).
std::string holds_local_reference(const std::string &holder, int param, const std::string &local) {
    return holder + ".tokens @> ARRAY[fhir.token_hash(" + std::to_string(param) + ", " +
           std::to_string(static_cast<int>(fhir::TokenForm::Reference)) + ", '#' || " + local + ".id)]";
}

// The contained siblings of type `type` of contained resources `rids`: those
// `rids` reference through `param` as "#id" (`forward`), or those referencing
// `rids` so (not forward). Siblings share a container, which the search saw, so
// they are read directly.
void add_siblings(int param, const std::vector<int64_t> &rids, const std::string &type, bool forward,
                  std::vector<Included> *out) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT DISTINCT s.rid, s.rtype, s.id, s.container_type, s.container_id, s.content "
        "FROM fhir.contained_resource f JOIN fhir.contained_resource s ON s.container_rid = f.container_rid AND s.rid <> f.rid "
        "WHERE f.rid = ANY($1) AND s.rtype = $2 AND " +
            (forward ? holds_local_reference("f", param, "s") : holds_local_reference("s", param, "f")) +
            " ORDER BY s.rid LIMIT 1000",
        {INT8ARRAYOID, TEXTOID});
    Datum v[2] = {int8_array(rids), text_datum(type)};
    add_contained_rows(plan, v, out);
}

// Local references of contained resources `rids` (of the directive's source
// type) to their siblings of type `target`.
void include_siblings(int param, const std::vector<int64_t> &rids, const std::string &target, std::vector<Included> *out) {
    add_siblings(param, rids, target, /*forward=*/true, out);
}

// What references contained resources `rids` through `param` of `source`:
// only their container and its other contained resources can (as "#id").
void revinclude_local(int param, const std::string &source, const std::vector<int64_t> &rids, std::vector<Included> *out) {
    SPIPlanPtr containers = prepare_cached(
        "SELECT DISTINCT o.rid, o.id, o.content FROM fhir.contained_resource f JOIN " + fhir::partition_table(source) +
            " o ON o.rid = f.container_rid WHERE f.rid = ANY($1) AND " + holds_local_reference("o", param, "f") +
            " ORDER BY o.rid LIMIT 1000",
        {INT8ARRAYOID});
    Datum v[1] = {int8_array(rids)};
    uint64_t n = spi_execute(containers, v, nullptr, true);
    for (uint64_t r = 0; r < n; r++)
        out->push_back({spi_get_int64(r, 1), source, spi_get_text(r, 2), copied_jsonb(r, 3)});
    add_siblings(param, rids, source, /*forward=*/false, out);
}

// Resources of this page referenced by (or referencing) `from`, per one directive.
// Top-level resources are found through search_reference by rid (forward; the
// rows of contained resources are there too) or by type and id (reverse);
// contained ones through their local "#id" references (siblings, containers).
void include_step(const IncludeSpec &spec, const std::vector<Included> &from, std::vector<Included> *out) {
    for (const fhir::SearchParamDef *param : spec.params) {
        if (spec.reverse) {
            // Sources whose reference param points at one of `from`: one statement
            // per target type present in `from`. A contained resource has no
            // type/id of its own outside its container.
            std::map<std::string, std::vector<std::string>> by_type;
            std::vector<int64_t> contained_rids;
            for (const Included &f : from) {
                if (!spec.target_type.empty() && f.type != spec.target_type)
                    continue;
                if (f.contained)
                    contained_rids.push_back(f.rid);
                else
                    by_type[f.type].push_back(f.id);
            }
            for (const auto &[type, type_ids] : by_type) {
                SPIPlanPtr plan = prepare_cached(
                    "SELECT DISTINCT s.rid, s.id, s.content FROM fhir.search_reference x JOIN " +
                        fhir::partition_table(spec.source_type) + " s ON s.rid = x.rid "
                        "WHERE x.param = " + std::to_string(param->id) + " AND x.target_type = $1 AND x.target_id = ANY($2) "
                        "ORDER BY s.rid LIMIT 1000",
                    {TEXTOID, TEXTARRAYOID});
                Datum v[2] = {text_datum(type), text_array(type_ids)};
                uint64_t n = spi_execute(plan, v, nullptr, true);
                for (uint64_t r = 0; r < n; r++)
                    out->push_back({spi_get_int64(r, 1), spec.source_type, spi_get_text(r, 2), copied_jsonb(r, 3)});
            }
            if (!contained_rids.empty())
                revinclude_local(param->id, spec.source_type, contained_rids, out);
        } else {
            std::vector<int64_t> rids, contained_rids;
            for (const Included &f : from) {
                if (f.type != spec.source_type)
                    continue;
                rids.push_back(f.rid);
                if (f.contained)
                    contained_rids.push_back(f.rid);
            }
            if (rids.empty())
                continue;
            std::vector<std::string> targets = spec.target_type.empty() ? param->targets
                                                                         : std::vector<std::string>{spec.target_type};
            for (const std::string &target : targets) {
                if (!fhir::Registry::is_resource_type(target))
                    continue;
                SPIPlanPtr plan = prepare_cached(
                    "SELECT DISTINCT t.rid, t.id, t.content FROM fhir.search_reference x JOIN " +
                        fhir::partition_table(target) + " t ON t.rtype = $2 AND t.id = x.target_id "
                        "WHERE x.rid = ANY($1) AND x.param = " + std::to_string(param->id) + " AND x.target_type = $2 "
                        "ORDER BY t.rid LIMIT 1000",
                    {INT8ARRAYOID, TEXTOID});
                Datum v[2] = {int8_array(rids), text_datum(target)};
                uint64_t n = spi_execute(plan, v, nullptr, true);
                for (uint64_t r = 0; r < n; r++)
                    out->push_back({spi_get_int64(r, 1), target, spi_get_text(r, 2), copied_jsonb(r, 3)});
                if (!contained_rids.empty())
                    include_siblings(param->id, contained_rids, target, out);
            }
        }
    }
}

// The page's matches as include sources: of the searched type, or (a
// _contained search) containers of any type, or contained resources of the
// searched type whose entry id is "containerId#localid".
std::vector<Included> page_resources(const SearchStatement &st, const Page &page) {
    const bool contained_entries =
        st.query.contained != fhir::ContainedMode::False && st.query.contained_type == fhir::ContainedType::Contained;
    std::vector<Included> out;
    for (size_t i = 0; i < page.rids.size(); i++) {
        Included inc{page.rids[i], st.type, page.ids[i], page.contents[i]};
        size_t hash = page.ids[i].find('#'); // never in a resource id
        if (contained_entries && hash != std::string::npos) {
            inc.contained = true;
            inc.container_type = page.types[i];
            inc.container_id = page.ids[i].substr(0, hash);
            inc.id = page.ids[i].substr(hash + 1);
        } else if (st.query.contained != fhir::ContainedMode::False) {
            inc.type = page.types[i]; // a container, or a top-level match (both)
        }
        out.push_back(std::move(inc));
    }
    return out;
}

} // namespace

std::vector<Included> collect_includes(const SearchStatement &st, const Page &page, std::string *limit_note) {
    const bool containers =
        st.query.contained != fhir::ContainedMode::False && st.query.contained_type == fhir::ContainedType::Container;
    std::vector<IncludeSpec> specs;
    for (const auto &r : st.query.result_params)
        if (r.name.rfind("_include", 0) == 0 || r.name.rfind("_revinclude", 0) == 0)
            specs.push_back(parse_include(r.name, r.value, st.type, containers));
    std::vector<Included> result;
    if (specs.empty() || page.rids.empty())
        return result;
    std::set<std::string> seen;
    std::vector<Included> frontier = page_resources(st, page);
    for (const Included &match : frontier)
        seen.insert(match.path());
    const bool iterate = std::any_of(specs.begin(), specs.end(), [](const IncludeSpec &s) { return s.iterate; });
    const size_t max_included = guc_max_included > 0 ? static_cast<size_t>(guc_max_included) : SIZE_MAX;
    // One round beyond the last allowed one, run only to tell whether the rounds limit cut anything.
    for (int round = 0; round <= guc_max_include_rounds && !frontier.empty(); round++) {
        std::vector<Included> found;
        for (const IncludeSpec &spec : specs)
            if (round == 0 || spec.iterate)
                include_step(spec, frontier, &found);
        std::vector<Included> next;
        for (Included &inc : found)
            if (seen.insert(inc.path()).second)
                next.push_back(inc);
        if (round == guc_max_include_rounds) {
            if (!next.empty())
                *limit_note = "_include:iterate stopped after fhir_search.max_include_rounds (" +
                              std::to_string(guc_max_include_rounds) + ") rounds; more resources would be included";
            break;
        }
        if (result.size() + next.size() > max_included) {
            next.resize(max_included - result.size());
            result.insert(result.end(), next.begin(), next.end());
            *limit_note = "included resources cut at fhir_search.max_included (" + std::to_string(max_included) +
                          "); more would be included";
            break;
        }
        result.insert(result.end(), next.begin(), next.end());
        frontier = std::move(next);
        if (!iterate)
            break;
    }
    return result;
}

} // namespace fhir_pg
