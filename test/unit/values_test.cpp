// values_test.cpp: unit tests for the search value primitives (src/core/values.h).
//
// The expected values here are written out by hand (dates checked against
// `date -u -d ... +%s`, hashes against the Python snippet below) rather than
// computed by the code under test, because these values are stored on disk and
// any silent change to them would break existing indexes.
#include "values.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using fhir::DatePrecision;
using fhir::DateRange;
using fhir::DecimalRange;
using fhir::TokenForm;
using fhir::format_instant;
using fhir::normalize_string;
using fhir::parse_date_range;
using fhir::parse_decimal_range;
using fhir::token_hash;

namespace {

constexpr int64_t kSec = 1000000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
constexpr int64_t kDay = 24 * kHour;

// 2020-01-01T00:00:00Z, from `date -u -d 2020-01-01 +%s` = 1577836800.
constexpr int64_t k2020 = 1577836800LL * kSec;

// Parses a date that must be valid (fails the test otherwise).
DateRange date(const char *text) {
    auto r = parse_date_range(text);
    EXPECT_TRUE(r.has_value()) << text;
    return r.value_or(DateRange{});
}

// Parses a decimal that must be valid (fails the test otherwise).
DecimalRange dec(const char *text) {
    auto r = parse_decimal_range(text);
    EXPECT_TRUE(r.has_value()) << text;
    return r.value_or(DecimalRange{});
}

} // namespace

// ---- normalize_string --------------------------------------------------------

TEST(NormalizeString, ExamplesFromTheSpec) {
    EXPECT_EQ(normalize_string("Müller"), "muller");
    EXPECT_EQ(normalize_string("Zoë"), "zoe");
    EXPECT_EQ(normalize_string("  ÉLODIE  Dupont "), "elodie dupont");
    EXPECT_EQ(normalize_string("ÅSTRÖM"), "astrom");
}

TEST(NormalizeString, AsciiAndEmpty) {
    EXPECT_EQ(normalize_string(""), "");
    EXPECT_EQ(normalize_string("   "), "");
    EXPECT_EQ(normalize_string("\t\r\n"), "");
    EXPECT_EQ(normalize_string("abc"), "abc");
    EXPECT_EQ(normalize_string("ABC xyz 123 !?-"), "abc xyz 123 !?-");
    EXPECT_EQ(normalize_string("a\t\n b\r\n\fc\vd"), "a b c d");
    EXPECT_EQ(normalize_string("O'Brien-Smith"), "o'brien-smith");
}

TEST(NormalizeString, Ligatures) {
    EXPECT_EQ(normalize_string("Straße"), "strasse");
    EXPECT_EQ(normalize_string("ẞ"), "ss");
    EXPECT_EQ(normalize_string("Æsir"), "aesir");
    EXPECT_EQ(normalize_string("Œuvre cœur"), "oeuvre coeur");
    EXPECT_EQ(normalize_string("Søren Ørsted"), "soren orsted");
    EXPECT_EQ(normalize_string("Łódź"), "lodz");
    EXPECT_EQ(normalize_string("Đorđe"), "dorde");
    EXPECT_EQ(normalize_string("Þór"), "thor");
    EXPECT_EQ(normalize_string("Ĳssel"), "ijssel");
}

TEST(NormalizeString, LatinDiacritics) {
    EXPECT_EQ(normalize_string("ÀÁÂÃÄÅàáâãäå"), "aaaaaaaaaaaa");
    EXPECT_EQ(normalize_string("ÇçÑñÝýÿ"), "ccnnyyy");
    EXPECT_EQ(normalize_string("ÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜ"), "eeeeiiiiooooouuuu");
    EXPECT_EQ(normalize_string("Dvořák"), "dvorak");
    EXPECT_EQ(normalize_string("Wałęsa"), "walesa");
    EXPECT_EQ(normalize_string("Şişli"), "sisli");
    EXPECT_EQ(normalize_string("İstanbul ılık"), "istanbul ilik");
    EXPECT_EQ(normalize_string("Ærøskøbing"), "aeroskobing");
    EXPECT_EQ(normalize_string("Nguyễn Thị Ánh Hồng"), "nguyen thi anh hong");
    EXPECT_EQ(normalize_string("Țepeș"), "tepes");
    EXPECT_EQ(normalize_string("Ǆ ǅ ǆ"), "dz dz dz");
}

TEST(NormalizeString, SymbolsInLatin1AreKept) {
    // Only letters fold; the multiplication and division signs are not letters.
    EXPECT_EQ(normalize_string("2×3÷4"), "2×3÷4");
    EXPECT_EQ(normalize_string("©®°"), "©®°");
    EXPECT_EQ(normalize_string("µg"), "μg"); // micro sign folds to Greek mu
}

TEST(NormalizeString, Greek) {
    EXPECT_EQ(normalize_string("ΑΒΓΔ"), "αβγδ");
    EXPECT_EQ(normalize_string("Ελληνικά"), "ελληνικα");
    EXPECT_EQ(normalize_string("ΆΈΉΊΌΎΏ"), "αεηιουω");
    EXPECT_EQ(normalize_string("άέήίόύώ"), "αεηιουω");
    EXPECT_EQ(normalize_string("ΪΫϊϋΐΰ"), "ιυιυιυ");
    EXPECT_EQ(normalize_string("Οδυσσεύς"), "οδυσσευσ"); // final sigma
    EXPECT_EQ(normalize_string("ΟΔΥΣΣΕΥΣ"), normalize_string("Οδυσσεύς"));
}

TEST(NormalizeString, Cyrillic) {
    EXPECT_EQ(normalize_string("ПЕТРОВ"), "петров");
    EXPECT_EQ(normalize_string("Пётр"), "петр");
    EXPECT_EQ(normalize_string("ЁЖИК"), "ежик");
    EXPECT_EQ(normalize_string("Ёлка ёлка"), "елка елка");
    EXPECT_EQ(normalize_string("Андрій Київ"), "андріи киів");
    EXPECT_EQ(normalize_string("ЎЍЌЃ"), "уикг");
    EXPECT_EQ(normalize_string("ЀЁЂЃЄЅІЇЈЉЊЋЌЍЎЏ"), "ееђгєѕііјљњћкиуџ");
}

TEST(NormalizeString, DecomposedInputMatchesPrecomposed) {
    // "e" + COMBINING ACUTE ACCENT, "o" + COMBINING DIAERESIS
    EXPECT_EQ(normalize_string("E\xCC\x81lodie Zo\xCC\x88"), "elodie zo");
    EXPECT_EQ(normalize_string("Zoe\xCC\x88"), normalize_string("Zoë"));
}

TEST(NormalizeString, UnicodeWhitespace) {
    EXPECT_EQ(normalize_string("\xC2\xA0Jean\xC2\xA0\xC2\xA0Paul\xE2\x80\x83"), "jean paul");
    EXPECT_EQ(normalize_string("a\xE3\x80\x80" "b"), "a b"); // ideographic space
    EXPECT_EQ(normalize_string("a \xE2\x80\xAF b"), "a b"); // narrow no-break space
}

TEST(NormalizeString, OtherScriptsPassThrough) {
    EXPECT_EQ(normalize_string("山田 太郎"), "山田 太郎");
    EXPECT_EQ(normalize_string("😀 OK"), "😀 ok");
    EXPECT_EQ(normalize_string("עברית"), "עברית");
}

TEST(NormalizeString, InvalidUtf8PassesThroughBytewise) {
    EXPECT_EQ(normalize_string(std::string("A\xFF" "B")), "a\xFF" "b");
    EXPECT_EQ(normalize_string(std::string("\xC3")), "\xC3");             // truncated
    EXPECT_EQ(normalize_string(std::string("\xC3" "A")), "\xC3" "a");     // bad continuation
    EXPECT_EQ(normalize_string(std::string("\xC0\xAF")), "\xC0\xAF");     // overlong
    EXPECT_EQ(normalize_string(std::string("\xED\xA0\x80")), "\xED\xA0\x80"); // surrogate
    EXPECT_EQ(normalize_string(std::string("\xF4\x90\x80\x80")), "\xF4\x90\x80\x80"); // > U+10FFFF
    EXPECT_EQ(normalize_string(std::string("\x80 \x80")), "\x80 \x80");
    EXPECT_EQ(normalize_string(std::string("a\0B", 3)), std::string("a\0b", 3));
}

TEST(NormalizeString, MarkAfterInvalidByteIsKeptSoBytesDoNotSplice) {
    // Dropping U+0301 here would leave C3 A9, a valid "é", for the next pass to fold.
    const std::string in("\xC3\xCC\x81\xA9");
    EXPECT_EQ(normalize_string(in), in);
    EXPECT_EQ(normalize_string(normalize_string(in)), normalize_string(in));
}

TEST(NormalizeString, Idempotent) {
    for (const char *s : {"Müller", "  ÉLODIE  Dupont ", "ΟΔΥΣΣΕΥΣ", "Ёлка", "Straße", "a\xFF b",
                          "\xD5\xCC\xCD\x96\xBA\xCD\xBA\xD2\xA1Q\xA1\xCD\xBA\xCC\x96\xCD"})
        EXPECT_EQ(normalize_string(normalize_string(s)), normalize_string(s)) << s;
}

// ---- parse_date_range ----------------------------------------------------------

TEST(DateRange, Year) {
    DateRange r = date("2020");
    EXPECT_EQ(r.lo, k2020);
    EXPECT_EQ(r.hi, k2020 + 366 * kDay); // leap year
    EXPECT_EQ(r.precision, DatePrecision::Year);
    EXPECT_EQ(date("2021").hi - date("2021").lo, 365 * kDay);
}

TEST(DateRange, Month) {
    DateRange r = date("2020-02");
    EXPECT_EQ(r.lo, k2020 + 31 * kDay);
    EXPECT_EQ(r.hi, k2020 + 60 * kDay);
    EXPECT_EQ(r.precision, DatePrecision::Month);
    EXPECT_EQ(date("2019-02").hi - date("2019-02").lo, 28 * kDay);
    EXPECT_EQ(format_instant(date("2020-12").hi), "2021-01-01T00:00:00Z");
    EXPECT_EQ(format_instant(date("2020-04").hi), "2020-05-01T00:00:00Z");
}

TEST(DateRange, Day) {
    DateRange r = date("2020-01-02");
    EXPECT_EQ(r.lo, k2020 + kDay);
    EXPECT_EQ(r.hi, k2020 + 2 * kDay);
    EXPECT_EQ(r.precision, DatePrecision::Day);
    EXPECT_EQ(date("1970-01-01").lo, 0);
    EXPECT_EQ(date("1969-12-31").lo, -kDay);
    // `date -u -d 2000-03-01 +%s` = 951868800
    EXPECT_EQ(date("2000-03-01").lo, 951868800LL * kSec);
    // `date -u -d 1900-03-01 +%s` = -2203891200 (1900 is not a leap year)
    EXPECT_EQ(date("1900-03-01").lo, -2203891200LL * kSec);
    // `date -u -d 9999-12-31 +%s` = 253402214400
    EXPECT_EQ(date("9999-12-31").lo, 253402214400LL * kSec);
    // `date -u -d 0001-01-01 +%s` = -62135596800
    EXPECT_EQ(date("0001-01-01").lo, -62135596800LL * kSec);
}

TEST(DateRange, LeapYears) {
    EXPECT_TRUE(parse_date_range("2020-02-29"));
    EXPECT_TRUE(parse_date_range("2000-02-29"));
    EXPECT_TRUE(parse_date_range("2400-02-29"));
    EXPECT_TRUE(parse_date_range("0004-02-29"));
    EXPECT_FALSE(parse_date_range("2019-02-29"));
    EXPECT_FALSE(parse_date_range("1900-02-29"));
    EXPECT_FALSE(parse_date_range("2100-02-29"));
    EXPECT_FALSE(parse_date_range("2020-02-30"));
    EXPECT_EQ(date("2020-02-29").hi, date("2020-03-01").lo);
}

TEST(DateRange, DaysPerMonth) {
    const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; ++m) {
        char ok[32], bad[32];
        std::snprintf(ok, sizeof ok, "2021-%02d-%02d", m, days[m - 1]);
        std::snprintf(bad, sizeof bad, "2021-%02d-%02d", m, days[m - 1] + 1);
        EXPECT_TRUE(parse_date_range(ok)) << ok;
        EXPECT_FALSE(parse_date_range(bad)) << bad;
    }
}

TEST(DateRange, Minute) {
    DateRange r = date("2020-01-01T10:30");
    EXPECT_EQ(r.lo, k2020 + 10 * kHour + 30 * kMin);
    EXPECT_EQ(r.hi, r.lo + kMin);
    EXPECT_EQ(r.precision, DatePrecision::Minute);
    EXPECT_EQ(date("2020-01-01T10:30Z").lo, r.lo);
    EXPECT_EQ(date("2020-01-01T10:30+01:00").lo, r.lo - kHour);
}

TEST(DateRange, SecondWithOffset) {
    DateRange r = date("2020-01-01T10:00:00+02:00");
    EXPECT_EQ(format_instant(r.lo), "2020-01-01T08:00:00Z");
    EXPECT_EQ(format_instant(r.hi), "2020-01-01T08:00:01Z");
    EXPECT_EQ(r.precision, DatePrecision::Second);
    EXPECT_EQ(date("2020-01-01T10:00:00Z").lo, k2020 + 10 * kHour);
    EXPECT_EQ(date("2020-01-01T10:00:00").lo, k2020 + 10 * kHour); // no zone = UTC
    EXPECT_EQ(date("2020-01-01T10:00:00-05:30").lo, k2020 + 15 * kHour + 30 * kMin);
    EXPECT_EQ(date("2020-01-01T10:00:00+00:00").lo, date("2020-01-01T10:00:00-00:00").lo);
}

TEST(DateRange, OffsetsCrossDaysAndYears) {
    EXPECT_EQ(format_instant(date("2020-01-01T00:30:00+01:00").lo), "2019-12-31T23:30:00Z");
    EXPECT_EQ(format_instant(date("2019-12-31T23:30:00-01:00").lo), "2020-01-01T00:30:00Z");
    EXPECT_EQ(format_instant(date("2020-03-01T01:00:00+14:00").lo), "2020-02-29T11:00:00Z");
    EXPECT_EQ(format_instant(date("2020-02-28T23:00:00-14:00").lo), "2020-02-29T13:00:00Z");
    EXPECT_EQ(format_instant(date("9999-12-31T23:59:59-14:00").lo), "10000-01-01T13:59:59Z");
    EXPECT_EQ(format_instant(date("0001-01-01T00:00:00+14:00").lo), "0000-12-31T10:00:00Z");
}

TEST(DateRange, OffsetLimits) {
    EXPECT_TRUE(parse_date_range("2020-01-01T00:00:00+14:00"));
    EXPECT_TRUE(parse_date_range("2020-01-01T00:00:00-14:00"));
    EXPECT_TRUE(parse_date_range("2020-01-01T00:00:00+13:59"));
    EXPECT_TRUE(parse_date_range("2020-01-01T00:00:00+05:45"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+14:01"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00-15:00"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+01:60"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+0100"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+1:00"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+01"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00+"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00z"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00ZZ"));
    EXPECT_FALSE(parse_date_range("2020-01-01T00:00:00Z+01:00"));
}

TEST(DateRange, FractionalSeconds) {
    const int64_t base = k2020 + 10 * kHour;
    struct Case {
        const char *text;
        int64_t lo_offset;
        int64_t width;
        DatePrecision precision;
    };
    const Case cases[] = {
        {"2020-01-01T10:00:00.5Z", 500000, 100000, DatePrecision::Millisecond},
        {"2020-01-01T10:00:00.12Z", 120000, 10000, DatePrecision::Millisecond},
        {"2020-01-01T10:00:00.123Z", 123000, 1000, DatePrecision::Millisecond},
        {"2020-01-01T10:00:00.1234Z", 123400, 100, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.12345Z", 123450, 10, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.123456Z", 123456, 1, DatePrecision::Microsecond},
        // past six digits: the whole microsecond around the exact range (flags below)
        {"2020-01-01T10:00:00.1234567Z", 123456, 1, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.12345678Z", 123456, 1, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.999999999Z", 999999, 1, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.1234560Z", 123456, 1, DatePrecision::Microsecond},
        {"2020-01-01T10:00:00.000Z", 0, 1000, DatePrecision::Millisecond},
        {"2020-01-01T10:00:00.0", 0, 100000, DatePrecision::Millisecond},
    };
    for (const Case &c : cases) {
        DateRange r = date(c.text);
        EXPECT_EQ(r.lo, base + c.lo_offset) << c.text;
        EXPECT_EQ(r.hi - r.lo, c.width) << c.text;
        EXPECT_EQ(r.precision, c.precision) << c.text;
    }
    EXPECT_EQ(date("2020-01-01T10:00:00.5+02:00").lo, base - 2 * kHour + 500000);
    // exact bounds between microseconds: [.1234567, .1234568) lies inside [.123456, .123457)
    EXPECT_TRUE(date("2020-01-01T10:00:00.1234567Z").lo_inexact);
    EXPECT_TRUE(date("2020-01-01T10:00:00.1234567Z").hi_inexact);
    EXPECT_FALSE(date("2020-01-01T10:00:00.1234560Z").lo_inexact); // starts on a microsecond
    EXPECT_TRUE(date("2020-01-01T10:00:00.1234560Z").hi_inexact);
    EXPECT_TRUE(date("2020-01-01T10:00:00.999999999Z").lo_inexact);
    EXPECT_FALSE(date("2020-01-01T10:00:00.999999999Z").hi_inexact); // ends on the next second
    EXPECT_FALSE(date("2020-01-01T10:00:00.123456Z").lo_inexact);
    EXPECT_FALSE(date("2020-01-01T10:00:00.123456Z").hi_inexact);
    EXPECT_FALSE(parse_date_range("2020-01-01T10:00:00.Z"));
    EXPECT_FALSE(parse_date_range("2020-01-01T10:00:00."));
    EXPECT_FALSE(parse_date_range("2020-01-01T10:00.5Z")); // fraction needs seconds
    EXPECT_FALSE(parse_date_range("2020-01-01T10:00:00,5Z"));
}

TEST(DateRange, TimeLimits) {
    EXPECT_TRUE(parse_date_range("2020-01-01T23:59:59Z"));
    EXPECT_TRUE(parse_date_range("2020-01-01T00:00:00Z"));
    EXPECT_FALSE(parse_date_range("2020-01-01T24:00:00Z"));
    EXPECT_FALSE(parse_date_range("2020-01-01T24:00"));
    EXPECT_FALSE(parse_date_range("2020-01-01T23:60:00Z"));
    EXPECT_FALSE(parse_date_range("2020-12-31T23:59:60Z")); // no leap seconds
    EXPECT_EQ(date("2020-12-31T23:59:59.999999Z").hi, date("2021").lo);
}

TEST(DateRange, InvalidSyntax) {
    for (const char *bad :
         {"", "2", "202", "20201", "0000", "0000-01-01", "10000", "-2020", "+2020", "2020-", "2020-1",
          "2020-00", "2020-13", "2020-1-01", "2020-01-", "2020-01-1", "2020-01-00", "2020-01-32",
          "2020-01-01T", "2020-01-01T10", "2020-01-01T10:", "2020-01-01T1:00", "2020-01-01T10:0",
          "2020-01-01T10:00:", "2020-01-01T10:00:0", "2020-01-01 10:00", "2020-01-01t10:00",
          "2020-01-01Z", "2020Z", "2020-01Z", "2020-01-01+01:00", "2020T10:00", "2020-01T10:00",
          "20200101", "2020/01/01", " 2020", "2020 ", "2020-01-01T10:00:00Zjunk", "abcd", "２０２０",
          "2020-01-01T10:00:00.123456789012345678901234567890x"})
        EXPECT_FALSE(parse_date_range(bad)) << '"' << bad << '"';
    EXPECT_FALSE(parse_date_range(std::string("2020\0", 5)));
}

TEST(DateRange, YearBounds) {
    DateRange first = date("0001");
    EXPECT_EQ(format_instant(first.lo), "0001-01-01T00:00:00Z");
    DateRange last = date("9999");
    EXPECT_EQ(format_instant(last.hi), "10000-01-01T00:00:00Z");
    EXPECT_EQ(date("9999-12").hi, last.hi);
    EXPECT_EQ(date("9999-12-31").hi, last.hi);
}

TEST(DateRange, NestedPrecisionsNest) {
    DateRange y = date("2020"), m = date("2020-06"), d = date("2020-06-15"),
              t = date("2020-06-15T12:34:56.789Z");
    EXPECT_LE(y.lo, m.lo);
    EXPECT_LE(m.hi, y.hi);
    EXPECT_LE(m.lo, d.lo);
    EXPECT_LE(d.hi, m.hi);
    EXPECT_LE(d.lo, t.lo);
    EXPECT_LE(t.hi, d.hi);
}

// ---- format_instant --------------------------------------------------------------

TEST(DateFormat, Instants) {
    EXPECT_EQ(format_instant(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_instant(k2020), "2020-01-01T00:00:00Z");
    EXPECT_EQ(format_instant(k2020 + 3 * kHour + 4 * kMin + 5 * kSec + 123456), "2020-01-01T03:04:05.123456Z");
    EXPECT_EQ(format_instant(k2020 + 500000), "2020-01-01T00:00:00.5Z");
    EXPECT_EQ(format_instant(k2020 + 120), "2020-01-01T00:00:00.00012Z");
    EXPECT_EQ(format_instant(k2020 + 1), "2020-01-01T00:00:00.000001Z");
    EXPECT_EQ(format_instant(-1), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_instant(-kDay), "1969-12-31T00:00:00Z");
    EXPECT_EQ(format_instant(951782400LL * kSec), "2000-02-29T00:00:00Z");
}

TEST(DateFormat, OpenEndsDoNotCrash) {
    EXPECT_FALSE(format_instant(fhir::kMinTime).empty());
    EXPECT_FALSE(format_instant(fhir::kMaxTime).empty());
    EXPECT_EQ(format_instant(fhir::kMaxTime), "294247-01-10T04:00:54.775807Z");
    EXPECT_EQ(format_instant(fhir::kMinTime), "-290308-12-21T19:59:05.224192Z");
}

TEST(DateFormat, RoundTripsThroughParse) {
    // Roughly one instant a day (odd times, microseconds set) through years near the epoch and at both ends.
    for (const char *year : {"2020", "1969", "0001", "9999"}) {
        DateRange y = date(year);
        for (int64_t t = y.lo; t < y.hi; t += kDay + 3723 * kSec + 4567) {
            std::string text = format_instant(t);
            auto r = parse_date_range(text);
            ASSERT_TRUE(r) << text;
            EXPECT_EQ(r->lo, t) << text;
        }
    }
}

// ---- parse_decimal_range -------------------------------------------------------

TEST(DecimalRange, ExamplesFromTheSpec) {
    DecimalRange r = dec("100");
    EXPECT_EQ(r.value, "100");
    EXPECT_EQ(r.lo, "99.5");
    EXPECT_EQ(r.hi, "100.5");
    r = dec("100.00");
    EXPECT_EQ(r.value, "100.00");
    EXPECT_EQ(r.lo, "99.995");
    EXPECT_EQ(r.hi, "100.005");
    r = dec("1e2");
    EXPECT_EQ(r.value, "100");
    EXPECT_EQ(r.lo, "50");
    EXPECT_EQ(r.hi, "150");
    r = dec("0.1");
    EXPECT_EQ(r.value, "0.1");
    EXPECT_EQ(r.lo, "0.05");
    EXPECT_EQ(r.hi, "0.15");
    r = dec("-5");
    EXPECT_EQ(r.value, "-5");
    EXPECT_EQ(r.lo, "-5.5");
    EXPECT_EQ(r.hi, "-4.5");
}

TEST(DecimalRange, Exponents) {
    struct Case {
        const char *text, *value, *lo, *hi;
    };
    const Case cases[] = {
        {"1.5E-3", "0.0015", "0.00145", "0.00155"},
        {"1.5e-3", "0.0015", "0.00145", "0.00155"},
        {"1.0e5", "100000", "95000", "105000"},
        {"1.50e1", "15.0", "14.95", "15.05"},
        {"1e+2", "100", "50", "150"},
        {"1e0", "1", "0.5", "1.5"},
        {"1e-0", "1", "0.5", "1.5"},
        {"5e-1", "0.5", "0.45", "0.55"},
        {"12e-1", "1.2", "1.15", "1.25"},
        {"-2.5e3", "-2500", "-2550", "-2450"},
        {"0e5", "0", "-50000", "50000"},
        {"1E0010", "10000000000", "5000000000", "15000000000"},
    };
    for (const Case &c : cases) {
        DecimalRange r = dec(c.text);
        EXPECT_EQ(r.value, c.value) << c.text;
        EXPECT_EQ(r.lo, c.lo) << c.text;
        EXPECT_EQ(r.hi, c.hi) << c.text;
    }
}

TEST(DecimalRange, ZeroAndSign) {
    DecimalRange r = dec("0");
    EXPECT_EQ(r.value, "0");
    EXPECT_EQ(r.lo, "-0.5");
    EXPECT_EQ(r.hi, "0.5");
    r = dec("-0");
    EXPECT_EQ(r.value, "0");
    EXPECT_EQ(r.lo, "-0.5");
    EXPECT_EQ(r.hi, "0.5");
    r = dec("0.00");
    EXPECT_EQ(r.value, "0.00");
    EXPECT_EQ(r.lo, "-0.005");
    EXPECT_EQ(r.hi, "0.005");
    r = dec("-0.00");
    EXPECT_EQ(r.value, "0.00");
    r = dec("-0.1");
    EXPECT_EQ(r.value, "-0.1");
    EXPECT_EQ(r.lo, "-0.15");
    EXPECT_EQ(r.hi, "-0.05");
    r = dec("-0.001");
    EXPECT_EQ(r.lo, "-0.0015");
    EXPECT_EQ(r.hi, "-0.0005");
}

TEST(DecimalRange, CarriesAndBorrows) {
    DecimalRange r = dec("9.99");
    EXPECT_EQ(r.lo, "9.985");
    EXPECT_EQ(r.hi, "9.995");
    r = dec("10");
    EXPECT_EQ(r.lo, "9.5");
    EXPECT_EQ(r.hi, "10.5");
    r = dec("-10");
    EXPECT_EQ(r.lo, "-10.5");
    EXPECT_EQ(r.hi, "-9.5");
    r = dec("1000000000000000000000000000000.000000000000000000000001");
    EXPECT_EQ(r.value, "1000000000000000000000000000000.000000000000000000000001");
    EXPECT_EQ(r.lo, "1000000000000000000000000000000.0000000000000000000000005");
    EXPECT_EQ(r.hi, "1000000000000000000000000000000.0000000000000000000000015");
    r = dec("99999999999999999999999999");
    EXPECT_EQ(r.lo, "99999999999999999999999998.5");
    EXPECT_EQ(r.hi, "99999999999999999999999999.5");
}

TEST(DecimalRange, LeadingZerosAreNotSignificant) {
    DecimalRange r = dec("007");
    EXPECT_EQ(r.value, "7");
    EXPECT_EQ(r.lo, "6.5");
    EXPECT_EQ(r.hi, "7.5");
    r = dec("00.050");
    EXPECT_EQ(r.value, "0.050");
    EXPECT_EQ(r.lo, "0.0495");
    EXPECT_EQ(r.hi, "0.0505");
}

TEST(DecimalRange, Invalid) {
    for (const char *bad :
         {"", "-", "abc", "1.", ".5", "-.5", "--1", "+1", "1e", "1e+", "1e-", "e5", "1.5.2", "1..5", "nan",
          "NaN", "inf", "-inf", "Infinity", " 1", "1 ", "1,5", "0x10", "1e2.5", "1f", "1_000", "١٢"})
        EXPECT_FALSE(parse_decimal_range(bad)) << '"' << bad << '"';
    EXPECT_FALSE(parse_decimal_range(std::string("1\0", 2)));
}

TEST(DecimalRange, HugeExponentsAreRejectedNotExpanded) {
    EXPECT_FALSE(parse_decimal_range("1e999999999999999999999999"));
    EXPECT_FALSE(parse_decimal_range("1e-999999999999999999999999"));
    EXPECT_FALSE(parse_decimal_range("1e200000"));
    EXPECT_FALSE(parse_decimal_range("1e-20000"));
    // Within PostgreSQL numeric's limits it is still accepted.
    auto r = parse_decimal_range("1e1000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.size(), 1001u);
    r = parse_decimal_range("1e-1000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.size(), 1002u);
}

// ---- token_hash ------------------------------------------------------------------

// Expected values computed independently with:
//
//   def fnv1a(param_id, form, value):
//       h = 0xcbf29ce484222325
//       for b in (param_id & 0xffffffff).to_bytes(4, 'little') + bytes([form]) + value.encode():
//           h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
//       return h - (1 << 64) if h >= 1 << 63 else h
TEST(TokenHash, FixedValues) {
    EXPECT_EQ(token_hash(0, TokenForm::Code, ""), -1964608642901874788LL);
    EXPECT_EQ(token_hash(1, TokenForm::Code, "male"), 6559612410402409306LL);
    EXPECT_EQ(token_hash(42, TokenForm::SystemCode, "http://loinc.org|1234-5"), -4059196523125650914LL);
    EXPECT_EQ(token_hash(7, TokenForm::Reference, "Patient/123"), 4028258263153495867LL);
    EXPECT_EQ(token_hash(-1, TokenForm::Uri, "urn:uuid:x"), 6321472060228226602LL);
    EXPECT_EQ(token_hash(65536, TokenForm::Present, ""), -2588776105305184885LL);
}

TEST(TokenHash, EveryInputPartMatters) {
    int64_t h = token_hash(1, TokenForm::Code, "a");
    EXPECT_NE(h, token_hash(2, TokenForm::Code, "a"));
    EXPECT_NE(h, token_hash(1, TokenForm::SystemCode, "a"));
    EXPECT_NE(h, token_hash(1, TokenForm::Code, "b"));
    EXPECT_NE(h, token_hash(1, TokenForm::Code, "a "));
    EXPECT_NE(token_hash(1, TokenForm::Code, "A"), h); // case-sensitive: tokens are exact
    EXPECT_EQ(h, token_hash(1, TokenForm::Code, std::string("a")));
    // Embedded NUL bytes are hashed, not treated as terminators.
    EXPECT_NE(token_hash(1, TokenForm::Code, std::string("a\0", 2)), h);
}

// The composite key is stored on disk: its values are fixed (FNV-1a over the
// hashes' little-endian bytes, computed independently), and one hash is its own key.
TEST(CompositeKeyHash, FixedValues) {
    using fhir::composite_key_hash;
    const int64_t one[] = {-4059196523125650914LL};
    EXPECT_EQ(composite_key_hash(one, 1), -4059196523125650914LL);
    EXPECT_EQ(composite_key_hash(nullptr, 0), -3750763034362895579LL);
    const int64_t pair[] = {1, 2};
    const int64_t swapped[] = {2, 1};
    EXPECT_EQ(composite_key_hash(pair, 2), 8581494755304202342LL);
    EXPECT_EQ(composite_key_hash(swapped, 2), 513837244993915590LL); // order matters
    const int64_t three[] = {-5, 7, 123456789};
    EXPECT_EQ(composite_key_hash(three, 3), 596105658406421486LL);
}

// A zone like Central Europe: +1 h, +2 h from the last Sunday of March 02:00
// to the last Sunday of October 03:00 (wall clock), only for 2020 here.
class TestZone : public fhir::LocalTimeZone {
  public:
    int64_t offset_seconds_at_local(int64_t local) const override {
        const int64_t summer_from = 1585447200; // 2020-03-29T02:00 wall clock, as seconds
        const int64_t summer_to = 1603594800;   // 2020-10-25T03:00
        return local >= summer_from && local < summer_to ? 7200 : 3600;
    }
};

// Installs a zone for one test and restores UTC after it.
struct ZoneScope {
    explicit ZoneScope(const fhir::LocalTimeZone *zone) { fhir::set_local_time_zone(zone); }
    ~ZoneScope() { fhir::set_local_time_zone(nullptr); }
};

TEST(DateRange, ValuesWithoutZoneAreReadInTheInstalledZone) {
    TestZone zone;
    ZoneScope scope(&zone);
    // 2020-01-02 local is [2020-01-01T23:00Z, 2020-01-02T23:00Z)
    EXPECT_EQ(format_instant(date("2020-01-02").lo), "2020-01-01T23:00:00Z");
    EXPECT_EQ(format_instant(date("2020-01-02").hi), "2020-01-02T23:00:00Z");
    // the day summer time starts has 23 hours, the day it ends 25
    EXPECT_EQ(date("2020-03-29").hi - date("2020-03-29").lo, 23 * 3600 * kSec);
    EXPECT_EQ(date("2020-10-25").hi - date("2020-10-25").lo, 25 * 3600 * kSec);
    EXPECT_EQ(format_instant(date("2020-07-01T12:00").lo), "2020-07-01T10:00:00Z");
    EXPECT_EQ(format_instant(date("2020").lo), "2019-12-31T23:00:00Z");
    // a value with a zone is not moved
    EXPECT_EQ(format_instant(date("2020-07-01T12:00:00Z").lo), "2020-07-01T12:00:00Z");
    EXPECT_EQ(format_instant(date("2020-07-01T12:00:00+05:00").lo), "2020-07-01T07:00:00Z");
}

TEST(DateRange, NoInstalledZoneIsUtc) {
    EXPECT_EQ(fhir::local_time_zone(), nullptr);
    EXPECT_EQ(format_instant(date("2020-01-02").lo), "2020-01-02T00:00:00Z");
}
