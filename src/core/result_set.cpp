// result_set.cpp: encoding and slicing of cached result sets (see result_set.h).
#include "result_set.h"

#include "error.h"

#include <cstring>

namespace fhir {

namespace {

constexpr char kMagic[4] = {'R', 'S', '1', '\0'};

void put_u64(std::string *out, uint64_t v) {
    for (int i = 0; i < 8; i++)
        out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_str(std::string *out, const std::string &s) {
    put_u64(out, s.size());
    out->append(s);
}

// Reads from a byte range; every read is bounds-checked.
struct Reader {
    std::string_view in;
    size_t pos = 0;

    [[noreturn]] static void corrupt() { throw Error(ErrorKind::Internal, "corrupt cached result set"); }
    uint64_t u64() {
        if (in.size() - pos < 8)
            corrupt();
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= uint64_t(uint8_t(in[pos + i])) << (8 * i);
        pos += 8;
        return v;
    }
    std::string str() {
        uint64_t n = u64();
        if (n > in.size() - pos)
            corrupt();
        std::string s(in.substr(pos, n));
        pos += n;
        return s;
    }
};

} // namespace

std::string encode_result_set(const ResultSet &set) {
    std::string out(kMagic, sizeof kMagic);
    uint64_t flags = (set.complete ? 1u : 0u) | (set.total ? 2u : 0u);
    put_u64(&out, flags);
    put_u64(&out, static_cast<uint64_t>(set.total.value_or(0)));
    put_u64(&out, set.rows.size());
    for (const ResultRow &row : set.rows) {
        put_u64(&out, static_cast<uint64_t>(row.rid));
        put_str(&out, row.type);
        put_str(&out, row.id);
        put_u64(&out, row.keys.size());
        for (const std::string &k : row.keys)
            put_str(&out, k);
    }
    return out;
}

ResultSet decode_result_set(std::string_view bytes) {
    if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        Reader::corrupt();
    Reader r{bytes, sizeof kMagic};
    ResultSet set;
    uint64_t flags = r.u64();
    set.complete = flags & 1u;
    int64_t total = static_cast<int64_t>(r.u64());
    if (flags & 2u)
        set.total = total;
    uint64_t n = r.u64();
    if (n > bytes.size()) // every row takes more than one byte
        Reader::corrupt();
    set.rows.reserve(n);
    for (uint64_t i = 0; i < n; i++) {
        ResultRow row;
        row.rid = static_cast<int64_t>(r.u64());
        row.type = r.str();
        row.id = r.str();
        uint64_t nkeys = r.u64();
        if (nkeys > bytes.size() - r.pos)
            Reader::corrupt();
        for (uint64_t k = 0; k < nkeys; k++)
            row.keys.push_back(r.str());
        set.rows.push_back(std::move(row));
    }
    if (r.pos != bytes.size())
        Reader::corrupt();
    return set;
}

std::optional<PageSlice> locate_page(const ResultSet &set, const SearchCursor &cursor, size_t count,
                                     size_t *needs_rows) {
    if (needs_rows)
        *needs_rows = 0;
    size_t i = 0;
    while (i < set.rows.size() && set.rows[i].rid != cursor.rid)
        i++;
    if (i == set.rows.size() || set.rows[i].keys != cursor.keys || count == 0)
        return std::nullopt;
    PageSlice slice;
    if (cursor.backward) {
        slice.end = i;
        slice.begin = i > count ? i - count : 0;
        slice.more = slice.begin > 0;
        return slice;
    }
    slice.begin = i + 1;
    slice.end = slice.begin + count;
    // One row past the page decides `more`; an incomplete set must hold it.
    if (slice.end >= set.rows.size() && !set.complete) {
        if (needs_rows)
            *needs_rows = slice.end + 1;
        return std::nullopt;
    }
    slice.end = std::min(slice.end, set.rows.size());
    slice.more = slice.end < set.rows.size();
    return slice;
}

PageSlice first_page(const ResultSet &set, size_t count) {
    PageSlice slice;
    slice.end = std::min(count, set.rows.size());
    slice.more = slice.end < set.rows.size() || !set.complete;
    return slice;
}

bool parse_prefetch_thresholds(const std::string &text, std::vector<int64_t> *out, std::string *message) noexcept {
    try {
        std::vector<int64_t> values;
        size_t start = 0;
        while (start <= text.size()) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos)
                comma = text.size();
            std::string piece = text.substr(start, comma - start);
            piece.erase(0, piece.find_first_not_of(" \t"));
            piece.erase(piece.find_last_not_of(" \t") + 1);
            size_t used = 0;
            long long v = 0;
            try {
                v = std::stoll(piece, &used);
            } catch (const std::exception &) {
                used = 0;
            }
            if (piece.empty() || used != piece.size() || (v <= 0 && v != -1) || v > 100000000) {
                *message = "\"" + piece + "\" is not a row count (a positive number, or -1 for every match)";
                return false;
            }
            if (!values.empty() && (values.back() == -1 || (v != -1 && v <= values.back()))) {
                *message = "thresholds must increase, and -1 can only come last";
                return false;
            }
            values.push_back(v);
            start = comma + 1;
        }
        *out = std::move(values);
        return true;
    } catch (const std::exception &) {
        *message = "out of memory";
        return false;
    }
}

int64_t prefetch_target(const std::vector<int64_t> &thresholds, int64_t needed) {
    for (int64_t t : thresholds)
        if (t == -1 || t >= needed)
            return t;
    int64_t last = thresholds.empty() ? needed : thresholds.back();
    if (last <= 0)
        return needed;
    return (needed + last - 1) / last * last;
}

} // namespace fhir
