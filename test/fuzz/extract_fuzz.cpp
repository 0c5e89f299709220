// extract_fuzz.cpp: libFuzzer target for resource validation and search-value
// extraction (every write runs both on client JSON).
//
// Input: a JSON document. Validation may only fail with fhir::Error; a resource it
// accepts is extracted with the built-in registry, which never throws, gives the
// same rows twice, and keeps its tokens sorted and unique (the tokens column is a
// sorted array the GIN index and the overlap checks rely on).
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (test/fuzz/README.md).
#include "error.h"
#include "extract.h"
#include "json.h"
#include "registry.h"
#include "resource.h"

#include <algorithm>
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

const fhir::Extractor &extractor() {
    static const fhir::Registry registry = fhir::Registry::builtin();
    static const fhir::Extractor extractor(registry);
    return extractor;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fhir::Json resource = fhir::Json::parse(std::string_view(reinterpret_cast<const char *>(data), size), nullptr, false);
    if (resource.is_discarded())
        return 0;
    try {
        fhir::ResourceIdentity identity = fhir::validate_resource(resource);
        if (identity.id.empty())
            resource["id"] = "fuzz";
    } catch (const fhir::Error &) {
        return 0; // not a resource we store
    }
    fhir::IndexRows rows = extractor().extract(resource);
    fhir::IndexRows again = extractor().extract(resource);
    check(std::is_sorted(rows.tokens.begin(), rows.tokens.end()), "tokens sorted");
    check(std::adjacent_find(rows.tokens.begin(), rows.tokens.end()) == rows.tokens.end(), "tokens unique");
    check(rows.tokens == again.tokens, "same tokens twice");
    check(rows.strings.size() == again.strings.size() && rows.dates.size() == again.dates.size() &&
              rows.references.size() == again.references.size() && rows.quantities.size() == again.quantities.size(),
          "same side rows twice");
    return 0;
}
