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
//
// A custom SearchParameter may replace a built-in one on a base (override_builtin):
// the entry keeps the built-in's id, so the side rows, token hashes (which embed
// the id) and partial indexes written under it stay attached, and dropping the
// override gives the same id back to the built-in definition. The replaced
// built-in stays reachable by its canonical URL, for composites naming it.
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
    // A custom definition replacing the built-in of the same (resource_type, code);
    // id is the built-in's.
    bool overrides_builtin = false;
};

// The set of search parameters in force. Built from the generated tables, then
// adjusted (enabled flags, custom parameters, overrides of built-ins) by the glue
// from fhir.search_param_override.
class Registry {
  public:
    // The generated R4 built-ins, all enabled except _text and _content (fulltext.h).
    static Registry builtin();

    // All R4 resource type names (generated), sorted.
    static const std::vector<std::string> &resource_types();
    static bool is_resource_type(std::string_view name);

    // Adds a custom parameter, or replaces the custom one with the same (type, code);
    // a built-in of that (type, code) is replaced only through override_builtin().
    void add(SearchParamDef def);
    // Replaces the built-in (def.resource_type, def.code) with a custom definition
    // that keeps the built-in's id (def.id must be 0 or that id). Parameters served
    // by the resource row itself (_id, _lastUpdated) or built by the extension
    // without an expression (_text, _content) cannot be replaced.
    void override_builtin(SearchParamDef def);
    // Throws what override_builtin(def) would throw, changing nothing.
    void check_override(const SearchParamDef &def) const;
    // The built-in definition an override replaced, or null when (type, code) is not overridden.
    const SearchParamDef *replaced_builtin(std::string_view resource_type, std::string_view code) const;
    const SearchParamDef *find(std::string_view resource_type, std::string_view code) const;
    const SearchParamDef *find_by_id(int id) const;
    // The entry in force with that canonical URL, else a built-in an override
    // replaced: a composite names its components by canonical URL and means
    // that definition, whatever now answers to the component's code.
    const SearchParamDef *find_by_url(std::string_view resource_type, std::string_view url) const;
    // Every entry for one resource type (including Resource/DomainResource common ones).
    std::vector<const SearchParamDef *> for_type(std::string_view resource_type) const;
    const std::vector<SearchParamDef> &all() const { return params_; }
    void set_enabled(int id, bool enabled);

    // True for types deriving from DomainResource (all but Bundle, Binary, Parameters).
    static bool is_domain_resource(std::string_view name);

  private:
    void index_entry(size_t pos);
    void replace_entry(size_t pos, SearchParamDef def);

    std::vector<SearchParamDef> params_;
    // Lookup indexes into params_, kept in step by add(); plain members so that
    // copying a Registry (builtin() hands out copies) copies them too.
    std::unordered_map<std::string, size_t> by_key_;              // "Type\x1fcode"
    std::unordered_map<std::string, size_t> by_url_;              // "Type\x1furl"
    std::unordered_map<int, size_t> by_id_;
    std::unordered_map<std::string, std::vector<size_t>> by_type_; // ordered by code
    // Built-ins replaced by override_builtin(), by "Type\x1fcode" and by "Type\x1furl"
    // (find_by_url falls back to them when no entry in force has the URL).
    std::vector<SearchParamDef> replaced_;
    std::unordered_map<std::string, size_t> replaced_by_key_;
    std::unordered_map<std::string, size_t> replaced_by_url_;
};

} // namespace fhir
