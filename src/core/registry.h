// registry.h: the FHIR R4 resource types and search parameters the core knows.
//
// The built-in part is generated from the official R4 definitions by
// tools/gen_registry.py into src/core/generated/r4_registry.cpp (committed; run
// `make regenerate` to rebuild it). Each search parameter is listed once per base
// resource type, with the part of its FHIRPath expression that applies to that
// type, so the extractor never sees alternatives for other types.
//
// Parameter ids are stable: built-in ids are assigned by the generator in sorted
// (resource type, code) order and never exceed kFirstCustomParamId; custom
// SearchParameters get ids from kFirstCustomParamId up. Ids are stored in the
// search side tables, so changing the numbering requires a re-index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fhir {

enum class ParamType { Number, Date, String, Token, Reference, Composite, Quantity, Uri, Special };

const char *param_type_name(ParamType type);
bool parse_param_type(std::string_view name, ParamType *out);

constexpr int kFirstCustomParamId = 100000;

struct CompositeComponent {
    std::string definition; // canonical URL of the component's SearchParameter
    std::string expression; // FHIRPath relative to the composite's node
};

struct SearchParamDef {
    int id = 0;                       // stable id, unique per (resource_type, code)
    std::string resource_type;        // the base type this entry applies to, e.g. "Observation"
    std::string code;                 // the name used in queries, e.g. "code", "_id"
    ParamType type = ParamType::Token;
    std::string expression;           // FHIRPath for this resource type only ("" = none)
    std::string url;                  // canonical URL of the SearchParameter
    std::vector<std::string> targets; // reference targets, e.g. {"Patient","Group"}
    std::vector<std::string> modifiers;
    std::vector<std::string> comparators;
    std::vector<CompositeComponent> components;
    bool enabled = true;              // disabled parameters are neither extracted nor searchable
    // A number/quantity parameter (or composite component) whose values may be
    // Ranges: generated for built-ins, true for custom parameters (an untyped
    // path may reach one). Searches add the span condition only then (search_sql.h).
    bool may_hold_ranges = false;
};

// The set of search parameters in force. Built from the generated tables, then
// adjusted (enabled flags, custom parameters) by the glue from fhir.search_param.
class Registry {
  public:
    // The generated R4 built-ins, all enabled except _text and _content (fulltext.h).
    static Registry builtin();

    // All R4 resource type names (generated), sorted.
    static const std::vector<std::string> &resource_types();
    static bool is_resource_type(std::string_view name);

    void add(SearchParamDef def);                     // replaces an entry with the same (type, code)
    const SearchParamDef *find(std::string_view resource_type, std::string_view code) const;
    const SearchParamDef *find_by_id(int id) const;
    const SearchParamDef *find_by_url(std::string_view resource_type, std::string_view url) const;
    // Every entry for one resource type (including Resource/DomainResource common ones).
    std::vector<const SearchParamDef *> for_type(std::string_view resource_type) const;
    const std::vector<SearchParamDef> &all() const { return params_; }
    void set_enabled(int id, bool enabled);

    // True for types deriving from DomainResource (all but Bundle, Binary, Parameters).
    static bool is_domain_resource(std::string_view name);

  private:
    void index_entry(size_t pos);

    std::vector<SearchParamDef> params_;
    // Lookup indexes into params_, kept in step by add(); plain members so that
    // copying a Registry (builtin() hands out copies) copies them too.
    std::unordered_map<std::string, size_t> by_key_;              // "Type\x1fcode"
    std::unordered_map<std::string, size_t> by_url_;              // "Type\x1furl"
    std::unordered_map<int, size_t> by_id_;
    std::unordered_map<std::string, std::vector<size_t>> by_type_; // ordered by code
};

} // namespace fhir
