// jsonb_encoder_fuzz.cpp: libFuzzer target for the jsonb encoder (Bundles and
// projected resources are encoded by it straight into PostgreSQL's binary format).
//
// The input is JSON. It becomes an encoder Value tree: numbers as opaque "numeric"
// varlenas holding their text, and every second nested container encoded on its own
// first and embedded as bytes (the path Bundles take for stored resources). The
// encoded bytes are then decoded by an independent reader of the jsonb layout
// (headers, JEntries with an offset every 32nd entry, int alignment of numerics and
// containers) and must give back the same document.
// Build: cmake -DFHIR_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ (test/fuzz/README.md).
#include "error.h"
#include "json.h"
#include "jsonb_encoder.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>

namespace jb = fhir::jsonb;

namespace {

void check(bool ok, const char *what) {
    if (ok)
        return;
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
}

// Owns the bytes Values point into until encode() returns.
struct Arena {
    std::deque<std::string> strings;
    std::string_view keep(std::string s) { return strings.emplace_back(std::move(s)); }
};

std::string numeric_varlena(const std::string &digits) {
    uint32_t total = static_cast<uint32_t>(4 + digits.size());
    uint32_t header = total << 2; // 4-byte varlena header, little-endian layout
    std::string v(reinterpret_cast<const char *>(&header), 4);
    return v + digits;
}

jb::Value to_value(const fhir::Json &j, Arena &arena, int depth);

jb::Value container_or_embedded(const fhir::Json &j, Arena &arena, int depth, jb::Value value) {
    if (depth % 2 == 1) // embed: encode on its own, pass the bytes
        return jb::Value::container(arena.keep(jb::encode(value)));
    return value;
}

jb::Value to_value(const fhir::Json &j, Arena &arena, int depth) {
    switch (j.type()) {
    case fhir::Json::value_t::null:
        return jb::Value::null();
    case fhir::Json::value_t::boolean:
        return jb::Value::boolean(j.get<bool>());
    case fhir::Json::value_t::string:
        return jb::Value::string(arena.keep(j.get<std::string>()));
    case fhir::Json::value_t::array: {
        std::vector<jb::Value> elements;
        for (const auto &e : j)
            elements.push_back(to_value(e, arena, depth + 1));
        return container_or_embedded(j, arena, depth, jb::Value::array(std::move(elements)));
    }
    case fhir::Json::value_t::object: {
        std::vector<std::pair<std::string_view, jb::Value>> members;
        for (auto it = j.begin(); it != j.end(); ++it)
            members.emplace_back(arena.keep(it.key()), to_value(*it, arena, depth + 1));
        return container_or_embedded(j, arena, depth, jb::Value::object(std::move(members)));
    }
    default: // numbers: their text as an opaque numeric
        return jb::Value::numeric(arena.keep(numeric_varlena(j.dump())));
    }
}

uint32_t read_u32(const std::string &b, size_t at) {
    check(at + 4 <= b.size(), "read inside the encoded bytes");
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}

// Decodes the container starting at `at` of `b` (positions are relative to the
// datum's data, which is int-aligned like a varlena's payload).
fhir::Json decode_container(const std::string &b, size_t at);

fhir::Json decode_scalar(const std::string &b, uint32_t entry, size_t start, size_t end) {
    const uint32_t type = entry & jb::kTypeMask;
    if (type == jb::kIsNull)
        return nullptr;
    if (type == jb::kIsBoolTrue)
        return true;
    if (type == jb::kIsBoolFalse)
        return false;
    if (type == jb::kIsString)
        return std::string(b, start, end - start);
    size_t aligned = (start + 3) & ~size_t(3);
    check(aligned <= end, "padding inside the entry");
    if (type == jb::kIsNumeric) {
        uint32_t header = read_u32(b, aligned);
        size_t total = header >> 2;
        check(total >= 4 && aligned + total == end, "numeric varlena fills its entry");
        return fhir::Json::parse(std::string(b, aligned + 4, total - 4));
    }
    check(type == jb::kIsContainer, "known entry type");
    return decode_container(b, aligned);
}

fhir::Json decode_container(const std::string &b, size_t at) {
    check(at % 4 == 0, "containers are int-aligned");
    const uint32_t header = read_u32(b, at);
    const uint32_t count = header & jb::kCountMask;
    const bool is_object = header & jb::kFlagObject;
    check(is_object != bool(header & jb::kFlagArray), "a container is an object or an array");
    const size_t entries = is_object ? 2 * size_t(count) : count;
    const size_t entry_base = at + 4;
    const size_t data_base = entry_base + 4 * entries;
    check(data_base <= b.size(), "entries inside the bytes");
    std::vector<size_t> starts(entries), ends(entries);
    size_t offset = 0;
    for (size_t i = 0; i < entries; i++) {
        uint32_t e = read_u32(b, entry_base + 4 * i);
        check(!(e & jb::kHasOff) || i % jb::kOffsetStride == 0, "offsets only at the stride");
        starts[i] = offset;
        size_t end = (e & jb::kHasOff) ? (e & jb::kOffLenMask) : offset + (e & jb::kOffLenMask);
        check(end >= offset, "entries do not run backwards");
        ends[i] = end;
        offset = end;
    }
    check(data_base + offset <= b.size(), "data inside the bytes");
    auto value_at = [&](size_t i) {
        return decode_scalar(b, read_u32(b, entry_base + 4 * i), data_base + starts[i], data_base + ends[i]);
    };
    if (header & jb::kFlagScalar) {
        check(!is_object && count == 1, "a raw scalar is a one-element array");
        return value_at(0);
    }
    if (!is_object) {
        fhir::Json out = fhir::Json::array();
        for (size_t i = 0; i < count; i++)
            out.push_back(value_at(i));
        return out;
    }
    fhir::Json out = fhir::Json::object();
    std::string previous;
    for (size_t i = 0; i < count; i++) {
        check((read_u32(b, entry_base + 4 * i) & jb::kTypeMask) == jb::kIsString, "keys are strings");
        std::string key(b, data_base + starts[i], ends[i] - starts[i]);
        check(i == 0 || jb::key_less(previous, key), "keys sorted and unique");
        out[key] = value_at(count + i);
        previous = key;
    }
    return out;
}

// The document as the encoder sees it: numbers compared by their text.
fhir::Json normalized(const fhir::Json &j) {
    if (j.is_number())
        return fhir::Json::parse(j.dump());
    if (j.is_array()) {
        fhir::Json out = fhir::Json::array();
        for (const auto &e : j)
            out.push_back(normalized(e));
        return out;
    }
    if (j.is_object()) {
        fhir::Json out = fhir::Json::object();
        for (auto it = j.begin(); it != j.end(); ++it)
            out[it.key()] = normalized(*it);
        return out;
    }
    return j;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fhir::Json doc = fhir::Json::parse(std::string_view(reinterpret_cast<const char *>(data), size), nullptr, false);
    if (doc.is_discarded())
        return 0;
    Arena arena;
    std::string bytes;
    try {
        bytes = jb::encode(to_value(doc, arena, 0));
    } catch (const fhir::Error &) {
        return 0; // refused (nlohmann already dropped duplicate keys, so: limits)
    }
    check(bytes.size() >= 4, "a header at least");
    check(decode_container(bytes, 0) == normalized(doc), "decodes to the same document");
    return 0;
}
