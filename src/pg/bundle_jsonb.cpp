// bundle_jsonb.cpp: see bundle_jsonb.h.
#include "bundle_jsonb.h"

#include "cpp_wrapper.h"

extern "C" {
#include "utils/numeric.h"
}

namespace fhir_pg {

namespace {

// The calls below run inside one pg_call: plain C data only, no C++ object is
// created between the PostgreSQL calls that can raise an error.
JsonbValue string_value(const std::string &s) {
    JsonbValue v;
    v.type = jbvString;
    v.val.string.val = const_cast<char *>(s.data());
    v.val.string.len = static_cast<int>(s.size());
    return v;
}

void push_key(JsonbParseState **state, const char *key) {
    JsonbValue k;
    k.type = jbvString;
    k.val.string.val = const_cast<char *>(key);
    k.val.string.len = static_cast<int>(strlen(key));
    pushJsonbValue(state, WJB_KEY, &k);
}

void push_string(JsonbParseState **state, const char *key, const std::string &value) {
    push_key(state, key);
    JsonbValue v = string_value(value);
    pushJsonbValue(state, WJB_VALUE, &v);
}

// A binary jsonb container as a value: pushJsonbValue unpacks it once.
void push_jsonb(JsonbParseState **state, const char *key, Datum datum) {
    Jsonb *jb = DatumGetJsonbP(datum);
    push_key(state, key);
    JsonbValue v;
    v.type = jbvBinary;
    v.val.binary.data = &jb->root;
    v.val.binary.len = static_cast<int>(VARSIZE(jb) - VARHDRSZ);
    pushJsonbValue(state, WJB_VALUE, &v);
}

} // namespace

Datum build_bundle_jsonb(const BundleParts &parts) {
    static const std::string kBundle = "Bundle", kSearchset = "searchset";
    return pg_call([&parts] {
        JsonbParseState *state = nullptr;
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        push_string(&state, "resourceType", kBundle);
        push_string(&state, "id", parts.id);
        push_key(&state, "meta");
        pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
        push_string(&state, "lastUpdated", parts.last_updated);
        pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        push_string(&state, "type", kSearchset);
        if (parts.total) {
            push_key(&state, "total");
            JsonbValue n;
            n.type = jbvNumeric;
            n.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(*parts.total)));
            pushJsonbValue(&state, WJB_VALUE, &n);
        }
        push_jsonb(&state, "link", parts.links);
        if (!parts.omit_entry) {
            push_key(&state, "entry");
            pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
            for (const BundleEntry &e : parts.entries) {
                pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
                if (!e.full_url.empty())
                    push_string(&state, "fullUrl", e.full_url);
                push_jsonb(&state, "resource", e.resource);
                push_key(&state, "search");
                pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
                push_string(&state, "mode", e.mode);
                pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
                pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
            }
            pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
        }
        JsonbValue *root = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
        return JsonbPGetDatum(JsonbValueToJsonb(root));
    });
}

} // namespace fhir_pg
