// json.h: the JSON document type of the core.
//
// Resources are stored as jsonb, which keeps its own key order, so the core uses
// plain nlohmann::json (sorted keys). Include this instead of nlohmann directly.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace fhir {
using Json = nlohmann::json;

// object[key], or nullptr when absent or `object` is not an object. Most objects
// the extractor and FHIRPath evaluator reach (Coding, Quantity, Reference, ...)
// have a handful of keys: scanning them in order, comparing first letters and
// lengths before any bytes, is cheaper than a tree search calling memcmp at each step.
inline const Json *json_member(const Json &object, std::string_view key) {
    if (!object.is_object())
        return nullptr;
    const auto &map = object.get_ref<const Json::object_t &>();
    if (map.size() > 8 || key.empty()) {
        auto it = map.find(key);
        return it == map.end() ? nullptr : &it->second;
    }
    const unsigned char first = static_cast<unsigned char>(key[0]);
    for (const auto &entry : map) {
        const std::string &name = entry.first;
        if (name.empty())
            continue;
        const unsigned char c = static_cast<unsigned char>(name[0]);
        if (c > first) // keys are sorted: no later key starts with `first`
            return nullptr;
        if (c == first && name.size() == key.size() && name.compare(0, name.size(), key) == 0)
            return &entry.second;
    }
    return nullptr;
}
} // namespace fhir
