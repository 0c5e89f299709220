// json_patch.cpp: RFC 6902 operations over fhir::Json (see json_patch.h).
#include "json_patch.h"

#include "json_pointer.h"
#include "patch_error.h"

#include <optional>
#include <string>

namespace fhir {

namespace {

constexpr std::string_view kForm = "JSON Patch";

// A number as sign, significant digits and exponent ("-1.50e3" -> -, "15", 2),
// so that equal values compare equal as text. nullopt for text that is not a number.
struct Decimal {
    bool negative = false;
    std::string digits; // no leading or trailing zeros; empty for zero
    long exponent = 0;  // value = digits * 10^exponent
    bool operator==(const Decimal &o) const {
        return digits == o.digits && (digits.empty() || (negative == o.negative && exponent == o.exponent));
    }
};

std::optional<Decimal> parse_decimal(std::string_view text) {
    Decimal d;
    size_t i = 0;
    if (i < text.size() && (text[i] == '-' || text[i] == '+'))
        d.negative = text[i++] == '-';
    std::string digits;
    long exponent = 0;
    bool any = false, point = false;
    for (; i < text.size(); i++) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
            any = true;
            if (point)
                exponent--;
        } else if (c == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any)
        return std::nullopt;
    if (i < text.size()) {
        if (text[i] != 'e' && text[i] != 'E')
            return std::nullopt;
        std::string rest(text.substr(i + 1));
        if (rest.empty())
            return std::nullopt;
        size_t used = 0;
        long e = 0;
        try {
            e = std::stol(rest, &used);
        } catch (...) {
            return std::nullopt;
        }
        if (used != rest.size())
            return std::nullopt;
        exponent += e;
    }
    size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos)
        return d; // zero
    digits.erase(0, first);
    size_t last = digits.find_last_not_of('0');
    exponent += static_cast<long>(digits.size() - 1 - last);
    digits.erase(last + 1);
    d.digits = std::move(digits);
    d.exponent = exponent;
    return d;
}

// The numeric value of a JSON number or binary decimal text, else nullopt.
std::optional<Decimal> number_of(const Json &value) {
    switch (value.type()) {
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
        return parse_decimal(value.dump());
    case Json::value_t::binary: {
        const auto &bytes = value.get_binary();
        return parse_decimal(std::string(bytes.begin(), bytes.end()));
    }
    default:
        return std::nullopt;
    }
}

// The value an operation carries in `member`, which it must have.
const Json &required_member(const Json &op, const char *member, size_t index, const std::string &name) {
    auto it = op.find(member);
    if (it == op.end())
        throw patch_error(kForm, index, name, std::string("needs a \"") + member + "\" member", PatchIssue::Invalid);
    return *it;
}

// The JSON Pointer in `member` ("path" or "from") of an operation.
JsonPointer pointer_member(const Json &op, const char *member, size_t index, const std::string &name) {
    const Json &text = required_member(op, member, index, name);
    if (!text.is_string())
        throw patch_error(kForm, index, name, std::string("\"") + member + "\" must be a string (a JSON Pointer)",
                          PatchIssue::Invalid);
    std::string why;
    std::optional<JsonPointer> pointer = JsonPointer::parse(text.get_ref<const std::string &>(), &why);
    if (!pointer)
        throw patch_error(kForm, index, name,
                          std::string("\"") + member + "\" \"" + text.get<std::string>() + "\" is not a JSON Pointer: " +
                              why,
                          PatchIssue::Invalid);
    return *pointer;
}

// Applies operations to one document; each failure names its operation.
class Patcher {
  public:
    Patcher(Json &document, size_t index, const std::string &name) : doc_(document), index_(index), name_(name) {}

    [[noreturn]] void fail(const std::string &message, PatchIssue issue = PatchIssue::Processing) const {
        throw patch_error(kForm, index_, name_, message, issue);
    }

    static std::string quoted(const JsonPointer &p) { return "\"" + p.to_string() + "\""; }

    // The existing value at `path`, or an error naming what is missing.
    Json &existing(const JsonPointer &path, const char *role = "path") {
        Json *target = path.find(doc_);
        if (!target)
            fail(std::string(role) + " " + quoted(path) + " does not exist in the resource");
        return *target;
    }

    // The container of `path`'s last token (which must exist and hold values).
    Json &container(const JsonPointer &path) {
        Json *parent = path.parent().find(doc_);
        if (!parent)
            fail("the parent of path " + quoted(path) + " does not exist in the resource");
        if (!parent->is_object() && !parent->is_array())
            fail("the parent of path " + quoted(path) + " is a " + parent->type_name() + ", not an object or array");
        return *parent;
    }

    void add(const JsonPointer &path, Json value) {
        if (path.is_root()) {
            doc_ = std::move(value);
            return;
        }
        Json &parent = container(path);
        if (parent.is_object()) {
            parent[path.last()] = std::move(value);
            return;
        }
        if (path.last() == "-") {
            parent.push_back(std::move(value));
            return;
        }
        std::optional<size_t> at = json_array_index(path.last());
        if (!at)
            fail("\"" + path.last() + "\" in path " + quoted(path) + " is not an array index", PatchIssue::Invalid);
        if (*at > parent.size())
            fail("index " + path.last() + " in path " + quoted(path) + " is past the end of the array (" +
                 std::to_string(parent.size()) + " elements)");
        parent.insert(parent.begin() + static_cast<std::ptrdiff_t>(*at), std::move(value));
    }

    void remove(const JsonPointer &path) {
        if (path.is_root())
            fail("cannot remove the whole resource", PatchIssue::Invalid);
        existing(path);
        Json &parent = container(path);
        if (parent.is_object())
            parent.erase(path.last());
        else
            parent.erase(*json_array_index(path.last()));
    }

    void replace(const JsonPointer &path, Json value) { existing(path) = std::move(value); }

    void move(const JsonPointer &from, const JsonPointer &path) {
        Json value = existing(from, "from");
        if (path.is_inside(from))
            fail("cannot move " + quoted(from) + " into its own child " + quoted(path), PatchIssue::Invalid);
        if (path.tokens() == from.tokens())
            return;
        remove(from);
        add(path, std::move(value));
    }

    void copy(const JsonPointer &from, const JsonPointer &path) { add(path, existing(from, "from")); }

    void test(const JsonPointer &path, const Json &value) {
        if (!json_patch_equal(existing(path), value))
            fail("the value at " + quoted(path) + " is not the one tested for");
    }

  private:
    Json &doc_;
    size_t index_;
    const std::string &name_;
};

} // namespace

bool json_patch_equal(const Json &a, const Json &b) {
    std::optional<Decimal> na = number_of(a), nb = number_of(b);
    if (na || nb)
        return na && nb && *na == *nb;
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case Json::value_t::object: {
        if (a.size() != b.size())
            return false;
        for (auto it = a.begin(); it != a.end(); ++it) {
            auto other = b.find(it.key());
            if (other == b.end() || !json_patch_equal(*it, *other))
                return false;
        }
        return true;
    }
    case Json::value_t::array: {
        if (a.size() != b.size())
            return false;
        for (size_t i = 0; i < a.size(); i++)
            if (!json_patch_equal(a[i], b[i]))
                return false;
        return true;
    }
    default:
        return a == b;
    }
}

Json apply_json_patch(const Json &document, const Json &patch) {
    if (!patch.is_array())
        throw patch_error(kForm, std::nullopt, {},
                          std::string("a JSON Patch must be an array of operations, not ") + patch.type_name(),
                          PatchIssue::Invalid);
    Json doc = document;
    for (size_t i = 0; i < patch.size(); i++) {
        const Json &op = patch[i];
        if (!op.is_object())
            throw patch_error(kForm, i, {}, std::string("an operation must be an object, not ") + op.type_name(),
                              PatchIssue::Invalid);
        auto op_it = op.find("op");
        if (op_it == op.end() || !op_it->is_string())
            throw patch_error(kForm, i, {}, "needs an \"op\" string (add, remove, replace, move, copy or test)",
                              PatchIssue::Invalid);
        const std::string &name = op_it->get_ref<const std::string &>();
        Patcher patcher(doc, i, name);
        if (name == "add") {
            JsonPointer path = pointer_member(op, "path", i, name);
            patcher.add(path, required_member(op, "value", i, name));
        } else if (name == "remove") {
            patcher.remove(pointer_member(op, "path", i, name));
        } else if (name == "replace") {
            JsonPointer path = pointer_member(op, "path", i, name);
            patcher.replace(path, required_member(op, "value", i, name));
        } else if (name == "move") {
            JsonPointer from = pointer_member(op, "from", i, name);
            patcher.move(from, pointer_member(op, "path", i, name));
        } else if (name == "copy") {
            JsonPointer from = pointer_member(op, "from", i, name);
            patcher.copy(from, pointer_member(op, "path", i, name));
        } else if (name == "test") {
            JsonPointer path = pointer_member(op, "path", i, name);
            patcher.test(path, required_member(op, "value", i, name));
        } else {
            throw patch_error(kForm, i, name,
                              "unknown operation \"" + name + "\" (add, remove, replace, move, copy or test)",
                              PatchIssue::Invalid);
        }
    }
    return doc;
}

} // namespace fhir
