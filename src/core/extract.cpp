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
//     token_sort_range() walks the same codes for _sort's key (extract.h);
//     displays and texts do not sort.
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
//     with system urn:iso:std:iso:4217 and the currency as code. A Range is one
//     row spanning [low, high] (exact values, inclusive, an absent bound open)
//     with no point value and the system/code/unit of low (else high); a row
//     holds either a point value or a span (search_sql.h). SampledData gives nothing.
//   - special (near): nothing.
//   - _text, _content (built-ins without an expression): one TextRow with the
//     document fulltext.cpp makes, and the Present token when it is not empty.
// An expression that does not compile (a custom SearchParameter beyond the
// FHIRPath subset) indexes nothing: the glue refuses such parameters up front.
//
// Speed (bench/extract_bench.cpp): a resource type's parameters are planned once
// (Extractor::Compiled::plan) and all expressions of one resource share a
// fhirpath memo, so a path several parameters use ("Observation.value") is
// walked once; parameters with the same expression share one node list; within
// a resource, composite components, their token values and decimal ranges are
// computed once per node. None of this changes the rows: every cache is keyed by
// what determines its result, and only values inside the resource are cached
// by address.
#include "extract.h"

#include "error.h"
#include "fulltext.h"

#include <algorithm>
#include <cctype>
#include <deque>
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

// Buffers shared by every parameter of one extraction, kept by the Extractor
// between resources so that they stop allocating.
struct Scratchpad {
    std::string buffer;   // token values joined by Sink::token
    std::string sort_key; // the code being considered by Sink::sort_key
    // Decimal ranges of values inside the current resource, by address: the same
    // valueQuantity is indexed by up to four parameters (value-quantity, combo, composites).
    std::vector<std::pair<const Json *, std::optional<DecimalRange>>> decimals;
};

// Where the values of one parameter (or one composite component) go.
struct Sink {
    IndexRows &rows;
    Scratchpad &pad;
    int param_id;
    int group = 0;
    int component = 0;
    TokenSortRange *sort_range = nullptr; // set: only the codes' sort range is collected (no rows)

    void token(TokenForm form, std::string_view value) {
        if (!sort_range)
            rows.tokens.push_back(token_hash(param_id, form, value));
    }
    // A token whose value is the pieces joined, e.g. {system, "|", code}.
    void token(TokenForm form, std::initializer_list<std::string_view> pieces) {
        std::string &buffer = pad.buffer;
        buffer.clear();
        for (std::string_view piece : pieces)
            buffer.append(piece);
        token(form, std::string_view(buffer));
    }
    // A code's sort key (see TokenSortRange), widening the range being collected.
    void sort_key(const std::string *system, const std::string &code) {
        if (!sort_range)
            return;
        std::string &key = pad.sort_key;
        key.clear();
        if (system)
            key.append(*system);
        key.push_back(kTokenSortSeparator);
        key.append(code);
        TokenSortRange &range = *sort_range;
        if (range.lo.empty()) { // keys are never empty: they hold the separator
            range.lo = key;
            range.hi = key;
        } else if (key < range.lo) {
            range.lo = key;
        } else if (key > range.hi) {
            range.hi = key;
        }
    }
    // Display and text for :text, compared normalized.
    void text(const std::string &value) {
        if (sort_range)
            return;
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

// object[key] or nullptr (see json_member in json.h).
inline const Json *member(const Json &object, std::string_view key) { return json_member(object, key); }

// Whether object[key] exists.
bool has(const Json &object, std::string_view key) { return member(object, key) != nullptr; }

// The string at object[key], or nullptr when absent or not a string.
const std::string *string_at(const Json &object, std::string_view key) {
    const Json *found = member(object, key);
    return found && found->is_string() ? &found->get_ref<const std::string &>() : nullptr;
}

// Calls `fn` for every string at object[key], whether it holds one string or an array.
template <typename Fn> void for_each_string(const Json &object, std::string_view key, Fn fn) {
    const Json *found = member(object, key);
    if (!found)
        return;
    if (found->is_string()) {
        fn(found->get_ref<const std::string &>());
    } else if (found->is_array()) {
        for (const Json &element : *found) {
            if (element.is_string())
                fn(element.get_ref<const std::string &>());
        }
    }
}

// Calls `fn` for every object at object[key], single or in an array.
template <typename Fn> void for_each_object(const Json &object, std::string_view key, Fn fn) {
    const Json *found = member(object, key);
    if (!found)
        return;
    if (found->is_object()) {
        fn(*found);
    } else if (found->is_array()) {
        for (const Json &element : *found) {
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

// The data types indexing tells apart. None: no type known or guessed; Other:
// a type indexing has no rule for (e.g. Extension, a primitive).
enum class Kind {
    None, Other, Quantity, Money, Range, CodeableConcept, Coding, Identifier, ContactPoint, Reference, Period,
    HumanName, Address, Timing, Annotation,
};

// The Kind of an evaluator type name (Quantity profiles folded into Quantity).
Kind kind_of_type(std::string_view type) {
    static const std::pair<std::string_view, Kind> kinds[] = {
        {"Quantity", Kind::Quantity},       {"Age", Kind::Quantity},
        {"Count", Kind::Quantity},          {"Distance", Kind::Quantity},
        {"Duration", Kind::Quantity},       {"SimpleQuantity", Kind::Quantity},
        {"MoneyQuantity", Kind::Quantity},  {"Money", Kind::Money},
        {"Range", Kind::Range},
        {"CodeableConcept", Kind::CodeableConcept}, {"Coding", Kind::Coding},
        {"Identifier", Kind::Identifier},   {"ContactPoint", Kind::ContactPoint},
        {"Reference", Kind::Reference},     {"Period", Kind::Period},
        {"HumanName", Kind::HumanName},     {"Address", Kind::Address},
        {"Timing", Kind::Timing},           {"Annotation", Kind::Annotation},
    };
    if (type.empty())
        return Kind::None;
    for (const auto &[name, kind] : kinds) {
        if (type == name)
            return kind;
    }
    return Kind::Other;
}

// The data type a node is indexed as: the evaluator's when it has one, else a
// guess from the keys in the order that tells overlapping shapes apart.
Kind kind_of(const Node &node) {
    if (!node.type.empty())
        return kind_of_type(node.type);
    const Json &v = *node.value;
    if (!v.is_object())
        return Kind::None;
    if (has(v, "coding"))
        return Kind::CodeableConcept;
    if (string_at(v, "reference"))
        return Kind::Reference;
    if (has(v, "currency"))
        return Kind::Money;
    const Json *value = member(v, "value");
    if (value && value->is_number())
        return Kind::Quantity;
    if (has(v, "start") || has(v, "end"))
        return Kind::Period;
    const Json *low = member(v, "low");
    const Json *high = member(v, "high");
    if ((low && low->is_object()) || (high && high->is_object()))
        return Kind::Range;
    if (has(v, "family") || has(v, "given"))
        return Kind::HumanName;
    if (has(v, "line") || has(v, "city") || has(v, "postalCode") || has(v, "country"))
        return Kind::Address;
    if (has(v, "event") || has(v, "repeat"))
        return Kind::Timing;
    if (value) {
        const std::string *system = string_at(v, "system");
        if (has(v, "rank") || (system && is_contact_system(*system) && !has(v, "type")))
            return Kind::ContactPoint;
        return Kind::Identifier;
    }
    if (has(v, "code") || has(v, "system"))
        return Kind::Coding;
    if (has(v, "identifier"))
        return Kind::Reference;
    if (string_at(v, "text") && (has(v, "authorString") || has(v, "authorReference") || has(v, "time")))
        return Kind::Annotation;
    return Kind::None;
}

// Calls `fn` with the text of a primitive token value: strings as they are,
// booleans and numbers as JSON writes them. False when the value is not primitive.
template <typename Fn> bool with_primitive_text(const Json &value, Fn fn) {
    if (value.is_string()) {
        fn(value.get_ref<const std::string &>());
        return true;
    }
    if (value.is_boolean() || value.is_number()) {
        fn(value.dump());
        return true;
    }
    return false;
}

// ---- token --------------------------------------------------------------------

// A code with an optional system: the forms `code`, `system|code`, `|code`, `system|`.
void index_code(Sink &sink, const std::string *system, const std::string *code) {
    if (code && !code->empty()) {
        sink.sort_key(system && !system->empty() ? system : nullptr, *code);
        sink.token(TokenForm::Code, *code);
        if (system && !system->empty())
            sink.token(TokenForm::SystemCode, {*system, "|", *code});
        else
            sink.token(TokenForm::NoSystemCode, *code);
    }
    if (system && !system->empty())
        sink.token(TokenForm::System, {*system, "|"});
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
    const Json *type = member(identifier, "type");
    if (!type || !type->is_object())
        return;
    if (value && !value->empty()) {
        for_each_object(*type, "coding", [&](const Json &coding) {
            const std::string *type_system = string_at(coding, "system");
            const std::string *type_code = string_at(coding, "code");
            if (type_system && type_code)
                sink.token(TokenForm::OfType, {*type_system, "|", *type_code, "|", *value});
        });
    }
    if (const std::string *text = string_at(*type, "text"))
        sink.text(*text);
}

// Token values of a node of any shape a token parameter reaches.
void index_token(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (with_primitive_text(value, [&](const std::string &text) { index_code(sink, nullptr, &text); }))
        return;
    const Kind kind = kind_of(node);
    if (kind == Kind::CodeableConcept) {
        index_codeable_concept(sink, value);
    } else if (kind == Kind::Coding) {
        index_coding(sink, value);
    } else if (kind == Kind::Identifier) {
        index_identifier(sink, value);
    } else if (kind == Kind::ContactPoint) {
        index_code(sink, nullptr, string_at(value, "value"));
    } else if ((kind == Kind::None || kind == Kind::Other) && value.is_object()) {
        // Untyped, shaped like no coded type: a CodeableConcept with only its text
        // ({"text":"Pulse"}) still answers :text.
        if (const std::string *text = string_at(value, "text"))
            sink.text(*text);
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
        sink.token(TokenForm::Reference, {parsed->type, "/", parsed->id});
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
        sink.token(TokenForm::SystemCode, {kIdentifierPrefix, *system, "|", *value});
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
    const Json *identifier = member(value, "identifier");
    if (identifier && identifier->is_object())
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
    const Kind kind = kind_of(node);
    auto add = [&](const std::string &text) { sink.string(text); };
    if (kind == Kind::HumanName) {
        for (const char *key : {"family", "given", "prefix", "suffix", "text"})
            for_each_string(value, key, add);
    } else if (kind == Kind::Address) {
        for (const char *key : {"line", "city", "district", "state", "postalCode", "country", "text"})
            for_each_string(value, key, add);
    } else if (kind == Kind::Annotation || (kind == Kind::None && only_text(value))) {
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
    std::optional<DateRange> from, to;
    if (start && !(from = parse_date_range(*start)))
        return;
    if (end && !(to = parse_date_range(*end)))
        return;
    int64_t lo = from ? from->lo : kMinTime;
    int64_t hi = to ? to->hi : kMaxTime;
    // An inverted Period (start after end, which invariant per-1 forbids) is
    // indexed as the range from its end to its start, so every stored row has
    // lo <= hi (the search SQL relies on it, and fhir.search_date checks it).
    if (lo > hi) {
        lo = to->lo;
        hi = from->hi;
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
    const Kind kind = kind_of(node);
    if (kind == Kind::Period) {
        index_period(sink, value);
    } else if (kind == Kind::Timing) {
        for_each_string(value, "event", [&](const std::string &event) { index_date_text(sink, event); });
        const Json *repeat = member(value, "repeat");
        if (repeat && repeat->is_object()) {
            const Json *bounds = member(*repeat, "boundsPeriod");
            if (bounds && bounds->is_object())
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

// decimal_of(value), computed once per value of the resource (a value inside a
// computed node is not cached: its address may be reused by another one).
const std::optional<DecimalRange> &decimal_cached(Sink &sink, const Node &node, const Json &value) {
    auto &decimals = sink.pad.decimals;
    if (!node.owned) {
        for (const auto &[address, range] : decimals) {
            if (address == &value)
                return range;
        }
    }
    decimals.emplace_back(node.owned ? nullptr : &value, decimal_of(value));
    return decimals.back().second;
}

// A Range as a stored span: value "" (stored as NULL, so no condition on the
// value column matches it), lo and hi the exact values of low and high, both
// inclusive, with an absent bound open ("-Infinity"/"Infinity"). `unit_of` is
// set to the bound whose system/code/unit the row carries (low, else high).
// Nothing when neither bound has a value or a value is not a decimal.
std::optional<DecimalRange> range_span(const Json &range, const Json **unit_of) {
    const Json *bound[2] = {member(range, "low"), member(range, "high")};
    DecimalRange span{"", "-Infinity", "Infinity"};
    bool any = false;
    *unit_of = nullptr;
    for (int i = 0; i < 2; i++) {
        if (!bound[i] || !bound[i]->is_object())
            continue;
        const Json *number = member(*bound[i], "value");
        if (!number)
            continue;
        auto decimal = decimal_of(*number);
        if (!decimal)
            return std::nullopt;
        (i == 0 ? span.lo : span.hi) = decimal->value;
        any = true;
        if (!*unit_of)
            *unit_of = bound[i];
    }
    if (!any)
        return std::nullopt;
    return span;
}

// A number with its implicit precision range, or a Range's span.
void index_number(Sink &sink, const Node &node) {
    if (node.value->is_object() && kind_of(node) == Kind::Range) {
        const Json *unit_of = nullptr;
        if (auto span = range_span(*node.value, &unit_of))
            sink.rows.numbers.push_back({sink.param_id, *span, sink.group, sink.component});
        return;
    }
    if (const auto &range = decimal_cached(sink, node, *node.value))
        sink.rows.numbers.push_back({sink.param_id, *range, sink.group, sink.component});
}

// A Quantity (or profile), Money, or bare number as a quantity row.
void index_quantity(Sink &sink, const Node &node) {
    const Json &value = *node.value;
    if (value.is_number()) {
        if (const auto &range = decimal_cached(sink, node, value))
            sink.rows.quantities.push_back({sink.param_id, *range, "", "", "", sink.group, sink.component});
        return;
    }
    const Kind kind = kind_of(node);
    auto text_of = [](const Json &object, std::string_view key) {
        const std::string *s = string_at(object, key);
        return s ? *s : std::string();
    };
    if (kind == Kind::Range) {
        const Json *unit_of = nullptr;
        if (auto span = range_span(value, &unit_of))
            sink.rows.quantities.push_back({sink.param_id, *span, text_of(*unit_of, "system"),
                                            text_of(*unit_of, "code"), text_of(*unit_of, "unit"), sink.group,
                                            sink.component});
        return;
    }
    if (kind != Kind::Quantity && kind != Kind::Money)
        return;
    const Json *number = member(value, "value");
    if (!number)
        return;
    const auto &range = decimal_cached(sink, node, *number);
    if (!range)
        return;
    auto text = [&](std::string_view key) {
        const std::string *s = string_at(value, key);
        return s ? *s : std::string();
    };
    if (kind == Kind::Money) {
        const std::string currency = text("currency");
        sink.rows.quantities.push_back({sink.param_id, *range,
                                        currency.empty() ? "" : std::string(kCurrencySystem), currency, currency,
                                        sink.group, sink.component});
        return;
    }
    sink.rows.quantities.push_back(
        {sink.param_id, *range, text("system"), text("code"), text("unit"), sink.group, sink.component});
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
// (SystemCode), "system|" (System: any code of the system, R4's token form);
// references as written and as "Type/id".
using ComponentValues = std::vector<std::pair<TokenForm, std::string>>;
void component_values(ParamType type, const Node &node, ComponentValues &out) {
    out.clear();
    auto code = [&](const std::string *system, const std::string *value) {
        if (!value || value->empty())
            return;
        out.emplace_back(TokenForm::Code, *value);
        if (system && !system->empty()) {
            out.emplace_back(TokenForm::SystemCode, *system + "|" + *value);
            out.emplace_back(TokenForm::System, *system + "|");
        }
    };
    const Json &value = *node.value;
    if (with_primitive_text(value, [&](const std::string &text) { code(nullptr, &text); }))
        return;
    const Kind kind = kind_of(node);
    if (type == ParamType::Reference || kind == Kind::Reference) {
        if (const std::string *reference = string_at(value, "reference")) {
            code(nullptr, reference);
            auto parsed = parse_reference(*reference);
            if (parsed && reference->find("://") == std::string::npos && *reference != parsed->type + "/" + parsed->id)
                out.emplace_back(TokenForm::Code, parsed->type + "/" + parsed->id);
        }
        return;
    }
    if (kind == Kind::CodeableConcept) {
        for_each_object(value, "coding",
                        [&](const Json &coding) { code(string_at(coding, "system"), string_at(coding, "code")); });
    } else if (kind == Kind::Coding) {
        code(string_at(value, "system"), string_at(value, "code"));
    } else if (kind == Kind::Identifier) {
        code(string_at(value, "system"), string_at(value, "value"));
    } else if (kind == Kind::ContactPoint) {
        code(nullptr, string_at(value, "value"));
    }
    return;
}

} // namespace

namespace {

// One component of a composite: its parameter type and its relative expression.
struct CompositePart {
    ParamType type;
    const fhirpath::Expression *expr;
};

// One registry entry of a resource type, resolved for extraction. The entry's
// fields that shaped the step are kept, so that an entry replaced in place is
// noticed (see Extractor::Compiled::plan).
struct Step {
    const SearchParamDef *def;
    ParamType type;
    std::string expression;
    std::string url;
    std::vector<CompositeComponent> components;
    const fhirpath::Expression *expr = nullptr; // nullptr: indexes nothing (special, no or bad expression)
    int shared = -1;                            // node list shared with steps of the same expression; -1: none
    std::vector<CompositePart> parts;           // composite: every component, or empty when one is missing
    FullTextKind fulltext = FullTextKind::None; // _text/_content: indexed by fulltext.cpp, not by `expr`
    MemberFilter members;                       // what the expression reads (token_sort_members)
};

// The steps of one resource type in registry (code) order.
struct Plan {
    std::vector<Step> steps;
    int shared_lists = 0; // number of distinct expressions used by more than one step
};

// Whether the registry entry still has the fields the step was planned from.
bool step_current(const Step &step) {
    const SearchParamDef &def = *step.def;
    if (def.type != step.type || def.expression != step.expression || def.url != step.url ||
        def.components.size() != step.components.size())
        return false;
    for (size_t i = 0; i < def.components.size(); ++i) {
        if (def.components[i].definition != step.components[i].definition ||
            def.components[i].expression != step.components[i].expression)
            return false;
    }
    return true;
}

} // namespace


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
           rows.references.size() + rows.token_texts.size() + rows.composite_keys.size() + rows.texts.size();
}

// The keys of one composite node: every combination of its token components'
// hashes (one per component, in component order), folded by composite_key_hash.
// `keys` is the node's run of composite_keys rows, sorted by component.
std::vector<int64_t> combined_keys(const CompositeKeyRow *keys, size_t count) {
    std::vector<std::vector<int64_t>> combinations = {{}};
    size_t i = 0;
    while (i < count) {
        const int component = keys[i].component;
        size_t end = i;
        while (end < count && keys[end].component == component)
            ++end;
        std::vector<std::vector<int64_t>> next;
        for (const auto &prefix : combinations) {
            for (size_t k = i; k < end && next.size() < kMaxCompositeCombinations; ++k) {
                next.push_back(prefix);
                next.back().push_back(keys[k].hash);
            }
        }
        combinations = std::move(next);
        i = end;
    }
    std::vector<int64_t> out;
    out.reserve(combinations.size());
    for (const auto &hashes : combinations)
        out.push_back(composite_key_hash(hashes.data(), hashes.size()));
    return out;
}

// Pairs every grouped number, quantity, date and string row with the keys of its
// composite node (see "Composite parameters" in extract.h). Expects the rows
// sorted as extract() leaves them.
void pair_composite_rows(IndexRows &rows) {
    // Keys per (param, group): the sorted composite_keys rows fall into runs.
    struct Node {
        int param_id, group;
        std::vector<int64_t> keys;
    };
    std::vector<Node> nodes;
    const auto &all = rows.composite_keys;
    for (size_t i = 0; i < all.size();) {
        size_t end = i;
        while (end < all.size() && all[end].param_id == all[i].param_id && all[end].group == all[i].group)
            ++end;
        nodes.push_back({all[i].param_id, all[i].group, combined_keys(&all[i], end - i)});
        i = end;
    }
    const std::vector<int64_t> keyless = {composite_key_hash(nullptr, 0)}; // a composite without token components
    auto keys_of = [&](int param_id, int group) -> const std::vector<int64_t> & {
        auto it = std::lower_bound(nodes.begin(), nodes.end(), std::make_pair(param_id, group),
                                   [](const Node &n, const std::pair<int, int> &k) {
                                       return std::make_pair(n.param_id, n.group) < k;
                                   });
        return it != nodes.end() && it->param_id == param_id && it->group == group ? it->keys : keyless;
    };
    for (const NumberRow &n : rows.numbers) {
        if (n.group == 0)
            continue;
        for (int64_t key : keys_of(n.param_id, n.group))
            rows.composite_numbers.push_back({n.param_id, n.group, n.component, key, n.range, "", "", ""});
    }
    for (const QuantityRow &q : rows.quantities) {
        if (q.group == 0)
            continue;
        for (int64_t key : keys_of(q.param_id, q.group))
            rows.composite_numbers.push_back(
                {q.param_id, q.group, q.component, key, q.range, q.system, q.code, q.unit});
    }
    for (const DateRow &d : rows.dates) {
        if (d.group == 0)
            continue;
        for (int64_t key : keys_of(d.param_id, d.group))
            rows.composite_dates.push_back({d.param_id, d.group, d.component, key, d.lo, d.hi});
    }
    for (const StringRow &s : rows.strings) {
        if (s.group == 0)
            continue;
        for (int64_t key : keys_of(s.param_id, s.group))
            rows.composite_strings.push_back({s.param_id, s.group, s.component, key, s.normalized});
    }
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

// Component values per (component expression, node) within one resource: the
// composites of a type evaluate the same components (Observation's `code`) on
// the same nodes. Only nodes inside the resource are cached; a computed node's
// address could be reused by a later, different one. Kept between resources,
// so entries and their node lists are reused.
class ComponentCache {
  public:
    // Expression::evaluate_on_into, which only the Extractor may call.
    using Evaluate = void (*)(const fhirpath::Expression &, const Node &, const Json &, std::vector<Node> &);

    explicit ComponentCache(Evaluate evaluate) : evaluate_(evaluate) {}

    // Forgets the previous resource.
    void reset() { used_ = 0; }

    // The nodes `expr` selects relative to `node`; valid until the next get().
    const std::vector<Node> &get(const fhirpath::Expression *expr, const Node &node, const Json &resource) {
        if (node.owned) {
            evaluate_(*expr, node, resource, uncached_);
            return uncached_;
        }
        for (size_t i = 0; i < used_; ++i) {
            const Entry &entry = entries_[i];
            if (entry.expr == expr && entry.value == node.value && entry.type == node.type)
                return entry.nodes;
        }
        if (used_ == entries_.size())
            entries_.emplace_back();
        Entry &entry = entries_[used_++];
        entry.expr = expr;
        entry.value = node.value;
        entry.type = node.type;
        evaluate_(*expr, node, resource, entry.nodes);
        return entry.nodes;
    }

  private:
    struct Entry {
        const fhirpath::Expression *expr = nullptr;
        const Json *value = nullptr;
        std::string type;
        std::vector<Node> nodes;
    };
    Evaluate evaluate_;
    std::deque<Entry> entries_; // deque: references to earlier entries stay valid as entries are added
    size_t used_ = 0;
    std::vector<Node> uncached_;
};

// component_values() per (value node, component type) within one resource, for
// the same reasons and with the same limits as ComponentCache.
class ValueCache {
  public:
    // Forgets the previous resource.
    void reset() { used_ = 0; }

    // The values of `node` as a component of type `type`; valid until the next get().
    const ComponentValues &get(ParamType type, const Node &node) {
        if (node.owned) {
            component_values(type, node, uncached_);
            return uncached_;
        }
        for (size_t i = 0; i < used_; ++i) {
            const Entry &entry = entries_[i];
            if (entry.value == node.value && entry.type == type && entry.node_type == node.type)
                return entry.values;
        }
        if (used_ == entries_.size())
            entries_.emplace_back();
        Entry &entry = entries_[used_++];
        entry.value = node.value;
        entry.type = type;
        entry.node_type = node.type;
        component_values(type, node, entry.values);
        return entry.values;
    }

  private:
    struct Entry {
        const Json *value = nullptr;
        ParamType type = ParamType::Token;
        std::string node_type;
        ComponentValues values;
    };
    std::deque<Entry> entries_;
    size_t used_ = 0;
    ComponentValues uncached_;
};

// What one extraction works with besides the rows; see Extractor::Compiled::work.
struct Workspace {
    explicit Workspace(ComponentCache::Evaluate evaluate) : components(evaluate) {}

    Scratchpad pad;
    ComponentCache components;
    ValueCache values;
    std::vector<Node> own;                 // nodes of a step whose expression no other step has
    std::vector<std::vector<Node>> shared; // nodes of expressions several steps share, by Step::shared
    std::vector<char> evaluated;           // whether shared[i] holds this resource's nodes
};

// Indexes a composite's nodes: a hash per value combination when every component
// is token-like, else key rows plus grouped value rows (see extract.h).
void index_composite(int param_id, const std::vector<CompositePart> &parts, const std::vector<Node> &nodes,
                     const Json &resource, IndexRows &rows, Workspace &work) {
    const bool hashable =
        std::all_of(parts.begin(), parts.end(), [](const CompositePart &p) { return is_hashable(p.type); });
    int group = 0;
    for (const Node &node : nodes) {
        ++group;
        if (hashable) {
            // The last component's combinations are hashed as they are made, not collected.
            std::vector<std::string> combinations = {""};
            for (size_t i = 0; i < parts.size() && !combinations.empty(); ++i) {
                const bool last = i + 1 == parts.size();
                std::vector<std::string> next;
                size_t hashed = 0;
                for (const Node &value_node : work.components.get(parts[i].expr, node, resource)) {
                    for (const auto &value : work.values.get(parts[i].type, value_node)) {
                        for (const std::string &prefix : combinations) {
                            if ((last ? hashed : next.size()) >= kMaxCompositeCombinations)
                                continue;
                            if (!last) {
                                next.push_back(i == 0 ? value.second : prefix + "$" + value.second);
                                continue;
                            }
                            std::string &combination = work.pad.buffer;
                            combination.clear();
                            if (i > 0)
                                combination.append(prefix).append("$");
                            combination.append(value.second);
                            rows.tokens.push_back(token_hash(param_id, TokenForm::SystemCode, combination));
                            ++hashed;
                        }
                    }
                }
                if (last)
                    next.clear();
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
            Sink sink{rows, work.pad, param_id, group, static_cast<int>(i)};
            const size_t before = row_count(rows);
            for (const Node &value_node : work.components.get(parts[i].expr, node, resource)) {
                if (!is_hashable(parts[i].type)) {
                    index_node(parts[i].type, sink, value_node);
                    continue;
                }
                for (const auto &[form, value] : work.values.get(parts[i].type, value_node))
                    rows.composite_keys.push_back({param_id, group, sink.component, token_hash(param_id, form, value)});
            }
            complete = row_count(rows) > before;
        }
        if (!complete)
            mark.rollback(rows);
    }
}

} // namespace

// Expressions compiled on first use, keyed by their text so that entries sharing
// an expression are compiled once, and per resource type the plan of steps built
// from them. The plans hold pointers into the registry: they are rebuilt when
// the registry's entry array moves or grows, or when an entry of the type was
// replaced in place; enabled flags are read at extraction time.
struct Extractor::Compiled {
    std::unordered_map<std::string, std::unique_ptr<fhirpath::Expression>> by_text; // null: does not compile
    std::unordered_map<std::string, Plan> plans;                                     // by resource type
    const SearchParamDef *entries = nullptr; // registry.all() when the plans were built
    size_t entry_count = 0;
    std::shared_ptr<void> memo; // fhirpath::Expression::Memo, shared by the expressions of one resource
    Workspace work;             // buffers of one extraction, reused by the next

    explicit Compiled(ComponentCache::Evaluate evaluate) : work(evaluate) {}

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

    // The current plan of a resource type, (re)built when missing or stale.
    const Plan &plan(const Registry &registry, const std::string &resource_type) {
        const std::vector<SearchParamDef> &all = registry.all();
        if (all.data() != entries || all.size() != entry_count) {
            plans.clear();
            entries = all.data();
            entry_count = all.size();
        }
        auto it = plans.find(resource_type);
        if (it != plans.end() &&
            std::all_of(it->second.steps.begin(), it->second.steps.end(), step_current))
            return it->second;
        Plan built = build(registry, resource_type);
        if (it == plans.end())
            it = plans.emplace(resource_type, std::move(built)).first;
        else
            it->second = std::move(built);
        return it->second;
    }

  private:
    // Resolves every entry of the type: compiled expression, composite parts, and
    // which steps share an expression (so it is evaluated once per resource).
    Plan build(const Registry &registry, const std::string &resource_type) {
        Plan plan;
        for (const SearchParamDef *def : registry.for_type(resource_type)) {
            Step step;
            step.def = def;
            step.type = def->type;
            step.expression = def->expression;
            step.url = def->url;
            step.components = def->components;
            step.fulltext = full_text_kind(*def);
            step.members = members_read_by(def->expression);
            if (def->type != ParamType::Special && !def->expression.empty())
                step.expr = get(def->expression);
            if (step.expr && def->type == ParamType::Composite) {
                // Components are other parameters, found by canonical URL; without all of them
                // the composite is skipped.
                for (const CompositeComponent &component : def->components) {
                    const SearchParamDef *component_def = registry.find_by_url(resource_type, component.definition);
                    const fhirpath::Expression *component_expr = get(component.expression);
                    if (!component_def || !component_expr)
                        break;
                    step.parts.push_back({component_def->type, component_expr});
                }
                if (step.parts.size() != def->components.size())
                    step.parts.clear();
                if (step.parts.empty())
                    step.expr = nullptr;
            }
            plan.steps.push_back(std::move(step));
        }
        for (size_t i = 0; i < plan.steps.size(); ++i) {
            Step &step = plan.steps[i];
            if (!step.expr || step.shared >= 0)
                continue;
            for (size_t j = i + 1; j < plan.steps.size(); ++j) {
                if (plan.steps[j].expr != step.expr)
                    continue;
                if (step.shared < 0)
                    step.shared = plan.shared_lists++;
                plan.steps[j].shared = step.shared;
            }
        }
        return plan;
    }
};

// Compiles lazily: a backend that writes only Patients never compiles the rest.
Extractor::Extractor(const Registry &registry)
    : registry_(registry),
      compiled_(std::make_unique<Compiled>(
          [](const fhirpath::Expression &expr, const Node &node, const Json &resource, std::vector<Node> &out) {
              expr.evaluate_on_into(node, resource, out);
          })) {
    compiled_->memo = fhirpath::Expression::new_memo();
}

// Out of line, where Compiled is complete.
Extractor::~Extractor() = default;

// Runs every enabled parameter of the resource's type, then sorts and deduplicates the rows.
IndexRows Extractor::extract(const Json &resource) const {
    IndexRows rows;
    const std::string *resource_type = string_at(resource, "resourceType");
    if (!resource_type)
        return rows;
    const Plan &plan = compiled_->plan(registry_, *resource_type);
    // After plan(), which may compile expressions: begin() sizes the memo for their paths.
    auto &memo = *static_cast<fhirpath::Expression::Memo *>(compiled_->memo.get());
    fhirpath::Expression::begin(memo, resource);
    rows.tokens.reserve(64);
    Workspace &work = compiled_->work;
    work.pad.decimals.clear();
    work.components.reset();
    work.values.reset();
    if (work.shared.size() < static_cast<size_t>(plan.shared_lists))
        work.shared.resize(static_cast<size_t>(plan.shared_lists));
    work.evaluated.assign(static_cast<size_t>(plan.shared_lists), 0);
    for (const Step &step : plan.steps) {
        const SearchParamDef &def = *step.def;
        if (!def.enabled)
            continue;
        if (step.fulltext != FullTextKind::None) {
            std::string document = full_text_document(step.fulltext, resource);
            if (!document.empty()) {
                rows.texts.push_back({def.id, std::move(document)});
                rows.tokens.push_back(token_hash(def.id, TokenForm::Present, ""));
            }
            continue;
        }
        if (!step.expr)
            continue;
        // An expression several parameters share (Patient name/phonetic) is evaluated once.
        const std::vector<Node> *nodes = &work.own;
        if (step.shared < 0) {
            step.expr->evaluate_memo(memo, work.own);
        } else {
            const size_t slot = static_cast<size_t>(step.shared);
            if (!work.evaluated[slot]) {
                step.expr->evaluate_memo(memo, work.shared[slot]);
                work.evaluated[slot] = 1;
            }
            nodes = &work.shared[slot];
        }
        const size_t before = row_count(rows);
        if (step.type != ParamType::Composite) {
            Sink sink{rows, work.pad, def.id};
            for (const Node &node : *nodes)
                index_node(step.type, sink, node);
        } else {
            index_composite(def.id, step.parts, *nodes, resource, rows, work);
        }
        if (row_count(rows) > before)
            rows.tokens.push_back(token_hash(def.id, TokenForm::Present, ""));
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
    pair_composite_rows(rows);
    return rows;
}

// Keeps resourceType, id, and members named by an identifier (or a choice of one).
bool MemberFilter::keeps(std::string_view member) const {
    if (all || member == "resourceType" || member == "id")
        return true;
    for (const std::string &name : names) {
        if (member.size() < name.size() || member.compare(0, name.size(), name) != 0)
            continue;
        if (member.size() == name.size() || std::isupper(static_cast<unsigned char>(member[name.size()])))
            return true;
    }
    return false;
}

// Collects the identifiers of the expression text (string literals included: more
// members than needed is only slower); any environment variable or a function
// that walks away from the paths named keeps everything.
MemberFilter members_read_by(std::string_view expression) {
    MemberFilter filter;
    if (expression.empty() || expression.find('%') != std::string_view::npos)
        return filter;
    auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    std::vector<std::string> names;
    for (size_t i = 0; i < expression.size();) {
        if (!word_char(expression[i])) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < expression.size() && word_char(expression[end]))
            end++;
        std::string word(expression.substr(i, end - i));
        if (word == "resolve" || word == "descendants" || word == "children" || word == "repeat")
            return filter;
        if (!std::isdigit(static_cast<unsigned char>(word[0])))
            names.push_back(std::move(word));
        i = end;
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    filter.all = false;
    filter.names = std::move(names);
    return filter;
}

// Looks the parameter up by id and its step in the type's plan.
const MemberFilter *Extractor::token_sort_members(int param_id) const {
    const SearchParamDef *def = registry_.find_by_id(param_id);
    if (!def)
        return nullptr;
    const Plan &plan = compiled_->plan(registry_, def->resource_type);
    for (const Step &step : plan.steps) {
        if (step.def->id == param_id)
            return &step.members;
    }
    return nullptr;
}

// Walks the parameter's codes as extract() does, collecting only their sort range.
std::optional<TokenSortRange> Extractor::token_sort_range(const Json &resource, int param_id) const {
    const std::string *resource_type = string_at(resource, "resourceType");
    if (!resource_type)
        return std::nullopt;
    const Plan &plan = compiled_->plan(registry_, *resource_type);
    for (const Step &step : plan.steps) {
        const SearchParamDef &def = *step.def;
        if (def.id != param_id)
            continue;
        if (!def.enabled || !step.expr || step.type != ParamType::Token)
            return std::nullopt;
        IndexRows unused;
        TokenSortRange range;
        Sink sink{unused, compiled_->work.pad, def.id};
        sink.sort_range = &range;
        for (const Node &node : step.expr->evaluate(resource))
            index_token(sink, node);
        if (range.lo.empty())
            return std::nullopt;
        return range;
    }
    return std::nullopt;
}

} // namespace fhir
