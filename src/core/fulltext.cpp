// fulltext.cpp: narrative text and whole-resource documents for _text/_content.
//
// The XHTML reader is a scanner, not a parser: FHIR narratives are validated
// XHTML on a conformant server, but stored resources may come from anywhere, so
// malformed markup degrades to "keep the text, drop what looks like a tag"
// instead of failing the write. See fulltext.h for what each document holds.
#include "fulltext.h"

#include "values.h"

#include <algorithm>
#include <cstdint>

namespace fhir {

namespace {

// HTML's Latin-1 entity names, U+00A0 (nbsp) to U+00FF (yuml) in order.
const char *const kLatin1Entities[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",    "copy",   "ordf",
    "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn", "sup2",   "sup3",   "acute",  "micro",
    "para",   "middot", "cedil",  "sup1",   "ordm",   "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave",
    "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",
    "Igrave", "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",
    "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",  "szlig",  "agrave", "aacute",
    "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil", "egrave", "eacute", "ecirc",  "euml",   "igrave",
    "iacute", "icirc",  "iuml",   "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

// XML's predefined entities and the typographic ones narratives written by hand use.
const std::pair<const char *, uint32_t> kOtherEntities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},       {"apos", '\''},
    {"ndash", 0x2013},  {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},   {"sbquo", 0x201A},
    {"ldquo", 0x201C},  {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"dagger", 0x2020},  {"bull", 0x2022},
    {"hellip", 0x2026}, {"permil", 0x2030}, {"euro", 0x20AC},   {"trade", 0x2122},   {"larr", 0x2190},
    {"rarr", 0x2192},   {"minus", 0x2212},  {"ne", 0x2260},     {"le", 0x2264},      {"ge", 0x2265},
    {"ensp", 0x2002},   {"emsp", 0x2003},   {"thinsp", 0x2009}, {"OElig", 0x0152},   {"oelig", 0x0153},
    {"Scaron", 0x0160}, {"scaron", 0x0161}, {"Yuml", 0x0178},   {"fnof", 0x0192},
};

// The code point of a named entity (case-sensitive, as in HTML), or 0.
uint32_t named_entity(std::string_view name) {
    for (size_t i = 0; i < 96; ++i) {
        if (name == kLatin1Entities[i])
            return static_cast<uint32_t>(0xA0 + i);
    }
    for (const auto &[entity, cp] : kOtherEntities) {
        if (name == entity)
            return cp;
    }
    return 0;
}

// The code point of "#123" or "#x7B", or 0 when malformed or not a character
// text may hold (NUL, surrogates, beyond U+10FFFF).
uint32_t numeric_entity(std::string_view body) {
    if (body.size() < 2 || body[0] != '#')
        return 0;
    const bool hex = body[1] == 'x' || body[1] == 'X';
    std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8)
        return 0;
    uint32_t cp = 0;
    for (char c : digits) {
        int d = -1;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        if (d < 0)
            return 0;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return cp;
}

// Elements that do not break a word: "H<sub>2</sub>O" reads "H2O".
bool is_inline_element(std::string_view name) {
    static const char *const kInline[] = {"a",    "abbr", "b",     "bdi",  "bdo",   "big",   "cite", "code",
                                          "del",  "dfn",  "em",    "font", "i",     "ins",   "kbd",  "mark",
                                          "q",    "s",    "samp",  "small", "span", "strike", "strong", "sub",
                                          "sup",  "time", "tt",    "u",    "var"};
    return std::any_of(std::begin(kInline), std::end(kInline), [&](const char *e) { return name == e; });
}

// ASCII lowercase of a tag name.
std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Position of the first case-insensitive occurrence of `needle` (lowercase) at or after `from`.
size_t find_ascii_ci(std::string_view text, std::string_view needle, size_t from) {
    for (size_t i = from; i + needle.size() <= text.size(); ++i) {
        size_t k = 0;
        while (k < needle.size()) {
            char c = text[i + k];
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            if (c != needle[k])
                break;
            ++k;
        }
        if (k == needle.size())
            return i;
    }
    return std::string_view::npos;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '-' ||
           c == '_' || c == '.';
}

// Builds a document from string values: drops NUL bytes and over-long runs,
// separates values, and stops growing at the size cap.
class DocumentBuilder {
  public:
    bool full() const { return text_.size() >= kMaxFullTextBytes; }

    // Adds one piece of text (a string value or a narrative's text).
    void add(std::string_view value) {
        if (full())
            return;
        if (!text_.empty())
            text_.push_back('\n');
        size_t i = 0;
        while (i < value.size() && !full()) {
            size_t end = i;
            while (end < value.size() && !is_ascii_space(value[end]))
                ++end;
            if (end - i <= kMaxFullTextWord) {
                for (size_t k = i; k < end; ++k)
                    text_.push_back(value[k] == '\0' ? ' ' : value[k]);
            }
            if (end < value.size())
                text_.push_back(' ');
            i = end + 1;
        }
    }

    // The folded document, cut at the cap on a word boundary.
    std::string finish() {
        std::string folded = normalize_string(text_);
        if (folded.size() > kMaxFullTextBytes) {
            size_t cut = folded.rfind(' ', kMaxFullTextBytes);
            folded.resize(cut == std::string::npos ? 0 : cut);
        }
        return folded;
    }

  private:
    static bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
    std::string text_;
};

// The narrative div of a Narrative object, or nullptr.
const std::string *narrative_div(const Json &narrative) {
    const Json *div = json_member(narrative, "div");
    return div && div->is_string() ? &div->get_ref<const std::string &>() : nullptr;
}

// Adds every string under `value`; `key` is the member name `value` was found under.
void add_strings(const Json &value, std::string_view key, DocumentBuilder &doc) {
    if (doc.full())
        return;
    if (value.is_string()) {
        doc.add(value.get_ref<const std::string &>());
    } else if (value.is_array()) {
        for (const Json &element : value)
            add_strings(element, key, doc);
    } else if (value.is_object()) {
        const bool narrative = key == "text";
        const bool meta = key == "meta";
        for (const auto &[name, member] : value.items()) {
            if (name == "resourceType" || (meta && (name == "versionId" || name == "lastUpdated")))
                continue;
            if (narrative && name == "div" && member.is_string())
                doc.add(narrative_text(member.get_ref<const std::string &>()));
            else
                add_strings(member, name, doc);
        }
    }
}

} // namespace

FullTextKind full_text_kind(const SearchParamDef &param) {
    if (param.id >= kFirstCustomParamId || !param.expression.empty())
        return FullTextKind::None;
    if (param.code == "_text")
        return FullTextKind::Narrative;
    if (param.code == "_content")
        return FullTextKind::Content;
    return FullTextKind::None;
}

std::string narrative_text(std::string_view x) {
    std::string out;
    out.reserve(x.size());
    size_t i = 0;
    const size_t n = x.size();
    while (i < n) {
        const char c = x[i];
        if (c == '&') {
            size_t semi = x.find(';', i + 1);
            uint32_t cp = 0;
            bool known = false;
            if (semi != std::string_view::npos && semi - i <= 12) {
                std::string_view body = x.substr(i + 1, semi - i - 1);
                cp = body.size() > 0 && body[0] == '#' ? numeric_entity(body) : named_entity(body);
                known = cp != 0;
            }
            if (!known) {
                out.push_back('&'); // not a reference we know: the text as written
                ++i;
                continue;
            }
            if (cp != 0xAD) // a soft hyphen is invisible and must not split or join anything
                append_utf8(out, cp);
            i = semi + 1;
            continue;
        }
        if (c != '<') {
            out.push_back(c == '\0' ? ' ' : c);
            ++i;
            continue;
        }
        std::string_view rest = x.substr(i);
        if (rest.substr(0, 4) == "<!--") {
            size_t end = x.find("-->", i + 4);
            i = end == std::string_view::npos ? n : end + 3;
            out.push_back(' ');
            continue;
        }
        if (rest.substr(0, 9) == "<![CDATA[") {
            size_t end = x.find("]]>", i + 9);
            size_t stop = end == std::string_view::npos ? n : end;
            out.append(x.substr(i + 9, stop - i - 9));
            i = end == std::string_view::npos ? n : end + 3;
            continue;
        }
        size_t j = i + 1;
        const bool closing = j < n && x[j] == '/';
        if (closing)
            ++j;
        const size_t name_start = j;
        while (j < n && is_name_char(x[j]))
            ++j;
        const std::string name = lower_ascii(x.substr(name_start, j - name_start));
        const bool declaration = !closing && j < n && (x[j] == '!' || x[j] == '?') && j == name_start;
        if (name.empty() && !declaration) {
            out.push_back('<'); // "a < b": a lone bracket is text
            ++i;
            continue;
        }
        // The tag ends at the first '>' outside a quoted attribute value.
        char quote = 0;
        while (j < n) {
            if (quote) {
                if (x[j] == quote)
                    quote = 0;
            } else if (x[j] == '"' || x[j] == '\'') {
                quote = x[j];
            } else if (x[j] == '>') {
                break;
            }
            ++j;
        }
        const bool self_closing = j < n && j > i && x[j - 1] == '/';
        i = j < n ? j + 1 : n;
        if (!closing && !self_closing && (name == "script" || name == "style")) {
            size_t end = find_ascii_ci(x, "</" + name, i);
            size_t gt = end == std::string_view::npos ? std::string_view::npos : x.find('>', end);
            i = gt == std::string_view::npos ? n : gt + 1;
        }
        if (!is_inline_element(name))
            out.push_back(' ');
    }
    return out;
}

std::string full_text_document(FullTextKind kind, const Json &resource) {
    DocumentBuilder doc;
    if (kind == FullTextKind::Narrative) {
        const Json *text = json_member(resource, "text");
        const std::string *div = text ? narrative_div(*text) : nullptr;
        if (div)
            doc.add(narrative_text(*div));
    } else if (kind == FullTextKind::Content) {
        add_strings(resource, "", doc);
    }
    return doc.finish();
}

bool has_search_words(std::string_view folded_query) {
    return std::any_of(folded_query.begin(), folded_query.end(), [](char c) {
        const unsigned char u = static_cast<unsigned char>(c);
        return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
    });
}

} // namespace fhir
