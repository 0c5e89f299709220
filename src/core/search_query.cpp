// search_query.cpp: parsing and validating FHIR search query strings.
//
// The work is in three steps per name=value pair: classify the name (result
// parameter, unsupported feature, or search parameter), resolve the search
// parameter's path (chains and _has) against the registry, then check the
// modifier and parse each OR-ed value by type. A resolution failure that the
// lenient mode may skip is raised internally as Skip and turned into an error or
// an `ignored` entry in one place (see the error policy in search_query.h).
#include "search_query.h"

#include "error.h"
#include "fulltext.h"
#include "resource.h"

#include <algorithm>
#include <climits>
#include <utility>

namespace fhir {

SearchLimits search_limits;

namespace {

// A parameter the lenient mode may drop: its error kind and reason.
struct Skip {
    ErrorKind kind;
    std::string reason;
};

// Names that shape the result set; collected raw (plus _count/_sort parsing).
const char *const kResultParams[] = {"_count",   "_sort",    "_include",   "_revinclude", "_summary",
                                     "_elements", "_total",  "_contained", "_containedType", "_format",
                                     "_pretty",  "_offset",    "_cursor"};

// Whole-query features we do not implement (they are not search parameters).
const char *const kUnsupportedNames[] = {"_filter", "_query", "_type"};

// Removes FHIR's search escapes ("\\", "\,", "\$", "\|") from a value piece.
std::string unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\\' && i + 1 < text.size() &&
            (text[i + 1] == '\\' || text[i + 1] == ',' || text[i + 1] == '$' || text[i + 1] == '|')) {
            out.push_back(text[i + 1]);
            i++;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// Splits on `sep` where it is not escaped by a backslash; pieces keep their escapes.
std::vector<std::string> split_unescaped(std::string_view text, char sep) {
    std::vector<std::string> pieces(1);
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            pieces.back().push_back(text[i]);
            pieces.back().push_back(text[i + 1]);
            i++;
        } else if (text[i] == sep) {
            pieces.emplace_back();
        } else {
            pieces.back().push_back(text[i]);
        }
    }
    return pieces;
}

// Quotes a name or value for an error message.
std::string q(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// Looks up an enabled parameter; disabled ones count as unknown.
const SearchParamDef *find_enabled(const Registry &registry, std::string_view type, std::string_view code) {
    const SearchParamDef *def = registry.find(type, code);
    return def && def->enabled ? def : nullptr;
}

// The Skip for a parameter `type` has no enabled entry for: unknown, or disabled
// by the DBA (or by default, like _text and _content), saying how to enable it.
Skip unknown(const Registry &registry, std::string_view type, std::string_view code) {
    const SearchParamDef *def = registry.find(type, code);
    const std::string t(type);
    if (def && !def->enabled)
        return {ErrorKind::UnknownParameter, "search parameter " + q(code) + " of " + t +
                                                 " is disabled; enable it with fhir.set_search_param_enabled('" + t +
                                                 "', '" + def->code + "', true), then run fhir.reindex('" + t + "')"};
    return {ErrorKind::UnknownParameter, "unknown search parameter " + q(code) + " for resource type " + t};
}

// Splits "code:modifier" at the first colon.
std::pair<std::string, std::string> split_modifier(std::string_view segment) {
    size_t colon = segment.find(':');
    if (colon == std::string_view::npos)
        return {std::string(segment), std::string()};
    return {std::string(segment.substr(0, colon)), std::string(segment.substr(colon + 1))};
}

// Checks that `param` of `from` can be followed to `to`: a reference parameter whose targets allow it.
void check_reference_link(const SearchParamDef &param, std::string_view from, std::string_view to) {
    if (param.type != ParamType::Reference)
        throw Error(ErrorKind::InvalidSearch, "parameter " + q(param.code) + " of " + std::string(from) +
                                                  " is a " + param_type_name(param.type) +
                                                  " parameter and cannot be chained");
    if (!param.targets.empty() && std::find(param.targets.begin(), param.targets.end(), to) == param.targets.end())
        throw Error(ErrorKind::InvalidSearch, "parameter " + q(param.code) + " of " + std::string(from) +
                                                  " does not refer to " + std::string(to));
}

// Resolves the chain links of `name` for `type` into `clause`; returns the final "code[:modifier]" segment.
std::string resolve_path(const Registry &registry, std::string type, std::string_view name, SearchClause &clause) {
    while (true) {
        // Deeper chains (forward and reverse links together) are legal FHIR but
        // make joins no server should run.
        if (clause.chain.size() > static_cast<size_t>(search_limits.max_chain_depth))
            throw Error(ErrorKind::InvalidSearch, "search parameter " + q(clause.name) + " is chained more than " +
                                                      std::to_string(search_limits.max_chain_depth) +
                                                      " levels deep (fhir_search.max_chain_depth)");
        if (name.substr(0, 5) == "_has:") {
            std::string_view rest = name.substr(5);
            size_t c1 = rest.find(':');
            size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
            if (c2 == std::string_view::npos || c1 == 0 || c2 == c1 + 1 || c2 + 1 == rest.size())
                throw Error(ErrorKind::InvalidSearch,
                            "malformed _has parameter " + q(clause.name) + ", expected _has:Type:reference:parameter");
            std::string source(rest.substr(0, c1));
            std::string code(rest.substr(c1 + 1, c2 - c1 - 1));
            if (!Registry::is_resource_type(source))
                throw Error(ErrorKind::InvalidSearch,
                            "unknown resource type " + q(source) + " in _has parameter " + q(clause.name));
            const SearchParamDef *param = find_enabled(registry, source, code);
            if (!param)
                throw Skip(unknown(registry, source, code));
            check_reference_link(*param, source, type);
            clause.chain.push_back({true, param, source});
            type = source;
            name = rest.substr(c2 + 1);
            continue;
        }
        size_t dot = name.find('.');
        if (dot == std::string_view::npos) {
            clause.target_type = type;
            return std::string(name);
        }
        auto [code, explicit_type] = split_modifier(name.substr(0, dot));
        const SearchParamDef *param = find_enabled(registry, type, code);
        if (!param)
            throw Skip(unknown(registry, type, code));
        std::string target = explicit_type;
        if (target.empty() && param->type == ParamType::Reference) {
            // Infer the target: the only one, or the only one that has the next parameter.
            std::vector<std::string> candidates = param->targets;
            if (candidates.size() > 1) {
                std::string_view next = name.substr(dot + 1);
                std::string next_code(next.substr(0, next.find_first_of(":.")));
                candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                                [&](const std::string &t) {
                                                    return next_code == "_has" ||
                                                           !find_enabled(registry, t, next_code);
                                                }),
                                 candidates.end());
            }
            if (candidates.size() != 1)
                throw Error(ErrorKind::InvalidSearch,
                            "chained parameter " + q(code) + " of " + type +
                                " refers to several resource types; name one, e.g. " + code + ":" +
                                (param->targets.empty() ? std::string("Patient") : param->targets.front()) + "." +
                                std::string(name.substr(dot + 1)));
            target = candidates.front();
        } else if (!Registry::is_resource_type(target)) {
            throw Error(ErrorKind::InvalidSearch,
                        "unknown resource type " + q(target) + " in chained parameter " + q(clause.name));
        }
        check_reference_link(*param, type, target);
        clause.chain.push_back({false, param, target});
        type = target;
        name = name.substr(dot + 1);
        if (name.empty())
            throw Error(ErrorKind::InvalidSearch, "chained parameter " + q(clause.name) + " ends with '.'");
    }
}

// Parses a modifier's text for `param`, throwing when the parameter type does not allow it.
SearchModifier parse_modifier(const SearchParamDef &param, const std::string &text, std::string *type_out) {
    if (text.empty())
        return SearchModifier::None;
    auto not_allowed = [&]() {
        return Error(ErrorKind::InvalidSearch, "modifier ':" + text + "' is not allowed on " +
                                                   param_type_name(param.type) + " parameter " + q(param.code));
    };
    auto unsupported = [&]() {
        return Error(ErrorKind::UnsupportedFeature, "modifier ':" + text + "' on " + param_type_name(param.type) +
                                                        " parameter " + q(param.code) + " is not supported");
    };
    if (text == "missing")
        return SearchModifier::Missing;
    if (param.code == "_id") {
        if (text == "not")
            return SearchModifier::Not;
        if (text == "in" || text == "not-in" || text == "above" || text == "below" || text == "text" ||
            text == "of-type")
            throw unsupported();
        throw not_allowed();
    }
    switch (param.type) {
    case ParamType::String:
        if (text == "exact")
            return SearchModifier::Exact;
        if (text == "contains")
            return SearchModifier::Contains;
        break;
    case ParamType::Token:
        if (text == "text")
            return SearchModifier::Text;
        if (text == "not")
            return SearchModifier::Not;
        if (text == "of-type")
            return SearchModifier::OfType;
        if (text == "in")
            return SearchModifier::In;
        if (text == "not-in")
            return SearchModifier::NotIn;
        if (text == "above")
            return SearchModifier::Above;
        if (text == "below")
            return SearchModifier::Below;
        break;
    case ParamType::Reference:
        if (text == "identifier")
            return SearchModifier::Identifier;
        if (text == "above" || text == "below")
            throw unsupported();
        if (Registry::is_resource_type(text)) {
            if (!param.targets.empty() &&
                std::find(param.targets.begin(), param.targets.end(), text) == param.targets.end())
                throw Error(ErrorKind::InvalidSearch,
                            "parameter " + q(param.code) + " does not refer to resource type " + text);
            *type_out = text;
            return SearchModifier::Type;
        }
        break;
    case ParamType::Uri:
        if (text == "above")
            return SearchModifier::Above;
        if (text == "below")
            return SearchModifier::Below;
        break;
    default:
        break;
    }
    throw not_allowed();
}

// Splits a leading comparison prefix off a number, date or quantity value.
SearchPrefix take_prefix(std::string &value) {
    static const std::pair<const char *, SearchPrefix> prefixes[] = {
        {"eq", SearchPrefix::Eq}, {"ne", SearchPrefix::Ne}, {"gt", SearchPrefix::Gt},
        {"lt", SearchPrefix::Lt}, {"ge", SearchPrefix::Ge}, {"le", SearchPrefix::Le},
        {"sa", SearchPrefix::Sa}, {"eb", SearchPrefix::Eb}, {"ap", SearchPrefix::Ap}};
    if (value.size() >= 2) {
        for (const auto &[name, prefix] : prefixes) {
            if (value.compare(0, 2, name) == 0) {
                value.erase(0, 2);
                return prefix;
            }
        }
    }
    return SearchPrefix::Eq;
}

// The error for a value that does not parse as the parameter's type.
Error bad_value(const char *what, const std::string &raw, const SearchParamDef &param) {
    return Error(ErrorKind::InvalidSearch, "invalid " + std::string(what) + " " + q(raw) + " for parameter " +
                                               q(param.code));
}

// Parses "[system]|[code]" (escapes still in) into a token value; a code may
// itself contain '|', so only the first unescaped bar separates.
TokenValue parse_token(const std::string &raw, const SearchParamDef &param) {
    TokenValue token;
    size_t bar = std::string::npos;
    for (size_t i = 0; i < raw.size(); i++) {
        if (raw[i] == '\\') {
            i++;
        } else if (raw[i] == '|') {
            bar = i;
            break;
        }
    }
    if (bar == std::string::npos) {
        token.code = unescape(raw);
        return token;
    }
    token.has_bar = true;
    token.system = unescape(std::string_view(raw).substr(0, bar));
    token.code = unescape(std::string_view(raw).substr(bar + 1));
    if (token.system.empty() && token.code.empty())
        throw bad_value("token", raw, param);
    return token;
}

// Parses one OR-ed value of a non-composite parameter by its type and modifier.
SearchValue parse_value(const SearchParamDef &param, SearchModifier modifier, const std::string &modifier_type,
                        const std::string &raw) {
    SearchValue value;
    value.raw = raw;
    if (modifier == SearchModifier::Missing) {
        if (raw == "true")
            value.missing = true;
        else if (raw != "false")
            throw Error(ErrorKind::InvalidSearch,
                        "value " + q(raw) + " of " + q(param.code + ":missing") + " must be true or false");
        return value;
    }
    switch (param.type) {
    case ParamType::Number:
    case ParamType::Date:
    case ParamType::Quantity: {
        std::string rest = raw;
        value.prefix = take_prefix(rest);
        if (param.type == ParamType::Date) {
            auto range = parse_search_date(rest);
            if (!range)
                throw bad_value("date", raw, param);
            value.date = *range;
        } else if (param.type == ParamType::Number) {
            auto range = parse_decimal_range(rest);
            if (!range)
                throw bad_value("number", raw, param);
            value.number = std::move(*range);
        } else {
            std::vector<std::string> parts = split_unescaped(rest, '|');
            if (parts.size() != 1 && parts.size() != 3)
                throw bad_value("quantity", raw, param);
            auto range = parse_decimal_range(parts[0]);
            if (!range)
                throw bad_value("quantity", raw, param);
            value.quantity.number = std::move(*range);
            if (parts.size() == 3) {
                value.quantity.system = unescape(parts[1]);
                value.quantity.code = unescape(parts[2]);
            }
        }
        break;
    }
    case ParamType::String:
    case ParamType::Uri:
        value.text = unescape(raw);
        break;
    case ParamType::Token:
        if (modifier == SearchModifier::Text) {
            value.text = unescape(raw);
        } else if (modifier == SearchModifier::OfType) {
            std::vector<std::string> parts = split_unescaped(raw, '|');
            if (parts.size() != 3 || parts[2].empty())
                throw Error(ErrorKind::InvalidSearch, "value " + q(raw) + " of " + q(param.code + ":of-type") +
                                                          " must be system|code|value");
            for (const std::string &part : parts)
                value.of_type.push_back(unescape(part));
        } else if (modifier == SearchModifier::In || modifier == SearchModifier::NotIn) {
            value.text = unescape(raw); // a canonical "url[|version]" or "ValueSet/id", resolved later
        } else if (modifier == SearchModifier::Above || modifier == SearchModifier::Below) {
            value.token = parse_token(raw, param);
            if (value.token.system.empty() || value.token.code.empty())
                throw Error(ErrorKind::InvalidSearch, "value " + q(raw) + " of " +
                                                          q(param.code + ":" + search_modifier_name(modifier)) +
                                                          " must be system|code: subsumption needs the code system");
        } else if (param.code == "_id") {
            value.text = unescape(raw);
        } else {
            value.token = parse_token(raw, param);
        }
        break;
    case ParamType::Reference: {
        if (modifier == SearchModifier::Identifier) {
            value.token = parse_token(raw, param);
            if (value.token.has_bar && value.token.code.empty())
                throw Error(ErrorKind::UnsupportedFeature, "reference :identifier search by system alone (" + q(raw) +
                                                               ") is not supported");
            break;
        }
        std::string text = unescape(raw);
        ReferenceValue &ref = value.reference;
        if ((!text.empty() && text[0] == '#') || text.find(':') != std::string::npos) {
            ref.literal = text;
        } else if (text.find('/') != std::string::npos) {
            ref.literal = text;
            size_t slash = text.find('/');
            std::string type = text.substr(0, slash);
            std::string id = text.substr(slash + 1, text.find('/', slash + 1) - slash - 1);
            if (Registry::is_resource_type(type)) {
                ref.type = type;
                ref.id = id;
            }
        } else {
            ref.id = text;
            if (modifier == SearchModifier::Type) {
                ref.type = modifier_type;
                ref.literal = modifier_type + "/" + text;
            }
        }
        break;
    }
    case ParamType::Composite:
    case ParamType::Special:
        break; // composites are parsed by the caller; specials never get here
    }
    return value;
}

// Parses a composite value "a$b" into component values of the components' types:
// range components as values of their own parameter (prefix, precision, units).
SearchValue parse_composite(const SearchClause &clause, const std::string &raw) {
    SearchValue value;
    value.raw = raw;
    std::vector<std::string> parts = split_unescaped(raw, '$');
    if (parts.size() != clause.components.size())
        throw Error(ErrorKind::InvalidSearch, "composite parameter " + q(clause.param->code) + " needs " +
                                                  std::to_string(clause.components.size()) +
                                                  " values separated by '$', not " + q(raw));
    for (size_t i = 0; i < parts.size(); i++) {
        const SearchParamDef &component = *clause.components[i];
        if (parts[i].empty())
            throw Error(ErrorKind::InvalidSearch, "composite parameter " + q(clause.param->code) +
                                                      " has an empty component in " + q(raw));
        SearchValue part;
        part.raw = parts[i];
        if (is_range_type(component.type)) {
            part = parse_value(component, SearchModifier::None, std::string(), parts[i]);
        } else if (component.type == ParamType::Token) {
            part.token = parse_token(parts[i], component);
            if (part.token.has_bar && part.token.code.empty() && part.token.system.empty())
                throw Error(ErrorKind::InvalidSearch, "composite component " + q(parts[i]) + " of " +
                                                          q(clause.param->code) + " has neither a system nor a code");
        } else {
            part.text = unescape(parts[i]);
        }
        value.components.push_back(std::move(part));
    }
    return value;
}

// Resolves a composite's component parameters: token-like, range (number,
// quantity, date) and string components are searchable.
void resolve_components(const Registry &registry, SearchClause &clause) {
    const SearchParamDef &param = *clause.param;
    for (const CompositeComponent &component : param.components) {
        const SearchParamDef *def = registry.find_by_url(clause.target_type, component.definition);
        if (!def)
            throw Error(ErrorKind::UnsupportedFeature, "composite parameter " + q(param.code) +
                                                           " has a component that is not a known parameter");
        if (!is_token_like(def->type) && !is_range_type(def->type) && def->type != ParamType::String)
            throw Error(ErrorKind::UnsupportedFeature,
                        "composite parameter " + q(param.code) + " has a " + param_type_name(def->type) +
                            " component; only composites of token, reference, uri, number, quantity, date and "
                            "string components are supported");
        clause.components.push_back(def);
    }
    if (clause.components.empty())
        throw Error(ErrorKind::UnsupportedFeature, "composite parameter " + q(param.code) + " has no components");
}

// The offset of the first backslash in `value` that escapes nothing FHIR
// defines (R4 search.html#escaping: "\\", "\,", "\$", "\|"), or npos.
size_t invalid_escape(std::string_view value) {
    for (size_t i = 0; i < value.size(); i++) {
        if (value[i] != '\\')
            continue;
        if (i + 1 >= value.size() || (value[i + 1] != '\\' && value[i + 1] != ',' && value[i + 1] != '$' &&
                                      value[i + 1] != '|'))
            return i;
        i++;
    }
    return std::string_view::npos;
}

// The non-empty OR-ed pieces of a value; none (recorded in `ignored`) for an empty value.
// A value with an invalid escape is refused (strict) or skipped with a warning
// (lenient): searching it as written or without the backslash would both guess.
std::vector<std::string> value_pieces(const QueryPair &pair, std::vector<IgnoredParam> &ignored) {
    if (pair.value.find('\0') != std::string::npos)
        throw Error(ErrorKind::InvalidSearch, "value of search parameter " + q(pair.name) + " contains a nul byte");
    if (size_t at = invalid_escape(pair.value); at != std::string_view::npos)
        throw Skip({ErrorKind::InvalidSearch,
                    "value " + q(pair.value) + " of search parameter " + q(pair.name) + " has an invalid escape at " +
                        "character " + std::to_string(at + 1) +
                        ": a backslash escapes only '\\', ',', '$' or '|' (write \\\\ for a backslash)"});
    std::vector<std::string> pieces = split_or_values(pair.value);
    pieces.erase(std::remove(pieces.begin(), pieces.end(), std::string()), pieces.end());
    if (pieces.empty())
        ignored.push_back({pair.name, pair.value, "search parameter " + q(pair.name) + " has no value"});
    return pieces;
}

// Turns `_list=id[,id]` (or List/id) into a clause over the type's _id whose
// ids the caller fills from the stored Lists (search_resolve.h).
SearchClause list_clause(const Registry &registry, SearchClause clause, const std::string &modifier_text,
                         const std::vector<std::string> &pieces) {
    if (!modifier_text.empty())
        throw Error(ErrorKind::InvalidSearch, "modifier ':" + modifier_text + "' is not allowed on _list");
    clause.param = registry.find(clause.target_type, "_id");
    if (!clause.param)
        throw Error(ErrorKind::Internal, "resource type " + clause.target_type + " has no _id parameter");
    clause.list = true;
    for (const std::string &piece : pieces) {
        SearchValue value;
        value.raw = piece;
        std::string id = unescape(piece);
        if (!id.empty() && id[0] == '$')
            throw Error(ErrorKind::UnsupportedFeature,
                        "functional list " + q(id) + " in _list is not supported; name a stored List by id");
        if (id.rfind("List/", 0) == 0)
            id.erase(0, 5);
        if (!is_valid_id(id))
            throw Error(ErrorKind::InvalidSearch, "_list value " + q(piece) + " is not a List id");
        value.text = id;
        clause.values.push_back(std::move(value));
    }
    return clause;
}

// Parses one search parameter pair into a clause, or throws Skip/Error.
std::optional<SearchClause> parse_clause(const Registry &registry, const std::string &type, const QueryPair &pair,
                                         std::vector<IgnoredParam> &ignored) {
    SearchClause clause;
    clause.name = pair.name;
    std::string last = resolve_path(registry, type, pair.name, clause);
    auto [code, modifier_text] = split_modifier(last);
    if (code == "_list") {
        std::vector<std::string> pieces = value_pieces(pair, ignored);
        if (pieces.empty())
            return std::nullopt;
        return list_clause(registry, std::move(clause), modifier_text, pieces);
    }
    const SearchParamDef *param = find_enabled(registry, clause.target_type, code);
    if (!param)
        throw Skip(unknown(registry, clause.target_type, code));
    const bool full_text = full_text_kind(*param) != FullTextKind::None;
    if (!full_text && (param->type == ParamType::Special || param->expression.empty()))
        throw Skip({ErrorKind::UnsupportedFeature, "search parameter " + q(code) + " of " + clause.target_type +
                                                       " is not supported"});
    clause.param = param;
    clause.modifier = parse_modifier(*param, modifier_text, &clause.modifier_type);
    if (full_text && clause.modifier != SearchModifier::None && clause.modifier != SearchModifier::Missing)
        throw Error(ErrorKind::UnsupportedFeature,
                    "modifier ':" + modifier_text + "' on " + q(code) +
                        " is not supported; full-text search takes words, \"quoted phrases\" and OR");
    if (param->type == ParamType::Composite && clause.modifier != SearchModifier::Missing)
        resolve_components(registry, clause);

    std::vector<std::string> pieces = value_pieces(pair, ignored);
    if (pieces.empty())
        return std::nullopt;
    if (clause.modifier == SearchModifier::Missing && pieces.size() > 1)
        throw Error(ErrorKind::InvalidSearch, "value " + q(pair.value) + " of " + q(pair.name) +
                                                  " must be true or false");
    for (const std::string &piece : pieces) {
        if (param->type == ParamType::Composite && clause.modifier != SearchModifier::Missing)
            clause.values.push_back(parse_composite(clause, piece));
        else
            clause.values.push_back(parse_value(*param, clause.modifier, clause.modifier_type, piece));
        if (full_text && clause.modifier == SearchModifier::None &&
            !has_search_words(normalize_string(clause.values.back().text)))
            throw Error(ErrorKind::InvalidSearch,
                        "value " + q(piece) + " of " + q(pair.name) + " has no word to search for");
    }
    return clause;
}


// Parses _sort: comma-separated codes, "-" for descending; unknown codes follow the strict/lenient policy.
void parse_sort(const Registry &registry, const std::string &type, const std::string &value, bool strict,
                SearchQuery &out) {
    for (const std::string &item : split_or_values(value)) {
        std::string code = unescape(item);
        bool descending = !code.empty() && code[0] == '-';
        if (descending)
            code.erase(0, 1);
        if (code.empty())
            throw Error(ErrorKind::InvalidSearch, "_sort has an empty sort key in " + q(value));
        const SearchParamDef *param = find_enabled(registry, type, code);
        if (!param || param->type == ParamType::Special || param->type == ParamType::Composite ||
            full_text_kind(*param) != FullTextKind::None) {
            std::string reason =
                param ? "cannot sort by parameter " + q(code) + " of " + type : unknown(registry, type, code).reason;
            if (strict)
                throw Error(param ? ErrorKind::InvalidSearch : ErrorKind::UnknownParameter, "_sort: " + reason);
            out.ignored.push_back({"_sort", item, "_sort: " + reason});
            continue;
        }
        out.sort.push_back({param, descending});
    }
}

// Parses _contained: false, true or both.
ContainedMode parse_contained(const std::string &value) {
    if (value == "false")
        return ContainedMode::False;
    if (value == "true")
        return ContainedMode::True;
    if (value == "both")
        return ContainedMode::Both;
    throw Error(ErrorKind::InvalidSearch, "_contained must be false, true or both, not " + q(value));
}

// Parses _containedType: container or contained.
ContainedType parse_contained_type(const std::string &value) {
    if (value == "container")
        return ContainedType::Container;
    if (value == "contained")
        return ContainedType::Contained;
    throw Error(ErrorKind::InvalidSearch, "_containedType must be container or contained, not " + q(value));
}

} // namespace

// _count's value: a positive int (search.html#count).
int parse_count(const std::string &value) {
    bool digits = !value.empty() && value.size() <= 10 &&
                  std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    long long n = digits ? std::stoll(value) : 0;
    if (!digits || n < 1 || n > INT_MAX)
        throw Error(ErrorKind::InvalidSearch, "_count must be a positive integer, not " + q(value));
    return static_cast<int>(n);
}

std::optional<DateRange> parse_search_date(std::string text) {
    // An unescaped '+' of a time-zone offset arrives as a space (query_string.h).
    if (text.size() > 16 && text[text.size() - 6] == ' ' && text[text.size() - 3] == ':' &&
        text.find('T') != std::string::npos)
        text[text.size() - 6] = '+';
    return parse_date_range(text);
}

const char *search_modifier_name(SearchModifier modifier) {
    switch (modifier) {
    case SearchModifier::None: return "";
    case SearchModifier::Missing: return "missing";
    case SearchModifier::Exact: return "exact";
    case SearchModifier::Contains: return "contains";
    case SearchModifier::Text: return "text";
    case SearchModifier::Not: return "not";
    case SearchModifier::OfType: return "of-type";
    case SearchModifier::Above: return "above";
    case SearchModifier::Below: return "below";
    case SearchModifier::In: return "in";
    case SearchModifier::NotIn: return "not-in";
    case SearchModifier::Identifier: return "identifier";
    case SearchModifier::Type: return "";
    }
    return "";
}

const char *search_prefix_name(SearchPrefix prefix) {
    switch (prefix) {
    case SearchPrefix::Eq: return "eq";
    case SearchPrefix::Ne: return "ne";
    case SearchPrefix::Gt: return "gt";
    case SearchPrefix::Lt: return "lt";
    case SearchPrefix::Ge: return "ge";
    case SearchPrefix::Le: return "le";
    case SearchPrefix::Sa: return "sa";
    case SearchPrefix::Eb: return "eb";
    case SearchPrefix::Ap: return "ap";
    }
    return "eq";
}

bool is_token_like(ParamType type) {
    return type == ParamType::Token || type == ParamType::Reference || type == ParamType::Uri;
}

bool is_range_type(ParamType type) {
    return type == ParamType::Number || type == ParamType::Quantity || type == ParamType::Date;
}

// Tells result-shaping names (without modifier) from search parameters.
bool is_result_parameter(std::string_view name) {
    std::string_view base = name.substr(0, name.find(':'));
    for (const char *result : kResultParams) {
        if (base == result)
            return true;
    }
    return false;
}

// Splits and decodes, then parses the pairs.
SearchQuery parse_search_query(const Registry &registry, std::string_view resource_type, std::string_view query,
                               bool strict) {
    if (search_limits.max_query_length > 0 && query.size() > static_cast<size_t>(search_limits.max_query_length))
        throw Error(ErrorKind::InvalidSearch, "the query string is longer than fhir_search.max_query_length (" +
                                                  std::to_string(query.size()) + " bytes, limit " +
                                                  std::to_string(search_limits.max_query_length) + ")");
    return parse_search_pairs(registry, resource_type, split_query_string(query), strict);
}

// Classifies every pair, then parses it as result parameter or search clause.
SearchQuery parse_search_pairs(const Registry &registry, std::string_view resource_type,
                               const std::vector<QueryPair> &pairs, bool strict) {
    if (!Registry::is_resource_type(resource_type))
        throw Error(ErrorKind::UnknownResourceType, "unknown resource type " + q(resource_type));
    if (search_limits.max_parameters > 0 && pairs.size() > static_cast<size_t>(search_limits.max_parameters))
        throw Error(ErrorKind::InvalidSearch, "the search has more parameters than fhir_search.max_query_parameters (" +
                                                  std::to_string(pairs.size()) + ", limit " +
                                                  std::to_string(search_limits.max_parameters) + ")");
    SearchQuery out;
    out.resource_type = std::string(resource_type);
    bool have_count = false, have_sort = false, have_contained = false, have_contained_type = false;
    auto once = [](bool &seen, const std::string &name) {
        if (seen)
            throw Error(ErrorKind::InvalidSearch, name + " is given more than once");
        seen = true;
    };
    for (const QueryPair &pair : pairs) {
        if (is_result_parameter(pair.name)) {
            out.result_params.push_back({pair.name, pair.value});
            if (pair.name == "_count") {
                once(have_count, pair.name);
                out.count = parse_count(pair.value);
            } else if (pair.name == "_sort") {
                once(have_sort, pair.name);
                parse_sort(registry, out.resource_type, pair.value, strict, out);
            } else if (pair.name == "_contained") {
                once(have_contained, pair.name);
                out.contained = parse_contained(pair.value);
            } else if (pair.name == "_containedType") {
                once(have_contained_type, pair.name);
                out.contained_type = parse_contained_type(pair.value);
            }
            continue;
        }
        try {
            std::string_view base = std::string_view(pair.name).substr(0, pair.name.find_first_of(":."));
            for (const char *name : kUnsupportedNames) {
                if (base == name)
                    throw Skip({ErrorKind::UnsupportedFeature, "search parameter " + q(name) + " is not supported"});
            }
            if (auto clause = parse_clause(registry, out.resource_type, pair, out.ignored))
                out.clauses.push_back(std::move(*clause));
        } catch (const Skip &skip) {
            if (strict)
                throw Error(skip.kind, skip.reason);
            out.ignored.push_back({pair.name, pair.value, skip.reason});
        }
    }
    return out;
}

} // namespace fhir
