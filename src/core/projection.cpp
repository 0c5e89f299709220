// projection.cpp: _summary and _elements result shaping behind projection.h.
//
// Every mode walks the resource once and erases unwanted keys in place through
// map iterators, so kept subtrees are never copied. Keys are matched against
// the generated schema rows of generated/r4_summary.cpp: an exact binary
// search first, then the choice rows ("value" matches valueQuantity, but the
// generator gives siblings like amountType their own row so they win). A key
// "_name" (the id/extensions of primitive `name`) always follows `name`.
// Objects (or array items) left empty by nested filtering are removed too, so
// the result never carries an empty {} the original did not have.
#include "projection.h"

#include <algorithm>
#include <cstring>

#include "error.h"

namespace fhir {

namespace {

using r4::SummaryChild;
using r4::SummaryNode;

constexpr unsigned char kDataTypeKind = 1;
constexpr const char *kSubsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
constexpr const char *kSubsettedCode = "SUBSETTED";
constexpr const char *kSubsettedDisplay = "Resource encoded in summary mode";

// Quotes user input for an error message.
std::string q(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// True for an ASCII upper-case letter (the first letter of a choice type suffix).
bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

// True when `key` is `base` followed by an upper-case type suffix (valueQuantity for value).
bool is_choice_of(std::string_view key, std::string_view base) {
    return key.size() > base.size() && is_upper(key[base.size()]) && key.compare(0, base.size(), base) == 0;
}

// True for the key of a primitive's id/extensions (_birthDate next to birthDate).
bool is_extension_key(std::string_view key) {
    return key.size() > 1 && key[0] == '_';
}

// Strips the underscore of a primitive's extension key (_birthDate -> birthDate).
std::string_view element_of_key(std::string_view key) {
    return is_extension_key(key) ? key.substr(1) : key;
}

// Finds a node of the generated schema graph by name, or returns null.
const SummaryNode *find_node(std::string_view name) {
    const SummaryNode *begin = r4::kSummaryNodes;
    const SummaryNode *end = begin + r4::kSummaryNodeCount;
    auto it = std::lower_bound(begin, end, name,
                               [](const SummaryNode &node, std::string_view key) { return node.name < key; });
    return (it != end && name == it->name) ? it : nullptr;
}

// Finds the row an element name belongs to in a node: exact name, else a choice row.
const SummaryChild *find_child(const SummaryNode &node, std::string_view name) {
    const SummaryChild *begin = r4::kSummaryChildren + node.first;
    const SummaryChild *end = begin + node.count;
    auto it = std::lower_bound(begin, end, name,
                               [](const SummaryChild &row, std::string_view key) { return row.name < key; });
    if (it != end && name == it->name)
        return it;
    for (const SummaryChild *row = begin; row != end; ++row) {
        if ((row->flags & r4::kChoiceFlag) && is_choice_of(name, row->name))
            return row;
    }
    return nullptr;
}

// The node that filters the value of element `name` kept through `row`, or null to keep it whole.
const SummaryNode *child_node(const SummaryChild &row, std::string_view name) {
    if (row.node >= 0)
        return &r4::kSummaryNodes[row.node];
    if (row.node == r4::kNodeBySuffix) {
        const SummaryNode *type = find_node(name.substr(std::strlen(row.name)));
        return type && type->kind == kDataTypeKind ? type : nullptr;
    }
    return nullptr;
}

// True for the top-level keys every mode keeps untouched.
bool always_kept(std::string_view element) {
    return element == "resourceType" || element == "id" || element == "meta";
}

// True when a value was emptied by filtering (an empty object or array) and should go.
bool emptied(const Json &value) {
    return (value.is_object() || value.is_array()) && value.empty();
}

// Applies `filter(object)` to an object, or to each object item of an array,
// dropping items it empties. Returns true if anything was removed.
template <typename Filter> bool filter_value(Json &value, Filter &&filter) {
    if (value.is_object())
        return filter(value);
    if (!value.is_array())
        return false;
    bool removed = false;
    for (auto item = value.begin(); item != value.end();) {
        if (item->is_object()) {
            removed |= filter(*item);
            if (item->empty()) {
                item = value.erase(item);
                continue;
            }
        }
        ++item;
    }
    return removed;
}

// Keeps the summary (and mandatory) children of an object of `node`, recursively.
bool summarize_object(Json &object, const SummaryNode &node, bool top) {
    bool removed = false;
    for (auto it = object.begin(); it != object.end();) {
        std::string_view key = it.key();
        std::string_view element = element_of_key(key);
        if (top && always_kept(element)) {
            ++it;
            continue;
        }
        const SummaryChild *row = find_child(node, element);
        if (!row || !(row->flags & (r4::kSummaryFlag | r4::kMandatoryFlag))) {
            it = object.erase(it);
            removed = true;
            continue;
        }
        const SummaryNode *next = is_extension_key(key) ? nullptr : child_node(*row, element);
        if (next) {
            removed |= filter_value(*it, [next](Json &child) { return summarize_object(child, *next, false); });
            if (emptied(*it)) {
                it = object.erase(it);
                continue;
            }
        }
        ++it;
    }
    return removed;
}

// Keeps text, id, meta and the mandatory top-level elements of a resource of `node`.
bool text_only(Json &resource, const SummaryNode &node) {
    bool removed = false;
    for (auto it = resource.begin(); it != resource.end();) {
        std::string_view element = element_of_key(it.key());
        if (always_kept(element) || element == "text") {
            ++it;
            continue;
        }
        const SummaryChild *row = find_child(node, element);
        if (row && (row->flags & r4::kMandatoryFlag)) {
            ++it;
            continue;
        }
        it = resource.erase(it);
        removed = true;
    }
    return removed;
}

// One _elements path split into its segments, without a resource type qualifier.
using Path = std::vector<std::string_view>;

// Splits the _elements paths that apply to `type`; qualified paths of other types are skipped.
std::vector<Path> paths_for(const std::vector<std::string> &elements, std::string_view type) {
    std::vector<Path> paths;
    for (const std::string &element : elements) {
        Path path;
        std::string_view rest = element;
        while (!rest.empty()) {
            size_t dot = rest.find('.');
            path.push_back(rest.substr(0, dot));
            rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
        }
        if (!path.empty() && !path[0].empty() && is_upper(path[0][0])) {
            if (path[0] != type)
                continue;
            path.erase(path.begin());
        }
        if (!path.empty())
            paths.push_back(std::move(path));
    }
    return paths;
}

// True when _elements segment `segment` selects the element `element` (row: its schema row, if known).
bool segment_selects(std::string_view segment, std::string_view element, const SummaryChild *row, bool node_known) {
    if (segment == element)
        return true;
    bool bracketed = segment.size() > 3 && segment.compare(segment.size() - 3, 3, "[x]") == 0;
    std::string_view base = bracketed ? segment.substr(0, segment.size() - 3) : segment;
    if (row && (row->flags & r4::kChoiceFlag))
        return base == row->name;
    // Without a schema node only the explicit value[x] form can name a choice.
    return !node_known && bracketed && is_choice_of(element, base);
}

// Keeps the children of an object that `paths` select at segment `depth`, plus
// mandatory ones (and resourceType/id/meta at the top). Returns true if anything was removed.
bool select_object(Json &object, const SummaryNode *node, const std::vector<const Path *> &paths, size_t depth,
                   bool top) {
    bool removed = false;
    std::vector<const Path *> deeper;
    for (auto it = object.begin(); it != object.end();) {
        std::string_view key = it.key();
        std::string_view element = element_of_key(key);
        if (top && always_kept(element)) {
            ++it;
            continue;
        }
        const SummaryChild *row = node ? find_child(*node, element) : nullptr;
        bool whole = row && (row->flags & r4::kMandatoryFlag);
        deeper.clear();
        for (const Path *path : paths) {
            if (whole)
                break;
            if (!segment_selects((*path)[depth], element, row, node != nullptr))
                continue;
            if (path->size() == depth + 1)
                whole = true;
            else
                deeper.push_back(path);
        }
        if (!whole && deeper.empty()) {
            it = object.erase(it);
            removed = true;
            continue;
        }
        if (!whole && !is_extension_key(key)) {
            const SummaryNode *next = row ? child_node(*row, element) : nullptr;
            removed |= filter_value(
                *it, [&](Json &child) { return select_object(child, next, deeper, depth + 1, false); });
            if (emptied(*it)) {
                it = object.erase(it);
                continue;
            }
        }
        ++it;
    }
    return removed;
}

// Applies _elements to a resource; a resource no path applies to stays whole.
bool select_elements(Json &resource, std::string_view type, const std::vector<std::string> &elements) {
    std::vector<Path> paths = paths_for(elements, type);
    if (paths.empty())
        return false;
    std::vector<const Path *> all;
    all.reserve(paths.size());
    for (const Path &path : paths)
        all.push_back(&path);
    const SummaryNode *node = find_node(type);
    if (node && node->kind != 0)
        node = nullptr;
    return select_object(resource, node, all, 0, true);
}

// Validates one _elements path: dotted segments of [A-Za-z0-9_], optionally ending in [x].
void check_element_path(std::string_view path, std::string_view whole) {
    if (path.empty())
        throw Error(ErrorKind::InvalidSearch, "empty element name in _elements " + q(whole));
    size_t segments = 0;
    bool qualified = false;
    std::string_view rest = path;
    while (true) {
        size_t dot = rest.find('.');
        std::string_view segment = rest.substr(0, dot);
        if (segment.size() > 3 && segment.compare(segment.size() - 3, 3, "[x]") == 0)
            segment.remove_suffix(3);
        if (segment.empty())
            throw Error(ErrorKind::InvalidSearch, "empty segment in element path " + q(path) + " of _elements");
        for (char c : segment) {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                throw Error(ErrorKind::InvalidSearch, "invalid character in element path " + q(path) + " of _elements");
        }
        if (segments == 0)
            qualified = is_upper(segment[0]);
        else if (is_upper(segment[0]))
            throw Error(ErrorKind::InvalidSearch,
                        "element path " + q(path) + " of _elements has a capitalised name after its start");
        if (segments == 0 && segment[0] >= '0' && segment[0] <= '9')
            throw Error(ErrorKind::InvalidSearch, "element path " + q(path) + " of _elements starts with a digit");
        segments++;
        if (dot == std::string_view::npos)
            break;
        rest.remove_prefix(dot + 1);
    }
    if (qualified && segments == 1)
        throw Error(ErrorKind::InvalidSearch,
                    "element path " + q(path) + " of _elements names a resource type but no element");
}

// Trims ASCII blanks around an _elements item.
std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

} // namespace

// Maps the five _summary codes; anything else (also an empty value) is an error.
SummaryMode parse_summary(std::string_view value) {
    if (value == "false")
        return SummaryMode::False;
    if (value == "true")
        return SummaryMode::True;
    if (value == "text")
        return SummaryMode::Text;
    if (value == "data")
        return SummaryMode::Data;
    if (value == "count")
        return SummaryMode::Count;
    throw Error(ErrorKind::InvalidSearch,
                "invalid _summary value " + q(value) + ", expected true, text, data, count or false");
}

// Splits the comma list and validates every path; the result keeps the caller's order.
std::vector<std::string> parse_elements(std::string_view value) {
    std::vector<std::string> paths;
    if (trim(value).empty())
        throw Error(ErrorKind::InvalidSearch, "empty _elements value");
    std::string_view rest = value;
    while (true) {
        size_t comma = rest.find(',');
        std::string_view path = trim(rest.substr(0, comma));
        check_element_path(path, value);
        paths.emplace_back(path);
        if (comma == std::string_view::npos)
            break;
        rest.remove_prefix(comma + 1);
    }
    return paths;
}

// Dispatches on the mode; _elements, when given, replaces any _summary shaping.
bool project_resource(Json &resource, SummaryMode mode, const std::vector<std::string> &elements) {
    if (!resource.is_object())
        return false;
    auto type_it = resource.find("resourceType");
    std::string_view type = type_it != resource.end() && type_it->is_string()
                                ? std::string_view(type_it->get_ref<const std::string &>())
                                : std::string_view();
    if (!elements.empty())
        return select_elements(resource, type, elements);
    switch (mode) {
    case SummaryMode::False:
    case SummaryMode::Count:
        return false;
    case SummaryMode::Data:
        return resource.erase("text") > 0;
    case SummaryMode::True:
    case SummaryMode::Text: {
        const SummaryNode *node = find_node(type);
        if (!node || node->kind != 0)
            return false;
        return mode == SummaryMode::True ? summarize_object(resource, *node, true) : text_only(resource, *node);
    }
    }
    return false;
}

// Appends the SUBSETTED tag, creating meta and meta.tag as needed.
void mark_subsetted(Json &resource) {
    if (!resource.is_object())
        return;
    Json &meta = resource["meta"];
    if (!meta.is_object())
        meta = Json::object();
    Json &tags = meta["tag"];
    if (!tags.is_array())
        tags = Json::array();
    for (const Json &tag : tags) {
        if (!tag.is_object())
            continue;
        auto system = tag.find("system");
        auto code = tag.find("code");
        if (system != tag.end() && code != tag.end() && *system == kSubsettedSystem && *code == kSubsettedCode)
            return;
    }
    tags.push_back({{"system", kSubsettedSystem}, {"code", kSubsettedCode}, {"display", kSubsettedDisplay}});
}

} // namespace fhir
