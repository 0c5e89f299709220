// search_query_fuzz.cpp: libFuzzer target for search query parsing and SQL generation.
//
// The query string comes straight from the client URL. The first input byte picks
// the resource type and strict/lenient mode, the rest is the query. Parsing may
// only fail with fhir::Error (any other exception escapes and is reported as a
// crash); a parsed query must translate to SQL whose placeholders all have
// parameters, and the query text itself must never reach the SQL.
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (see CMakeLists.txt).
#include "error.h"
#include "registry.h"
#include "search_query.h"
#include "search_sql.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Aborts with a message so libFuzzer records the input as a crash.
void check(bool ok, const char *what) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
}

// The highest $n placeholder in `sql`.
int max_placeholder(const std::string &sql) {
    int best = 0;
    for (size_t i = 0; i < sql.size(); i++) {
        if (sql[i] != '$')
            continue;
        int n = 0;
        while (i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9')
            n = n * 10 + (sql[++i] - '0');
        best = n > best ? n : best;
    }
    return best;
}

} // namespace

// Parses the query for the chosen type and checks the generated SQL.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const fhir::Registry registry = fhir::Registry::builtin();
    static const char *const types[] = {"Patient", "Observation", "ValueSet", "RiskAssessment",
                                        "Encounter", "Organization", "AuditEvent", "Group"};
    if (size == 0)
        return 0;
    const char *type = types[data[0] % (sizeof types / sizeof types[0])];
    const bool strict = (data[0] & 0x80) != 0;
    std::string_view query(reinterpret_cast<const char *>(data + 1), size - 1);
    try {
        fhir::SearchQuery parsed = fhir::parse_search_query(registry, type, query, strict);
        fhir::SqlOptions options;
        options.now_micros = 1700000000LL * 1000000LL;
        fhir::SqlFragment sql = fhir::build_where(parsed, "r", 3, options);
        check(!sql.where.empty(), "where is never empty");
        check(max_placeholder(sql.where) == (sql.params.empty() ? 0 : 2 + static_cast<int>(sql.params.size())),
              "placeholders match parameters");
        for (const fhir::SearchClause &clause : parsed.clauses) {
            check(!clause.values.empty(), "clauses have values");
            check(clause.param != nullptr, "clauses have a parameter");
        }
        check(sql.where.find_first_of(";\"\\") == std::string::npos && sql.where.find("--") == std::string::npos,
              "sql has no statement separators, comments or quoted identifiers");
    } catch (const fhir::Error &) {
        // Rejected input is fine.
    }
    return 0;
}
