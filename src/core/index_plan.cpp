// index_plan.cpp: index names and DDL per search parameter (see index_plan.h).
#include "index_plan.h"

#include "fulltext.h"
#include "resource.h"

namespace fhir {

std::string IndexSpec::create_sql(bool concurrently) const {
    return std::string("CREATE INDEX ") + (concurrently ? "CONCURRENTLY " : "") + "IF NOT EXISTS " + name + " ON " +
           table + " " + definition;
}

std::string IndexSpec::drop_sql(bool concurrently) const {
    return std::string("DROP INDEX ") + (concurrently ? "CONCURRENTLY " : "") + "IF EXISTS fhir." + name;
}

// A partial index on one side table for one parameter.
static IndexSpec side_index(const std::string &table, int param_id, const std::string &suffix,
                            const std::string &columns) {
    IndexSpec spec;
    spec.name = table + "_p" + std::to_string(param_id) + suffix + "_idx";
    spec.table = "fhir." + table;
    spec.definition = "(" + columns + ") WHERE param = " + std::to_string(param_id);
    return spec;
}

std::vector<IndexSpec> index_specs(const SearchParamDef &param) {
    std::vector<IndexSpec> specs;
    const std::string partition = partition_name(param.resource_type);
    if (param.code == "_id") {
        IndexSpec pk;
        pk.name = partition + "_pkey";
        pk.table = "fhir." + partition;
        pk.definition = "(rtype, id)";
        pk.shared = pk.permanent = true;
        specs.push_back(pk);
        return specs;
    }
    if (param.code == "_lastUpdated") {
        IndexSpec lu;
        lu.name = partition + "_last_updated_idx";
        lu.table = "fhir." + partition;
        lu.definition = "(last_updated) INCLUDE (rid)";
        lu.shared = true;
        specs.push_back(lu);
        return specs;
    }
    if (full_text_kind(param) != FullTextKind::None) {
        IndexSpec gin;
        gin.name = "search_text_doc_idx";
        gin.table = "fhir.search_text";
        gin.definition = "USING gin (doc)";
        gin.shared = true;
        specs.push_back(gin);
        return specs;
    }
    auto tokens_index = [&] {
        IndexSpec gin;
        gin.name = partition + "_tokens_idx";
        gin.table = "fhir." + partition;
        gin.definition = "USING gin (tokens)";
        gin.shared = true;
        return gin;
    };
    // Btrees on a side table's value and rid, one per direction: range and prefix
    // conditions use either, and a _sort on the parameter walks the one whose
    // order is (key, rid) in its direction (sort_sql.h), so a page stops after
    // its rows. Ties go by rid ascending in both directions, which one index
    // scanned backwards cannot give.
    // The descending one only serves descending sorts, so the default set leaves
    // it out (one more btree entry per value at every write).
    auto sort_pair = [&](const std::string &table, const std::string &key) {
        specs.push_back(side_index(table, param.id, "_asc", key + ", rid"));
        specs.push_back(side_index(table, param.id, "_desc", key + " DESC, rid"));
        specs.back().sort_only = true;
    };
    switch (param.type) {
    case ParamType::String:
        sort_pair("search_string", "norm");
        break;
    case ParamType::Uri:
        specs.push_back(tokens_index());
        sort_pair("search_string", "norm");
        break;
    case ParamType::Date:
        // (lo, rid, hi): lo ranges, with hi checked in the index, and _sort ascending
        // in (key, rid) order; (hi DESC, rid): hi ranges and _sort descending.
        specs.push_back(side_index("search_date", param.id, "_lo", "lo, rid, hi"));
        specs.push_back(side_index("search_date", param.id, "_hi", "hi DESC, rid"));
        // (rid, lo, hi): the parameter's rows in rid order, with both bounds in the
        // index, for first pages of conditions no bound range serves (ge + lt
        // tested on one row: docs/architecture.md, "Date searches").
        specs.push_back(side_index("search_date", param.id, "_rid", "rid, lo, hi"));
        break;
    case ParamType::Number:
        sort_pair("search_number", "value");
        break;
    case ParamType::Quantity:
        sort_pair("search_quantity", "value");
        break;
    case ParamType::Reference:
        // The GIN index serves the conditions; the btrees only _sort, on the same
        // expression as the sort key.
        specs.push_back(tokens_index());
        sort_pair("search_reference", "(target_type || '/' || target_id)");
        specs[specs.size() - 2].sort_only = true;
        break;
    case ParamType::Token:
    case ParamType::Composite:
        specs.push_back(tokens_index());
        break;
    case ParamType::Special:
        break;
    }
    return specs;
}

const std::vector<std::string> &default_indexed_params() {
    // The searches every FHIR client makes; token/reference conditions are always
    // served by the per-type GIN index and need no entry here (a reference's _sort
    // btrees are made on demand with fhir.create_index).
    static const std::vector<std::string> params = {
        "Patient/name",          "Patient/family",        "Patient/given",       "Patient/birthdate",
        "Practitioner/name",     "Organization/name",     "Observation/date",    "Observation/value-quantity",
        "Encounter/date",        "Condition/onset-date",  "Condition/recorded-date",
        "MedicationRequest/authoredon", "Procedure/date", "DiagnosticReport/date", "Immunization/date",
    };
    return params;
}

} // namespace fhir
