// pg_json.cpp: jsonb <-> fhir::Json conversion.
//
// Walking the jsonb binary form with its iterator avoids rendering and re-parsing
// text. Each iterator step is a PostgreSQL call and goes through pg_call, since a
// failed allocation there would otherwise longjmp over the C++ objects being built.
#include "pg_json.h"

#include "cpp_wrapper.h"

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

// One pushJsonbValue call; the C++ recursion below stays outside pg_call, so an
// error there unwinds it as an exception (cpp_wrapper.h).
static JsonbValue *push(JsonbParseState **state, JsonbIteratorToken token, JsonbValue *value) {
    return pg_call([state, token, value] { return pushJsonbValue(state, token, value); });
}

// Pushes `json` as one value (WJB_VALUE in an object, WJB_ELEM in an array, or
// WJB_DONE for the root); binary values are decimal texts from scalar_to_json.
// Returns what the last pushJsonbValue returned: for the root, the whole value.
static JsonbValue *push_json(JsonbParseState **state, const fhir::Json &json, JsonbIteratorToken as) {
    JsonbValue v;
    switch (json.type()) {
    case fhir::Json::value_t::object:
        push(state, WJB_BEGIN_OBJECT, nullptr);
        for (const auto &[key, member] : json.items()) {
            JsonbValue k;
            k.type = jbvString;
            k.val.string.val = const_cast<char *>(key.data());
            k.val.string.len = static_cast<int>(key.size());
            push(state, WJB_KEY, &k);
            push_json(state, member, WJB_VALUE);
        }
        return push(state, WJB_END_OBJECT, nullptr);
    case fhir::Json::value_t::array:
        push(state, WJB_BEGIN_ARRAY, nullptr);
        for (const fhir::Json &element : json)
            push_json(state, element, WJB_ELEM);
        return push(state, WJB_END_ARRAY, nullptr);
    case fhir::Json::value_t::string: {
        const std::string &text = json.get_ref<const std::string &>();
        v.type = jbvString;
        v.val.string.val = const_cast<char *>(text.data());
        v.val.string.len = static_cast<int>(text.size());
        break;
    }
    case fhir::Json::value_t::binary: {
        const auto &bytes = json.get_binary();
        v.type = jbvNumeric;
        v.val.numeric = numeric_from_text(std::string(bytes.begin(), bytes.end()));
        break;
    }
    case fhir::Json::value_t::number_integer: {
        const int64_t n = json.get<int64_t>();
        v.type = jbvNumeric;
        v.val.numeric = pg_call([n] { return FHIR_INT64_TO_NUMERIC(n); });
        break;
    }
    case fhir::Json::value_t::number_unsigned:
    case fhir::Json::value_t::number_float:
        v.type = jbvNumeric;
        v.val.numeric = numeric_from_text(json.dump());
        break;
    case fhir::Json::value_t::boolean:
        v.type = jbvBool;
        v.val.boolean = json.get<bool>();
        break;
    default:
        v.type = jbvNull;
        break;
    }
    if (as == WJB_DONE) { // a scalar root is a one-element raw-scalar array in jsonb
        JsonbValue array;
        array.type = jbvArray;
        array.val.array.nElems = 1;
        array.val.array.elems = nullptr;
        array.val.array.rawScalar = true;
        push(state, WJB_BEGIN_ARRAY, &array);
        push(state, WJB_ELEM, &v);
        return push(state, WJB_END_ARRAY, nullptr);
    }
    return push(state, as, &v);
}

Datum json_to_jsonb_exact(const fhir::Json &json) {
    JsonbParseState *state = nullptr;
    JsonbValue *root = push_json(&state, json, WJB_DONE);
    return pg_call([root] { return JsonbPGetDatum(JsonbValueToJsonb(root)); });
}

std::string jsonb_to_text(Jsonb *jsonb) {
    char *text = pg_call([jsonb] { return JsonbToCString(NULL, &jsonb->root, VARSIZE(jsonb)); });
    std::string out(text);
    pfree(text);
    return out;
}

} // namespace fhir_pg
