// patch_fuzz.cpp: libFuzzer target for patches (resource_patch.h: JSON Patch and
// FHIRPath Patch).
//
// The input is a resource and a patch document, JSON text separated by the first
// newline. Whatever they hold, applying the patch either returns a resource of the
// same type and id or throws fhir::Error; any other exception (a JSON library type
// error, an out-of-range access) or a crash is a bug. A JSON Patch of `test`
// operations only must return the resource unchanged.
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (see CMakeLists.txt).
#include "error.h"
#include "json.h"
#include "resource_patch.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char *what) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
}

bool only_tests(const fhir::Json &patch) {
    if (!patch.is_array())
        return false;
    for (const fhir::Json &op : patch)
        if (!op.is_object() || op.value("op", std::string()) != "test")
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);
    size_t newline = input.find('\n');
    if (newline == std::string_view::npos)
        return 0;
    fhir::Json resource = fhir::Json::parse(input.substr(0, newline), nullptr, false);
    fhir::Json patch = fhir::Json::parse(input.substr(newline + 1), nullptr, false);
    if (resource.is_discarded() || patch.is_discarded())
        return 0;
    try {
        fhir::Json patched = fhir::patch_resource(resource, patch);
        check(patched.is_object() && patched.value("resourceType", fhir::Json()) == resource.value("resourceType", fhir::Json()),
              "the patched resource keeps its resourceType");
        check(patched.value("id", fhir::Json()) == resource.value("id", fhir::Json()), "the patched resource keeps its id");
        if (only_tests(patch))
            check(patched == resource, "tests change nothing");
    } catch (const fhir::Error &) {
        // a patch that does not apply: expected
    }
    return 0;
}
