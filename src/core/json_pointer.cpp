// json_pointer.cpp: parsing and resolving JSON Pointers (see json_pointer.h).
#include "json_pointer.h"

#include <limits>

namespace fhir {

std::optional<JsonPointer> JsonPointer::parse(std::string_view text, std::string *why) {
    auto fail = [why](std::string message) -> std::optional<JsonPointer> {
        if (why)
            *why = std::move(message);
        return std::nullopt;
    };
    if (text.empty())
        return JsonPointer();
    if (text[0] != '/')
        return fail("a JSON Pointer is empty or starts with '/'");
    std::vector<std::string> tokens;
    std::string token;
    for (size_t i = 1; i <= text.size(); i++) {
        if (i == text.size() || text[i] == '/') {
            tokens.push_back(std::move(token));
            token.clear();
            continue;
        }
        if (text[i] != '~') {
            token.push_back(text[i]);
            continue;
        }
        if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
            token.push_back(text[i + 1] == '0' ? '~' : '/');
            i++;
            continue;
        }
        return fail("'~' must be followed by '0' or '1' in a JSON Pointer");
    }
    return JsonPointer(std::move(tokens));
}

JsonPointer JsonPointer::parent() const {
    return JsonPointer(std::vector<std::string>(tokens_.begin(), tokens_.end() - 1));
}

bool JsonPointer::is_inside(const JsonPointer &other) const {
    if (tokens_.size() <= other.tokens_.size())
        return false;
    for (size_t i = 0; i < other.tokens_.size(); i++)
        if (tokens_[i] != other.tokens_[i])
            return false;
    return true;
}

std::optional<size_t> json_array_index(std::string_view token) {
    if (token.empty() || (token.size() > 1 && token[0] == '0'))
        return std::nullopt;
    size_t value = 0;
    for (char c : token) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const size_t digit = static_cast<size_t>(c - '0');
        if (value > (std::numeric_limits<size_t>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

// One step down from `node` by `token`, or null.
template <typename J> static J *step(J *node, const std::string &token) {
    if (node->is_object()) {
        auto it = node->find(token);
        return it == node->end() ? nullptr : &*it;
    }
    if (node->is_array()) {
        std::optional<size_t> index = json_array_index(token);
        return index && *index < node->size() ? &(*node)[*index] : nullptr;
    }
    return nullptr;
}

const Json *JsonPointer::find(const Json &document) const {
    const Json *node = &document;
    for (const std::string &token : tokens_)
        if (!(node = step(node, token)))
            return nullptr;
    return node;
}

Json *JsonPointer::find(Json &document) const {
    Json *node = &document;
    for (const std::string &token : tokens_)
        if (!(node = step(node, token)))
            return nullptr;
    return node;
}

std::string JsonPointer::to_string() const {
    std::string out;
    for (const std::string &token : tokens_) {
        out.push_back('/');
        for (char c : token) {
            if (c == '~')
                out += "~0";
            else if (c == '/')
                out += "~1";
            else
                out.push_back(c);
        }
    }
    return out;
}

} // namespace fhir
