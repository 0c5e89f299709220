// search_explain.cpp: fhir.explain(): the SQL a search runs, its bound values,
// its plan (EXPLAIN ANALYZE of the page's first statement) and the indexes used.
#include "cpp_wrapper.h"
#include "pg_json.h"
#include "query_string.h"
#include "result_cache.h"
#include "search_pages.h"
#include "search_plan.h"
#include "spi.h"

#include <algorithm>
#include <functional>

namespace fhir_pg {
namespace {

// The explain document of a search: SQL, parameters, plan, indexes used.
Datum run_explain(const std::string &type, const std::string &raw_query) {
    spi_connect();
    const int settings = search_settings_push();
    SearchStatement st = plan_search(type, raw_query);
    build_search_where(st);
    BoundQuery q = first_page_query(st);
    const std::string &sql = q.sql;
    SPIPlanPtr plan = prepare_cached("EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS) " + sql, q.types);
    spi_execute(plan, q.values.data(), nullptr, false);
    fhir::Json plan_json = fhir::Json::parse(spi_get_text(0, 1), nullptr, false);
    std::vector<std::string> indexes;
    std::function<void(const fhir::Json &)> walk = [&](const fhir::Json &node) {
        if (node.is_object()) {
            if (node.contains("Index Name") && node["Index Name"].is_string())
                indexes.push_back(node["Index Name"].get<std::string>());
            for (auto it = node.begin(); it != node.end(); ++it)
                walk(*it);
        } else if (node.is_array()) {
            for (const auto &child : node)
                walk(child);
        }
    };
    walk(plan_json);
    std::sort(indexes.begin(), indexes.end());
    indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
    fhir::Json doc = {{"resourceType", type.empty() ? fhir::Json(nullptr) : fhir::Json(type)},
                      {"query", raw_query},
                      {"sql", sql},
                      {"parameters", q.shown},
                      {"indexes", indexes},
                      {"cache", cache::available() ? "available: see fhir.last_search() after fhir.search() for HIT/MISS"
                                                   : cache::unavailable_reason()},
                      {"plan", plan_json}};
    Datum result = json_to_jsonb(doc);
    result = pg_call([result] { return SPI_datumTransfer(result, false, -1); });
    search_settings_pop(settings);
    spi_finish();
    return result;
}

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_explain) {
    const std::string type = fhir_pg::optional_text_arg(fcinfo, 0);
    const std::string query(fhir::query_of_url(fhir_pg::optional_text_arg(fcinfo, 1)));
    return fhir_pg::run_explain(type, query);
}
