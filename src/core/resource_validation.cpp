// resource_validation.cpp: the checks of resource_validation.h.
//
// One recursive walk over the document, guided by the generated element graph:
// each object is checked against the structure its element names (a resource
// type, a data type, a backbone element), each key looked up there, each value
// checked for its JSON shape and, for primitives, its lexical form. The walk
// keeps the current FHIRPath location in one string buffer that grows and
// shrinks as it descends, so a valid resource costs no allocation per element.
// Depth and size are measured by a first, bounded walk so the second never
// descends further than max_depth.
#include "resource_validation.h"

#include "element_schema.h"
#include "error.h"
#include "resource.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace fhir {

ValidationSettings validation_settings;
ValidationNotice validation_notice = nullptr;

namespace {

using schema::Element;
using schema::Structure;

// User text quoted in diagnostics, shortened so a huge value cannot flood a log.
std::string quote_text(std::string_view text) {
    constexpr size_t kMax = 80;
    if (text.size() <= kMax)
        return "\"" + std::string(text) + "\"";
    return "\"" + std::string(text.substr(0, kMax)) + "...\"";
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The number the `n` digits at `pos` spell, or -1 when they are not all digits.
int digits_at(std::string_view s, size_t pos, size_t n) {
    if (pos + n > s.size())
        return -1;
    int v = 0;
    for (size_t i = pos; i < pos + n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int days_in_month(int year, int month) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return kDays[month - 1];
}

// hh:mm:ss(.f+)? at `pos`; the position after it, or npos.
size_t time_at(std::string_view s, size_t pos) {
    const int h = digits_at(s, pos, 2), m = digits_at(s, pos + 3, 2), sec = digits_at(s, pos + 6, 2);
    if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60 || s[pos + 2] != ':' || s[pos + 5] != ':')
        return std::string_view::npos;
    pos += 8;
    if (pos < s.size() && s[pos] == '.') {
        const size_t start = ++pos;
        while (pos < s.size() && is_digit(s[pos]))
            pos++;
        if (pos == start)
            return std::string_view::npos;
    }
    return pos;
}

// Z or (+|-)hh:mm (up to 14:00) filling s from `pos` to its end.
bool zone_at(std::string_view s, size_t pos) {
    if (pos + 1 == s.size() && s[pos] == 'Z')
        return true;
    if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || s[pos + 3] != ':')
        return false;
    const int h = digits_at(s, pos + 1, 2), m = digits_at(s, pos + 4, 2);
    return h >= 0 && m >= 0 && m <= 59 && (h < 14 || (h == 14 && m == 0));
}

// A full instant or dateTime with time: YYYY-MM-DDThh:mm:ss(.f)?zone.
bool is_timestamp(std::string_view s) {
    if (s.size() < 20 || s[10] != 'T' || !is_fhir_date(s.substr(0, 10)))
        return false;
    const size_t end = time_at(s, 11);
    return end != std::string_view::npos && zone_at(s, end);
}

bool has_whitespace(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace.
bool is_code(std::string_view s) {
    if (s.empty() || is_space(s.front()) || is_space(s.back()))
        return false;
    for (size_t i = 1; i < s.size(); i++)
        if (is_space(s[i]) && is_space(s[i - 1]))
            return false;
    return true;
}

// Base64 text: groups of four of A-Z a-z 0-9 + / with '=' padding only at the
// end; whitespace is ignored (R4's pattern allows it between groups).
bool is_base64(std::string_view s) {
    size_t n = 0, padding = 0;
    for (char c : s) {
        if (is_space(c))
            continue;
        if (c == '=') {
            padding++;
        } else if (padding || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
            return false;
        }
        n++;
    }
    return n > 0 && n % 4 == 0 && padding <= 2;
}

bool is_oid(std::string_view s) {
    constexpr std::string_view kPrefix = "urn:oid:";
    if (s.substr(0, kPrefix.size()) != kPrefix || s.size() < kPrefix.size() + 3)
        return false;
    s.remove_prefix(kPrefix.size());
    if (s[0] < '0' || s[0] > '2' || s[1] != '.')
        return false;
    size_t pos = 2;
    while (true) { // (0|[1-9][0-9]*) after each dot
        const size_t start = pos;
        while (pos < s.size() && is_digit(s[pos]))
            pos++;
        if (pos == start || (s[start] == '0' && pos - start > 1))
            return false;
        if (pos == s.size())
            return true;
        if (s[pos++] != '.')
            return false;
    }
}

bool is_uuid(std::string_view s) {
    constexpr std::string_view kPrefix = "urn:uuid:";
    if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix)
        return false;
    s.remove_prefix(kPrefix.size());
    for (size_t i = 0; i < s.size(); i++) {
        const char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
    }
    return true;
}

// The JSON kind a primitive type is written in, for diagnostics.
const char *json_kind_name(std::string_view type) {
    if (type == "boolean")
        return "a JSON boolean";
    if (type == "integer" || type == "positiveInt" || type == "unsignedInt" || type == "decimal")
        return "a JSON number";
    return "a JSON string";
}

const char *kind_of(const Json &v) {
    switch (v.type()) {
    case Json::value_t::object:
        return "an object";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::string:
        return "a string";
    case Json::value_t::boolean:
        return "a boolean";
    case Json::value_t::null:
        return "null";
    default:
        return "a number";
    }
}

// Measures depth and compact JSON size, stopping below `max_depth`.
class Measure {
  public:
    Measure(int max_depth) : max_depth_(max_depth) {}

    // False when the document nests deeper than max_depth.
    bool walk(const Json &v, int depth) {
        if (max_depth_ > 0 && depth > max_depth_ && v.is_structured())
            return false;
        switch (v.type()) {
        case Json::value_t::object: {
            const auto &map = v.get_ref<const Json::object_t &>();
            size += 2 + (map.empty() ? 0 : map.size() - 1);
            for (const auto &[key, member] : map) {
                size += key.size() + 3;
                if (!walk(member, depth + 1))
                    return false;
            }
            return true;
        }
        case Json::value_t::array: {
            const auto &items = v.get_ref<const Json::array_t &>();
            size += 2 + (items.empty() ? 0 : items.size() - 1);
            for (const Json &item : items)
                if (!walk(item, depth + 1))
                    return false;
            return true;
        }
        case Json::value_t::string:
            size += v.get_ref<const std::string &>().size() + 2;
            return true;
        case Json::value_t::binary: // a decimal's text (pg_json.h)
            size += v.get_binary().size();
            return true;
        case Json::value_t::boolean:
            size += v.get<bool>() ? 4 : 5;
            return true;
        case Json::value_t::null:
            size += 4;
            return true;
        default:
            size += 8; // numbers: an estimate, not worth printing them
            return true;
        }
    }

    size_t size = 0;

  private:
    int max_depth_;
};

class Validator {
  public:
    explicit Validator(ValidationResult *result) : result_(result) {}

    // Checks a resource whose location is already in path_.
    void resource(const Json &value) {
        if (!value.is_object()) {
            issue("structure", std::string("a resource must be a JSON object, not ") + kind_of(value));
            return;
        }
        const Json *type = json_member(value, "resourceType");
        if (!type) {
            issue("required", "resource has no resourceType");
            return;
        }
        if (!type->is_string()) {
            issue("structure", "resourceType must be a string");
            return;
        }
        const std::string &name = type->get_ref<const std::string &>();
        const Structure *s = schema::resource_structure(name);
        if (!s) {
            issue("not-supported", "unknown resourceType " + quote_text(name));
            return;
        }
        if (const Json *id = json_member(value, "id"); id && id->is_string() && !id->empty() &&
                                                      !is_valid_id(id->get_ref<const std::string &>())) {
            Step step(&path_, "id");
            issue("value", quote_text(id->get_ref<const std::string &>()) + " is not a valid id");
        }
        members(value, *s, true);
    }

    std::string path_;

  private:
    // Appends a location step for the lifetime of the guard.
    class Step {
      public:
        Step(std::string *path, std::string_view key) : path_(path), size_(path->size()) {
            path->push_back('.');
            path->append(key);
        }
        Step(std::string *path, size_t index) : path_(path), size_(path->size()) {
            path->push_back('[');
            path->append(std::to_string(index));
            path->push_back(']');
        }
        ~Step() { path_->resize(size_); }
        Step(const Step &) = delete;
        Step &operator=(const Step &) = delete;

      private:
        std::string *path_;
        size_t size_;
    };

    void issue(const char *code, std::string diagnostics) {
        if (result_->issues.size() >= kMaxValidationIssues) {
            result_->omitted++;
            return;
        }
        result_->issues.push_back({code, path_, std::move(diagnostics)});
    }

    static bool is_primitive(const Element &el) {
        return el.row->structure == r4::kPrimitiveValue ||
               (el.row->structure == r4::kStructureBySuffix && schema::is_primitive_type(el.type));
    }

    // The members of an object of structure `s` (`resource`: it is a resource's root).
    void members(const Json &object, const Structure &s, bool resource) {
        const auto &map = object.get_ref<const Json::object_t &>();
        if (map.empty()) { // a resource has at least its resourceType
            issue("structure", "empty object");
            return;
        }
        std::array<const r4::SchemaElement *, 8> choices{};
        size_t choice_count = 0;
        for (const auto &[key, value] : map) {
            if (resource && key == "resourceType")
                continue;
            if (!key.empty() && key[0] == '_') {
                std::string_view name = std::string_view(key).substr(1);
                Element el;
                if (!schema::find_element(s, name, &el) || !is_primitive(el)) {
                    Step step(&path_, key);
                    issue("structure", "unknown element " + quote_text(key) + " in " + s.name +
                                           (schema::find_element(s, name, &el) ? " (only primitives take _ extensions)" : ""));
                    continue;
                }
                if (map.find(name) != map.end())
                    continue; // checked with its value
                if (el.choice() && !note_choice(el, &choices, &choice_count, name))
                    continue;
                Step step(&path_, name);
                element(el, nullptr, &value);
                continue;
            }
            Element el;
            if (!schema::find_element(s, key, &el)) {
                Step step(&path_, key);
                issue("structure", "unknown element " + quote_text(key) + " in " + s.name);
                continue;
            }
            if (el.choice() && !note_choice(el, &choices, &choice_count, key))
                continue;
            const Json *extension = nullptr;
            if (is_primitive(el)) {
                std::string underscored = "_" + key;
                auto it = map.find(underscored);
                if (it != map.end())
                    extension = &it->second;
            }
            Step step(&path_, key);
            element(el, &value, extension);
        }
        required(map, s);
    }

    // Records a choice key; false (with an issue) when its element already had one.
    bool note_choice(const Element &el, std::array<const r4::SchemaElement *, 8> *choices, size_t *count,
                     std::string_view key) {
        for (size_t i = 0; i < *count; i++)
            if ((*choices)[i] == el.row) {
                Step step(&path_, key);
                issue("structure", std::string("more than one value for ") + el.row->name + "[x]");
                return false;
            }
        if (*count < choices->size())
            (*choices)[(*count)++] = el.row;
        return true;
    }

    // Issues for required elements of `s` that `map` lacks.
    void required(const Json::object_t &map, const Structure &s) {
        for (const r4::SchemaElement *row = schema::elements_begin(s); row != schema::elements_end(s); ++row) {
            if (!(row->flags & r4::kRequiredFlag))
                continue;
            bool present = false;
            if (row->flags & r4::kChoiceFlag) {
                const size_t n = std::strlen(row->name);
                for (const auto &entry : map) {
                    std::string_view key = entry.first;
                    if (!key.empty() && key[0] == '_')
                        key.remove_prefix(1);
                    Element el;
                    if (key.size() > n && key.compare(0, n, row->name) == 0 && schema::find_element(s, key, &el) &&
                        el.row == row) {
                        present = true;
                        break;
                    }
                }
            } else {
                present = map.find(row->name) != map.end() || map.find(std::string("_") + row->name) != map.end();
            }
            if (!present) {
                const bool choice = row->flags & r4::kChoiceFlag;
                Step step(&path_, choice ? std::string(row->name) + "[x]" : std::string(row->name));
                issue("required", std::string("missing required element ") + row->name + (choice ? "[x]" : "") +
                                      " (min 1) in " + s.name);
            }
        }
    }

    // One element: its value (may be null when only `_x` is there) and the `_x` extension part.
    void element(const Element &el, const Json *value, const Json *extension) {
        const bool primitive = is_primitive(el);
        if (el.repeats()) {
            const Json::array_t *values = nullptr, *extensions = nullptr;
            if (value) {
                if (!value->is_array()) {
                    issue("structure", std::string("element ") + el.row->name + " repeats: its value must be an array, not " +
                                           kind_of(*value));
                    return;
                }
                values = &value->get_ref<const Json::array_t &>();
                if (values->empty())
                    issue("structure", "empty array");
            }
            if (extension) {
                if (!extension->is_array()) {
                    issue("structure", std::string("the _") + el.row->name + " extensions of a repeating element must be an array");
                    extension = nullptr;
                } else {
                    extensions = &extension->get_ref<const Json::array_t &>();
                    if (extensions->empty())
                        issue("structure", "empty _" + std::string(el.row->name) + " array");
                }
            }
            if (values && extensions && values->size() != extensions->size())
                issue("structure", std::string("arrays ") + el.row->name + " and _" + el.row->name +
                                       " differ in length (" + std::to_string(values->size()) + " and " +
                                       std::to_string(extensions->size()) + ")");
            const size_t n = std::max(values ? values->size() : 0, extensions ? extensions->size() : 0);
            for (size_t i = 0; i < n; i++) {
                const Json *item = values && i < values->size() ? &(*values)[i] : nullptr;
                const Json *ext = extensions && i < extensions->size() ? &(*extensions)[i] : nullptr;
                if (item && item->is_null())
                    item = nullptr;
                if (ext && ext->is_null())
                    ext = nullptr;
                Step step(&path_, i);
                if (!primitive && values && i < values->size() && (*values)[i].is_null()) {
                    issue("structure", "null in an array of " + std::string(el.type.empty() ? "elements" : el.type));
                    continue;
                }
                if (!item && !ext) {
                    issue("structure", primitive ? "null without an extension at the same index of _" +
                                                       std::string(el.row->name)
                                                 : std::string("null"));
                    continue;
                }
                if (item && item->is_array()) {
                    issue("structure", "nested array: an array item must not be an array");
                    continue;
                }
                if (item)
                    single(el, *item, primitive);
                if (ext)
                    primitive_extension(*ext);
            }
            return;
        }
        if (value) {
            if (value->is_array()) {
                issue("structure", std::string("element ") + el.row->name + " does not repeat (max 1): its value must not be an array");
                return;
            }
            if (value->is_null()) {
                issue("structure", "null value (omit the element instead)");
                return;
            }
            single(el, *value, primitive);
        }
        if (extension)
            primitive_extension(*extension);
    }

    // One value of an element (not an array, not null).
    void single(const Element &el, const Json &value, bool primitive) {
        if (primitive) {
            primitive_value(el.type, value);
            return;
        }
        if (el.row->structure == r4::kStructureByResource) {
            resource(value);
            return;
        }
        if (!value.is_object()) {
            issue("structure", "a " + std::string(el.type) + " must be a JSON object, not " + kind_of(value));
            return;
        }
        const Structure *s = schema::value_structure(el, value);
        if (!s)
            return; // a type the schema does not describe (none in R4)
        members(value, *s, false);
    }

    // The `_x` part of a primitive: {id?, extension?}.
    void primitive_extension(const Json &value) {
        if (!value.is_object()) {
            issue("structure", std::string("a primitive's extension part must be a JSON object, not ") + kind_of(value));
            return;
        }
        const auto &map = value.get_ref<const Json::object_t &>();
        if (map.empty()) {
            issue("structure", "empty object");
            return;
        }
        static const Structure *extension_type = schema::type_structure("Extension");
        for (const auto &[key, member] : map) {
            Element el;
            if ((key != "id" && key != "extension") || !extension_type || !schema::find_element(*extension_type, key, &el)) {
                Step step(&path_, key);
                issue("structure", "unknown element " + quote_text(key) + " in a primitive's extension part (only id and extension)");
                continue;
            }
            Step step(&path_, key);
            element(el, &member, nullptr);
        }
    }

    void primitive_value(std::string_view type, const Json &value) {
        if (type == "boolean") {
            if (!value.is_boolean())
                issue("value", "a boolean must be " + std::string(json_kind_name(type)) + ", not " + kind_of(value));
            return;
        }
        if (type == "integer" || type == "positiveInt" || type == "unsignedInt") {
            int64_t n = 0;
            if (value.is_number_unsigned()) {
                const uint64_t u = value.get<uint64_t>();
                n = u > INT64_MAX ? INT64_MAX : static_cast<int64_t>(u);
            } else if (value.is_number_integer()) {
                n = value.get<int64_t>();
            } else {
                issue("value", "an " + std::string(type) + " must be a whole JSON number, not " +
                                   (value.is_number() || value.is_binary() ? std::string("a fraction") : kind_of(value)));
                return;
            }
            const int64_t min = type == "integer" ? INT32_MIN : type == "positiveInt" ? 1 : 0;
            if (n < min || n > INT32_MAX)
                issue("value", std::to_string(n) + " is out of range for " + std::string(type) + " (" +
                                   std::to_string(min) + " to " + std::to_string(INT32_MAX) + ")");
            return;
        }
        if (type == "decimal") {
            if (!value.is_number() && !value.is_binary())
                issue("value", std::string("a decimal must be a JSON number, not ") + kind_of(value));
            return;
        }
        if (!value.is_string()) {
            issue("value", "a " + std::string(type) + " must be " + json_kind_name(type) + ", not " + kind_of(value));
            return;
        }
        const std::string &text = value.get_ref<const std::string &>();
        if (text.empty()) {
            issue("value", "empty string (omit the element instead)");
            return;
        }
        bool ok = true;
        if (type == "date")
            ok = is_fhir_date(text);
        else if (type == "dateTime")
            ok = is_fhir_date_time(text);
        else if (type == "instant")
            ok = is_fhir_instant(text);
        else if (type == "time")
            ok = is_fhir_time(text);
        else if (type == "code")
            ok = is_code(text);
        else if (type == "id")
            ok = is_valid_id(text);
        else if (type == "uri" || type == "url" || type == "canonical")
            ok = !has_whitespace(text);
        else if (type == "oid")
            ok = is_oid(text);
        else if (type == "uuid")
            ok = is_uuid(text);
        else if (type == "base64Binary")
            ok = is_base64(text);
        else if (type == "xhtml")
            ok = text.compare(0, 4, "<div") == 0;
        if (!ok)
            issue("value", quote_text(text) + " is not a valid " + std::string(type));
    }

    ValidationResult *result_;
};

} // namespace

bool is_fhir_date(std::string_view s) {
    if (s.size() != 4 && s.size() != 7 && s.size() != 10)
        return false;
    const int year = digits_at(s, 0, 4);
    if (year <= 0)
        return false;
    if (s.size() == 4)
        return true;
    const int month = digits_at(s, 5, 2);
    if (s[4] != '-' || month < 1 || month > 12)
        return false;
    if (s.size() == 7)
        return true;
    const int day = digits_at(s, 8, 2);
    return s[7] == '-' && day >= 1 && day <= days_in_month(year, month);
}

bool is_fhir_date_time(std::string_view s) { return s.size() <= 10 ? is_fhir_date(s) : is_timestamp(s); }

bool is_fhir_instant(std::string_view s) { return is_timestamp(s); }

bool is_fhir_time(std::string_view s) { return s.size() >= 8 && time_at(s, 0) == s.size(); }

ValidationResult check_resource(const Json &resource, const ValidationSettings &settings, bool full) {
    ValidationResult result;
    Validator validator(&result);
    const Json *type = json_member(resource, "resourceType");
    validator.path_ = type && type->is_string() ? type->get<std::string>() : std::string("Resource");
    Measure measure(settings.max_depth);
    const bool shallow = measure.walk(resource, 1);
    result.size = measure.size;
    if (!shallow) {
        result.limit_exceeded = true;
        result.issues.push_back({"too-long", validator.path_,
                                 "resource nests deeper than fhir_search.max_resource_depth (" +
                                     std::to_string(settings.max_depth) + " levels of objects and arrays)"});
        return result;
    }
    if (settings.max_size_kb > 0 && measure.size > static_cast<size_t>(settings.max_size_kb) * 1024) {
        result.limit_exceeded = true;
        result.issues.push_back({"too-long", validator.path_,
                                 "resource is larger than fhir_search.max_resource_size (" +
                                     std::to_string(measure.size / 1024) + " kB of JSON, limit " +
                                     std::to_string(settings.max_size_kb) + " kB)"});
        return result;
    }
    if (full)
        validator.resource(resource);
    return result;
}

std::string validation_outcome(const ValidationResult &result) {
    nlohmann::ordered_json issues = nlohmann::ordered_json::array();
    for (const ValidationIssue &issue : result.issues)
        issues.push_back({{"severity", "error"},
                          {"code", issue.code},
                          {"diagnostics", issue.diagnostics},
                          {"expression", nlohmann::ordered_json::array({issue.expression})}});
    if (result.omitted)
        issues.push_back({{"severity", "error"},
                          {"code", "too-costly"},
                          {"diagnostics", std::to_string(result.omitted) + " more issues not listed"}});
    if (issues.empty())
        issues.push_back({{"severity", "information"}, {"code", "informational"}, {"diagnostics", "no issues found"}});
    nlohmann::ordered_json outcome = {{"resourceType", "OperationOutcome"}, {"issue", std::move(issues)}};
    return outcome.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string validation_summary(const ValidationResult &result) {
    if (result.issues.empty())
        return "no issues";
    const size_t n = result.issues.size() + result.omitted;
    const ValidationIssue &first = result.issues.front();
    return std::to_string(n) + (n == 1 ? " issue" : " issues") + (n == 1 ? ": " : ", first: ") + first.expression +
           ": " + first.diagnostics;
}

void enforce_validation(const Json &resource) {
    const ValidationSettings settings = validation_settings;
    const bool full = settings.mode != kValidationOff;
    ValidationResult result = check_resource(resource, settings, full);
    if (result.ok())
        return;
    if (result.limit_exceeded || settings.mode == kValidationStrict)
        throw Error(ErrorKind::InvalidResource, "invalid resource: " + validation_summary(result),
                    validation_outcome(result));
    if (validation_notice)
        validation_notice("resource stored with " + validation_summary(result), validation_outcome(result));
}

} // namespace fhir
