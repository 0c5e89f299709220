// conditional.cpp: conditional matching over the tokens GIN index.
//
// Conditional operations in practice use identifiers and ids (Synthea bundles
// use identifier=system|value), so this matcher accepts token, reference and uri
// parameters and _id, answered from fhir.resource.tokens; anything else is
// refused with a clear error rather than answered wrongly.
#include "conditional.h"

#include "cpp_wrapper.h"
#include "error.h"
#include "query_string.h"
#include "registry_cache.h"
#include "resource.h"
#include "spi.h"
#include "values.h"

namespace fhir_pg {

using fhir::Error;
using fhir::ErrorKind;
using fhir::TokenForm;

// The hashes any one of which satisfies `value` for a token-like parameter.
static int64_t token_value_hash(const fhir::SearchParamDef &param, const std::string &value) {
    if (param.type == fhir::ParamType::Reference)
        return fhir::token_hash(param.id, value.find('/') == std::string::npos ? TokenForm::ReferenceId
                                                                                : TokenForm::Reference,
                                value);
    if (param.type == fhir::ParamType::Uri)
        return fhir::token_hash(param.id, TokenForm::Uri, value);
    size_t bar = value.find('|');
    if (bar == std::string::npos)
        return fhir::token_hash(param.id, TokenForm::Code, value);
    if (bar == 0)
        return fhir::token_hash(param.id, TokenForm::NoSystemCode, value.substr(1));
    if (bar == value.size() - 1)
        return fhir::token_hash(param.id, TokenForm::System, value.substr(0, bar));
    return fhir::token_hash(param.id, TokenForm::SystemCode, value);
}

std::vector<std::string> match_conditional(const std::string &type, const std::string &query, long limit) {
    const fhir::Registry &registry = current_registry();
    std::vector<std::vector<int64_t>> groups;
    for (const fhir::QueryPair &pair : fhir::split_query_string(query)) {
        const fhir::SearchParamDef *param = registry.find(type, pair.name);
        if (!param || !param->enabled)
            throw Error(ErrorKind::UnknownParameter,
                        "unknown search parameter \"" + pair.name + "\" for " + type + " in conditional \"" + query + "\"");
        bool tokenish = param->type == fhir::ParamType::Token || param->type == fhir::ParamType::Reference ||
                        param->type == fhir::ParamType::Uri;
        if (!tokenish)
            throw Error(ErrorKind::UnsupportedFeature, "conditional operations support token, reference and uri "
                                                       "parameters only, not \"" + pair.name + "\"");
        std::vector<int64_t> any_of;
        for (const std::string &v : fhir::split_or_values(pair.value))
            any_of.push_back(token_value_hash(*param, v));
        groups.push_back(std::move(any_of));
    }
    if (groups.empty())
        throw Error(ErrorKind::InvalidSearch, "conditional \"" + query + "\" has no search parameters");

    std::string sql = "SELECT id FROM " + fhir::partition_table(type) + " WHERE rtype = $1";
    std::vector<Oid> types = {TEXTOID};
    for (size_t i = 0; i < groups.size(); i++) {
        sql += " AND tokens && $" + std::to_string(i + 2);
        types.push_back(INT8ARRAYOID);
    }
    sql += " ORDER BY id LIMIT " + std::to_string(limit);
    SPIPlanPtr plan = prepare_cached(sql, types);
    std::vector<Datum> values = {text_datum(type)};
    for (const auto &g : groups)
        values.push_back(int8_array(g));
    uint64_t n = spi_execute(plan, values.data(), nullptr, false);
    std::vector<std::string> ids;
    for (uint64_t r = 0; r < n; r++)
        ids.push_back(spi_get_text(r, 1));
    return ids;
}

} // namespace fhir_pg
