// bundle_jsonb.cpp: see bundle_jsonb.h.
#include "bundle_jsonb.h"

#include "cpp_wrapper.h"
#include "jsonb_encoder.h"
#include "pg_json.h"

#include <string_view>

extern "C" {
#include "utils/numeric.h"
}

namespace fhir_pg {

// The encoder's copy of the format must be PostgreSQL's.
static_assert(fhir::jsonb::kOffLenMask == JENTRY_OFFLENMASK && fhir::jsonb::kTypeMask == JENTRY_TYPEMASK &&
              fhir::jsonb::kHasOff == JENTRY_HAS_OFF && fhir::jsonb::kIsString == JENTRY_ISSTRING &&
              fhir::jsonb::kIsNumeric == JENTRY_ISNUMERIC && fhir::jsonb::kIsBoolFalse == JENTRY_ISBOOL_FALSE &&
              fhir::jsonb::kIsBoolTrue == JENTRY_ISBOOL_TRUE && fhir::jsonb::kIsNull == JENTRY_ISNULL &&
              fhir::jsonb::kIsContainer == JENTRY_ISCONTAINER && fhir::jsonb::kCountMask == JB_CMASK &&
              fhir::jsonb::kFlagScalar == JB_FSCALAR && fhir::jsonb::kFlagObject == JB_FOBJECT &&
              fhir::jsonb::kFlagArray == JB_FARRAY && fhir::jsonb::kOffsetStride == JB_OFFSET_STRIDE,
              "jsonb format constants differ from PostgreSQL's");

Datum build_bundle_jsonb(const BundleParts &parts) {
    using fhir::jsonb::Value;
    // The resources' containers (detoasted where needed) and total as a numeric.
    const size_t n = parts.entries.size();
    std::vector<std::string_view> containers(n);
    std::string_view total_numeric;
    size_t size_hint = 512 + parts.id.size();
    pg_call([&parts, &containers, &total_numeric, n] {
        for (size_t i = 0; i < n; i++) {
            Jsonb *jb = DatumGetJsonbP(parts.entries[i].resource);
            containers[i] = std::string_view(reinterpret_cast<const char *>(&jb->root), VARSIZE(jb) - VARHDRSZ);
        }
        if (parts.total) {
            Numeric num = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(*parts.total)));
            total_numeric = std::string_view(reinterpret_cast<const char *>(num), VARSIZE_ANY(num));
        }
    });

    std::vector<Value> links;
    links.reserve(parts.links.size());
    for (const BundleLink &l : parts.links) {
        links.push_back(Value::object({{"relation", Value::string(l.relation)}, {"url", Value::string(l.url)}}));
        size_hint += 64 + l.url.size();
    }
    std::vector<std::pair<std::string_view, Value>> bundle{
        {"resourceType", Value::string("Bundle")},
        {"id", Value::string(parts.id)},
        {"meta", Value::object({{"lastUpdated", Value::string(parts.last_updated)}})},
        {"type", Value::string("searchset")},
        {"link", Value::array(std::move(links))},
    };
    if (parts.total)
        bundle.emplace_back("total", Value::numeric(total_numeric));
    if (!parts.omit_entry) {
        std::vector<Value> entries;
        entries.reserve(n);
        for (size_t i = 0; i < n; i++) {
            const BundleEntry &e = parts.entries[i];
            std::vector<std::pair<std::string_view, Value>> entry;
            if (!e.full_url.empty())
                entry.emplace_back("fullUrl", Value::string(e.full_url));
            entry.emplace_back("resource", Value::container(containers[i]));
            entry.emplace_back("search", Value::object({{"mode", Value::string(e.mode)}}));
            entries.push_back(Value::object(std::move(entry)));
            size_hint += 96 + e.full_url.size() + containers[i].size();
        }
        bundle.emplace_back("entry", Value::array(std::move(entries)));
    }
    return encoded_jsonb(fhir::jsonb::encode(Value::object(std::move(bundle)), size_hint));
}

} // namespace fhir_pg
