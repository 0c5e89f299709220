// values.cpp: the search value primitives declared in values.h.
//
// These functions run for every value of every resource written and for every
// search parameter value parsed, so they avoid allocation-heavy or locale-
// dependent library calls (no std::regex, no <locale>, no timegm, no strtod):
// the index must come out byte-identical on every platform and release, and a
// stored value that was computed differently from a query value never matches.
#include "values.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace fhir {

// ============================================================================
// strings
// ============================================================================

namespace {

// One accent/case folding rule: every code point in [first, last] becomes the
// one or two code points `to1`, `to2` (0 = none). Multi-letter targets exist
// because FHIR servers commonly expand ligatures and sharp s ("ß" -> "ss").
struct Fold {
    char32_t first;
    char32_t last;
    char32_t to1;
    char32_t to2;
};

// Sorted, non-overlapping. Covers Latin-1 Supplement, Latin Extended-A, the
// common letters of Latin Extended-B and Latin Extended Additional (which
// Vietnamese names need), and accented lowercase Greek and Cyrillic; uppercase
// Greek and Cyrillic are shifted to lowercase before this table is consulted.
// Letters whose decomposition carries a diacritic lose it (Cyrillic "й" -> "и"
// too, as for every other script: one uniform rule is easier to predict).
constexpr Fold kFolds[] = {
    {0x00B5, 0x00B5, 0x03BC, 0}, // micro sign -> Greek mu, as Unicode case folding does
    {0x00C0, 0x00C5, 'a', 0},
    {0x00C6, 0x00C6, 'a', 'e'},
    {0x00C7, 0x00C7, 'c', 0},
    {0x00C8, 0x00CB, 'e', 0},
    {0x00CC, 0x00CF, 'i', 0},
    {0x00D0, 0x00D0, 'd', 0},
    {0x00D1, 0x00D1, 'n', 0},
    {0x00D2, 0x00D6, 'o', 0},
    {0x00D8, 0x00D8, 'o', 0},
    {0x00D9, 0x00DC, 'u', 0},
    {0x00DD, 0x00DD, 'y', 0},
    {0x00DE, 0x00DE, 't', 'h'},
    {0x00DF, 0x00DF, 's', 's'},
    {0x00E0, 0x00E5, 'a', 0},
    {0x00E6, 0x00E6, 'a', 'e'},
    {0x00E7, 0x00E7, 'c', 0},
    {0x00E8, 0x00EB, 'e', 0},
    {0x00EC, 0x00EF, 'i', 0},
    {0x00F0, 0x00F0, 'd', 0},
    {0x00F1, 0x00F1, 'n', 0},
    {0x00F2, 0x00F6, 'o', 0},
    {0x00F8, 0x00F8, 'o', 0},
    {0x00F9, 0x00FC, 'u', 0},
    {0x00FD, 0x00FD, 'y', 0},
    {0x00FE, 0x00FE, 't', 'h'},
    {0x00FF, 0x00FF, 'y', 0},
    // Latin Extended-A
    {0x0100, 0x0105, 'a', 0},
    {0x0106, 0x010D, 'c', 0},
    {0x010E, 0x0111, 'd', 0},
    {0x0112, 0x011B, 'e', 0},
    {0x011C, 0x0123, 'g', 0},
    {0x0124, 0x0127, 'h', 0},
    {0x0128, 0x0131, 'i', 0},
    {0x0132, 0x0133, 'i', 'j'},
    {0x0134, 0x0135, 'j', 0},
    {0x0136, 0x0138, 'k', 0},
    {0x0139, 0x0142, 'l', 0},
    {0x0143, 0x014B, 'n', 0},
    {0x014C, 0x0151, 'o', 0},
    {0x0152, 0x0153, 'o', 'e'},
    {0x0154, 0x0159, 'r', 0},
    {0x015A, 0x0161, 's', 0},
    {0x0162, 0x0167, 't', 0},
    {0x0168, 0x0173, 'u', 0},
    {0x0174, 0x0175, 'w', 0},
    {0x0176, 0x0178, 'y', 0},
    {0x0179, 0x017E, 'z', 0},
    {0x017F, 0x017F, 's', 0},
    // Latin Extended-B (letters with hooks, strokes, carons, ...)
    {0x0180, 0x0183, 'b', 0},
    {0x0187, 0x0188, 'c', 0},
    {0x0189, 0x018C, 'd', 0},
    {0x0191, 0x0192, 'f', 0},
    {0x0193, 0x0193, 'g', 0},
    {0x0197, 0x0197, 'i', 0},
    {0x0198, 0x0199, 'k', 0},
    {0x019A, 0x019A, 'l', 0},
    {0x019D, 0x019E, 'n', 0},
    {0x019F, 0x01A1, 'o', 0},
    {0x01A4, 0x01A5, 'p', 0},
    {0x01AB, 0x01AE, 't', 0},
    {0x01AF, 0x01B0, 'u', 0},
    {0x01B3, 0x01B4, 'y', 0},
    {0x01B5, 0x01B6, 'z', 0},
    {0x01C4, 0x01C6, 'd', 'z'},
    {0x01C7, 0x01C9, 'l', 'j'},
    {0x01CA, 0x01CC, 'n', 'j'},
    {0x01CD, 0x01CE, 'a', 0},
    {0x01CF, 0x01D0, 'i', 0},
    {0x01D1, 0x01D2, 'o', 0},
    {0x01D3, 0x01DC, 'u', 0},
    {0x01DE, 0x01E1, 'a', 0},
    {0x01E2, 0x01E3, 'a', 'e'},
    {0x01E4, 0x01E7, 'g', 0},
    {0x01E8, 0x01E9, 'k', 0},
    {0x01EA, 0x01ED, 'o', 0},
    {0x01F0, 0x01F0, 'j', 0},
    {0x01F1, 0x01F3, 'd', 'z'},
    {0x01F4, 0x01F5, 'g', 0},
    {0x01F8, 0x01F9, 'n', 0},
    {0x01FA, 0x01FB, 'a', 0},
    {0x01FC, 0x01FD, 'a', 'e'},
    {0x01FE, 0x01FF, 'o', 0},
    {0x0200, 0x0203, 'a', 0},
    {0x0204, 0x0207, 'e', 0},
    {0x0208, 0x020B, 'i', 0},
    {0x020C, 0x020F, 'o', 0},
    {0x0210, 0x0213, 'r', 0},
    {0x0214, 0x0217, 'u', 0},
    {0x0218, 0x0219, 's', 0},
    {0x021A, 0x021B, 't', 0},
    {0x021E, 0x021F, 'h', 0},
    {0x0220, 0x0220, 'n', 0},
    {0x0224, 0x0225, 'z', 0},
    {0x0226, 0x0227, 'a', 0},
    {0x0228, 0x0229, 'e', 0},
    {0x022A, 0x0231, 'o', 0},
    {0x0232, 0x0233, 'y', 0},
    {0x0234, 0x0234, 'l', 0},
    {0x0235, 0x0235, 'n', 0},
    {0x0236, 0x0236, 't', 0},
    {0x0237, 0x0237, 'j', 0},
    {0x023A, 0x023A, 'a', 0},
    {0x023B, 0x023C, 'c', 0},
    {0x023D, 0x023D, 'l', 0},
    {0x023E, 0x023E, 't', 0},
    {0x0243, 0x0243, 'b', 0},
    {0x0244, 0x0244, 'u', 0},
    {0x0246, 0x0247, 'e', 0},
    {0x0248, 0x0249, 'j', 0},
    {0x024C, 0x024D, 'r', 0},
    {0x024E, 0x024F, 'y', 0},
    // Greek with tonos / dialytika (uppercase already shifted to lowercase,
    // except these uppercase ones outside the contiguous block)
    {0x0386, 0x0386, 0x03B1, 0}, // Ά
    {0x0388, 0x0388, 0x03B5, 0}, // Έ
    {0x0389, 0x0389, 0x03B7, 0}, // Ή
    {0x038A, 0x038A, 0x03B9, 0}, // Ί
    {0x038C, 0x038C, 0x03BF, 0}, // Ό
    {0x038E, 0x038E, 0x03C5, 0}, // Ύ
    {0x038F, 0x038F, 0x03C9, 0}, // Ώ
    {0x0390, 0x0390, 0x03B9, 0}, // ΐ
    {0x03AA, 0x03AA, 0x03B9, 0}, // Ϊ
    {0x03AB, 0x03AB, 0x03C5, 0}, // Ϋ
    {0x03AC, 0x03AC, 0x03B1, 0}, // ά
    {0x03AD, 0x03AD, 0x03B5, 0}, // έ
    {0x03AE, 0x03AE, 0x03B7, 0}, // ή
    {0x03AF, 0x03AF, 0x03B9, 0}, // ί
    {0x03B0, 0x03B0, 0x03C5, 0}, // ΰ
    {0x03C2, 0x03C2, 0x03C3, 0}, // final sigma: same letter as σ for matching
    {0x03CA, 0x03CA, 0x03B9, 0}, // ϊ
    {0x03CB, 0x03CB, 0x03C5, 0}, // ϋ
    {0x03CC, 0x03CC, 0x03BF, 0}, // ό
    {0x03CD, 0x03CD, 0x03C5, 0}, // ύ
    {0x03CE, 0x03CE, 0x03C9, 0}, // ώ
    // Cyrillic lowercase with diacritics
    {0x0439, 0x0439, 0x0438, 0}, // й -> и
    {0x0450, 0x0451, 0x0435, 0}, // ѐ ё -> е
    {0x0453, 0x0453, 0x0433, 0}, // ѓ -> г
    {0x0457, 0x0457, 0x0456, 0}, // ї -> і
    {0x045C, 0x045C, 0x043A, 0}, // ќ -> к
    {0x045D, 0x045D, 0x0438, 0}, // ѝ -> и
    {0x045E, 0x045E, 0x0443, 0}, // ў -> у
    // Latin Extended Additional
    {0x1E00, 0x1E01, 'a', 0},
    {0x1E02, 0x1E07, 'b', 0},
    {0x1E08, 0x1E09, 'c', 0},
    {0x1E0A, 0x1E13, 'd', 0},
    {0x1E14, 0x1E1D, 'e', 0},
    {0x1E1E, 0x1E1F, 'f', 0},
    {0x1E20, 0x1E21, 'g', 0},
    {0x1E22, 0x1E2B, 'h', 0},
    {0x1E2C, 0x1E2F, 'i', 0},
    {0x1E30, 0x1E35, 'k', 0},
    {0x1E36, 0x1E3D, 'l', 0},
    {0x1E3E, 0x1E43, 'm', 0},
    {0x1E44, 0x1E4B, 'n', 0},
    {0x1E4C, 0x1E53, 'o', 0},
    {0x1E54, 0x1E57, 'p', 0},
    {0x1E58, 0x1E5F, 'r', 0},
    {0x1E60, 0x1E69, 's', 0},
    {0x1E6A, 0x1E71, 't', 0},
    {0x1E72, 0x1E7B, 'u', 0},
    {0x1E7C, 0x1E7F, 'v', 0},
    {0x1E80, 0x1E89, 'w', 0},
    {0x1E8A, 0x1E8D, 'x', 0},
    {0x1E8E, 0x1E8F, 'y', 0},
    {0x1E90, 0x1E95, 'z', 0},
    {0x1E96, 0x1E96, 'h', 0},
    {0x1E97, 0x1E97, 't', 0},
    {0x1E98, 0x1E98, 'w', 0},
    {0x1E99, 0x1E99, 'y', 0},
    {0x1E9A, 0x1E9A, 'a', 0},
    {0x1E9B, 0x1E9B, 's', 0},
    {0x1E9E, 0x1E9E, 's', 's'},
    {0x1EA0, 0x1EB7, 'a', 0},
    {0x1EB8, 0x1EC7, 'e', 0},
    {0x1EC8, 0x1ECB, 'i', 0},
    {0x1ECC, 0x1EE3, 'o', 0},
    {0x1EE4, 0x1EF1, 'u', 0},
    {0x1EF2, 0x1EF9, 'y', 0},
};

// The binary search below relies on this; checked at compile time so a careless
// table edit cannot silently break folding.
constexpr bool folds_sorted() {
    for (size_t i = 0; i < std::size(kFolds); ++i) {
        if (kFolds[i].first > kFolds[i].last)
            return false;
        if (i > 0 && kFolds[i - 1].last >= kFolds[i].first)
            return false;
    }
    return true;
}
static_assert(folds_sorted(), "kFolds must be sorted and non-overlapping");

// Decodes one well-formed UTF-8 sequence at s[i]; returns its length, or 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
size_t decode_utf8(std::string_view s, size_t i, char32_t &cp) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b0 = byte(i);
    size_t len;
    char32_t min;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size())
        return 0;
    for (size_t k = 1; k < len; ++k) {
        unsigned char b = byte(i + k);
        if ((b & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}


// Unicode white space beyond ASCII that people paste into names (no-break
// space above all); it must collapse like a plain space or matches fail.
bool is_unicode_space(char32_t cp) {
    return cp == 0x00A0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Combining diacritical marks: dropped so decomposed (NFD) input folds the same
// as the precomposed form ("e" + U+0301 == "é" -> "e").
bool is_combining_mark(char32_t cp) { return cp >= 0x0300 && cp <= 0x036F; }

// Uppercase Greek and basic Cyrillic to lowercase; their blocks map by a fixed offset.
char32_t lower_greek_cyrillic(char32_t cp) {
    if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2)
        return cp + 0x20;
    if (cp >= 0x0410 && cp <= 0x042F)
        return cp + 0x20;
    if (cp >= 0x0400 && cp <= 0x040F)
        return cp + 0x50;
    return cp;
}

// Appends the folded form of one non-ASCII, non-space code point.
void append_folded(std::string &out, char32_t cp) {
    cp = lower_greek_cyrillic(cp);
    const Fold *end = std::end(kFolds);
    const Fold *it = std::upper_bound(std::begin(kFolds), end, cp,
                                      [](char32_t c, const Fold &f) { return c < f.first; });
    if (it != std::begin(kFolds) && cp <= (it - 1)->last) {
        const Fold &f = *(it - 1);
        append_utf8(out, f.to1);
        if (f.to2)
            append_utf8(out, f.to2);
        return;
    }
    append_utf8(out, cp);
}

} // namespace

// Appends a code point as UTF-8 (callers pass valid scalar values).
void append_utf8(std::string &out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Folds case and accents and collapses white space, one code point at a time.
std::string normalize_string(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool pending_space = false; // a space run seen after some output; emitted lazily to trim
    bool after_invalid = false; // the last byte written was passed through as invalid UTF-8
    size_t i = 0;
    while (i < text.size()) {
        unsigned char b = static_cast<unsigned char>(text[i]);
        bool space = false;
        char32_t cp = 0;
        size_t len = 1;
        if (b < 0x80) {
            space = b == ' ' || (b >= '\t' && b <= '\r');
        } else {
            len = decode_utf8(text, i, cp);
            if (len == 0) {
                // Invalid byte: keep it as is, the contract says pass-through.
                if (pending_space)
                    out += ' ', pending_space = false;
                out += static_cast<char>(b);
                after_invalid = true;
                ++i;
                continue;
            }
            space = is_unicode_space(cp);
            // Dropping a mark right after an invalid byte could splice that byte with
            // what follows into new valid UTF-8, so normalizing again would change
            // the result; keep the mark there so the function stays idempotent.
            if (!space && is_combining_mark(cp) && !after_invalid) {
                i += len;
                continue;
            }
        }
        if (space) {
            pending_space = !out.empty();
        } else {
            if (pending_space)
                out += ' ', pending_space = false;
            if (b < 0x80)
                out += static_cast<char>(b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
            else
                append_folded(out, cp);
            after_invalid = false;
        }
        i += len;
    }
    return out;
}

// ============================================================================
// dates
// ============================================================================

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;
constexpr int64_t kDaysPer400Years = 146097;

// Gregorian rule, extended proleptically (FHIR dates before 1582 use it too).
bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Length of month m (1-12) of year y, for validating the day field.
int days_in_month(int64_t y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), for 1 <= y.
int64_t days_from_civil(int64_t y, int m, int d) {
    static constexpr int kBeforeMonth[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t p = y - 1; // whole years elapsed since 0001-01-01
    int64_t days = 365 * p + p / 4 - p / 100 + p / 400;
    days += kBeforeMonth[m - 1] + (m > 2 && is_leap_year(y) ? 1 : 0) + (d - 1);
    constexpr int64_t kDays0001To1970 = 719162;
    return days - kDays0001To1970;
}

// The inverse of days_from_civil, for any int64 day count (used for open-ended
// kMinTime/kMaxTime too, so it must not assume a positive year).
void civil_from_days(int64_t days, int64_t &y, int &m, int &d) {
    // Shift to 0001-01-01 = day 0, then peel whole 400-year cycles off with floor
    // division so everything after works on a non-negative day in the cycle.
    int64_t n = days + 719162;
    int64_t cycles = n / kDaysPer400Years;
    int64_t rem = n % kDaysPer400Years;
    if (rem < 0)
        rem += kDaysPer400Years, --cycles;
    y = 1 + cycles * 400;
    int64_t c100 = std::min<int64_t>(rem / 36524, 3); // the 4th century is a day longer
    rem -= c100 * 36524;
    int64_t c4 = rem / 1461;
    rem -= c4 * 1461;
    int64_t c1 = std::min<int64_t>(rem / 365, 3); // the 4th year of a cycle may be leap
    rem -= c1 * 365;
    y += c100 * 100 + c4 * 4 + c1;
    m = 1;
    while (rem >= days_in_month(y, m))
        rem -= days_in_month(y, m), ++m;
    d = static_cast<int>(rem) + 1;
}

// Reads exactly n ASCII digits at s[pos]; advances pos on success.
bool read_digits(std::string_view s, size_t &pos, size_t n, int &value) {
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
        char c = s[pos + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    value = v;
    pos += n;
    return true;
}

// True when s[pos] exists and is c; advances pos past it.
bool read_char(std::string_view s, size_t &pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

} // namespace

// One left-to-right scan over the fixed FHIR layout; every field is
// range-checked because an impossible date must be rejected, not normalized.
namespace {
const LocalTimeZone *installed_zone = nullptr;
} // namespace

void set_local_time_zone(const LocalTimeZone *zone) { installed_zone = zone; }
const LocalTimeZone *local_time_zone() { return installed_zone; }

std::optional<DateRange> parse_date_range(std::string_view text) {
    size_t pos = 0;
    bool zoned = false; // the text gives Z or an offset
    int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
    if (!read_digits(text, pos, 4, year) || year < 1)
        return std::nullopt;
    DateRange r;
    r.precision = DatePrecision::Year;
    if (read_char(text, pos, '-')) {
        if (!read_digits(text, pos, 2, month) || month < 1 || month > 12)
            return std::nullopt;
        r.precision = DatePrecision::Month;
        if (read_char(text, pos, '-')) {
            if (!read_digits(text, pos, 2, day) || day < 1 || day > days_in_month(year, month))
                return std::nullopt;
            r.precision = DatePrecision::Day;
        }
    }
    int64_t fraction = 0;   // microseconds
    int64_t width = 0;      // size of the range in microseconds, when a time is given
    int64_t offset_min = 0; // east of UTC
    if (r.precision == DatePrecision::Day && read_char(text, pos, 'T')) {
        if (!read_digits(text, pos, 2, hour) || hour > 23 || !read_char(text, pos, ':') ||
            !read_digits(text, pos, 2, minute) || minute > 59)
            return std::nullopt;
        r.precision = DatePrecision::Minute;
        width = kMicrosPerMinute;
        if (read_char(text, pos, ':')) {
            if (!read_digits(text, pos, 2, second) || second > 59)
                return std::nullopt;
            r.precision = DatePrecision::Second;
            width = kMicrosPerSecond;
            if (read_char(text, pos, '.')) {
                // Six digits make whole microseconds; the digits past them (up to 12
                // more are read, the rest cannot matter) make `sub` units of
                // 1/sub_scale microsecond, kept as the lo_above/hi_above flags.
                size_t digits = 0;
                int64_t unit = kMicrosPerSecond;
                int64_t sub = 0, sub_scale = 1;
                while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                    if (digits < 6) {
                        unit /= 10;
                        fraction += (text[pos] - '0') * unit;
                    } else if (digits < 18) {
                        sub = sub * 10 + (text[pos] - '0');
                        sub_scale *= 10;
                    }
                    ++digits, ++pos;
                }
                if (digits == 0)
                    return std::nullopt;
                width = unit;
                r.precision = digits <= 3 ? DatePrecision::Millisecond : DatePrecision::Microsecond;
                if (sub_scale > 1) {
                    // exact range [fraction + sub/scale, fraction + (sub+1)/scale) microseconds,
                    // inside [fraction, fraction + 1)
                    r.lo_inexact = sub != 0;
                    r.hi_inexact = sub + 1 < sub_scale;
                }
            }
        }
        if (read_char(text, pos, 'Z')) {
            zoned = true; // UTC, offset stays 0
        } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
            zoned = true;
            bool east = text[pos] == '+';
            ++pos;
            int oh = 0, om = 0;
            if (!read_digits(text, pos, 2, oh) || !read_char(text, pos, ':') ||
                !read_digits(text, pos, 2, om) || om > 59 || oh > 14 || (oh == 14 && om != 0))
                return std::nullopt;
            offset_min = (east ? 1 : -1) * (oh * 60 + om);
        }
    }
    if (pos != text.size())
        return std::nullopt;

    int64_t start_day = days_from_civil(year, month, day);
    r.lo = start_day * kMicrosPerDay +
           ((hour * 60 + minute - offset_min) * 60 + second) * kMicrosPerSecond + fraction;
    switch (r.precision) {
    case DatePrecision::Year:
        r.hi = days_from_civil(year + 1, 1, 1) * kMicrosPerDay;
        break;
    case DatePrecision::Month:
        r.hi = (month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, month + 1, 1)) *
               kMicrosPerDay;
        break;
    case DatePrecision::Day:
        r.hi = r.lo + kMicrosPerDay;
        break;
    default:
        r.hi = r.lo + width;
        break;
    }
    if (!zoned && installed_zone) {
        // Both bounds are wall-clock times of the zone (a local day may be 23 or 25 hours).
        auto to_utc = [](int64_t local_micros) {
            int64_t seconds = local_micros / kMicrosPerSecond - (local_micros % kMicrosPerSecond < 0 ? 1 : 0);
            return local_micros - installed_zone->offset_seconds_at_local(seconds) * kMicrosPerSecond;
        };
        r.lo = to_utc(r.lo);
        r.hi = to_utc(r.hi);
    }
    return r;
}

// Splits into day and time of day with floor semantics so instants before 1970 work.
std::string format_instant(int64_t micros) {
    int64_t days = micros / kMicrosPerDay;
    int64_t in_day = micros % kMicrosPerDay;
    if (in_day < 0)
        in_day += kMicrosPerDay, --days;
    int64_t year;
    int month, day;
    civil_from_days(days, year, month, day);
    int64_t secs = in_day / kMicrosPerSecond;
    int64_t frac = in_day % kMicrosPerSecond;

    std::string out;
    // Years outside 0001-9999 only arise for open ends; print them plainly.
    if (year < 0)
        out += '-', year = -year;
    std::string y = std::to_string(year);
    if (y.size() < 4)
        out.append(4 - y.size(), '0');
    out += y;
    char buf[32];
    std::snprintf(buf, sizeof buf, "-%02d-%02dT%02d:%02d:%02d", month, day, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    out += buf;
    if (frac != 0) {
        std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
        size_t n = std::strlen(buf);
        while (buf[n - 1] == '0')
            --n;
        out.append(buf, n);
    }
    out += 'Z';
    return out;
}

// ============================================================================
// numbers
// ============================================================================

namespace {

// PostgreSQL numeric accepts at most this many digits before / after the point;
// anything larger could not be stored anyway, and the bound keeps a short
// "1e999999999" from expanding into gigabytes of plain notation.
constexpr int64_t kMaxIntegerDigits = 131072;
constexpr int64_t kMaxFractionDigits = 16383;

// An exact decimal: (negative ? -1 : 1) * digits * 10^exponent, digits without
// leading zeros ("0" for zero).
struct Decimal {
    bool negative = false;
    std::string digits;
    int64_t exponent = 0;
};

// Drops leading zeros, keeping at least one digit.
void strip_leading_zeros(std::string &digits) {
    size_t nz = digits.find_first_not_of('0');
    digits.erase(0, nz == std::string::npos ? digits.size() - 1 : nz);
}

// |a| >= |b| for digit strings without leading zeros.
bool magnitude_ge(const std::string &a, const std::string &b) {
    return a.size() != b.size() ? a.size() > b.size() : a >= b;
}

// a + b on non-negative digit strings.
std::string add_magnitudes(const std::string &a, const std::string &b) {
    std::string out;
    int carry = 0;
    for (size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
        int s = carry;
        if (i < a.size())
            s += a[a.size() - 1 - i] - '0';
        if (i < b.size())
            s += b[b.size() - 1 - i] - '0';
        out += static_cast<char>('0' + s % 10);
        carry = s / 10;
    }
    std::reverse(out.begin(), out.end());
    strip_leading_zeros(out);
    return out;
}

// a - b on non-negative digit strings, requires a >= b.
std::string sub_magnitudes(const std::string &a, const std::string &b) {
    std::string out;
    int borrow = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        int s = (a[a.size() - 1 - i] - '0') - borrow - (i < b.size() ? b[b.size() - 1 - i] - '0' : 0);
        borrow = s < 0;
        out += static_cast<char>('0' + (s + 10) % 10);
    }
    std::reverse(out.begin(), out.end());
    strip_leading_zeros(out);
    return out;
}

// Signed value + delta, where delta is a non-negative magnitude with sign `delta_negative`,
// both at the same exponent as value.
Decimal add_signed(const Decimal &value, const std::string &delta, bool delta_negative) {
    Decimal r;
    r.exponent = value.exponent;
    if (value.negative == delta_negative) {
        r.digits = add_magnitudes(value.digits, delta);
        r.negative = value.negative;
    } else if (magnitude_ge(value.digits, delta)) {
        r.digits = sub_magnitudes(value.digits, delta);
        r.negative = value.negative;
    } else {
        r.digits = sub_magnitudes(delta, value.digits);
        r.negative = delta_negative;
    }
    if (r.digits == "0")
        r.negative = false;
    return r;
}

// Plain notation with exactly max(0, -exponent) digits after the point.
std::string to_plain(const Decimal &d) {
    std::string out = d.negative && d.digits != "0" ? "-" : "";
    if (d.exponent >= 0) {
        out += d.digits;
        if (d.digits != "0")
            out.append(static_cast<size_t>(d.exponent), '0');
        return out;
    }
    size_t scale = static_cast<size_t>(-d.exponent);
    std::string digits = d.digits;
    if (digits.size() <= scale)
        digits.insert(0, scale + 1 - digits.size(), '0');
    digits.insert(digits.size() - scale, 1, '.');
    return out + digits;
}

} // namespace

// Parses -?digits(.digits)?([eE][+-]?digits)? and derives the implicit range
// from the position of the last digit written, all in exact decimal digits.
std::optional<DecimalRange> parse_decimal_range(std::string_view text) {
    size_t pos = 0;
    Decimal v;
    v.negative = read_char(text, pos, '-');
    size_t int_start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
        ++pos;
    if (pos == int_start)
        return std::nullopt;
    v.digits.assign(text.substr(int_start, pos - int_start));
    int64_t fraction_digits = 0;
    if (read_char(text, pos, '.')) {
        size_t frac_start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
            ++pos;
        if (pos == frac_start)
            return std::nullopt;
        fraction_digits = static_cast<int64_t>(pos - frac_start);
        v.digits.append(text.substr(frac_start, pos - frac_start));
    }
    int64_t exponent = 0;
    if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
        ++pos;
        bool exp_negative = false;
        if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
            exp_negative = text[pos++] == '-';
        size_t exp_start = pos;
        bool too_large = false;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            // Stop before int64 overflow: an exponent beyond numeric's whole digit range is rejected.
            exponent = exponent * 10 + (text[pos] - '0');
            too_large = too_large || exponent > kMaxIntegerDigits + kMaxFractionDigits;
            if (too_large)
                exponent = 0;
            ++pos;
        }
        if (pos == exp_start || too_large)
            return std::nullopt;
        if (exp_negative)
            exponent = -exponent;
    }
    if (pos != text.size())
        return std::nullopt;

    v.exponent = exponent - fraction_digits;
    strip_leading_zeros(v.digits);
    if (v.digits == "0")
        v.negative = false; // "-0" is zero
    int64_t integer_digits = static_cast<int64_t>(v.digits.size()) + v.exponent;
    // The range bounds carry one digit more than the value (see below).
    if (integer_digits > kMaxIntegerDigits || 1 - v.exponent > kMaxFractionDigits)
        return std::nullopt;

    // Half a unit of the last written digit is 5 at the next lower position, so
    // scale the value by ten and add or subtract 5: exact, no rounding anywhere.
    Decimal scaled = v;
    if (scaled.digits != "0")
        scaled.digits += '0';
    scaled.exponent -= 1;
    DecimalRange r;
    r.value = to_plain(v);
    r.lo = to_plain(add_signed(scaled, "5", true));
    r.hi = to_plain(add_signed(scaled, "5", false));
    return r;
}

// ============================================================================
// tokens
// ============================================================================

// FNV-1a is byte-order independent by construction; the parameter id is fed
// explicitly little-endian so the stored hashes never depend on the host.
int64_t token_hash(int param_id, TokenForm form, std::string_view value) {
    constexpr uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
    constexpr uint64_t kPrime = 0x100000001b3ULL;
    uint64_t h = kOffsetBasis;
    auto feed = [&h](unsigned char b) {
        h ^= b;
        h *= kPrime;
    };
    uint32_t id = static_cast<uint32_t>(param_id);
    for (int shift = 0; shift < 32; shift += 8)
        feed(static_cast<unsigned char>(id >> shift));
    feed(static_cast<unsigned char>(form));
    for (char c : value)
        feed(static_cast<unsigned char>(c));
    int64_t out;
    std::memcpy(&out, &h, sizeof out);
    return out;
}

int64_t composite_key_hash(const int64_t *hashes, size_t count) {
    if (count == 1)
        return hashes[0];
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < count; ++i) {
        uint64_t v;
        std::memcpy(&v, &hashes[i], sizeof v);
        for (int shift = 0; shift < 64; shift += 8) {
            h ^= static_cast<unsigned char>(v >> shift);
            h *= 0x100000001b3ULL;
        }
    }
    int64_t out;
    std::memcpy(&out, &h, sizeof out);
    return out;
}

} // namespace fhir
