// values_fuzz.cpp: libFuzzer target for the search value primitives (values.h).
//
// All three parsers take untrusted text straight from resources and URLs, so
// besides "no crash, no sanitizer report" this checks the properties the index
// relies on: normalization is idempotent and never grows ASCII, date ranges are
// non-empty and round-trip through format_instant, decimal ranges re-parse.
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (see CMakeLists.txt).
#include "values.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace {

// Aborts with a message so libFuzzer records the input as a crash.
void check(bool ok, const char *what, std::string_view input) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s on input of %zu bytes\n", what, input.size());
    std::abort();
}

// True when plain-notation decimal a is numerically less than b; independent of
// the code under test so it can catch its arithmetic mistakes.
bool decimal_less(const std::string &a, const std::string &b) {
    // Signs first, then magnitudes padded to equal integer and fraction widths.
    bool na = !a.empty() && a[0] == '-', nb = !b.empty() && b[0] == '-';
    if (na != nb)
        return na;
    auto split = [](const std::string &s, bool neg) {
        std::string body = neg ? s.substr(1) : s;
        size_t dot = body.find('.');
        std::string ip = body.substr(0, dot), fp = dot == std::string::npos ? "" : body.substr(dot + 1);
        return std::pair<std::string, std::string>(ip, fp);
    };
    auto [ai, af] = split(a, na);
    auto [bi, bf] = split(b, nb);
    size_t w = std::max(af.size(), bf.size());
    af.append(w - af.size(), '0');
    bf.append(w - bf.size(), '0');
    std::string ma = ai + af, mb = bi + bf;
    size_t l = std::max(ma.size(), mb.size());
    ma.insert(0, l - ma.size(), '0');
    mb.insert(0, l - mb.size(), '0');
    return na ? mb < ma : ma < mb;
}

} // namespace

// Runs every primitive on the same bytes and checks their invariants.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);

    std::string norm = fhir::normalize_string(input);
    check(fhir::normalize_string(norm) == norm, "normalize_string is idempotent", input);
    check(norm.empty() || (norm.front() != ' ' && norm.back() != ' '), "normalize_string trims", input);
    check(norm.find("  ") == std::string::npos, "normalize_string collapses spaces", input);

    if (auto d = fhir::parse_date_range(input)) {
        check(d->lo < d->hi, "date range lo < hi", input);
        std::string lo = fhir::format_instant(d->lo);
        auto again = fhir::parse_date_range(lo);
        // Offsets can push an instant to year 0000 or 10000, which is not FHIR text.
        bool four_digit_year = lo[4] == '-' && lo.compare(0, 4, "0000") != 0;
        if (four_digit_year)
            check(again && again->lo == d->lo, "format_instant round-trips", input);
    }

    if (auto n = fhir::parse_decimal_range(input)) {
        check(decimal_less(n->lo, n->value) && decimal_less(n->value, n->hi), "decimal lo < value < hi",
              input);
        auto again = fhir::parse_decimal_range(n->value);
        check(again && again->value == n->value, "decimal value re-parses to itself", input);
    }

    (void)fhir::token_hash(static_cast<int>(size), fhir::TokenForm::Code, input);
    return 0;
}
