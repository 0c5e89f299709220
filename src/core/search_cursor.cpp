// search_cursor.cpp: encoding of paging cursors (see search_cursor.h).
#include "search_cursor.h"

#include "error.h"
#include "json.h"

namespace fhir {

static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// base64url without padding.
static std::string base64url(const std::string &in) {
    std::string out;
    size_t i = 0;
    while (i + 2 < in.size()) {
        uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += kAlphabet[n >> 18];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
        i += 3;
    }
    if (i + 1 == in.size()) {
        uint32_t n = uint8_t(in[i]) << 16;
        out += kAlphabet[n >> 18];
        out += kAlphabet[(n >> 12) & 63];
    } else if (i + 2 == in.size()) {
        uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += kAlphabet[n >> 18];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
    }
    return out;
}

// Inverse of base64url; false on a character outside the alphabet.
static bool unbase64url(const std::string &in, std::string *out) {
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : in) {
        const char *p = std::char_traits<char>::find(kAlphabet, 64, c);
        if (!p)
            return false;
        buffer = (buffer << 6) | static_cast<uint32_t>(p - kAlphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->push_back(static_cast<char>((buffer >> bits) & 0xff));
        }
    }
    return true;
}

std::string encode_cursor(const SearchCursor &cursor) {
    Json array = Json::array({cursor.backward ? "b" : "f", cursor.rid});
    for (const auto &k : cursor.keys)
        array.push_back(k);
    return base64url(array.dump());
}

SearchCursor decode_cursor(const std::string &token, size_t expected_keys) {
    auto invalid = [] { return Error(ErrorKind::InvalidSearch, "invalid _cursor value (use the links of a searchset Bundle)"); };
    std::string text;
    if (token.size() > 4096 || !unbase64url(token, &text))
        throw invalid();
    Json array = Json::parse(text, nullptr, false);
    if (!array.is_array() || array.size() != expected_keys + 2 || !array[0].is_string() ||
        !array[1].is_number_integer())
        throw invalid();
    SearchCursor cursor;
    std::string dir = array[0].get<std::string>();
    if (dir != "f" && dir != "b")
        throw invalid();
    cursor.backward = dir == "b";
    cursor.rid = array[1].get<int64_t>();
    for (size_t i = 2; i < array.size(); i++) {
        if (!array[i].is_string())
            throw invalid();
        cursor.keys.push_back(array[i].get<std::string>());
    }
    return cursor;
}

} // namespace fhir
