// fhirpath_fuzz.cpp: libFuzzer target for the FHIRPath subset (search parameter
// expressions, custom SearchParameters stored by users, FHIRPath Patch paths).
//
// Input: an expression on the first line, a JSON document after it. Compiling may
// only fail with fhir::Error; evaluating never throws; every node it returns
// points at a JSON value (inside the document or owned by the node), and
// evaluating twice gives the same nodes.
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (test/fuzz/README.md).
#include "error.h"
#include "fhirpath.h"
#include "json.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool ok, const char *what) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);
    size_t newline = input.find('\n');
    std::string_view text = input.substr(0, newline);
    fhir::Json resource = newline == std::string_view::npos
                              ? fhir::Json::object()
                              : fhir::Json::parse(input.substr(newline + 1), nullptr, false);
    if (resource.is_discarded())
        return 0;
    try {
        fhir::fhirpath::Expression expression = fhir::fhirpath::Expression::compile(text);
        std::vector<fhir::fhirpath::Node> first = expression.evaluate(resource);
        std::vector<fhir::fhirpath::Node> second = expression.evaluate(resource);
        check(first.size() == second.size(), "evaluation is deterministic");
        for (size_t i = 0; i < first.size(); i++) {
            check(first[i].value != nullptr, "every node has a value");
            check(*first[i].value == *second[i].value, "same nodes both times");
            check(first[i].type == second[i].type, "same types both times");
        }
    } catch (const fhir::Error &) {
        // unsupported or malformed expression: expected
    }
    return 0;
}
