// json_pointer.h: JSON Pointer (RFC 6901), the paths of JSON Patch.
//
// "/a/b~1c/0" names member "a", then member "b/c" of it, then element 0 of that;
// "" is the whole document. In a token "~1" stands for '/' and "~0" for '~'; any
// other '~' is an error. Array elements are named by decimal indexes without
// leading zeros, and "-" names the (nonexistent) element after the last one,
// which only JSON Patch's add can use.
#pragma once

#include "json.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {

class JsonPointer {
  public:
    JsonPointer() = default; // the whole document
    explicit JsonPointer(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

    // Parses pointer text; nullopt (and `why`, when given) when it is not a JSON Pointer.
    static std::optional<JsonPointer> parse(std::string_view text, std::string *why = nullptr);

    // The unescaped reference tokens, outermost first.
    const std::vector<std::string> &tokens() const { return tokens_; }
    bool is_root() const { return tokens_.empty(); }

    // The pointer to the parent (only when !is_root()) and the last token.
    JsonPointer parent() const;
    const std::string &last() const { return tokens_.back(); }

    // Whether this pointer names a location strictly inside `other`'s value.
    bool is_inside(const JsonPointer &other) const;

    // The value this pointer names in `document`, or null when it names nothing
    // (a missing member, an index past the end or "-", a token into a scalar).
    const Json *find(const Json &document) const;
    Json *find(Json &document) const;

    // The pointer as text, its tokens escaped.
    std::string to_string() const;

  private:
    std::vector<std::string> tokens_;
};

// The array index a token names: decimal digits without leading zeros; nullopt
// for anything else (including "-").
std::optional<size_t> json_array_index(std::string_view token);

} // namespace fhir
