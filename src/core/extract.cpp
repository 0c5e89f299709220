// extract.cpp: turns a resource into the index rows of its search parameters.
//
// Each enabled parameter's expression selects nodes (src/core/fhirpath.cpp), and
// the parameter's type decides what a node becomes; src/core/extract.h lists the
// row kinds and how composites are stored. Node types come from the evaluator
// where it knows them and from the JSON shape otherwise. Choices made here that a
// query must mirror:
//   - token: a bare string, boolean or number is a code without a system (forms
//     Code and NoSystemCode). ContactPoint indexes its value only, like a bare code.
//     Identifier.type codings give OfType "typesystem|typecode|value".
//   - reference: "Type/id" (optionally /_history/v) gives Reference("Type/id"),
//     ReferenceId(id) and a ReferenceRow. An absolute URL ".../Type/id" gives
//     Reference(the URL), ReferenceId(id) and a ReferenceRow{Type, id}: we do not
//     know the server's base URL, so an absolute reference is never rewritten to
//     the local "Type/id" form. A versioned reference also indexes its text as
//     written. "urn:uuid:..", "#contained" and other text give Reference(text)
//     only (and urn/other text a ReferenceRow with an empty type). Canonical
//     strings give Reference(text), for "url|version" also Reference(url), and a
//     ReferenceRow{"", url}.
//     Reference.identifier is indexed for `:identifier` under the same parameter
//     id as the token forms Code, SystemCode and NoSystemCode of a value prefixed
//     "identifier:", e.g. token_hash(id, SystemCode, "identifier:sys|123").
//   - uri: Uri(value), plus a StringRow whose `normalized` is the value as
//     written (not lowercased: URIs are case-sensitive), for `:below`/`:above`
//     prefix queries.
//   - string: plain strings; HumanName (family, given, prefix, suffix, text),
//     Address (line, city, district, state, postalCode, country, text) and
//     Annotation (text), and an object holding only text (a name or address
//     written as text alone). Other complex types give nothing, not guesses.
//   - date: Period gives [start.lo, end.hi) with open ends for missing bounds;
//     Timing gives each event and repeat.boundsPeriod. Unparseable dates give
//     nothing.
//   - number/quantity: a JSON number's precision is that of nlohmann's shortest
//     round-trip text (100.00 in the resource reads as 100.0). Money is a quantity
//     with system urn:iso:std:iso:4217 and the currency as code. Range and
//     SampledData give nothing.
//   - special (near, _text, _content): nothing; the glue handles them.
// An expression that does not compile (a custom SearchParameter beyond the
// FHIRPath subset) indexes nothing: the glue refuses such parameters up front.
#include "extract.h"

#include "error.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>
#include <utility>

namespace fhir {

namespace {

using fhirpath::Node;

constexpr std::string_view kIdentifierPrefix = "identifier:";
constexpr std::string_view kCurrencySystem = "urn:iso:std:iso:4217";
// A composite over many-valued components multiplies out; beyond this many
// combinations per node the rest is dropped rather than bloating the row.
constexpr size_t kMaxCompositeCombinations = 1024;

// Where the values of one parameter (or one composite component) go.
struct Sink {
    IndexRows &rows;
    int param_id;
    int group = 0;
    int component = 0;

    void token(TokenForm form, std::string_view value) { rows.tokens.push_back(token_hash(param_id, form, value)); }
    // Display and text for :text, compared normalized.
    void text(const std::string &value) {
        std::string normalized = normalize_string(value);
        if (!normalized.empty())
            rows.token_texts.push_back({param_id, std::move(normalized)});
    }
    // A string parameter value: normalized for matching, exact for :exact.
    void string(const std::string &value) {
        if (!value.empty())
            rows.strings.push_back({param_id, normalize_string(value), value, group, component});
    }
};

// The string at object[key], or nullptr when absent or not a string.
const std::string *string_at(const Json &object, const char *key) {
    if (!object.is_object())
        return nullptr;
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? &it->get_ref<const std::string &>() : nullptr;
}

// Calls `fn` for every string at object[key], whether it holds one string or an array.
template <typename Fn> void for_each_string(const Json &object, const char *key, Fn fn) {
    if (!object.is_object())
        return;
    auto it = object.find(key);
    if (it == object.end())
        return;
    if (it->is_string()) {
        fn(it->get_ref<const std::string &>());
    } else if (it->is_array()) {
        for (const Json &element : *it) {
            if (element.is_string())
                fn(element.get_ref<const std::string &>());
        }
    }
}

// Calls `fn` for every object at object[key], single or in an array.
template <typename Fn> void for_each_object(const Json &object, const char *key, Fn fn) {
    if (!object.is_object())
        return;
    auto it = object.find(key);
    if (it == object.end())
        return;
    if (it->is_object()) {
        fn(*it);
    } else if (it->is_array()) {
        for (const Json &element : *it) {
            if (element.is_object())
                fn(element);
        }
    }
}

// ContactPoint.system codes, which tell a ContactPoint from an Identifier.
bool is_contact_system(const std::string &system) {
    return system == "phone" || system == "fax" || system == "email" || system == "pager" || system == "url" ||
           system == "sms" || system == "other";
}

// The data type a node is indexed as: the evaluator's when it has one (Quantity
// profiles folded into Quantity), else a guess from the keys in the order that
// tells overlapping shapes apart.
std::string kind_of(const Node &node) {
    const std::string &type = node.type;
    if (type == "Age" || type == "Count" || type == "Distance" || type == "Duration" || type == "SimpleQuantity" ||
        type == "MoneyQuantity")
        return "Quantity";
    if (!type.empty())
        return type;
    const Json &v = *node.value;
    if (!v.is_object())
        return "";
    if (v.contains("coding"))
        return "CodeableConcept";
    if (string_at(v, "reference"))
        return "Reference";
    if (v.contains("currency"))
        return "Money";
    if (v.contains("value") && v["value"].is_number())
        return "Quantity";
    if (v.contains("start") || v.contains("end"))
        return "Period";
    if (v.contains("family") || v.contains("given"))
        return "HumanName";
    if (v.contains("line") || v.contains("city") || v.contains("postalCode") || v.contains("country"))
        return "Address";
    if (v.contains("event") || v.contains("repeat"))
        return "Timing";
    if (v.contains("value")) {
        const std::string *system = string_at(v, "system");
        if (v.contains("rank") || (system && is_contact_system(*system) && !v.contains("type")))
            return "ContactPoint";
        return "Identifier";
    }
    if (v.contains("code") || v.contains("system"))
        return "Coding";
    if (v.contains("identifier"))
        return "Reference";
    if (string_at(v, "text") && (v.contains("authorString") || v.contains("authorReference") || v.contains("time")))
        return "Annotation";
    return "";
}

// The text of a primitive token value: strings as they are, booleans and numbers as JSON writes them.
std::optional<std::string> primitive_text(const Json &value) {
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_boolean() || value.is_number())
        return value.dump();
    return std::nullopt;
}

// ---- token --------------------------------------------------------------------

// A code with an optional system: the forms `code`, `system|code`, `|code`, `system|`.
void index_code(Sink &sink, const std::string *system, const std::string *code) {
    if (code && !code->empty()) {
        sink.token(TokenForm::Code, *code);
        if (system && !system->empty())
            sink.token(TokenForm::SystemCode, *system + "|" + *code);
        else
            sink.token(TokenForm::NoSystemCode, *code);
    }
    if (system && !system->empty())
        sink.token(TokenForm::System, *system + "|");
}

// A Coding's code forms and its display for :text.
void index_coding(Sink &sink, const Json &coding) {
    index_code(sink, string_at(coding, "system"), string_at(coding, "code"));
    if (const std::string *display = string_at(coding, "display"))
        sink.text(*display);
}

// Every coding, plus the concept's text for :text.
void index_codeable_concept(Sink &sink, const Json &concept) {
    for_each_object(concept, "coding", [&](const Json &coding) { index_coding(sink, coding); });
    if (const std::string *text = string_at(concept, "text"))
        sink.text(*text);
}

// Identifier.value as the code, plus :of-type forms and type.text for :text.
void index_identifier(Sink &sink, const Json &identifier) {
    const std::string *value = string_at(identifier, "value");
    index_code(sink, string_at(identifier, "system"), value);
    auto type = identifier.find("type");
    if (type == identifier.end() || !type->is_object())
        return;
    if (value && !value->empty()) {
        for_each_object(*type, "coding", [&](const Json &coding) {
            const std::string *type_system = string_at(coding, "system");
            const std::string *type_code = string_at(coding, "code");
            if (type_system && type_code)
                sink.token(TokenForm::OfType, *type_system + "|" + *type_code + "|" + *value);
        });
    }
    if (const std::string *text = string_at(*type, "text"))
        sink.text(*text);
}

// Token values of a node of any shape a token parameter reaches.
void index_token(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (auto text = primitive_text(value)) {
        index_code(sink, nullptr, &*text);
        return;
    }
    const std::string kind = kind_of(node);
    if (kind == "CodeableConcept") {
        index_codeable_concept(sink, value);
    } else if (kind == "Coding") {
        index_coding(sink, value);
    } else if (kind == "Identifier") {
        index_identifier(sink, value);
    } else if (kind == "ContactPoint") {
        index_code(sink, nullptr, string_at(value, "value"));
    }
}

// ---- reference ----------------------------------------------------------------

// A parsed reference text: the local "Type/id" when the text names one.
struct ParsedReference {
    std::string type;
    std::string id;
    std::string unversioned; // the text without a trailing /_history/v
};

// Reads "Type/id", "Type/id/_history/v" and the same at the end of an absolute URL.
std::optional<ParsedReference> parse_reference(const std::string &text) {
    std::vector<std::string_view> segments;
    std::string_view rest(text);
    size_t start = 0;
    while (start <= rest.size()) {
        size_t slash = rest.find('/', start);
        if (slash == std::string_view::npos)
            slash = rest.size();
        segments.push_back(rest.substr(start, slash - start));
        start = slash + 1;
    }
    size_t n = segments.size();
    size_t end = text.size();
    if (n >= 4 && segments[n - 2] == "_history") {
        end = static_cast<size_t>(segments[n - 2].data() - text.data()) - 1;
        n -= 2;
    }
    if (n < 2)
        return std::nullopt;
    const bool absolute = text.find("://") != std::string::npos;
    if (!absolute && n != 2)
        return std::nullopt;
    std::string_view type = segments[n - 2], id = segments[n - 1];
    if (!Registry::is_resource_type(type) || id.empty() || id.size() > 64 ||
        !std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; }))
        return std::nullopt;
    return ParsedReference{std::string(type), std::string(id), text.substr(0, end)};
}

// Reference.reference in its forms (see the file comment).
void index_reference_text(Sink &sink, const std::string &text) {
    if (text.empty())
        return;
    sink.token(TokenForm::Reference, text);
    if (text[0] == '#')
        return; // contained: only searchable as written
    auto parsed = parse_reference(text);
    if (!parsed) {
        sink.rows.references.push_back({sink.param_id, "", text});
        return;
    }
    const bool absolute = text.find("://") != std::string::npos;
    if (absolute)
        sink.token(TokenForm::Reference, parsed->unversioned);
    else
        sink.token(TokenForm::Reference, parsed->type + "/" + parsed->id);
    sink.token(TokenForm::ReferenceId, parsed->id);
    sink.rows.references.push_back({sink.param_id, parsed->type, parsed->id});
}

// A canonical (url or url|version) is matched with and without its version.
void index_canonical(Sink &sink, const std::string &text) {
    if (text.empty())
        return;
    sink.token(TokenForm::Reference, text);
    size_t bar = text.find('|');
    std::string unversioned = text.substr(0, bar);
    if (bar != std::string::npos && !unversioned.empty())
        sink.token(TokenForm::Reference, unversioned);
    sink.rows.references.push_back({sink.param_id, "", unversioned});
}

// Reference.identifier for `:identifier`, as prefixed token forms (see the file comment).
void index_reference_identifier(Sink &sink, const Json &identifier) {
    const std::string *value = string_at(identifier, "value");
    if (!value || value->empty())
        return;
    const std::string prefixed = std::string(kIdentifierPrefix) + *value;
    sink.token(TokenForm::Code, prefixed);
    const std::string *system = string_at(identifier, "system");
    if (system && !system->empty())
        sink.token(TokenForm::SystemCode, std::string(kIdentifierPrefix) + *system + "|" + *value);
    else
        sink.token(TokenForm::NoSystemCode, prefixed);
}

// A Reference object, or a canonical/uri string a reference parameter selects.
void index_reference(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (value.is_string()) {
        index_canonical(sink, value.get_ref<const std::string &>());
        return;
    }
    if (!value.is_object())
        return;
    if (const std::string *reference = string_at(value, "reference"))
        index_reference_text(sink, *reference);
    auto identifier = value.find("identifier");
    if (identifier != value.end() && identifier->is_object())
        index_reference_identifier(sink, *identifier);
}

// ---- uri, string --------------------------------------------------------------

// Exact token plus a case-preserving string row for :below/:above.
void index_uri(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (!value.is_string() || value.get_ref<const std::string &>().empty())
        return;
    const std::string &text = value.get_ref<const std::string &>();
    sink.token(TokenForm::Uri, text);
    sink.rows.strings.push_back({sink.param_id, text, text, sink.group, sink.component});
}

// A name or address written as text alone, e.g. {"use": "official", "text": "Zoe Mueller"}.
bool only_text(const Json &value) {
    if (!string_at(value, "text"))
        return false;
    for (const auto &entry : value.items()) {
        const std::string &key = entry.key();
        if (key != "text" && key != "use" && key != "period" && key != "id" && key != "extension")
            return false;
    }
    return true;
}

// The strings of a node: itself, or the parts of a name, address or annotation.
void index_string(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (value.is_string()) {
        sink.string(value.get_ref<const std::string &>());
        return;
    }
    const std::string kind = kind_of(node);
    auto add = [&](const std::string &text) { sink.string(text); };
    if (kind == "HumanName") {
        for (const char *key : {"family", "given", "prefix", "suffix", "text"})
            for_each_string(value, key, add);
    } else if (kind == "Address") {
        for (const char *key : {"line", "city", "district", "state", "postalCode", "country", "text"})
            for_each_string(value, key, add);
    } else if (kind == "Annotation" || (kind.empty() && only_text(value))) {
        for_each_string(value, "text", add);
    }
}

// ---- date, number, quantity ---------------------------------------------------

// A date, dateTime or instant as its implicit range.
void index_date_text(Sink &sink, const std::string &text) {
    if (auto range = parse_date_range(text))
        sink.rows.dates.push_back({sink.param_id, range->lo, range->hi, sink.group, sink.component});
}

// A Period with open ends where a bound is missing; an unreadable bound drops the Period.
void index_period(Sink &sink, const Json &period) {
    const std::string *start = string_at(period, "start");
    const std::string *end = string_at(period, "end");
    if (!start && !end)
        return;
    int64_t lo = kMinTime, hi = kMaxTime;
    if (start) {
        auto range = parse_date_range(*start);
        if (!range)
            return;
        lo = range->lo;
    }
    if (end) {
        auto range = parse_date_range(*end);
        if (!range)
            return;
        hi = range->hi;
    }
    sink.rows.dates.push_back({sink.param_id, lo, hi, sink.group, sink.component});
}

// A date value, Period or Timing as date ranges.
void index_date(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (value.is_string()) {
        index_date_text(sink, value.get_ref<const std::string &>());
        return;
    }
    const std::string kind = kind_of(node);
    if (kind == "Period") {
        index_period(sink, value);
    } else if (kind == "Timing") {
        for_each_string(value, "event", [&](const std::string &event) { index_date_text(sink, event); });
        auto repeat = value.find("repeat");
        if (repeat != value.end() && repeat->is_object()) {
            auto bounds = repeat->find("boundsPeriod");
            if (bounds != repeat->end() && bounds->is_object())
                index_period(sink, *bounds);
        }
    }
}

// The decimal range of a JSON number or numeric string.
std::optional<DecimalRange> decimal_of(const Json &value) {
    if (value.is_number())
        return parse_decimal_range(value.dump());
    if (value.is_string())
        return parse_decimal_range(value.get_ref<const std::string &>());
    return std::nullopt;
}

// A number with its implicit precision range.
void index_number(Sink &sink, const Node &node) {
    if (auto range = decimal_of(*node.value))
        sink.rows.numbers.push_back({sink.param_id, std::move(*range), sink.group, sink.component});
}

// A Quantity (or profile), Money, or bare number as a quantity row.
void index_quantity(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (value.is_number()) {
        if (auto range = decimal_of(value))
            sink.rows.quantities.push_back({sink.param_id, std::move(*range), "", "", "", sink.group, sink.component});
        return;
    }
    const std::string kind = kind_of(node);
    if (kind != "Quantity" && kind != "Money")
        return;
    auto number = value.find("value");
    if (number == value.end())
        return;
    auto range = decimal_of(*number);
    if (!range)
        return;
    auto text = [&](const char *key) {
        const std::string *s = string_at(value, key);
        return s ? *s : std::string();
    };
    if (kind == "Money") {
        const std::string currency = text("currency");
        sink.rows.quantities.push_back({sink.param_id, std::move(*range),
                                        currency.empty() ? "" : std::string(kCurrencySystem), currency, currency,
                                        sink.group, sink.component});
        return;
    }
    sink.rows.quantities.push_back(
        {sink.param_id, std::move(*range), text("system"), text("code"), text("unit"), sink.group, sink.component});
}

// Indexes one node by parameter type (all but composite and special).
void index_node(ParamType type, Sink &sink, const Node &node) {
    switch (type) {
    case ParamType::Token:
        index_token(sink, node);
        break;
    case ParamType::Reference:
        index_reference(sink, node);
        break;
    case ParamType::Uri:
        index_uri(sink, node);
        break;
    case ParamType::String:
        index_string(sink, node);
        break;
    case ParamType::Date:
        index_date(sink, node);
        break;
    case ParamType::Number:
        index_number(sink, node);
        break;
    case ParamType::Quantity:
        index_quantity(sink, node);
        break;
    case ParamType::Composite:
    case ParamType::Special:
        break;
    }
}

// ---- composite ----------------------------------------------------------------

// Component types whose values are exact strings, so combinations can be hashed.
bool is_hashable(ParamType type) {
    return type == ParamType::Token || type == ParamType::Reference || type == ParamType::Uri;
}

// The values a token-like component contributes to a composite, each with the
// token form a search value of that shape has: "code" (Code), "system|code"
// (SystemCode); references as written and as "Type/id".
std::vector<std::pair<TokenForm, std::string>> component_values(ParamType type, const Node &node) {
    std::vector<std::pair<TokenForm, std::string>> out;
    auto code = [&](const std::string *system, const std::string *value) {
        if (!value || value->empty())
            return;
        out.emplace_back(TokenForm::Code, *value);
        if (system && !system->empty())
            out.emplace_back(TokenForm::SystemCode, *system + "|" + *value);
    };
    const Json &value = *node.value;
    if (auto text = primitive_text(value)) {
        code(nullptr, &*text);
        return out;
    }
    const std::string kind = kind_of(node);
    if (type == ParamType::Reference || kind == "Reference") {
        if (const std::string *reference = string_at(value, "reference")) {
            code(nullptr, reference);
            auto parsed = parse_reference(*reference);
            if (parsed && reference->find("://") == std::string::npos && *reference != parsed->type + "/" + parsed->id)
                out.emplace_back(TokenForm::Code, parsed->type + "/" + parsed->id);
        }
        return out;
    }
    if (kind == "CodeableConcept") {
        for_each_object(value, "coding",
                        [&](const Json &coding) { code(string_at(coding, "system"), string_at(coding, "code")); });
    } else if (kind == "Coding") {
        code(string_at(value, "system"), string_at(value, "code"));
    } else if (kind == "Identifier") {
        code(string_at(value, "system"), string_at(value, "value"));
    } else if (kind == "ContactPoint") {
        code(nullptr, string_at(value, "value"));
    }
    return out;
}

} // namespace

// Expressions compiled on first use, keyed by their text so that entries sharing
// an expression (and a registry that changes under a long-lived cache) are safe.
struct Extractor::Compiled {
    std::unordered_map<std::string, std::unique_ptr<fhirpath::Expression>> by_text; // null: does not compile

    // The compiled expression, compiling it on first use; nullptr when it does not compile.
    const fhirpath::Expression *get(const std::string &text) {
        auto it = by_text.find(text);
        if (it == by_text.end()) {
            std::unique_ptr<fhirpath::Expression> expr;
            try {
                expr = std::make_unique<fhirpath::Expression>(fhirpath::Expression::compile(text));
            } catch (const Error &) {
                // Indexed as having no values; the glue rejects such parameters when they are added.
            }
            it = by_text.emplace(text, std::move(expr)).first;
        }
        return it->second.get();
    }
};

// Compiles lazily: a backend that writes only Patients never compiles the rest.
Extractor::Extractor(const Registry &registry) : registry_(registry), compiled_(std::make_unique<Compiled>()) {}

// Out of line, where Compiled is complete.
Extractor::~Extractor() = default;

namespace {

// Sorts and deduplicates a row vector by the key `key(row)` returns.
template <typename Row, typename Key> void sort_unique(std::vector<Row> &rows, Key key) {
    std::sort(rows.begin(), rows.end(), [&](const Row &a, const Row &b) { return key(a) < key(b); });
    rows.erase(std::unique(rows.begin(), rows.end(), [&](const Row &a, const Row &b) { return key(a) == key(b); }),
               rows.end());
}

// Total number of rows, to tell whether a parameter added any value.
size_t row_count(const IndexRows &rows) {
    return rows.tokens.size() + rows.strings.size() + rows.dates.size() + rows.numbers.size() + rows.quantities.size() +
           rows.references.size() + rows.token_texts.size() + rows.composite_keys.size();
}

// The sizes of the row vectors a composite writes to, so a partial group can be undone.
struct RowMark {
    size_t tokens, strings, dates, numbers, quantities, token_texts, composite_keys;

    explicit RowMark(const IndexRows &rows)
        : tokens(rows.tokens.size()), strings(rows.strings.size()), dates(rows.dates.size()),
          numbers(rows.numbers.size()), quantities(rows.quantities.size()), token_texts(rows.token_texts.size()),
          composite_keys(rows.composite_keys.size()) {}

    // Drops every row added since the mark.
    void rollback(IndexRows &rows) const {
        rows.tokens.resize(tokens);
        rows.strings.resize(strings);
        rows.dates.resize(dates);
        rows.numbers.resize(numbers);
        rows.quantities.resize(quantities);
        rows.token_texts.resize(token_texts);
        rows.composite_keys.resize(composite_keys);
    }
};

// One component of a composite: its parameter type and its relative expression.
struct CompositePart {
    ParamType type;
    const fhirpath::Expression *expr;
};

// Indexes a composite's nodes: a hash per value combination when every component
// is token-like, else key rows plus grouped value rows (see extract.h).
void index_composite(int param_id, const std::vector<CompositePart> &parts, const std::vector<Node> &nodes,
                     const Json &resource, IndexRows &rows) {
    const bool hashable =
        std::all_of(parts.begin(), parts.end(), [](const CompositePart &p) { return is_hashable(p.type); });
    int group = 0;
    for (const Node &node : nodes) {
        ++group;
        if (hashable) {
            std::vector<std::string> combinations = {""};
            for (size_t i = 0; i < parts.size() && !combinations.empty(); ++i) {
                std::vector<std::string> next;
                for (const Node &value_node : parts[i].expr->evaluate_on(node, resource)) {
                    for (const auto &value : component_values(parts[i].type, value_node)) {
                        for (const std::string &prefix : combinations) {
                            if (next.size() < kMaxCompositeCombinations)
                                next.push_back(i == 0 ? value.second : prefix + "$" + value.second);
                        }
                    }
                }
                combinations = std::move(next);
            }
            for (const std::string &combination : combinations)
                rows.tokens.push_back(token_hash(param_id, TokenForm::SystemCode, combination));
            continue;
        }
        // A node missing any component matches no composite search: its partial rows are taken back.
        const RowMark mark(rows);
        bool complete = true;
        for (size_t i = 0; i < parts.size() && complete; ++i) {
            Sink sink{rows, param_id, group, static_cast<int>(i)};
            const size_t before = row_count(rows);
            for (const Node &value_node : parts[i].expr->evaluate_on(node, resource)) {
                if (!is_hashable(parts[i].type)) {
                    index_node(parts[i].type, sink, value_node);
                    continue;
                }
                for (const auto &[form, value] : component_values(parts[i].type, value_node))
                    rows.composite_keys.push_back({param_id, group, sink.component, token_hash(param_id, form, value)});
            }
            complete = row_count(rows) > before;
        }
        if (!complete)
            mark.rollback(rows);
    }
}

} // namespace

// Runs every enabled parameter of the resource's type, then sorts and deduplicates the rows.
IndexRows Extractor::extract(const Json &resource) const {
    IndexRows rows;
    const std::string *resource_type = string_at(resource, "resourceType");
    if (!resource_type)
        return rows;
    for (const SearchParamDef *def : registry_.for_type(*resource_type)) {
        if (!def->enabled || def->type == ParamType::Special || def->expression.empty())
            continue;
        const fhirpath::Expression *expr = compiled_->get(def->expression);
        if (!expr)
            continue;
        const size_t before = row_count(rows);
        const std::vector<Node> nodes = expr->evaluate(resource);
        if (def->type != ParamType::Composite) {
            Sink sink{rows, def->id};
            for (const Node &node : nodes)
                index_node(def->type, sink, node);
        } else {
            // Components are other parameters, found by canonical URL; without all of them the composite is skipped.
            std::vector<CompositePart> parts;
            for (const CompositeComponent &component : def->components) {
                const SearchParamDef *component_def = registry_.find_by_url(*resource_type, component.definition);
                const fhirpath::Expression *component_expr = compiled_->get(component.expression);
                if (!component_def || !component_expr)
                    break;
                parts.push_back({component_def->type, component_expr});
            }
            if (!parts.empty() && parts.size() == def->components.size())
                index_composite(def->id, parts, nodes, resource, rows);
        }
        if (row_count(rows) > before)
            rows.tokens.push_back(token_hash(def->id, TokenForm::Present, ""));
    }

    std::sort(rows.tokens.begin(), rows.tokens.end());
    rows.tokens.erase(std::unique(rows.tokens.begin(), rows.tokens.end()), rows.tokens.end());
    sort_unique(rows.strings, [](const StringRow &r) { return std::tie(r.param_id, r.group, r.component, r.exact); });
    sort_unique(rows.dates, [](const DateRow &r) { return std::tie(r.param_id, r.group, r.component, r.lo, r.hi); });
    sort_unique(rows.numbers, [](const NumberRow &r) {
        return std::tie(r.param_id, r.group, r.component, r.range.value, r.range.lo, r.range.hi);
    });
    sort_unique(rows.quantities, [](const QuantityRow &r) {
        return std::tie(r.param_id, r.group, r.component, r.range.value, r.range.lo, r.range.hi, r.system, r.code,
                        r.unit);
    });
    sort_unique(rows.references,
                [](const ReferenceRow &r) { return std::tie(r.param_id, r.target_type, r.target_id); });
    sort_unique(rows.token_texts, [](const TokenTextRow &r) { return std::tie(r.param_id, r.normalized); });
    sort_unique(rows.composite_keys,
                [](const CompositeKeyRow &r) { return std::tie(r.param_id, r.group, r.component, r.hash); });
    return rows;
}

} // namespace fhir
