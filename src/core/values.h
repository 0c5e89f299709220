// values.h: FHIR search values as the index stores and compares them.
//
// Everything here is pure and deterministic, used both when a resource is written
// (extraction) and when a query is parsed, so both sides agree byte for byte.
//   - strings: normalized for FHIR's case- and accent-insensitive matching
//   - dates:   FHIR date/dateTime/instant text -> half-open UTC range [lo, hi)
//   - numbers: decimal text -> exact value plus the implicit precision range
//   - tokens:  64-bit hashes of (parameter, form, value), stored in a GIN array
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fhir {

// ---- strings ----------------------------------------------------------------
// Lowercase, strip accents/diacritics (Latin, Greek, Cyrillic ranges at least),
// map punctuation-insensitive forms as FHIR servers commonly do (collapse runs of
// whitespace to one space, trim). Input and output are UTF-8. Invalid UTF-8 is
// passed through byte-wise, never throws.
std::string normalize_string(std::string_view text);

// ---- dates ------------------------------------------------------------------
// Microseconds since 1970-01-01T00:00:00Z. kMinTime/kMaxTime stand for open ends.
constexpr int64_t kMinTime = INT64_MIN;
constexpr int64_t kMaxTime = INT64_MAX;

enum class DatePrecision { Year, Month, Day, Minute, Second, Millisecond, Microsecond };

struct DateRange {
    int64_t lo = kMinTime; // inclusive
    int64_t hi = kMaxTime; // exclusive
    DatePrecision precision = DatePrecision::Day;
    // A value with more than six fraction digits ("...15.5000001") has exact bounds
    // between two microseconds: [lo, hi) is then the whole-microsecond range around
    // it, and these flags say the exact bound lies inside it (lo_inexact: above lo;
    // hi_inexact: below hi), so a search compares at the precision the client sent.
    bool lo_inexact = false;
    bool hi_inexact = false;
};

// The zone a date or time without an offset is read in: R4 dates ("2020",
// "2020-05-05") and search values without a zone. The server's setting
// (fhir_search.default_timezone) installs one; none means UTC. Writes and
// searches read through the same zone, so stored rows and search values agree
// while it stays the same; after a change, values stored before it keep the old
// zone until re-indexed.
class LocalTimeZone {
  public:
    virtual ~LocalTimeZone() = default;
    // Seconds east of UTC in force at a wall-clock time, given as seconds since
    // 1970-01-01T00:00 of that wall clock (a time a DST change skips or repeats
    // gets one of its two offsets, consistently).
    virtual int64_t offset_seconds_at_local(int64_t local_seconds) const = 0;
};
// Installs the zone (nullptr: UTC). The caller keeps it alive while installed.
void set_local_time_zone(const LocalTimeZone *zone);
const LocalTimeZone *local_time_zone();

// Parses YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm(:ss(.fff...))?(Z|+hh:mm|-hh:mm)?
// (FHIR date, dateTime, instant; also the search form, which allows hh:mm without
// seconds). A value without a time zone is read in local_time_zone() (UTC unless
// one is installed): both of its bounds are wall-clock times of that zone. Returns
// nullopt when the text is not a valid date (bad month/day, etc.); never throws.
std::optional<DateRange> parse_date_range(std::string_view text);

// Formats microseconds since the epoch as an instant, e.g. 2024-01-02T03:04:05.123456Z
// (fraction trimmed of trailing zeros; omitted when zero).
std::string format_instant(int64_t micros);

// ---- numbers ----------------------------------------------------------------
// A decimal as written plus its implicit precision range (FHIR search: "100" means
// [99.5, 100.5), "1e2" means [50, 150), "100.00" means [99.995, 100.005)).
// Values are decimal strings in plain notation (no exponent), suitable for numeric.
struct DecimalRange {
    std::string value; // exact value, plain notation, e.g. "100", "0.0053"
    std::string lo;    // inclusive
    std::string hi;    // exclusive
};
// Returns nullopt when the text is not a decimal number; never throws.
std::optional<DecimalRange> parse_decimal_range(std::string_view text);

// ---- tokens -----------------------------------------------------------------
// The forms a token (or reference, or uri) value is indexed and searched by.
enum class TokenForm : uint8_t {
    Code = 1,          // "code"            any system
    SystemCode = 2,    // "system|code"
    NoSystemCode = 3,  // "|code"           value has no system
    System = 4,        // "system|"
    Present = 5,       // parameter has at least one value (for :missing)
    OfType = 6,        // identifier :of-type "typesystem|typecode|value"
    Reference = 7,     // reference "Type/id", absolute URL or canonical, as written/resolved
    ReferenceId = 8,   // reference id alone
    Uri = 9,           // uri value, exact
};

// FNV-1a 64-bit over: param id (4 bytes little endian), form (1 byte), value bytes.
// Stable across platforms and releases: the values are stored on disk.
int64_t token_hash(int param_id, TokenForm form, std::string_view value);

// The key of a composite whose components are not all tokens: the hashes of its
// token components' values (token_hash under the composite's id, forms Code or
// SystemCode), in definition order. One hash is its own key; several are folded
// with FNV-1a over their 8 bytes each (little endian). Stored on disk, like token_hash.
int64_t composite_key_hash(const int64_t *hashes, size_t count);

// Appends a Unicode scalar value (not a surrogate, <= 0x10FFFF) as UTF-8.
void append_utf8(std::string &out, char32_t cp);

} // namespace fhir
