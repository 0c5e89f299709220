// bundle_plan_fuzz.cpp: libFuzzer target for transaction and batch Bundle planning
// and reference rewriting (fhir.transaction, fhir.load of a Bundle).
//
// Input: a JSON document. Planning may only fail with fhir::Error; a plan lists
// every entry once, in FHIR's processing order (DELETE, POST, PUT/PATCH, GET);
// rewriting the references of each entry's resource in its JSON text and in its
// parsed tree must give the same document (the transaction stores the one and
// extracts from the other).
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (test/fuzz/README.md).
#include "bundle_plan.h"
#include "error.h"
#include "json.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

namespace {

void check(bool ok, const char *what) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
}

int rank(const std::string &method) {
    if (method == "DELETE")
        return 0;
    if (method == "POST")
        return 1;
    if (method == "PUT" || method == "PATCH")
        return 2;
    if (method == "GET")
        return 3;
    return 4;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fhir::Json bundle = fhir::Json::parse(std::string_view(reinterpret_cast<const char *>(data), size), nullptr, false);
    if (bundle.is_discarded())
        return 0;
    fhir::BundlePlan plan;
    try {
        plan = fhir::plan_bundle(bundle);
    } catch (const fhir::Error &) {
        return 0;
    }
    check(plan.entries.size() == plan.entry_count, "one planned entry per Bundle entry");
    std::set<size_t> seen;
    fhir::ReferenceMap mapping;
    int last_rank = -1;
    for (const fhir::PlannedEntry &e : plan.entries) {
        check(e.index < plan.entry_count && seen.insert(e.index).second, "each entry once");
        if (!e.error.empty())
            continue;
        int r = rank(e.method);
        check(r < 4, "a known method");
        check(r >= last_rank, "processing order");
        last_rank = r;
        if (!e.full_url.empty())
            mapping[e.full_url] = e.type + "/rewritten-" + std::to_string(e.index);
    }
    for (const fhir::PlannedEntry &e : plan.entries) {
        if (!e.resource || !e.error.empty())
            continue;
        for (const std::string &ref : fhir::references_to_resolve(*e.resource)) {
            std::string type, query;
            if (fhir::split_conditional_reference(ref, &type, &query))
                mapping.emplace(ref, type + "/conditional");
        }
        // The text a transaction stores: jsonb's text, here nlohmann's (both escape
        // what JSON requires; urn:uuid and Type/id need no escaping).
        std::string text = e.resource->dump();
        fhir::Json tree = *e.resource;
        fhir::rewrite_reference_values(tree, mapping);
        fhir::Json from_text = fhir::Json::parse(fhir::rewrite_reference_strings(text, mapping), nullptr, false);
        check(!from_text.is_discarded(), "rewritten text is JSON");
        // Keys are not rewritten in the tree; only compare when no key is a mapped string.
        if (from_text == tree || text.find("\":") == std::string::npos)
            continue;
        bool key_mapped = false;
        for (const auto &[from, to] : mapping)
            key_mapped = key_mapped || text.find("\"" + from + "\":") != std::string::npos;
        check(key_mapped, "text and tree rewrites agree");
    }
    return 0;
}
