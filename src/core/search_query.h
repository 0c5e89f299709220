// search_query.h: a FHIR R4 search query string, parsed and validated.
//
// parse_search_query() turns "name:exact=Eve&birthdate=ge1970,lt1960&_count=10"
// for one resource type into AND-ed clauses of OR-ed, typed values, checked
// against the registry, so that search_sql.h only has to translate. Every
// parameter name is resolved to its registry entry (forward chains
// `subject:Patient.name` and reverse chains `_has:Observation:patient:code` are
// resolved link by link), every modifier is checked against the parameter type
// and every value is parsed by type (prefix, date range, decimal range, token,
// quantity, reference, composite).
//
// Error policy (https://hl7.org/fhir/R4/search.html#errors):
//   - A parameter the server does not know (unknown, disabled, or unknown at the
//     end of a chain) is UnknownParameter when strict; when lenient it is listed
//     in `ignored` with the reason and the search runs without it. The reason
//     for a disabled one (_text and _content are disabled by default) names the
//     calls that enable it.
//   - A known parameter we cannot search at all (_filter, _query, special
//     parameters such as `near`, parameters without an expression other than
//     _text/_content) is UnsupportedFeature when strict, ignored when lenient.
//   - A supported parameter is never partially ignored: an unsupported modifier
//     (reference :above/:below, any but :missing on _text/_content) or value
//     form (composites with a string component, functional lists such as
//     `_list=$current-allergies`) is always UnsupportedFeature, and a malformed
//     modifier or value is always InvalidSearch, because dropping either would
//     silently widen the result (R4: servers reject unsupported modifiers).
// _text/_content values are text for websearch_to_tsquery (words, "phrases",
// OR, -word), kept in SearchValue::text; a value without any letter or digit is
// InvalidSearch. Composite values are split on '$'; a range component's part
// is parsed as a value of that component's own parameter (prefix included).
//   - A parameter whose value is empty ("name=") is ignored (reason recorded).
//   - A value with a backslash that escapes nothing FHIR defines (a lone "\",
//     "\x") is InvalidSearch when strict; when lenient the parameter is listed
//     in `ignored` (the Bundle's OperationOutcome says so) and the search runs
//     without it.
// Token :in/:not-in (a ValueSet), token :above/:below (system|code) and `_list`
// (a List id) are parsed here but need stored resources to mean anything: the
// caller fills SearchValue::codings / ::ids with search_resolve.h before
// build_where(), which refuses clauses left unresolved.
// A forward chain link without ":Type" infers the target type when the reference
// parameter has one target, or when exactly one of its targets has the next
// parameter in the chain (Observation?patient.name= goes to Patient, because
// Group has no `name`); otherwise it is InvalidSearch asking for ":Type".
// Result parameters (_count, _sort, _include, ...) are collected verbatim in
// `result_params`; _count, _sort, _contained and _containedType are also
// validated and parsed (each may be given once; a bad value is InvalidSearch).
#pragma once

#include "query_string.h"
#include "registry.h"
#include "values.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

enum class SearchModifier {
    None,
    Missing,    // all types
    Exact,      // string
    Contains,   // string
    Text,       // token
    Not,        // token
    OfType,     // token (Identifier)
    Above,      // uri; token (subsumption: the code and its ancestors); reference: unsupported
    Below,      // uri; token (subsumption: the code and its descendants); reference: unsupported
    In,         // token: a coding in the value set (canonical url[|version] or ValueSet/id)
    NotIn,      // token: no coding in the value set (like :not, also resources without a value)
    Identifier, // reference
    Type,       // reference ":[type]", the type in SearchClause::modifier_type
};

// The modifier's spelling in a query (":exact" without the colon; "" for None/Type).
const char *search_modifier_name(SearchModifier modifier);

enum class SearchPrefix { Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap };

// The prefix's two-letter spelling.
const char *search_prefix_name(SearchPrefix prefix);

// A token value "[system]|[code]" (escapes removed).
struct TokenValue {
    std::string system;
    std::string code;
    bool has_bar = false; // "|code" (no system) and "system|" (any code) need it
};

// A code of a code system, as value sets and code system hierarchies list them.
struct Coding {
    std::string system; // "" only in expansions that leave it out
    std::string code;
};
inline bool operator<(const Coding &a, const Coding &b) {
    return a.system != b.system ? a.system < b.system : a.code < b.code;
}
inline bool operator==(const Coding &a, const Coding &b) { return a.system == b.system && a.code == b.code; }

// A quantity value "[number]|[system]|[code]" (or "[number]||[code]", or "[number]").
struct QuantityValue {
    DecimalRange number;
    std::string system; // "" = any system
    std::string code;   // "" = any unit; without a system it matches code or unit
};

// A reference value: "Type/id", an absolute URL/URN/canonical, or a bare id.
struct ReferenceValue {
    std::string literal; // matched as written (Reference form); empty for a bare id
    std::string id;      // bare id (ReferenceId form), or the id part of "Type/id"
    std::string type;    // "Type" of "Type/id" or of the :Type modifier; may be empty
};

// One OR-ed value, parsed by the parameter type. Only the member of that type is set.
struct SearchValue {
    std::string raw;                     // the value as written (after OR splitting)
    SearchPrefix prefix = SearchPrefix::Eq; // number, date, quantity only
    bool missing = false;                // :missing=true
    DateRange date;                      // date
    DecimalRange number;                 // number
    TokenValue token;                    // token; reference :identifier; composite components
    QuantityValue quantity;              // quantity
    ReferenceValue reference;            // reference
    std::string text;                    // string (as written, unescaped), uri, token :text, _text/_content,
                                         // token :in/:not-in (the value set), _list (the List id)
    std::vector<std::string> of_type;    // token :of-type: type system, type code, value
    std::vector<SearchValue> components; // composite, one per component (range ones parsed by their type)
    // Filled from stored resources after parsing (search_resolve.h), never by the parser:
    bool resolved = false;
    std::vector<Coding> codings;         // token :in/:not-in (expansion), :above/:below (subsumption)
    std::vector<std::string> ids;        // _list: ids of the listed resources of the clause's type
};

// One step of a chain. Forward: from the current type along the reference
// parameter `param` to `type`. Reverse (_has): from the current type to resources
// of `type` whose reference parameter `param` (a parameter of `type`) points back.
struct ChainLink {
    bool reverse = false;
    const SearchParamDef *param = nullptr;
    std::string type;
};

// One AND-ed parameter: a path of links, then a parameter of the type reached,
// its modifier and OR-ed values.
struct SearchClause {
    std::string name; // as written, e.g. "subject:Patient.name:exact"
    std::vector<ChainLink> chain;
    std::string target_type; // the type `param` belongs to (the searched type when no chain)
    const SearchParamDef *param = nullptr;
    SearchModifier modifier = SearchModifier::None;
    std::string modifier_type; // for SearchModifier::Type
    std::vector<SearchValue> values; // OR-ed; never empty
    // Composite only: the component parameters, in definition order.
    std::vector<const SearchParamDef *> components;
    // `_list`: values are List ids; `param` is the type's _id (matches are ids).
    bool list = false;
};

struct SortKey {
    const SearchParamDef *param = nullptr;
    bool descending = false;
};

struct ResultParam {
    std::string name; // including any modifier, e.g. "_include:iterate"
    std::string value;
};

struct IgnoredParam {
    std::string name;
    std::string value;
    std::string reason; // lowercase sentence for an OperationOutcome warning
};

// _contained (R4 search "Contained resources"): which resources are searched:
// top-level ones only (the default), contained ones only, or both.
enum class ContainedMode { False, True, Both };

// _containedType: what a matching contained resource puts in the result: its
// container (the default) or itself.
enum class ContainedType { Container, Contained };

struct SearchQuery {
    std::string resource_type;
    std::vector<SearchClause> clauses; // AND-ed
    std::vector<ResultParam> result_params;
    std::optional<int> count; // _count
    std::vector<SortKey> sort; // _sort, in order
    ContainedMode contained = ContainedMode::False;             // _contained
    ContainedType contained_type = ContainedType::Container;    // _containedType
    std::vector<IgnoredParam> ignored;
};

// Limits on a search (issue 16): process-wide plain data, which the glue points
// the GUCs fhir_search.max_query_length, max_query_parameters and max_chain_depth
// at. Exceeding one is an Error(InvalidSearch); 0 means no limit for the first two.
struct SearchLimits {
    int max_query_length = 65536; // bytes of the query string as sent
    int max_parameters = 256;     // name=value pairs
    int max_chain_depth = 4;      // chain and _has links of one parameter
};
extern SearchLimits search_limits;

// Parses a query string (percent-encoded, optional leading '?') for `resource_type`.
// Throws fhir::Error as described in the file comment; UnknownResourceType when
// the type is not an R4 resource type.
SearchQuery parse_search_query(const Registry &registry, std::string_view resource_type, std::string_view query,
                               bool strict);

// The same for pairs already split and decoded (e.g. from a POST body).
SearchQuery parse_search_pairs(const Registry &registry, std::string_view resource_type,
                               const std::vector<QueryPair> &pairs, bool strict);

// Composite component types: token-like components (token, reference, uri) are
// matched by hash, range components (number, quantity, date) by value.
// _count's value (search's and history's): a positive int; Error(InvalidSearch) otherwise.
int parse_count(const std::string &value);

// A date search value without its prefix, as parse_date_range reads it, after
// restoring the '+' of a time-zone offset that arrived as a space (query_string.h).
std::optional<DateRange> parse_search_date(std::string text);

bool is_token_like(ParamType type);
bool is_range_type(ParamType type);

// True for the parameter names that shape results rather than select resources.
bool is_result_parameter(std::string_view name);

} // namespace fhir
