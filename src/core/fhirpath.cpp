// fhirpath.cpp: compiler and evaluator for the FHIRPath subset of search parameters.
//
// An expression is tokenized and parsed once (recursive descent, FHIRPath's
// operator precedence) into an immutable tree, then interpreted per resource over
// collections of items that point into the resource JSON. Nothing here knows the
// FHIR StructureDefinitions, so element types come from three places only: the
// suffix of a choice element (valueQuantity -> "Quantity"), an explicit `as` /
// `ofType` / `resolve()`, and a conservative guess from the JSON shape (an object
// holding a `reference` string is a Reference). Guessed types are weaker than
// known ones: `as Age` accepts an object guessed to be a Quantity.
//
// Deliberate deviations from full FHIRPath, all in favour of never failing on data
// (see docs/fhirpath.md): functions and operators that FHIRPath defines only on
// single items (`as`, `is`, `=` on lists, `where` criteria returning several
// items) act item by item or yield empty instead of raising errors; `resolve()`
// does not fetch anything, it only derives the target type (and id) from the
// reference text, or finds a contained resource; dates compare as text.
//
// Evaluation is built to be cheap per resource: names of functions and operators
// are resolved to enums at compile time; an item's type is only worked out when
// something looks at it (most nodes are passed through); intermediate
// collections come from a per-thread pool; `is` after resolve() builds no stub.
// For the extractor, a Memo shares the results of root paths between the
// expressions evaluated over one resource.
#include "fhirpath.h"

#include "error.h"
#include "values.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <set>
#include <utility>

namespace fhir::fhirpath {

struct Expression::Ast {
    enum class Kind {
        Literal,  // `literal`
        Empty,    // {}
        This,     // $this: the current focus
        Variable, // %resource / %context (name)
        Member,   // child navigation (name), on `focus` or the current focus
        Function, // function call (name, args; type_name for as/is/ofType)
        TypeOp,   // `focus is type_name` / `focus as type_name` (name = "is"/"as")
        Index,    // focus[args[0]]
        Binary,   // args[0] name args[1]
    };
    // Functions and operators resolved from `name` once after parsing (see finalize()),
    // so evaluation switches on a number instead of comparing names.
    enum class Fn : uint8_t {
        None, Where, Select, Exists, All, Empty, Not, First, Last, Tail, Single, Count, Distinct,
        HasValue, Resolve, Extension, As, Is, OfType, ConformsTo, Trace,
    };
    enum class Op : uint8_t {
        None, Union, And, Or, Xor, Implies, In, Contains, Eq, Ne, Equiv, NotEquiv, Lt, Le, Gt, Ge,
    };
    Kind kind = Kind::Empty;
    std::string name;
    std::string type_name; // as/is/ofType target; for a type filter, canonical_type(name)
    std::shared_ptr<const Json> literal;
    std::unique_ptr<Ast> focus;
    std::vector<std::unique_ptr<Ast>> args;
    Fn fn = Fn::None;          // Function and TypeOp
    Op op = Op::None;          // Binary
    bool type_filter = false;  // Member: a capitalized name at the head of a path
    std::string_view literal_type; // Literal: "boolean", "string", "integer" or "decimal"
    int path_slot = -1; // a path from the root (see assign_paths()): its Memo slot, else -1
};

namespace {

using Ast = Expression::Ast;
using AstPtr = std::unique_ptr<Ast>;

// ---- FHIR type names ----------------------------------------------------------

// R4 primitive types: the lowercase names choice suffixes map to.
const std::set<std::string, std::less<>> &primitive_types() {
    static const std::set<std::string, std::less<>> names = {
        "base64Binary", "boolean",     "canonical", "code",     "date", "dateTime",    "decimal",
        "id",           "instant",     "integer",   "markdown", "oid",  "positiveInt", "string",
        "time",         "unsignedInt", "uri",       "url",      "uuid", "xhtml"};
    return names;
}

// R4 complex data types that may appear as a choice suffix or in `as`/`is`.
const std::set<std::string, std::less<>> &complex_types() {
    // clang-format off
    static const std::set<std::string, std::less<>> names = {
        "Address", "Age", "Annotation", "Attachment", "BackboneElement", "CodeableConcept", "Coding",
        "ContactDetail", "ContactPoint", "Contributor", "Count", "DataRequirement", "Distance", "Dosage",
        "Duration", "Element", "Expression", "Extension", "HumanName", "Identifier", "MarketingStatus", "Meta",
        "Money", "MoneyQuantity", "Narrative", "ParameterDefinition", "Period", "Population",
        "ProdCharacteristic", "ProductShelfLife", "Quantity", "Range", "Ratio", "Reference", "RelatedArtifact",
        "SampledData", "Signature", "SimpleQuantity", "SubstanceAmount", "Timing", "TriggerDefinition",
        "UsageContext"};
    // clang-format on
    return names;
}

// Lowers the first letter so "DateTime" or "String" name the FHIR primitive.
std::string lower_first(std::string_view name) {
    std::string out(name);
    if (!out.empty())
        out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
    return out;
}

// The canonical spelling of a type name from an expression or a choice suffix:
// primitives lowercase-first (R4's own expressions write `as DateTime`), FHIR./
// System. namespaces dropped.
std::string canonical_type(std::string_view name) {
    if (name.rfind("FHIR.", 0) == 0)
        name.remove_prefix(5);
    else if (name.rfind("System.", 0) == 0)
        name.remove_prefix(7);
    std::string lowered = lower_first(name);
    if (primitive_types().count(lowered))
        return lowered;
    return std::string(name);
}

// The canonical type of a choice element's key suffix, or "" when the suffix is
// not a real type (so "codeFilter" is not code[x]). The same as canonical_type()
// of a suffix that passes, as a view into static storage, without allocating.
std::string_view choice_suffix_type(std::string_view suffix) {
    static const std::map<std::string, std::string, std::less<>> suffixes = [] {
        std::map<std::string, std::string, std::less<>> out;
        for (const std::string &name : complex_types())
            out.emplace(name, name);
        for (const std::string &name : primitive_types()) {
            std::string upper = name;
            upper[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[0])));
            out.emplace(std::move(upper), name);
        }
        return out;
    }();
    if (suffix.empty() || !std::isupper(static_cast<unsigned char>(suffix[0])))
        return {};
    auto it = suffixes.find(suffix);
    return it == suffixes.end() ? std::string_view() : std::string_view(it->second);
}

// The Quantity profiles, which `as Quantity` accepts and a guessed Quantity may become.
bool is_quantity_profile(std::string_view type) {
    return type == "Age" || type == "Count" || type == "Distance" || type == "Duration" || type == "SimpleQuantity" ||
           type == "MoneyQuantity";
}

// Resource type names are capitalized and are not data types.
bool is_resource_type_name(std::string_view type) {
    return !type.empty() && std::isupper(static_cast<unsigned char>(type[0])) && complex_types().count(type) == 0;
}

// Whether a value of type `actual` is also a `wanted` (FHIR's type hierarchy, the
// parts search parameters meet).
bool type_matches(std::string_view actual, std::string_view wanted) {
    if (actual == wanted || wanted == "Element" || wanted == "Base")
        return true;
    if (wanted == "Quantity")
        return is_quantity_profile(actual);
    if (wanted == "string")
        return actual == "code" || actual == "id" || actual == "markdown";
    if (wanted == "uri")
        return actual == "url" || actual == "canonical" || actual == "oid" || actual == "uuid";
    if (wanted == "integer")
        return actual == "unsignedInt" || actual == "positiveInt";
    if (wanted == "Resource")
        return is_resource_type_name(actual);
    if (wanted == "DomainResource")
        return is_resource_type_name(actual) && actual != "Bundle" && actual != "Binary" && actual != "Parameters";
    return false;
}

// Whether a JSON value of unknown type could hold a `wanted`, judging by JSON kind alone.
bool kind_compatible(const Json &value, std::string_view wanted) {
    if (wanted == "boolean")
        return value.is_boolean();
    if (wanted == "integer" || wanted == "unsignedInt" || wanted == "positiveInt")
        return value.is_number_integer();
    if (wanted == "decimal")
        return value.is_number();
    if (primitive_types().count(wanted))
        return value.is_string();
    return value.is_object();
}

// True when every key of `object` is in `allowed`.
bool keys_within(const Json &object, std::initializer_list<std::string_view> allowed) {
    for (const auto &entry : object.get_ref<const Json::object_t &>()) {
        if (std::find(allowed.begin(), allowed.end(), entry.first) == allowed.end())
            return false;
    }
    return true;
}

// object[key] or nullptr (see json_member in json.h).
inline const Json *member(const Json &object, std::string_view key) { return json_member(object, key); }

// Shape tests only trust keys holding the JSON kind FHIR gives them.
bool has_string(const Json &object, std::string_view key) {
    const Json *found = member(object, key);
    return found && found->is_string();
}

// A guess at the data type of an object from its keys, only where the shape is
// unambiguous; "" otherwise. Identifier and ContactPoint share {system, value},
// so ContactPoint is only recognised by its fixed system codes.
std::string_view guess_type(const Json &value) {
    if (!value.is_object())
        return "";
    auto has = [&](std::string_view key) { return member(value, key) != nullptr; };
    if (has_string(value, "reference") &&
        keys_within(value, {"id", "extension", "reference", "type", "identifier", "display"}))
        return "Reference";
    const Json *identifier = member(value, "identifier");
    const Json *type = member(value, "type");
    if (identifier && identifier->is_object() && !has("value") &&
        keys_within(value, {"id", "extension", "reference", "type", "identifier", "display"}) &&
        (!type || type->is_string()))
        return "Reference";
    const Json *coding = member(value, "coding");
    if (coding && coding->is_array() && keys_within(value, {"id", "extension", "coding", "text"}))
        return "CodeableConcept";
    if ((has_string(value, "code") || has_string(value, "system")) &&
        keys_within(value, {"id", "extension", "system", "version", "code", "display", "userSelected"}))
        return "Coding";
    const Json *number = member(value, "value");
    if (number && number->is_number() &&
        keys_within(value, {"id", "extension", "value", "comparator", "unit", "system", "code"}))
        return "Quantity";
    if ((has_string(value, "start") || has_string(value, "end")) &&
        keys_within(value, {"id", "extension", "start", "end"}))
        return "Period";
    if ((has("family") || has("given")) &&
        keys_within(value, {"id", "extension", "use", "text", "family", "given", "prefix", "suffix", "period"}))
        return "HumanName";
    if ((has("line") || has("city") || has("district") || has("state") || has("postalCode") || has("country")) &&
        keys_within(value, {"id", "extension", "use", "type", "text", "line", "city", "district", "state", "postalCode",
                            "country", "period"}))
        return "Address";
    if ((has("low") || has("high")) && keys_within(value, {"id", "extension", "low", "high"}))
        return "Range";
    if ((has("event") || has("repeat")) &&
        keys_within(value, {"id", "extension", "modifierExtension", "event", "repeat", "code"}))
        return "Timing";
    if (has_string(value, "value") && has_string(value, "system")) {
        static const std::set<std::string, std::less<>> contact_systems = {"phone", "fax", "email", "pager",
                                                                           "url",   "sms", "other"};
        if (contact_systems.count(member(value, "system")->get_ref<const std::string &>()) &&
            keys_within(value, {"id", "extension", "system", "value", "use", "rank", "period"}))
            return "ContactPoint";
    }
    if (number && keys_within(value, {"id", "extension", "use", "type", "system", "value", "period", "assigner"}))
        return "Identifier";
    return "";
}

// ---- tokens -------------------------------------------------------------------

enum class TokenKind { End, Identifier, String, Number, Date, Variable, Special, Symbol };

struct Token {
    TokenKind kind = TokenKind::End;
    std::string text; // identifier name, decoded string, number text, symbol
    size_t pos = 0;
    bool quoted = false; // `backtick` identifier: never a keyword
};

// Compile errors carry the position so a custom SearchParameter's author can find the problem.
[[noreturn]] void fail(std::string_view source, size_t pos, const std::string &what) {
    throw Error(ErrorKind::InvalidSearch,
                "fhirpath: " + what + " at position " + std::to_string(pos) + " in \"" + std::string(source) + "\"");
}

// Reads a quoted string or backtick identifier starting at source[i] (the quote), decoding escapes.
std::string read_quoted(std::string_view source, size_t &i) {
    const char quote = source[i];
    const size_t start = i++;
    std::string out;
    while (i < source.size() && source[i] != quote) {
        char c = source[i++];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i >= source.size())
            break;
        char e = source[i++];
        switch (e) {
        case '\'':
        case '"':
        case '`':
        case '\\':
        case '/':
            out += e;
            break;
        case 'f':
            out += '\f';
            break;
        case 'n':
            out += '\n';
            break;
        case 'r':
            out += '\r';
            break;
        case 't':
            out += '\t';
            break;
        case 'u': {
            if (i + 4 > source.size())
                fail(source, i - 2, "bad \\u escape");
            unsigned code = 0;
            for (int k = 0; k < 4; ++k) {
                char h = source[i++];
                if (!std::isxdigit(static_cast<unsigned char>(h)))
                    fail(source, i - 1, "bad \\u escape");
                code = code * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h))
                                                             ? h - '0'
                                                             : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
            }
            append_utf8(out, static_cast<char32_t>(code));
            break;
        }
        default:
            fail(source, i - 2, std::string("unknown escape \\") + e);
        }
    }
    if (i >= source.size())
        fail(source, start, "unterminated string");
    ++i; // closing quote
    return out;
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Splits an expression into tokens; comments and whitespace vanish here.
std::vector<Token> tokenize(std::string_view source) {
    std::vector<Token> tokens;
    size_t i = 0;
    while (i < source.size()) {
        const char c = source[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if (source.compare(i, 2, "//") == 0) {
            while (i < source.size() && source[i] != '\n')
                ++i;
            continue;
        }
        if (source.compare(i, 2, "/*") == 0) {
            size_t end = source.find("*/", i + 2);
            if (end == std::string_view::npos)
                fail(source, i, "unterminated comment");
            i = end + 2;
            continue;
        }
        Token tok;
        tok.pos = i;
        if (is_ident_start(c)) {
            size_t start = i;
            while (i < source.size() && is_ident_char(source[i]))
                ++i;
            tok.kind = TokenKind::Identifier;
            tok.text = std::string(source.substr(start, i - start));
        } else if (c == '`') {
            tok.kind = TokenKind::Identifier;
            tok.text = read_quoted(source, i);
            tok.quoted = true;
        } else if (c == '\'') {
            tok.kind = TokenKind::String;
            tok.text = read_quoted(source, i);
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            size_t start = i;
            while (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i])))
                ++i;
            if (i + 1 < source.size() && source[i] == '.' && std::isdigit(static_cast<unsigned char>(source[i + 1]))) {
                ++i;
                while (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i])))
                    ++i;
            }
            tok.kind = TokenKind::Number;
            tok.text = std::string(source.substr(start, i - start));
        } else if (c == '@') {
            size_t start = ++i;
            while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '-' ||
                                         source[i] == ':' || source[i] == '.' || source[i] == '+'))
                ++i;
            tok.kind = TokenKind::Date;
            tok.text = std::string(source.substr(start, i - start));
            if (tok.text.empty())
                fail(source, tok.pos, "empty date literal");
            if (tok.text[0] == 'T') // @T12:00 is a time
                tok.text.erase(0, 1);
        } else if (c == '%') {
            ++i;
            tok.kind = TokenKind::Variable;
            if (i < source.size() && (source[i] == '`' || source[i] == '\'')) {
                tok.text = read_quoted(source, i);
            } else {
                size_t start = i;
                while (i < source.size() && (is_ident_char(source[i]) || source[i] == '-'))
                    ++i;
                tok.text = std::string(source.substr(start, i - start));
            }
            if (tok.text.empty())
                fail(source, tok.pos, "empty variable name");
        } else if (c == '$') {
            size_t start = ++i;
            while (i < source.size() && is_ident_char(source[i]))
                ++i;
            tok.kind = TokenKind::Special;
            tok.text = std::string(source.substr(start, i - start));
        } else {
            static const char *const two_char[] = {"!=", "!~", "<=", ">="};
            tok.kind = TokenKind::Symbol;
            for (const char *sym : two_char) {
                if (source.compare(i, 2, sym) == 0) {
                    tok.text = sym;
                    break;
                }
            }
            if (tok.text.empty()) {
                if (std::string_view("().[],|=~<>+-*/&{}").find(c) == std::string_view::npos)
                    fail(source, i, std::string("unexpected character '") + c + "'");
                tok.text = std::string(1, c);
            }
            i += tok.text.size();
        }
        tokens.push_back(std::move(tok));
    }
    Token end;
    end.pos = source.size();
    tokens.push_back(end);
    return tokens;
}

// ---- parser -------------------------------------------------------------------

// How a function is called: argument count bounds and whether its argument is a type.
struct FunctionSpec {
    const char *name;
    int min_args;
    int max_args;
    bool type_argument;
};

// The functions the evaluator implements; anything else is refused at compile time.
const FunctionSpec *find_function(std::string_view name) {
    static const FunctionSpec specs[] = {
        {"where", 1, 1, false},    {"select", 1, 1, false},  {"exists", 0, 1, false},     {"all", 1, 1, false},
        {"empty", 0, 0, false},    {"not", 0, 0, false},     {"first", 0, 0, false},      {"last", 0, 0, false},
        {"tail", 0, 0, false},     {"single", 0, 0, false},  {"count", 0, 0, false},      {"distinct", 0, 0, false},
        {"hasValue", 0, 0, false}, {"resolve", 0, 0, false}, {"extension", 1, 1, false},  {"as", 1, 1, true},
        {"is", 1, 1, true},        {"ofType", 1, 1, true},   {"conformsTo", 1, 1, false}, {"trace", 1, 2, false},
    };
    for (const auto &spec : specs) {
        if (name == spec.name)
            return &spec;
    }
    return nullptr;
}

// Evaluation recurses once per tree level and parsing once per nesting level, so
// both are bounded: R4's largest expressions have a few dozen nodes, and a custom
// SearchParameter must not be able to exhaust a backend's stack.
constexpr size_t kMaxNodes = 1000;
constexpr int kMaxNesting = 64;

class Parser {
  public:
    explicit Parser(std::string_view source) : source_(source), tokens_(tokenize(source)) {}

    // The whole text must be one expression.
    AstPtr parse_all() {
        if (peek().kind == TokenKind::End)
            fail(source_, 0, "empty expression");
        AstPtr expr = parse_implies();
        if (peek().kind != TokenKind::End)
            fail(source_, peek().pos, "unexpected '" + peek().text + "'");
        return expr;
    }

  private:
    // Every tree node comes from here, so that the size limit holds.
    AstPtr new_node() {
        if (++node_count_ > kMaxNodes)
            fail(source_, peek().pos, "expression too long");
        return std::make_unique<Ast>();
    }
    const Token &peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
    const Token &next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

    // Operators and punctuation are symbols; keywords are identifiers (below).
    bool peek_symbol(std::string_view sym, size_t ahead = 0) const {
        return peek(ahead).kind == TokenKind::Symbol && peek(ahead).text == sym;
    }
    // A keyword only where written bare: `and` is a keyword, `` `and` `` a name.
    bool peek_keyword(std::string_view word) const {
        return peek().kind == TokenKind::Identifier && !peek().quoted && peek().text == word;
    }
    // Consumes a required symbol or reports what was found instead.
    void expect_symbol(std::string_view sym) {
        if (!peek_symbol(sym))
            fail(source_, peek().pos,
                 "expected '" + std::string(sym) + "'" +
                     (peek().kind == TokenKind::End ? " at end" : ", found '" + peek().text + "'"));
        next();
    }

    // Builds an operator node; operands are evaluated on the same focus.
    AstPtr binary(std::string op, AstPtr lhs, AstPtr rhs) {
        auto node = new_node();
        node->kind = Ast::Kind::Binary;
        node->name = std::move(op);
        node->args.push_back(std::move(lhs));
        node->args.push_back(std::move(rhs));
        return node;
    }

    // One function per precedence level, lowest first, each left-associative.
    AstPtr parse_implies() {
        if (++nesting_ > kMaxNesting)
            fail(source_, peek().pos, "expression nested too deeply");
        AstPtr lhs = parse_or();
        while (peek_keyword("implies")) {
            next();
            lhs = binary("implies", std::move(lhs), parse_or());
        }
        --nesting_;
        return lhs;
    }
    AstPtr parse_or() {
        AstPtr lhs = parse_and();
        while (peek_keyword("or") || peek_keyword("xor")) {
            std::string op = next().text;
            lhs = binary(op, std::move(lhs), parse_and());
        }
        return lhs;
    }
    AstPtr parse_and() {
        AstPtr lhs = parse_membership();
        while (peek_keyword("and")) {
            next();
            lhs = binary("and", std::move(lhs), parse_membership());
        }
        return lhs;
    }
    AstPtr parse_membership() {
        AstPtr lhs = parse_equality();
        while (peek_keyword("in") || peek_keyword("contains")) {
            std::string op = next().text;
            lhs = binary(op, std::move(lhs), parse_equality());
        }
        return lhs;
    }
    AstPtr parse_equality() {
        AstPtr lhs = parse_inequality();
        while (peek_symbol("=") || peek_symbol("!=") || peek_symbol("~") || peek_symbol("!~")) {
            std::string op = next().text;
            lhs = binary(op, std::move(lhs), parse_inequality());
        }
        return lhs;
    }
    AstPtr parse_inequality() {
        AstPtr lhs = parse_union();
        while (peek_symbol("<") || peek_symbol("<=") || peek_symbol(">") || peek_symbol(">=")) {
            std::string op = next().text;
            lhs = binary(op, std::move(lhs), parse_union());
        }
        return lhs;
    }
    AstPtr parse_union() {
        AstPtr lhs = parse_type_operator();
        while (peek_symbol("|")) {
            next();
            lhs = binary("|", std::move(lhs), parse_type_operator());
        }
        return lhs;
    }
    // `x is T` / `x as T` bind tighter than `|`, so `a | b as T` casts b only.
    AstPtr parse_type_operator() {
        AstPtr lhs = parse_arithmetic();
        while (peek_keyword("is") || peek_keyword("as")) {
            auto node = new_node();
            node->kind = Ast::Kind::TypeOp;
            node->name = next().text;
            node->type_name = parse_type_specifier();
            node->focus = std::move(lhs);
            lhs = std::move(node);
        }
        return lhs;
    }
    // Arithmetic has no use in search expressions; reject it clearly rather than misparse.
    AstPtr parse_arithmetic() {
        AstPtr lhs = parse_unary();
        for (const char *op : {"+", "-", "*", "/", "&"}) {
            if (peek_symbol(op))
                fail(source_, peek().pos, std::string("unsupported operator '") + op + "'");
        }
        if (peek_keyword("div") || peek_keyword("mod"))
            fail(source_, peek().pos, "unsupported operator '" + peek().text + "'");
        return lhs;
    }
    // Only negative number literals need a sign.
    AstPtr parse_unary() {
        if (peek_symbol("-") || peek_symbol("+")) {
            const Token &sign = next();
            if (peek().kind != TokenKind::Number)
                fail(source_, sign.pos, "unary '" + sign.text + "' is only supported before a number");
            AstPtr number = parse_postfix();
            if (sign.text == "-" && number->kind == Ast::Kind::Literal) {
                Json negated = number->literal->is_number_integer() ? Json(-number->literal->get<int64_t>())
                                                                    : Json(-number->literal->get<double>());
                number->literal = std::make_shared<const Json>(std::move(negated));
            }
            return number;
        }
        return parse_postfix();
    }
    // Invocations and indexers chain left to right onto a term.
    AstPtr parse_postfix() {
        AstPtr expr = parse_term();
        for (;;) {
            if (peek_symbol(".")) {
                next();
                if (peek().kind != TokenKind::Identifier)
                    fail(source_, peek().pos, "expected a name after '.'");
                AstPtr invocation = parse_invocation();
                invocation->focus = std::move(expr);
                expr = std::move(invocation);
            } else if (peek_symbol("[")) {
                next();
                auto node = new_node();
                node->kind = Ast::Kind::Index;
                node->args.push_back(parse_implies());
                expect_symbol("]");
                node->focus = std::move(expr);
                expr = std::move(node);
            } else {
                return expr;
            }
        }
    }
    // Literals, parentheses, variables and path heads.
    AstPtr parse_term() {
        const Token &tok = peek();
        auto node = new_node();
        switch (tok.kind) {
        case TokenKind::End:
            fail(source_, tok.pos, "unexpected end of expression");
        case TokenKind::String:
            node->kind = Ast::Kind::Literal;
            node->literal = std::make_shared<const Json>(next().text);
            return node;
        case TokenKind::Date:
            // Dates compare as text (see the file comment), so keep the literal's text.
            node->kind = Ast::Kind::Literal;
            node->literal = std::make_shared<const Json>(next().text);
            return node;
        case TokenKind::Number: {
            const std::string &text = next().text;
            node->kind = Ast::Kind::Literal;
            if (text.find('.') == std::string::npos)
                node->literal =
                    std::make_shared<const Json>(static_cast<int64_t>(std::strtoll(text.c_str(), nullptr, 10)));
            else
                node->literal = std::make_shared<const Json>(std::strtod(text.c_str(), nullptr));
            return node;
        }
        case TokenKind::Variable:
            return parse_variable();
        case TokenKind::Special:
            if (tok.text != "this")
                fail(source_, tok.pos, "unsupported variable '$" + tok.text + "'");
            next();
            node->kind = Ast::Kind::This;
            return node;
        case TokenKind::Symbol:
            if (tok.text == "(") {
                next();
                AstPtr inner = parse_implies();
                expect_symbol(")");
                return inner;
            }
            if (tok.text == "{") {
                next();
                expect_symbol("}");
                node->kind = Ast::Kind::Empty;
                return node;
            }
            fail(source_, tok.pos, "unexpected '" + tok.text + "'");
        case TokenKind::Identifier:
            if (!tok.quoted && (tok.text == "true" || tok.text == "false")) {
                node->kind = Ast::Kind::Literal;
                node->literal = std::make_shared<const Json>(next().text == "true");
                return node;
            }
            return parse_invocation();
        }
        fail(source_, tok.pos, "unexpected token");
    }
    // A member name or a function call; the caller attaches its focus.
    AstPtr parse_invocation() {
        const Token &name = next();
        auto node = new_node();
        node->name = name.text;
        if (!peek_symbol("(")) {
            node->kind = Ast::Kind::Member;
            return node;
        }
        node->kind = Ast::Kind::Function;
        if (name.text == "memberOf")
            fail(source_, name.pos, "memberOf() is not supported (it needs a terminology server)");
        const FunctionSpec *spec = find_function(name.text);
        if (!spec)
            fail(source_, name.pos, "unsupported function '" + name.text + "'");
        next(); // (
        if (spec->type_argument) {
            node->type_name = parse_type_specifier();
        } else if (!peek_symbol(")")) {
            node->args.push_back(parse_implies());
            while (peek_symbol(",")) {
                next();
                node->args.push_back(parse_implies());
            }
        }
        expect_symbol(")");
        const int count = spec->type_argument ? 1 : static_cast<int>(node->args.size());
        if (count < spec->min_args || count > spec->max_args)
            fail(source_, name.pos, "wrong number of arguments to " + name.text + "()");
        return node;
    }
    // A type name, optionally qualified with FHIR. or System.
    std::string parse_type_specifier() {
        if (peek().kind != TokenKind::Identifier)
            fail(source_, peek().pos, "expected a type name");
        std::string name = next().text;
        if ((name == "FHIR" || name == "System") && peek_symbol(".") && peek(1).kind == TokenKind::Identifier) {
            next();
            name += "." + next().text;
        }
        return canonical_type(name);
    }
    // Environment variables: the resource itself, or constants FHIR defines.
    AstPtr parse_variable() {
        const Token &tok = next();
        auto node = new_node();
        if (tok.text == "resource" || tok.text == "rootResource" || tok.text == "context") {
            node->kind = Ast::Kind::Variable;
            node->name = tok.text;
            return node;
        }
        static const std::pair<const char *, const char *> constants[] = {
            {"ucum", "http://unitsofmeasure.org"}, {"sct", "http://snomed.info/sct"}, {"loinc", "http://loinc.org"}};
        for (const auto &[name, value] : constants) {
            if (tok.text == name) {
                node->kind = Ast::Kind::Literal;
                node->literal = std::make_shared<const Json>(value);
                return node;
            }
        }
        fail(source_, tok.pos, "unsupported variable '%" + tok.text + "'");
    }

    std::string_view source_;
    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int nesting_ = 0;
    size_t node_count_ = 0;
};

// ---- evaluation ---------------------------------------------------------------

// Resolves function and operator names to enums and a path head to its type
// filter, once per compiled tree, so evaluation never compares names.
void finalize(Ast &ast) {
    using Fn = Ast::Fn;
    using Op = Ast::Op;
    switch (ast.kind) {
    case Ast::Kind::Function:
    case Ast::Kind::TypeOp: {
        static const std::pair<std::string_view, Fn> functions[] = {
            {"where", Fn::Where},       {"select", Fn::Select},     {"exists", Fn::Exists},
            {"all", Fn::All},           {"empty", Fn::Empty},       {"not", Fn::Not},
            {"first", Fn::First},       {"last", Fn::Last},         {"tail", Fn::Tail},
            {"single", Fn::Single},     {"count", Fn::Count},       {"distinct", Fn::Distinct},
            {"hasValue", Fn::HasValue}, {"resolve", Fn::Resolve},   {"extension", Fn::Extension},
            {"as", Fn::As},             {"is", Fn::Is},             {"ofType", Fn::OfType},
            {"conformsTo", Fn::ConformsTo}, {"trace", Fn::Trace},
        };
        for (const auto &[name, fn] : functions) {
            if (ast.name == name)
                ast.fn = fn;
        }
        break;
    }
    case Ast::Kind::Binary: {
        static const std::pair<std::string_view, Op> operators[] = {
            {"|", Op::Union}, {"and", Op::And}, {"or", Op::Or},        {"xor", Op::Xor},  {"implies", Op::Implies},
            {"in", Op::In},   {"contains", Op::Contains}, {"=", Op::Eq}, {"!=", Op::Ne},  {"~", Op::Equiv},
            {"!~", Op::NotEquiv}, {"<", Op::Lt}, {"<=", Op::Le},       {">", Op::Gt},     {">=", Op::Ge},
        };
        for (const auto &[name, op] : operators) {
            if (ast.name == name)
                ast.op = op;
        }
        break;
    }
    case Ast::Kind::Member:
        // A capitalized name at the head of a path is a type filter ("Observation.code").
        if (!ast.focus && std::isupper(static_cast<unsigned char>(ast.name[0]))) {
            ast.type_filter = true;
            ast.type_name = canonical_type(ast.name);
        }
        break;
    case Ast::Kind::Literal:
        ast.literal_type = ast.literal->is_boolean()          ? "boolean"
                           : ast.literal->is_string()         ? "string"
                           : ast.literal->is_number_integer() ? "integer"
                                                              : "decimal";
        break;
    default:
        break;
    }
    if (ast.focus)
        finalize(*ast.focus);
    for (const AstPtr &arg : ast.args)
        finalize(*arg);
}

// Memo slots of root paths, shared by every compiled expression: equal paths
// ("Observation.value" in ten expressions) get the same slot. Only grows, by the
// distinct paths of the expressions compiled in the process.
struct PathSlots {
    std::mutex mutex;
    std::unordered_map<std::string, int> slots;
    std::atomic<size_t> count{0};
};

// The process's path slots.
PathSlots &path_slots() {
    static PathSlots slots;
    return slots;
}

// The slot of a path key, numbered on first sight.
int path_slot(const std::string &key) {
    PathSlots &paths = path_slots();
    std::lock_guard<std::mutex> lock(paths.mutex);
    auto it = paths.slots.emplace(key, static_cast<int>(paths.slots.size())).first;
    paths.count = paths.slots.size();
    return it->second;
}

// Gives every subtree that is a path from the root a memo slot and returns its
// key ("" when it is not one): the head type filter, member steps, and as/ofType
// on a path. Such a subtree evaluated on the root collection always yields the
// same items, wherever it occurs, so expressions can share the result.
std::string assign_paths(Ast &ast) {
    const std::string focus_key = ast.focus ? assign_paths(*ast.focus) : std::string();
    for (const AstPtr &arg : ast.args)
        assign_paths(*arg);
    std::string key;
    if (ast.kind == Ast::Kind::Member) {
        if (ast.type_filter)
            key = "@" + ast.type_name;
        else if (!ast.focus)
            key = "^." + ast.name;
        else if (!focus_key.empty())
            key = focus_key + "." + ast.name;
    } else if ((ast.kind == Ast::Kind::TypeOp || ast.kind == Ast::Kind::Function) &&
               (ast.fn == Ast::Fn::As || ast.fn == Ast::Fn::OfType) && !focus_key.empty()) {
        key = focus_key + " as " + ast.type_name;
    }
    if (!key.empty())
        ast.path_slot = path_slot(key);
    return key;
}

// A node during evaluation. `guessed` marks a type taken from the JSON shape,
// which `as`/`is` may refine (an object guessed Quantity can be an Age). The type
// of a child is only worked out when something asks (settle()): most nodes are
// navigated through and never typed. `type` views static storage, the compiled
// tree, or text inside the value's own document, all of which outlive the
// evaluation; public Nodes copy it.
struct Item {
    const Json *value = nullptr;
    std::shared_ptr<const Json> owned; // keeps a computed value (or a computed ancestor) alive
    mutable std::string_view type;
    mutable bool guessed = false;
    mutable bool untyped = false; // type not settled yet
    bool computed = false;        // value is itself computed (literal, boolean, count, resolve stub)

    // Types a child on first use: boolean, resourceType, or a guess from the shape.
    void settle() const {
        if (!untyped)
            return;
        untyped = false;
        if (value->is_boolean()) {
            type = "boolean";
            return;
        }
        const Json *resource_type = member(*value, "resourceType");
        if (resource_type && resource_type->is_string()) {
            type = resource_type->get_ref<const std::string &>();
            return;
        }
        type = guess_type(*value);
        guessed = !type.empty();
    }
};
using Collection = std::vector<Item>;

// Intermediate collections are taken from a per-thread stack of vectors that keep
// their capacity, so evaluation allocates only when a collection outgrows every
// earlier one.
struct Pool {
    std::deque<Collection> lists; // deque: taking a new list never moves the others
    size_t depth = 0;
};

// This thread's pool.
Pool &thread_pool() {
    thread_local Pool pool;
    return pool;
}

// An empty collection borrowed from the pool for the lifetime of a scope.
class Scratch {
  public:
    explicit Scratch(Pool &pool) : pool_(pool), list_(take(pool)) {}
    ~Scratch() {
        list_.clear();
        if (list_.capacity() > 4096) // an outsized document: give the memory back
            Collection().swap(list_);
        --pool_.depth;
    }
    Scratch(const Scratch &) = delete;
    Scratch &operator=(const Scratch &) = delete;

    Collection &operator*() { return list_; }
    Collection *operator->() { return &list_; }

  private:
    // The next free list of the stack, created on first use.
    static Collection &take(Pool &pool) {
        if (pool.depth == pool.lists.size())
            pool.lists.emplace_back();
        return pool.lists[pool.depth++];
    }

    Pool &pool_;
    Collection &list_;
};

struct Env {
    const Json *resource;      // %resource, and the document contained references resolve in
    const Collection *context; // %context: the evaluation's input
    Pool *pool;
    struct MemoData *memo = nullptr; // when set, *context is memo->root
};

// Wraps a computed value as an item that owns it; `type` must be static text.
Item computed(Json value, std::string_view type) {
    Item item;
    auto owned = std::make_shared<const Json>(std::move(value));
    item.value = owned.get();
    item.owned = std::move(owned);
    item.type = type;
    item.computed = true;
    return item;
}

// Appends a shared true/false item, so boolean-heavy criteria do not allocate per item.
void boolean(bool value, Collection &out) {
    static const Item true_item = computed(Json(true), "boolean");
    static const Item false_item = computed(Json(false), "boolean");
    out.push_back(value ? true_item : false_item);
}

// The item for a child value, typed by choice suffix, or untyped until settled.
Item child_item(const Json &value, const Item &parent, std::string_view choice_type) {
    Item item;
    item.value = &value;
    item.owned = parent.owned; // keeps a computed parent alive
    if (!choice_type.empty())
        item.type = choice_type;
    else
        item.untyped = true;
    return item;
}

// Adds a child value to `out`, flattening arrays and skipping JSON nulls (the
// placeholders of primitive arrays that carry extensions).
void append_child(const Json &value, const Item &parent, std::string_view choice_type, Collection &out) {
    if (value.is_array()) {
        for (const Json &element : value) {
            if (!element.is_null())
                out.push_back(child_item(element, parent, choice_type));
        }
    } else if (!value.is_null()) {
        out.push_back(child_item(value, parent, choice_type));
    }
}

// Child navigation; a name missing as such is tried as a choice element name[x].
// One map search serves both: the choice keys sort right after where name would be.
void navigate(const Item &item, const std::string &name, Collection &out) {
    const Json &value = *item.value;
    if (!value.is_object())
        return;
    const auto &object = value.get_ref<const Json::object_t &>();
    auto it = object.lower_bound(name);
    if (it != object.end() && it->first == name) {
        append_child(it->second, item, {}, out);
        return;
    }
    for (; it != object.end() && it->first.compare(0, name.size(), name) == 0; ++it) {
        std::string_view type = choice_suffix_type(std::string_view(it->first).substr(name.size()));
        if (!type.empty())
            append_child(it->second, item, type, out);
    }
}

// The type-filter half of `as`/`ofType`/`is`: appends the item (retyped) to `out`
// if it can be a `wanted` and returns whether it can. Unknown types are accepted
// when the JSON kind fits. `wanted` is text of the compiled tree.
bool cast(const Item &item, std::string_view wanted, Collection *out) {
    item.settle();
    if (!item.type.empty()) {
        if (type_matches(item.type, wanted)) {
            if (out)
                out->push_back(item);
            return true;
        }
        if (item.guessed && item.type == "Quantity" && is_quantity_profile(wanted)) {
            if (out) {
                out->push_back(item);
                out->back().type = wanted;
            }
            return true;
        }
        return false;
    }
    if (!kind_compatible(*item.value, wanted))
        return false;
    if (out) {
        out->push_back(item);
        out->back().type = wanted;
    }
    return true;
}

// Singleton evaluation to a boolean: one boolean is itself, one other item is
// true, none is unknown; several is an error in FHIRPath, unknown here.
std::optional<bool> to_boolean(const Collection &c) {
    if (c.size() != 1)
        return std::nullopt;
    if (c[0].value->is_boolean())
        return c[0].value->get<bool>();
    return true;
}

// FHIRPath equality of two items; differently typed values are not equal.
bool items_equal(const Item &a, const Item &b) {
    const Json &x = *a.value;
    const Json &y = *b.value;
    if (x.is_number() && y.is_number())
        return x.get<double>() == y.get<double>();
    if (x.type() != y.type())
        return false;
    return x == y;
}

// Equivalence (~): case- and whitespace-insensitive for strings, else equality.
bool items_equivalent(const Item &a, const Item &b) {
    if (a.value->is_string() && b.value->is_string()) {
        auto fold = [](const std::string &s) {
            std::string out;
            bool space = false;
            for (char c : s) {
                if (std::isspace(static_cast<unsigned char>(c))) {
                    space = !out.empty();
                    continue;
                }
                if (space)
                    out += ' ';
                space = false;
                out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            return out;
        };
        return fold(a.value->get_ref<const std::string &>()) == fold(b.value->get_ref<const std::string &>());
    }
    return items_equal(a, b);
}

// Ordering of two singletons: numbers numerically, strings (and so dates of equal
// precision) as text; nullopt when they are not comparable.
std::optional<int> compare_items(const Item &a, const Item &b) {
    const Json &x = *a.value;
    const Json &y = *b.value;
    if (x.is_number() && y.is_number()) {
        double l = x.get<double>(), r = y.get<double>();
        return l < r ? -1 : (l > r ? 1 : 0);
    }
    if (x.is_string() && y.is_string()) {
        int c = x.get_ref<const std::string &>().compare(y.get_ref<const std::string &>());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return std::nullopt;
}

// Membership by FHIRPath equality among c[from..], for `in`, `contains` and distinct().
bool contains_item(const Collection &c, const Item &item, size_t from = 0) {
    return std::any_of(c.begin() + static_cast<std::ptrdiff_t>(from), c.end(),
                       [&](const Item &other) { return items_equal(other, item); });
}

// Union without duplicates among out[from..]: the same element of the resource
// once, and equal computed values once (FHIRPath's `|` deduplicates by equality).
void append_unique(Collection &out, size_t from, const Item &item) {
    for (size_t i = from; i < out.size(); ++i) {
        const Item &existing = out[i];
        if (existing.value == item.value)
            return;
        if ((existing.computed || item.computed) && items_equal(existing, item))
            return;
    }
    out.push_back(item);
}

// Target type and id of a Reference's text: "Type/id", a URL ending in
// ".../Type/id" or ".../Type/id/_history/v"; false when it names neither. The
// results view `text`.
bool parse_reference_text(std::string_view text, std::string_view *type, std::string_view *id) {
    // The last four '/'-separated segments are all that matter.
    std::string_view last[4];
    size_t n = 0;
    size_t end = text.size();
    for (;;) {
        size_t slash = end == 0 ? std::string_view::npos : text.rfind('/', end - 1);
        size_t start = slash == std::string_view::npos ? 0 : slash + 1;
        if (n < 4)
            last[n] = text.substr(start, end - start);
        ++n;
        if (slash == std::string_view::npos)
            break;
        end = slash;
    }
    // last[0] is the final segment; n counts all segments.
    size_t skip = 0;
    if (n >= 4 && last[1] == "_history")
        skip = 2;
    if (n - skip < 2)
        return false;
    std::string_view t = last[skip + 1], i = last[skip];
    if (t.empty() || !std::isupper(static_cast<unsigned char>(t[0])) ||
        !std::all_of(t.begin(), t.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
        return false;
    if (i.empty() || i.size() > 64 || !std::all_of(i.begin(), i.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        }))
        return false;
    *type = t;
    *id = i;
    return true;
}

// An empty object for resolve() results whose value nobody reads.
const Json &empty_object() {
    static const Json object = Json::object();
    return object;
}

// resolve() without a server: a contained resource for "#id", otherwise a stub
// {resourceType, id} carrying the type the reference names, so `is Type` works.
// With `type_only` (the input of `is`, which looks at nothing but the type) no
// stub is built.
void resolve_item(const Item &item, const Env &env, Collection &out, bool type_only) {
    const Json &value = *item.value;
    if (!value.is_object())
        return;
    std::string_view type, id;
    const Json *reference = member(value, "reference");
    if (reference && reference->is_string()) {
        const std::string &text = reference->get_ref<const std::string &>();
        if (!text.empty() && text[0] == '#') {
            const Json *contained = env.resource ? member(*env.resource, "contained") : nullptr;
            if (contained && contained->is_array()) {
                const std::string_view wanted = std::string_view(text).substr(1);
                for (const Json &candidate : *contained) {
                    if (candidate.is_object() && has_string(candidate, "id") &&
                        has_string(candidate, "resourceType") &&
                        member(candidate, "id")->get_ref<const std::string &>() == wanted) {
                        Item resolved;
                        resolved.value = &candidate;
                        resolved.type = member(candidate, "resourceType")->get_ref<const std::string &>();
                        out.push_back(resolved);
                        return;
                    }
                }
            }
            return;
        }
        parse_reference_text(text, &type, &id);
    }
    if (type.empty() && has_string(value, "type"))
        type = member(value, "type")->get_ref<const std::string &>();
    if (type.empty())
        return;
    if (type_only) {
        Item typed;
        typed.value = &empty_object();
        typed.type = type;
        out.push_back(typed);
        return;
    }
    Json stub = {{"resourceType", std::string(type)}};
    if (!id.empty())
        stub["id"] = std::string(id);
    Item resolved = computed(std::move(stub), "");
    resolved.type = (*resolved.value)["resourceType"].get_ref<const std::string &>();
    out.push_back(std::move(resolved));
}

void eval(const Ast &ast, const Collection &focus, const Env &env, Collection &out);

// Root paths of one resource, by slot (see assign_paths()). A slot holds a
// result when its stamp is the current generation, so begin() forgets
// everything by counting up.
struct MemoData {
    const Json *resource = nullptr;
    Collection root; // the resource as the single root item, typed once
    uint32_t generation = 0;
    std::vector<uint32_t> stamps;
    std::vector<Collection> results;
};

} // namespace

// The header's name for MemoData.
struct Expression::Memo : MemoData {};

namespace {

// A criteria-style argument evaluated with `item` as $this, as a boolean.
std::optional<bool> criterion(const Ast &ast, const Item &item, const Env &env) {
    Scratch one(*env.pool);
    one->push_back(item);
    Scratch result(*env.pool);
    eval(ast, *one, env, *result);
    return to_boolean(*result);
}

// Applies a function to its input collection, appending to `out`; `focus` is
// where arguments that are not per-item are evaluated.
void eval_function(const Ast &ast, const Collection &input, const Collection &focus, const Env &env,
                   Collection &out) {
    using Fn = Ast::Fn;
    switch (ast.fn) {
    case Fn::Where:
        for (const Item &item : input) {
            if (criterion(*ast.args[0], item, env).value_or(false))
                out.push_back(item);
        }
        return;
    case Fn::Select:
        for (const Item &item : input) {
            Scratch one(*env.pool);
            one->push_back(item);
            eval(*ast.args[0], *one, env, out);
        }
        return;
    case Fn::Exists: {
        if (ast.args.empty())
            return boolean(!input.empty(), out);
        auto holds = [&](const Item &item) { return criterion(*ast.args[0], item, env).value_or(false); };
        return boolean(std::any_of(input.begin(), input.end(), holds), out);
    }
    case Fn::All: {
        auto holds = [&](const Item &item) { return criterion(*ast.args[0], item, env).value_or(false); };
        return boolean(std::all_of(input.begin(), input.end(), holds), out);
    }
    case Fn::Empty:
        return boolean(input.empty(), out);
    case Fn::Not: {
        std::optional<bool> value = to_boolean(input);
        if (value)
            boolean(!*value, out);
        return;
    }
    case Fn::First:
        if (!input.empty())
            out.push_back(input.front());
        return;
    case Fn::Last:
        if (!input.empty())
            out.push_back(input.back());
        return;
    case Fn::Tail:
        if (!input.empty())
            out.insert(out.end(), input.begin() + 1, input.end());
        return;
    case Fn::Single:
        if (input.size() == 1)
            out.push_back(input[0]);
        return;
    case Fn::Count:
        out.push_back(computed(Json(static_cast<int64_t>(input.size())), "integer"));
        return;
    case Fn::Distinct: {
        const size_t from = out.size();
        for (const Item &item : input) {
            if (!contains_item(out, item, from))
                out.push_back(item);
        }
        return;
    }
    case Fn::HasValue:
        return boolean(input.size() == 1 && !input[0].value->is_object() && !input[0].value->is_array(), out);
    case Fn::Resolve:
        for (const Item &item : input)
            resolve_item(item, env, out, false);
        return;
    case Fn::As:
    case Fn::OfType:
        for (const Item &item : input)
            cast(item, ast.type_name, &out);
        return;
    case Fn::Is:
        if (input.empty())
            return;
        return boolean(std::any_of(input.begin(), input.end(),
                                   [&](const Item &item) { return cast(item, ast.type_name, nullptr); }),
                       out);
    case Fn::Extension: {
        Scratch urls(*env.pool);
        eval(*ast.args[0], focus, env, *urls);
        if (urls->size() != 1 || !(*urls)[0].value->is_string())
            return;
        const std::string &url = (*urls)[0].value->get_ref<const std::string &>();
        Scratch extensions(*env.pool);
        for (const Item &item : input)
            navigate(item, "extension", *extensions);
        for (const Item &extension : *extensions) {
            const Json &value = *extension.value;
            if (value.is_object() && has_string(value, "url") &&
                member(value, "url")->get_ref<const std::string &>() == url) {
                out.push_back(extension);
                Item &typed = out.back();
                typed.type = "Extension";
                typed.guessed = false;
                typed.untyped = false;
            }
        }
        return;
    }
    case Fn::ConformsTo: // profiles are not validated: everything conforms
        if (!input.empty())
            boolean(true, out);
        return;
    case Fn::Trace:
        out.insert(out.end(), input.begin(), input.end());
        return;
    case Fn::None:
        return; // unreachable: the parser admits only the functions above
    }
}

// Operators, with FHIRPath's empty-propagation and three-valued logic.
void eval_binary(const Ast &ast, const Collection &focus, const Env &env, Collection &out) {
    using Op = Ast::Op;
    const Op op = ast.op;
    Scratch lhs(*env.pool);
    eval(*ast.args[0], focus, env, *lhs);
    if (op == Op::Union) {
        Scratch rhs(*env.pool);
        eval(*ast.args[1], focus, env, *rhs);
        const size_t from = out.size();
        for (const Item &item : *lhs)
            append_unique(out, from, item);
        for (const Item &item : *rhs)
            append_unique(out, from, item);
        return;
    }
    if (op == Op::And || op == Op::Or || op == Op::Xor || op == Op::Implies) {
        std::optional<bool> l = to_boolean(*lhs);
        // Short-circuit where the result no longer depends on the right side.
        if (op == Op::And && l == false)
            return boolean(false, out);
        if (op == Op::Or && l == true)
            return boolean(true, out);
        if (op == Op::Implies && l == false)
            return boolean(true, out);
        std::optional<bool> r;
        {
            Scratch rhs(*env.pool);
            eval(*ast.args[1], focus, env, *rhs);
            r = to_boolean(*rhs);
        }
        if (op == Op::And) {
            if (r == false)
                return boolean(false, out);
            if (l && r)
                boolean(true, out);
            return;
        }
        if (op == Op::Or) {
            if (r == true)
                return boolean(true, out);
            if (l && r)
                boolean(false, out);
            return;
        }
        if (op == Op::Xor) {
            if (l && r)
                boolean(*l != *r, out);
            return;
        }
        // implies, l true or unknown
        if (r == true)
            return boolean(true, out);
        if (l && r)
            boolean(false, out);
        return;
    }
    Scratch rhs(*env.pool);
    eval(*ast.args[1], focus, env, *rhs);
    if (op == Op::In || op == Op::Contains) {
        const Collection &element = op == Op::In ? *lhs : *rhs;
        const Collection &container = op == Op::In ? *rhs : *lhs;
        if (element.size() != 1)
            return;
        return boolean(contains_item(container, element[0]), out);
    }
    if (lhs->empty() || rhs->empty())
        return;
    if (op == Op::Eq || op == Op::Ne || op == Op::Equiv || op == Op::NotEquiv) {
        const bool equivalence = op == Op::Equiv || op == Op::NotEquiv;
        bool same = lhs->size() == rhs->size();
        for (size_t i = 0; same && i < lhs->size(); ++i)
            same = equivalence ? items_equivalent((*lhs)[i], (*rhs)[i]) : items_equal((*lhs)[i], (*rhs)[i]);
        return boolean(op == Op::Ne || op == Op::NotEquiv ? !same : same, out);
    }
    // <, <=, >, >=
    if (lhs->size() != 1 || rhs->size() != 1)
        return;
    std::optional<int> order = compare_items((*lhs)[0], (*rhs)[0]);
    if (!order)
        return;
    if (op == Op::Lt)
        return boolean(*order < 0, out);
    if (op == Op::Le)
        return boolean(*order <= 0, out);
    if (op == Op::Gt)
        return boolean(*order > 0, out);
    return boolean(*order >= 0, out);
}

// The input of a function or type operator: its focus expression's value, or the
// current focus when it has none. `is` after resolve() only needs target types.
void eval_input(const Ast &ast, const Collection &focus, const Env &env, Collection &out) {
    const Ast &input = *ast.focus;
    if (ast.fn == Ast::Fn::Is && input.kind == Ast::Kind::Function && input.fn == Ast::Fn::Resolve) {
        auto resolve_all = [&](const Collection &references) {
            for (const Item &item : references)
                resolve_item(item, env, out, true);
        };
        if (!input.focus)
            return resolve_all(focus);
        Scratch references(*env.pool);
        eval(*input.focus, focus, env, *references);
        return resolve_all(*references);
    }
    eval(input, focus, env, out);
}

void eval_node(const Ast &ast, const Collection &focus, const Env &env, Collection &out);

// Evaluates a subtree against the current focus collection, appending its result
// to `out`; a root path on the root collection comes from the memo when there is one.
void eval(const Ast &ast, const Collection &focus, const Env &env, Collection &out) {
    if (ast.path_slot < 0 || !env.memo || &focus != env.context ||
        static_cast<size_t>(ast.path_slot) >= env.memo->stamps.size()) // compiled after begin()
        return eval_node(ast, focus, env, out);
    MemoData &memo = *env.memo;
    const size_t slot = static_cast<size_t>(ast.path_slot);
    Collection &result = memo.results[slot]; // begin() sized the slots; nothing resizes them during evaluation
    if (memo.stamps[slot] != memo.generation) {
        result.clear();
        eval_node(ast, focus, env, result);
        memo.stamps[slot] = memo.generation;
    }
    out.insert(out.end(), result.begin(), result.end());
}

// Evaluates one subtree by its kind (eval() decides about the memo).
void eval_node(const Ast &ast, const Collection &focus, const Env &env, Collection &out) {
    switch (ast.kind) {
    case Ast::Kind::Literal: {
        Item item;
        item.value = ast.literal.get();
        item.owned = ast.literal;
        item.type = ast.literal_type;
        item.computed = true;
        out.push_back(std::move(item));
        return;
    }
    case Ast::Kind::Empty:
        return;
    case Ast::Kind::This:
        out.insert(out.end(), focus.begin(), focus.end());
        return;
    case Ast::Kind::Variable:
        if (ast.name == "context") {
            out.insert(out.end(), env.context->begin(), env.context->end());
            return;
        }
        if (env.resource)
            out.push_back(child_item(*env.resource, Item{}, {}));
        return;
    case Ast::Kind::Member: {
        if (ast.type_filter) {
            for (const Item &item : focus) {
                item.settle();
                if (type_matches(item.type, ast.type_name))
                    out.push_back(item);
            }
            return;
        }
        if (!ast.focus) {
            for (const Item &item : focus)
                navigate(item, ast.name, out);
            return;
        }
        Scratch input(*env.pool);
        eval(*ast.focus, focus, env, *input);
        for (const Item &item : *input)
            navigate(item, ast.name, out);
        return;
    }
    case Ast::Kind::Function: {
        if (!ast.focus)
            return eval_function(ast, focus, focus, env, out);
        Scratch input(*env.pool);
        eval_input(ast, focus, env, *input);
        return eval_function(ast, *input, focus, env, out);
    }
    case Ast::Kind::TypeOp: {
        Scratch input(*env.pool);
        eval_input(ast, focus, env, *input);
        return eval_function(ast, *input, focus, env, out);
    }
    case Ast::Kind::Index: {
        Scratch input(*env.pool);
        eval(*ast.focus, focus, env, *input);
        Scratch index(*env.pool);
        eval(*ast.args[0], focus, env, *index);
        if (index->size() != 1 || !(*index)[0].value->is_number_integer())
            return;
        int64_t i = (*index)[0].value->get<int64_t>();
        if (i < 0 || static_cast<size_t>(i) >= input->size())
            return;
        out.push_back((*input)[static_cast<size_t>(i)]);
        return;
    }
    case Ast::Kind::Binary:
        return eval_binary(ast, focus, env, out);
    }
}

// Public nodes from evaluation items, with every type settled, into `nodes`
// (replacing its contents; existing elements and their strings are reused).
void to_nodes(const Collection &items, std::vector<Node> &nodes) {
    nodes.resize(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const Item &item = items[i];
        item.settle();
        Node &node = nodes[i];
        node.value = item.value;
        node.owned = item.owned;
        node.type.assign(item.type.data(), item.type.size());
    }
}

// Public nodes from evaluation items, with every type settled.
std::vector<Node> to_nodes(const Collection &items) {
    std::vector<Node> nodes;
    to_nodes(items, nodes);
    return nodes;
}

} // namespace

// Parses once; the tree is shared by copies of the Expression and never changes.
Expression Expression::compile(std::string_view text) {
    Expression expr;
    expr.text_ = std::string(text);
    AstPtr ast = Parser(expr.text_).parse_all();
    finalize(*ast);
    assign_paths(*ast);
    expr.ast_ = std::move(ast);
    return expr;
}

// The resource is the root: the focus, %resource and %context.
std::vector<Node> Expression::evaluate(const Json &resource) const {
    if (!ast_)
        return {};
    Pool &pool = thread_pool();
    Scratch root(pool);
    root->push_back(child_item(resource, Item{}, {}));
    Env env{&resource, &*root, &pool};
    Scratch out(pool);
    eval(*ast_, *root, env, *out);
    return to_nodes(*out);
}

// An empty memo; shared_ptr so that its user needs no complete type.
std::shared_ptr<Expression::Memo> Expression::new_memo() { return std::make_shared<Memo>(); }

// Forgets the previous resource's paths and makes room for every slot known now.
void Expression::begin(Memo &memo, const Json &resource) {
    memo.resource = &resource;
    memo.root.clear();
    memo.root.push_back(child_item(resource, Item{}, {}));
    if (++memo.generation == 0) { // wrapped: no stamp may look current
        std::fill(memo.stamps.begin(), memo.stamps.end(), 0);
        memo.generation = 1;
    }
    const size_t slots = path_slots().count;
    if (memo.stamps.size() < slots) {
        memo.stamps.resize(slots, 0);
        memo.results.resize(slots);
    }
}

// The memo's root is the focus, %resource and %context. An expression that is
// itself a root path is read straight from its memo slot, where its items'
// types are then settled once for every expression sharing the path.
void Expression::evaluate_memo(Memo &memo, std::vector<Node> &out) const {
    out.clear();
    if (!ast_ || !memo.resource)
        return;
    Pool &pool = thread_pool();
    Env env{memo.resource, &memo.root, &pool, &memo};
    const size_t slot = static_cast<size_t>(ast_->path_slot);
    if (ast_->path_slot >= 0 && slot < memo.stamps.size()) {
        if (memo.stamps[slot] != memo.generation) {
            memo.results[slot].clear();
            eval_node(*ast_, memo.root, env, memo.results[slot]);
            memo.stamps[slot] = memo.generation;
        }
        return to_nodes(memo.results[slot], out);
    }
    Scratch items(pool);
    eval(*ast_, memo.root, env, *items);
    to_nodes(*items, out);
}

// Without the resource, %resource falls back to the context node itself.
std::vector<Node> Expression::evaluate_on(const Node &context) const {
    return evaluate_on(context, context.value ? *context.value : Json());
}

// The context node is the focus; %resource is the resource it belongs to.
std::vector<Node> Expression::evaluate_on(const Node &context, const Json &resource) const {
    std::vector<Node> out;
    evaluate_on_into(context, resource, out);
    return out;
}

// evaluate_on() into reused storage.
void Expression::evaluate_on_into(const Node &context, const Json &resource, std::vector<Node> &out) const {
    out.clear();
    if (!ast_ || !context.value)
        return;
    Pool &pool = thread_pool();
    Scratch start(pool);
    Item item;
    item.value = context.value;
    item.owned = context.owned;
    item.type = context.type;
    item.computed = context.owned && context.owned.get() == context.value;
    start->push_back(std::move(item));
    Env env{&resource, &*start, &pool};
    Scratch items(pool);
    eval(*ast_, *start, env, *items);
    to_nodes(*items, out);
}

} // namespace fhir::fhirpath
