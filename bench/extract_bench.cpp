// extract_bench.cpp: times fhir::Extractor::extract() alone over an NDJSON file.
//
// Parses every line first (not timed), then runs extraction over all documents
// three times (each result dropped at once, as a loader does per batch) and
// reports the best run as CPU µs/resource, plus rows/resource and, from one more
// untimed pass, a digest of every row of every resource (FNV-1a over the rows in
// order), so that an optimization can prove its output is byte-for-byte unchanged.
//
// Build (from the repository root, after building the core library with CMake):
//   cmake -S . -B /tmp/build-perf -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/build-perf -j2 --target fhir_core
//   g++ -O2 -std=c++17 -Isrc/core bench/extract_bench.cpp /tmp/build-perf/libfhir_core.a -o /tmp/extract_bench
// Run:
//   python3 tools/gen_sample.py --resources 20000 --seed 1 --out /tmp/x.ndjson
//   /tmp/extract_bench /tmp/x.ndjson [runs]
#include "extract.h"
#include "registry.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

// FNV-1a 64 accumulator over the fields of the rows.
struct Digest {
    uint64_t h = 1469598103934665603ULL;

    // Mixes raw bytes.
    void bytes(const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        for (size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 1099511628211ULL;
        }
    }
    // Mixes an integer of any width.
    template <typename T> void num(T v) {
        int64_t x = static_cast<int64_t>(v);
        bytes(&x, sizeof x);
    }
    // Mixes a string with its length, so adjacent fields cannot run together.
    void str(const std::string &s) {
        num(s.size());
        bytes(s.data(), s.size());
    }
    // Mixes a decimal range.
    void range(const fhir::DecimalRange &r) {
        str(r.value);
        str(r.lo);
        str(r.hi);
    }
};

// Mixes every row of one resource, kind by kind, in the extractor's order.
void digest_rows(Digest &d, const fhir::IndexRows &rows) {
    d.num(rows.tokens.size());
    for (int64_t t : rows.tokens)
        d.num(t);
    d.num(rows.strings.size());
    for (const auto &r : rows.strings) {
        d.num(r.param_id), d.str(r.normalized), d.str(r.exact), d.num(r.group), d.num(r.component);
    }
    d.num(rows.dates.size());
    for (const auto &r : rows.dates) {
        d.num(r.param_id), d.num(r.lo), d.num(r.hi), d.num(r.group), d.num(r.component);
    }
    d.num(rows.numbers.size());
    for (const auto &r : rows.numbers) {
        d.num(r.param_id), d.range(r.range), d.num(r.group), d.num(r.component);
    }
    d.num(rows.quantities.size());
    for (const auto &r : rows.quantities) {
        d.num(r.param_id), d.range(r.range), d.str(r.system), d.str(r.code), d.str(r.unit), d.num(r.group),
            d.num(r.component);
    }
    d.num(rows.references.size());
    for (const auto &r : rows.references) {
        d.num(r.param_id), d.str(r.target_type), d.str(r.target_id);
    }
    d.num(rows.token_texts.size());
    for (const auto &r : rows.token_texts) {
        d.num(r.param_id), d.str(r.normalized);
    }
    d.num(rows.composite_keys.size());
    for (const auto &r : rows.composite_keys) {
        d.num(r.param_id), d.num(r.group), d.num(r.component), d.num(r.hash);
    }
    d.num(rows.composite_numbers.size());
    for (const auto &r : rows.composite_numbers) {
        d.num(r.param_id), d.num(r.group), d.num(r.component), d.num(r.key), d.range(r.range), d.str(r.system),
            d.str(r.code), d.str(r.unit);
    }
    d.num(rows.composite_dates.size());
    for (const auto &r : rows.composite_dates) {
        d.num(r.param_id), d.num(r.group), d.num(r.component), d.num(r.key), d.num(r.lo), d.num(r.hi);
    }
    d.num(rows.texts.size());
    for (const auto &r : rows.texts) {
        d.num(r.param_id), d.str(r.document);
    }
}

// All row vectors' sizes added up.
size_t row_count(const fhir::IndexRows &rows) {
    return rows.tokens.size() + rows.strings.size() + rows.dates.size() + rows.numbers.size() +
           rows.quantities.size() + rows.references.size() + rows.token_texts.size() + rows.composite_keys.size() +
           rows.composite_numbers.size() + rows.composite_dates.size() + rows.texts.size();
}

// This thread's CPU time: steadier than wall time on a shared machine.
double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

} // namespace

// Parses the file, times extraction (best of N runs), prints the numbers and the digest.
int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s file.ndjson [runs]\n", argv[0]);
        return 2;
    }
    const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "cannot open %s\n", argv[1]);
        return 2;
    }
    std::vector<fhir::Json> docs;
    std::string line;
    auto parse_start = std::chrono::steady_clock::now();
    while (std::getline(in, line)) {
        if (!line.empty())
            docs.push_back(fhir::Json::parse(line));
    }
    double parse_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - parse_start).count();

    const fhir::Registry registry = fhir::Registry::builtin();
    const fhir::Extractor extractor(registry);

    // Timed: each result is dropped right away, as a loader does batch by batch,
    // so the allocator reuses memory instead of growing the heap.
    double best = 1e300;
    size_t rows_total = 0;
    for (int run = 0; run < runs; ++run) {
        size_t total = 0;
        const double start = cpu_seconds();
        for (const fhir::Json &doc : docs)
            total += row_count(extractor.extract(doc));
        const double s = cpu_seconds() - start;
        if (s < best)
            best = s;
        rows_total = total;
    }
    // Untimed: the digest of every row.
    Digest d;
    for (const fhir::Json &doc : docs)
        digest_rows(d, extractor.extract(doc));
    const uint64_t digest = d.h;
    const double n = static_cast<double>(docs.size());
    std::printf("resources:         %zu\n", docs.size());
    std::printf("parse:             %.2f us/resource\n", parse_s * 1e6 / n);
    std::printf("extract (best/%d): %.2f us/resource\n", runs, best * 1e6 / n);
    std::printf("rows:              %.2f rows/resource (%zu)\n", static_cast<double>(rows_total) / n, rows_total);
    std::printf("digest:            %016" PRIx64 "\n", digest);
    return 0;
}
