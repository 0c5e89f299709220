// pg_json.cpp: jsonb <-> fhir::Json conversion.
//
// Walking the jsonb binary form with its iterator avoids rendering and re-parsing
// text. Each iterator step is a PostgreSQL call and goes through pg_call, since a
// failed allocation there would otherwise longjmp over the C++ objects being built.
#include "pg_json.h"

#include "cpp_wrapper.h"
#include "jsonb_encoder.h"

#include <cstdlib>
#include <vector>

namespace fhir_pg {

// Converts a jsonb scalar to a fhir::Json scalar. With `exact_decimals` a
// number with a fraction or exponent becomes a binary value holding its text
// (a double would turn FHIR's 1.50 into 1.5); json_to_jsonb_exact reads it back.
static fhir::Json scalar_to_json(const JsonbValue &v, bool exact_decimals = false) {
    switch (v.type) {
    case jbvNull:
        return nullptr;
    case jbvBool:
        return v.val.boolean;
    case jbvString:
        return std::string(v.val.string.val, v.val.string.len);
    case jbvNumeric: {
        Numeric num = v.val.numeric;
        char *text = pg_call([num] { return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num))); });
        std::string s(text);
        pfree(text);
        if (s.find_first_of(".eE") == std::string::npos) {
            errno = 0;
            char *end = nullptr;
            long long value = std::strtoll(s.c_str(), &end, 10);
            if (errno == 0 && end && *end == '\0')
                return static_cast<int64_t>(value);
        }
        if (exact_decimals)
            return fhir::Json::binary(std::vector<std::uint8_t>(s.begin(), s.end()));
        return std::strtod(s.c_str(), nullptr);
    }
    default:
        return nullptr;
    }
}

// Converts one jsonb container (the root of a jsonb, or a nested object or array).
static fhir::Json container_to_json(JsonbContainer *root, bool exact_decimals = false) {
    JsonbIterator *it = pg_call([root] { return JsonbIteratorInit(root); });
    JsonbValue value;
    JsonbValue *value_ptr = &value;
    JsonbIterator **it_ptr = &it;

    // Stack of open containers; `pending_key` holds the key awaiting its value.
    std::vector<fhir::Json> stack;
    std::vector<std::string> keys;
    fhir::Json result;
    bool scalar_root = false;

    auto attach = [&](fhir::Json &&node) {
        if (stack.empty()) {
            result = std::move(node);
            return;
        }
        fhir::Json &top = stack.back();
        if (top.is_array()) {
            top.push_back(std::move(node));
        } else {
            top[keys.back()] = std::move(node);
            keys.pop_back();
        }
    };

    for (;;) {
        JsonbIteratorToken token = pg_call([it_ptr, value_ptr] { return JsonbIteratorNext(it_ptr, value_ptr, false); });
        if (token == WJB_DONE)
            break;
        switch (token) {
        case WJB_BEGIN_ARRAY:
            if (value.val.array.rawScalar)
                scalar_root = true;
            else
                stack.emplace_back(fhir::Json::array());
            break;
        case WJB_BEGIN_OBJECT:
            stack.emplace_back(fhir::Json::object());
            break;
        case WJB_END_ARRAY:
            if (scalar_root) {
                scalar_root = false;
                break;
            }
            [[fallthrough]];
        case WJB_END_OBJECT: {
            fhir::Json done = std::move(stack.back());
            stack.pop_back();
            attach(std::move(done));
            break;
        }
        case WJB_KEY:
            keys.emplace_back(value.val.string.val, value.val.string.len);
            break;
        case WJB_VALUE:
        case WJB_ELEM:
            attach(scalar_to_json(value, exact_decimals));
            break;
        default:
            break;
        }
    }
    return result;
}

fhir::Json jsonb_to_json(Jsonb *jsonb, bool exact_decimals) { return container_to_json(&jsonb->root, exact_decimals); }

fhir::Json jsonb_datum_to_json(Datum datum) {
    Jsonb *jsonb = pg_call([datum] { return DatumGetJsonbP(datum); });
    return jsonb_to_json(jsonb);
}

// Walks the root object's members without descending (skipNested), converting
// only the kept ones.
fhir::Json jsonb_members_to_json(Jsonb *jsonb, const std::function<bool(std::string_view)> &keep) {
    JsonbContainer *root = &jsonb->root;
    if (!JsonContainerIsObject(root))
        return container_to_json(root);
    JsonbIterator *it = pg_call([root] { return JsonbIteratorInit(root); });
    JsonbValue value;
    JsonbValue *value_ptr = &value;
    JsonbIterator **it_ptr = &it;
    fhir::Json result = fhir::Json::object();
    std::string key;
    bool kept = false;
    for (;;) {
        JsonbIteratorToken token = pg_call([it_ptr, value_ptr] { return JsonbIteratorNext(it_ptr, value_ptr, true); });
        if (token == WJB_DONE)
            break;
        if (token == WJB_KEY) {
            key.assign(value.val.string.val, value.val.string.len);
            kept = keep(key);
        } else if (token == WJB_VALUE && kept) {
            result[key] = value.type == jbvBinary ? container_to_json(value.val.binary.data) : scalar_to_json(value);
        }
    }
    return result;
}

Datum text_to_jsonb(const std::string &text) {
    const char *cstr = text.c_str();
    return pg_call([cstr] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr)); });
}

Datum json_to_jsonb(const fhir::Json &json) {
    return text_to_jsonb(json.dump(-1, ' ', false, fhir::Json::error_handler_t::replace));
}

// A numeric from its text (digits from numeric_out, or a double's rendering).
static Numeric numeric_from_text(const std::string &text) {
    const char *cstr = text.c_str();
    return pg_call([cstr] {
        return DatumGetNumeric(
            DirectFunctionCall3(numeric_in, CStringGetDatum(cstr), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
    });
}

// The numeric varlena of a number as jsonb stores it (palloc'd in the current context).
static std::string_view numeric_bytes(Numeric num) {
    return std::string_view(reinterpret_cast<const char *>(num), VARSIZE_ANY(num));
}

// `json` as an encoder value; strings and keys refer to `json`'s own storage,
// numbers to numerics made here (binary values are decimal texts from scalar_to_json).
static fhir::jsonb::Value encoder_value(const fhir::Json &json) {
    using fhir::jsonb::Value;
    switch (json.type()) {
    case fhir::Json::value_t::object: {
        std::vector<std::pair<std::string_view, Value>> members;
        members.reserve(json.size());
        for (const auto &[key, member] : json.items())
            members.emplace_back(key, encoder_value(member));
        return Value::object(std::move(members));
    }
    case fhir::Json::value_t::array: {
        std::vector<Value> elements;
        elements.reserve(json.size());
        for (const fhir::Json &element : json)
            elements.push_back(encoder_value(element));
        return Value::array(std::move(elements));
    }
    case fhir::Json::value_t::string:
        return Value::string(json.get_ref<const std::string &>());
    case fhir::Json::value_t::binary: {
        const auto &bytes = json.get_binary();
        return Value::numeric(numeric_bytes(numeric_from_text(std::string(bytes.begin(), bytes.end()))));
    }
    case fhir::Json::value_t::number_integer: {
        const int64_t n = json.get<int64_t>();
        return Value::numeric(numeric_bytes(pg_call([n] { return FHIR_INT64_TO_NUMERIC(n); })));
    }
    case fhir::Json::value_t::number_unsigned:
    case fhir::Json::value_t::number_float:
        return Value::numeric(numeric_bytes(numeric_from_text(json.dump())));
    case fhir::Json::value_t::boolean:
        return Value::boolean(json.get<bool>());
    default:
        return Value::null();
    }
}

// Encoded directly (src/core/jsonb_encoder.h): pushJsonbValue built a tree of
// values and sorted every object's keys again, and its transient memory grew
// and shrank the backend's heap for every projected page.
Datum json_to_jsonb_exact(const fhir::Json &json) { return encoded_jsonb(fhir::jsonb::encode(encoder_value(json))); }

Datum encoded_jsonb(const std::string &bytes) {
    return pg_call([&bytes] {
        Jsonb *out = static_cast<Jsonb *>(palloc(VARHDRSZ + bytes.size()));
        SET_VARSIZE(out, VARHDRSZ + bytes.size());
        memcpy(VARDATA(out), bytes.data(), bytes.size());
        return JsonbPGetDatum(out);
    });
}

std::string jsonb_to_text(Jsonb *jsonb) {
    char *text = pg_call([jsonb] { return JsonbToCString(NULL, &jsonb->root, VARSIZE(jsonb)); });
    std::string out(text);
    pfree(text);
    return out;
}

} // namespace fhir_pg
