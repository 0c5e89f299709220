// query_string.cpp: URL query string splitting and percent-coding.
#include "query_string.h"

#include "error.h"

namespace fhir {

// Value of one hex digit, or -1.
static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The offset of the first byte of `text` that does not begin a well-formed UTF-8
// sequence (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or
// npos when all of it is.
static size_t invalid_utf8_at(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF; // the allowed range of the second byte
        if (b < 0x80)
            n = 1;
        else if (b >= 0xC2 && b <= 0xDF)
            n = 2;
        else if (b >= 0xE0 && b <= 0xEF) {
            n = 3;
            if (b == 0xE0)
                lo = 0xA0; // overlong
            if (b == 0xED)
                hi = 0x9F; // surrogates
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 4;
            if (b == 0xF0)
                lo = 0x90; // overlong
            if (b == 0xF4)
                hi = 0x8F; // past U+10FFFF
        } else
            return i;
        if (i + n > text.size())
            return i;
        for (size_t k = 1; k < n; k++) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF))
                return i;
        }
        i += n;
    }
    return std::string_view::npos;
}

// Decodes %XX escapes, and '+' as a space when plus_is_space. The result must be
// UTF-8 (RFC 3986 percent-encodes UTF-8 octets; FHIR strings are Unicode): a value
// such as `name=%C3%28` is refused rather than searched as bytes no resource holds.
static std::string decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        char c = text[i];
        if (c != '%') {
            out.push_back(plus_is_space && c == '+' ? ' ' : c);
            continue;
        }
        int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
        int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            throw Error(ErrorKind::InvalidSearch,
                        "malformed percent escape in query string near \"" +
                            std::string(text.substr(i, std::min<size_t>(3, text.size() - i))) + "\"");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    if (const size_t bad = invalid_utf8_at(out); bad != std::string_view::npos) {
        static const char kHex[] = "0123456789ABCDEF";
        const auto b = static_cast<unsigned char>(out[bad]);
        // (the text itself is not quoted: it may hold the invalid bytes raw)
        throw Error(ErrorKind::InvalidSearch, "the query string is not valid UTF-8 once decoded (byte %" +
                                                  std::string(1, kHex[b >> 4]) + std::string(1, kHex[b & 15]) +
                                                  " at decoded offset " + std::to_string(bad) + ")");
    }
    return out;
}

std::string percent_decode(std::string_view text) { return decode(text, false); }

std::string form_decode(std::string_view text) { return decode(text, true); }

std::string_view query_of_url(std::string_view text) {
    size_t question = text.find('?');
    if (question == std::string_view::npos) {
        bool url = text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0 || text.rfind("/", 0) == 0;
        return url ? std::string_view() : text;
    }
    std::string_view before = text.substr(0, question);
    if (before.find('=') != std::string_view::npos || before.find('&') != std::string_view::npos)
        return text;
    std::string_view query = text.substr(question + 1);
    size_t hash = query.find('#'); // a fragment is not part of the query
    return hash == std::string_view::npos ? query : query.substr(0, hash);
}

std::string percent_encode(std::string_view text) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || c == ',' || c == '$';
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::vector<QueryPair> split_query_string(std::string_view query) {
    std::vector<QueryPair> pairs;
    query = query_of_url(query);
    size_t start = 0;
    while (start <= query.size()) {
        size_t amp = query.find('&', start);
        if (amp == std::string_view::npos)
            amp = query.size();
        std::string_view piece = query.substr(start, amp - start);
        if (!piece.empty()) {
            size_t eq = piece.find('=');
            QueryPair pair;
            pair.name = form_decode(piece.substr(0, eq));
            pair.value = eq == std::string_view::npos ? std::string() : form_decode(piece.substr(eq + 1));
            pairs.push_back(std::move(pair));
        }
        start = amp + 1;
    }
    return pairs;
}

std::vector<std::string> split_or_values(std::string_view value) {
    std::vector<std::string> values(1);
    for (size_t i = 0; i < value.size(); i++) {
        char c = value[i];
        if (c == '\\' && i + 1 < value.size() && (value[i + 1] == ',' || value[i + 1] == '\\' ||
                                                  value[i + 1] == '$' || value[i + 1] == '|')) {
            // Keep escapes of '$' and '|' for the token/composite splitters; drop the one of ','.
            if (value[i + 1] != ',')
                values.back().push_back('\\');
            values.back().push_back(value[i + 1]);
            i++;
        } else if (c == ',') {
            values.emplace_back();
        } else {
            values.back().push_back(c);
        }
    }
    return values;
}

} // namespace fhir

#include <algorithm>

namespace fhir {

std::string normalize_query(std::string_view query) {
    std::vector<std::string> pieces;
    std::string sort_piece; // every _sort, in the order given: its keys' order is the result's order
    for (const QueryPair &pair : split_query_string(query)) {
        std::vector<std::string> values = split_or_values(pair.value);
        const bool ordered = pair.name == "_sort";
        if (!ordered) {
            std::sort(values.begin(), values.end());
            values.erase(std::unique(values.begin(), values.end()), values.end());
        }
        std::string joined;
        for (const std::string &v : values) {
            if (!joined.empty())
                joined += ',';
            // Re-escape commas inside a value so the OR split stays unambiguous.
            for (char c : v) {
                if (c == ',')
                    joined += "\\,";
                else
                    joined += c;
            }
        }
        std::string piece = percent_encode(pair.name) + "=" + percent_encode(joined);
        if (ordered)
            sort_piece += (sort_piece.empty() ? "" : "&") + piece;
        else
            pieces.push_back(std::move(piece));
    }
    if (!sort_piece.empty())
        pieces.push_back(std::move(sort_piece));
    std::sort(pieces.begin(), pieces.end());
    pieces.erase(std::unique(pieces.begin(), pieces.end()), pieces.end());
    std::string out;
    for (const std::string &p : pieces)
        out += (out.empty() ? "" : "&") + p;
    return out;
}

} // namespace fhir
