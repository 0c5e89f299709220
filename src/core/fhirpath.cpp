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
#include "fhirpath.h"

#include "error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
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
    Kind kind = Kind::Empty;
    std::string name;
    std::string type_name;
    std::shared_ptr<const Json> literal;
    std::unique_ptr<Ast> focus;
    std::vector<std::unique_ptr<Ast>> args;
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

// True when a choice element's key suffix is a real type (so "codeFilter" is not code[x]).
bool is_choice_suffix(std::string_view suffix) {
    if (suffix.empty() || !std::isupper(static_cast<unsigned char>(suffix[0])))
        return false;
    return complex_types().count(suffix) > 0 || primitive_types().count(lower_first(suffix)) > 0;
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
    for (const auto &entry : object.items()) {
        if (std::find(allowed.begin(), allowed.end(), entry.key()) == allowed.end())
            return false;
    }
    return true;
}

// Shape tests only trust keys holding the JSON kind FHIR gives them.
bool has_string(const Json &object, const char *key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string();
}

// A guess at the data type of an object from its keys, only where the shape is
// unambiguous; "" otherwise. Identifier and ContactPoint share {system, value},
// so ContactPoint is only recognised by its fixed system codes.
std::string guess_type(const Json &value) {
    if (!value.is_object())
        return "";
    if (has_string(value, "reference") &&
        keys_within(value, {"id", "extension", "reference", "type", "identifier", "display"}))
        return "Reference";
    if (value.contains("identifier") && value["identifier"].is_object() && !value.contains("value") &&
        keys_within(value, {"id", "extension", "reference", "type", "identifier", "display"}) &&
        (!value.contains("type") || value["type"].is_string()))
        return "Reference";
    if (value.contains("coding") && value["coding"].is_array() &&
        keys_within(value, {"id", "extension", "coding", "text"}))
        return "CodeableConcept";
    if ((has_string(value, "code") || has_string(value, "system")) &&
        keys_within(value, {"id", "extension", "system", "version", "code", "display", "userSelected"}))
        return "Coding";
    if (value.contains("value") && value["value"].is_number() &&
        keys_within(value, {"id", "extension", "value", "comparator", "unit", "system", "code"}))
        return "Quantity";
    if ((has_string(value, "start") || has_string(value, "end")) &&
        keys_within(value, {"id", "extension", "start", "end"}))
        return "Period";
    if ((value.contains("family") || value.contains("given")) &&
        keys_within(value, {"id", "extension", "use", "text", "family", "given", "prefix", "suffix", "period"}))
        return "HumanName";
    if ((value.contains("line") || value.contains("city") || value.contains("district") || value.contains("state") ||
         value.contains("postalCode") || value.contains("country")) &&
        keys_within(value, {"id", "extension", "use", "type", "text", "line", "city", "district", "state", "postalCode",
                            "country", "period"}))
        return "Address";
    if ((value.contains("low") || value.contains("high")) && keys_within(value, {"id", "extension", "low", "high"}))
        return "Range";
    if ((value.contains("event") || value.contains("repeat")) &&
        keys_within(value, {"id", "extension", "modifierExtension", "event", "repeat", "code"}))
        return "Timing";
    if (has_string(value, "value") && has_string(value, "system")) {
        static const std::set<std::string, std::less<>> contact_systems = {"phone", "fax", "email", "pager",
                                                                           "url",   "sms", "other"};
        if (contact_systems.count(value["system"].get_ref<const std::string &>()) &&
            keys_within(value, {"id", "extension", "system", "value", "use", "rank", "period"}))
            return "ContactPoint";
    }
    if (value.contains("value") &&
        keys_within(value, {"id", "extension", "use", "type", "system", "value", "period", "assigner"}))
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

// Appends the UTF-8 encoding of a code point from a \uXXXX escape.
void append_utf8(std::string &out, unsigned code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
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
            append_utf8(out, code);
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

// A node during evaluation. `guessed` marks a type taken from the JSON shape,
// which `as`/`is` may refine (an object guessed Quantity can be an Age).
struct Item {
    const Json *value = nullptr;
    std::shared_ptr<const Json> owned;
    std::string type;
    bool guessed = false;
};
using Collection = std::vector<Item>;

struct Env {
    const Json *resource; // %resource, and the document contained references resolve in
    Collection context;   // %context: the evaluation's input
};

// Wraps a computed value as an item that owns it.
Item computed(Json value, std::string type) {
    Item item;
    auto owned = std::make_shared<const Json>(std::move(value));
    item.value = owned.get();
    item.owned = std::move(owned);
    item.type = std::move(type);
    return item;
}

// Shared true/false items, so boolean-heavy criteria do not allocate per item.
Collection boolean(bool value) {
    static const Item true_item = computed(Json(true), "boolean");
    static const Item false_item = computed(Json(false), "boolean");
    return {value ? true_item : false_item};
}

// The item for a child value, typed by choice suffix, resourceType, or shape.
Item child_item(const Json &value, const Item &parent, const std::string &choice_type) {
    Item item;
    item.value = &value;
    item.owned = parent.owned; // keeps a computed parent alive
    if (!choice_type.empty()) {
        item.type = choice_type;
    } else if (value.is_boolean()) {
        item.type = "boolean";
    } else if (value.is_object() && has_string(value, "resourceType")) {
        item.type = value["resourceType"].get<std::string>();
    } else {
        item.type = guess_type(value);
        item.guessed = !item.type.empty();
    }
    return item;
}

// Adds a child value to `out`, flattening arrays and skipping JSON nulls (the
// placeholders of primitive arrays that carry extensions).
void append_child(const Json &value, const Item &parent, const std::string &choice_type, Collection &out) {
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
void navigate(const Item &item, const std::string &name, Collection &out) {
    const Json &value = *item.value;
    if (!value.is_object())
        return;
    auto found = value.find(name);
    if (found != value.end()) {
        append_child(*found, item, "", out);
        return;
    }
    const auto &object = value.get_ref<const Json::object_t &>();
    for (auto it = object.lower_bound(name); it != object.end() && it->first.compare(0, name.size(), name) == 0; ++it) {
        std::string_view suffix = std::string_view(it->first).substr(name.size());
        if (is_choice_suffix(suffix))
            append_child(it->second, item, canonical_type(suffix), out);
    }
}

// The type-filter half of `as`/`ofType`/`is`: the item (retyped) if it can be a
// `wanted`, nullopt if not. Unknown types are accepted when the JSON kind fits.
std::optional<Item> cast(const Item &item, const std::string &wanted) {
    if (!item.type.empty()) {
        if (type_matches(item.type, wanted))
            return item;
        if (item.guessed && item.type == "Quantity" && is_quantity_profile(wanted)) {
            Item refined = item;
            refined.type = wanted;
            return refined;
        }
        return std::nullopt;
    }
    if (!kind_compatible(*item.value, wanted))
        return std::nullopt;
    Item typed = item;
    typed.type = wanted;
    return typed;
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

// Membership by FHIRPath equality, for `in`, `contains` and distinct().
bool contains_item(const Collection &c, const Item &item) {
    return std::any_of(c.begin(), c.end(), [&](const Item &other) { return items_equal(other, item); });
}

// Union without duplicates: the same element of the resource once, and equal
// computed values once (FHIRPath's `|` deduplicates by equality).
void append_unique(Collection &out, const Item &item) {
    for (const Item &existing : out) {
        if (existing.value == item.value)
            return;
        if ((existing.owned && existing.owned.get() == existing.value) ||
            (item.owned && item.owned.get() == item.value)) {
            if (items_equal(existing, item))
                return;
        }
    }
    out.push_back(item);
}

// Target type and id of a Reference's text: "Type/id", a URL ending in
// ".../Type/id" or ".../Type/id/_history/v"; false when it names neither.
bool parse_reference_text(std::string_view text, std::string *type, std::string *id) {
    std::vector<std::string_view> segments;
    size_t start = 0;
    while (start <= text.size()) {
        size_t slash = text.find('/', start);
        if (slash == std::string_view::npos)
            slash = text.size();
        segments.push_back(text.substr(start, slash - start));
        start = slash + 1;
    }
    size_t n = segments.size();
    if (n >= 4 && segments[n - 2] == "_history")
        n -= 2;
    if (n < 2)
        return false;
    std::string_view t = segments[n - 2], i = segments[n - 1];
    if (t.empty() || !std::isupper(static_cast<unsigned char>(t[0])) ||
        !std::all_of(t.begin(), t.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }))
        return false;
    if (i.empty() || i.size() > 64 || !std::all_of(i.begin(), i.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        }))
        return false;
    *type = std::string(t);
    *id = std::string(i);
    return true;
}

// resolve() without a server: a contained resource for "#id", otherwise a stub
// {resourceType, id} carrying the type the reference names, so `is Type` works.
void resolve_item(const Item &item, const Env &env, Collection &out) {
    const Json &value = *item.value;
    if (!value.is_object())
        return;
    std::string type, id;
    if (has_string(value, "reference")) {
        const std::string &text = value["reference"].get_ref<const std::string &>();
        if (!text.empty() && text[0] == '#') {
            if (env.resource && env.resource->is_object()) {
                auto contained = env.resource->find("contained");
                if (contained != env.resource->end() && contained->is_array()) {
                    for (const Json &candidate : *contained) {
                        if (candidate.is_object() && has_string(candidate, "id") &&
                            has_string(candidate, "resourceType") &&
                            candidate["id"].get_ref<const std::string &>() == text.substr(1)) {
                            Item resolved;
                            resolved.value = &candidate;
                            resolved.type = candidate["resourceType"].get<std::string>();
                            out.push_back(resolved);
                            return;
                        }
                    }
                }
            }
            return;
        }
        parse_reference_text(text, &type, &id);
    }
    if (type.empty() && has_string(value, "type"))
        type = value["type"].get<std::string>();
    if (type.empty())
        return;
    Json stub = {{"resourceType", type}};
    if (!id.empty())
        stub["id"] = id;
    out.push_back(computed(std::move(stub), type));
}

Collection eval(const Ast &ast, const Collection &focus, const Env &env);

// Criteria-style argument evaluated once per item, the item being $this.
Collection eval_on_item(const Ast &ast, const Item &item, const Env &env) { return eval(ast, Collection{item}, env); }

// Applies a function to its input collection; `focus` is where arguments that are not per-item are evaluated.
Collection eval_function(const Ast &ast, const Collection &input, const Collection &focus, const Env &env) {
    const std::string &name = ast.name;
    Collection out;
    if (name == "where") {
        for (const Item &item : input) {
            if (to_boolean(eval_on_item(*ast.args[0], item, env)).value_or(false))
                out.push_back(item);
        }
        return out;
    }
    if (name == "select") {
        for (const Item &item : input) {
            Collection part = eval_on_item(*ast.args[0], item, env);
            out.insert(out.end(), part.begin(), part.end());
        }
        return out;
    }
    if (name == "exists") {
        if (ast.args.empty())
            return boolean(!input.empty());
        return boolean(std::any_of(input.begin(), input.end(), [&](const Item &item) {
            return to_boolean(eval_on_item(*ast.args[0], item, env)).value_or(false);
        }));
    }
    if (name == "all") {
        return boolean(std::all_of(input.begin(), input.end(), [&](const Item &item) {
            return to_boolean(eval_on_item(*ast.args[0], item, env)).value_or(false);
        }));
    }
    if (name == "empty")
        return boolean(input.empty());
    if (name == "not") {
        std::optional<bool> value = to_boolean(input);
        return value ? boolean(!*value) : Collection{};
    }
    if (name == "first")
        return input.empty() ? Collection{} : Collection{input.front()};
    if (name == "last")
        return input.empty() ? Collection{} : Collection{input.back()};
    if (name == "tail")
        return input.empty() ? Collection{} : Collection(input.begin() + 1, input.end());
    if (name == "single")
        return input.size() == 1 ? input : Collection{};
    if (name == "count")
        return {computed(Json(static_cast<int64_t>(input.size())), "integer")};
    if (name == "distinct") {
        for (const Item &item : input) {
            if (!contains_item(out, item))
                out.push_back(item);
        }
        return out;
    }
    if (name == "hasValue")
        return boolean(input.size() == 1 && !input[0].value->is_object() && !input[0].value->is_array());
    if (name == "resolve") {
        for (const Item &item : input)
            resolve_item(item, env, out);
        return out;
    }
    if (name == "as" || name == "ofType") {
        for (const Item &item : input) {
            if (auto typed = cast(item, ast.type_name))
                out.push_back(std::move(*typed));
        }
        return out;
    }
    if (name == "is") {
        if (input.empty())
            return {};
        return boolean(std::any_of(input.begin(), input.end(),
                                   [&](const Item &item) { return cast(item, ast.type_name).has_value(); }));
    }
    if (name == "extension") {
        Collection urls = eval(*ast.args[0], focus, env);
        if (urls.size() != 1 || !urls[0].value->is_string())
            return {};
        const std::string &url = urls[0].value->get_ref<const std::string &>();
        Collection extensions;
        for (const Item &item : input)
            navigate(item, "extension", extensions);
        for (const Item &extension : extensions) {
            const Json &value = *extension.value;
            if (value.is_object() && has_string(value, "url") && value["url"].get_ref<const std::string &>() == url) {
                Item typed = extension;
                typed.type = "Extension";
                typed.guessed = false;
                out.push_back(std::move(typed));
            }
        }
        return out;
    }
    if (name == "conformsTo") // profiles are not validated: everything conforms
        return input.empty() ? Collection{} : boolean(true);
    if (name == "trace")
        return input;
    return out; // unreachable: the parser admits only the functions above
}

// Operators, with FHIRPath's empty-propagation and three-valued logic.
Collection eval_binary(const Ast &ast, const Collection &focus, const Env &env) {
    const std::string &op = ast.name;
    Collection lhs = eval(*ast.args[0], focus, env);
    if (op == "|") {
        Collection rhs = eval(*ast.args[1], focus, env);
        Collection out;
        for (const Item &item : lhs)
            append_unique(out, item);
        for (const Item &item : rhs)
            append_unique(out, item);
        return out;
    }
    if (op == "and" || op == "or" || op == "xor" || op == "implies") {
        std::optional<bool> l = to_boolean(lhs);
        // Short-circuit where the result no longer depends on the right side.
        if (op == "and" && l == false)
            return boolean(false);
        if (op == "or" && l == true)
            return boolean(true);
        if (op == "implies" && l == false)
            return boolean(true);
        std::optional<bool> r = to_boolean(eval(*ast.args[1], focus, env));
        if (op == "and") {
            if (r == false)
                return boolean(false);
            return (l && r) ? boolean(true) : Collection{};
        }
        if (op == "or") {
            if (r == true)
                return boolean(true);
            return (l && r) ? boolean(false) : Collection{};
        }
        if (op == "xor")
            return (l && r) ? boolean(*l != *r) : Collection{};
        // implies, l true or unknown
        if (r == true)
            return boolean(true);
        return l ? (r ? boolean(false) : Collection{}) : Collection{};
    }
    Collection rhs = eval(*ast.args[1], focus, env);
    if (op == "in" || op == "contains") {
        const Collection &element = op == "in" ? lhs : rhs;
        const Collection &container = op == "in" ? rhs : lhs;
        if (element.size() != 1)
            return {};
        return boolean(contains_item(container, element[0]));
    }
    if (lhs.empty() || rhs.empty())
        return {};
    if (op == "=" || op == "!=" || op == "~" || op == "!~") {
        const bool equivalence = op[op.size() - 1] == '~';
        bool same = lhs.size() == rhs.size();
        for (size_t i = 0; same && i < lhs.size(); ++i)
            same = equivalence ? items_equivalent(lhs[i], rhs[i]) : items_equal(lhs[i], rhs[i]);
        return boolean(op[0] == '!' ? !same : same);
    }
    // <, <=, >, >=
    if (lhs.size() != 1 || rhs.size() != 1)
        return {};
    std::optional<int> order = compare_items(lhs[0], rhs[0]);
    if (!order)
        return {};
    if (op == "<")
        return boolean(*order < 0);
    if (op == "<=")
        return boolean(*order <= 0);
    if (op == ">")
        return boolean(*order > 0);
    return boolean(*order >= 0);
}

// Evaluates a subtree against the current focus collection.
Collection eval(const Ast &ast, const Collection &focus, const Env &env) {
    switch (ast.kind) {
    case Ast::Kind::Literal: {
        Item item;
        item.value = ast.literal.get();
        item.owned = ast.literal;
        item.type = ast.literal->is_boolean()          ? "boolean"
                    : ast.literal->is_string()         ? "string"
                    : ast.literal->is_number_integer() ? "integer"
                                                       : "decimal";
        return {item};
    }
    case Ast::Kind::Empty:
        return {};
    case Ast::Kind::This:
        return focus;
    case Ast::Kind::Variable:
        if (ast.name == "context")
            return env.context;
        if (!env.resource)
            return {};
        return {child_item(*env.resource, Item{}, "")};
    case Ast::Kind::Member: {
        Collection input = ast.focus ? eval(*ast.focus, focus, env) : focus;
        Collection out;
        // A capitalized name at the head of a path is a type filter ("Observation.code").
        if (!ast.focus && std::isupper(static_cast<unsigned char>(ast.name[0]))) {
            const std::string wanted = canonical_type(ast.name);
            for (const Item &item : input) {
                if (type_matches(item.type, wanted))
                    out.push_back(item);
            }
            return out;
        }
        for (const Item &item : input)
            navigate(item, ast.name, out);
        return out;
    }
    case Ast::Kind::Function: {
        Collection input = ast.focus ? eval(*ast.focus, focus, env) : focus;
        return eval_function(ast, input, focus, env);
    }
    case Ast::Kind::TypeOp: {
        Collection input = eval(*ast.focus, focus, env);
        Ast as_function;
        as_function.kind = Ast::Kind::Function;
        as_function.name = ast.name;
        as_function.type_name = ast.type_name;
        return eval_function(as_function, input, focus, env);
    }
    case Ast::Kind::Index: {
        Collection input = eval(*ast.focus, focus, env);
        Collection index = eval(*ast.args[0], focus, env);
        if (index.size() != 1 || !index[0].value->is_number_integer())
            return {};
        int64_t i = index[0].value->get<int64_t>();
        if (i < 0 || static_cast<size_t>(i) >= input.size())
            return {};
        return {input[static_cast<size_t>(i)]};
    }
    case Ast::Kind::Binary:
        return eval_binary(ast, focus, env);
    }
    return {};
}

// Public nodes from evaluation items.
std::vector<Node> to_nodes(Collection items) {
    std::vector<Node> nodes;
    nodes.reserve(items.size());
    for (Item &item : items) {
        Node node;
        node.value = item.value;
        node.owned = std::move(item.owned);
        node.type = std::move(item.type);
        nodes.push_back(std::move(node));
    }
    return nodes;
}

} // namespace

// Parses once; the tree is shared by copies of the Expression and never changes.
Expression Expression::compile(std::string_view text) {
    Expression expr;
    expr.text_ = std::string(text);
    expr.ast_ = Parser(expr.text_).parse_all();
    return expr;
}

// The resource is the root: the focus, %resource and %context.
std::vector<Node> Expression::evaluate(const Json &resource) const {
    if (!ast_)
        return {};
    Item root = child_item(resource, Item{}, "");
    Env env{&resource, Collection{root}};
    return to_nodes(eval(*ast_, env.context, env));
}

// Without the resource, %resource falls back to the context node itself.
std::vector<Node> Expression::evaluate_on(const Node &context) const {
    return evaluate_on(context, context.value ? *context.value : Json());
}

// The context node is the focus; %resource is the resource it belongs to.
std::vector<Node> Expression::evaluate_on(const Node &context, const Json &resource) const {
    if (!ast_ || !context.value)
        return {};
    Item item;
    item.value = context.value;
    item.owned = context.owned;
    item.type = context.type;
    Env env{&resource, Collection{item}};
    return to_nodes(eval(*ast_, env.context, env));
}

} // namespace fhir::fhirpath
