// fhirpath_patch.cpp: FHIRPath Patch operations over fhir::Json (see fhirpath_patch.h).
//
// A path is evaluated with the search parameters' FHIRPath evaluator, whose
// nodes point into the document; each selected node is then located (a JSON
// Pointer found by walking the document to that address) and the operation edits
// the document there. The schema walk along the same pointer tells what the node
// is: the element it is a value of and the structure it has.
#include "fhirpath_patch.h"

#include "element_schema.h"
#include "error.h"
#include "fhirpath.h"
#include "json_pointer.h"
#include "patch_error.h"

#include <cctype>
#include <map>
#include <vector>

namespace fhir {

namespace {

using schema::Element;
using schema::Structure;

constexpr std::string_view kForm = "FHIRPath Patch";

// A value of an operation: a typed value (value[x] or a resource), or an
// anonymous element given as parts named by its children.
struct PatchValue {
    Json json;
    std::string type; // "" for an anonymous element
    std::vector<std::pair<std::string, PatchValue>> parts;
    bool anonymous() const { return type.empty(); }
};

// One operation as the Parameters state it.
struct Operation {
    std::string type, path, name;
    std::optional<PatchValue> value;
    std::optional<int64_t> index, source, destination;
};

// Where an element of the document is, and what the schema knows about it.
struct Site {
    JsonPointer pointer;
    const Structure *structure = nullptr; // of the value at the pointer, when known
    bool has_element = false;             // `element` is the one whose value is there
    Element element;
    bool in_list = false; // the pointer's last token is an index into the element's array
};

// The operation being applied: its index, name and place, for errors.
class Context {
  public:
    Context(size_t index, std::string op) : index_(index), op_(std::move(op)) {}

    [[noreturn]] void fail(const std::string &message, PatchIssue issue = PatchIssue::Processing) const {
        throw patch_error(kForm, index_, op_, message, issue, "Parameters.parameter[" + std::to_string(index_) + "]");
    }
    [[noreturn]] void invalid(const std::string &message) const { fail(message, PatchIssue::Invalid); }

  private:
    size_t index_;
    std::string op_;
};

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "a" or "an" before a word, for messages ("an add operation", "a string value").
std::string a(std::string_view word) {
    const bool vowel = !word.empty() && std::string_view("aeiouAEIOU").find(word[0]) != std::string_view::npos;
    return (vowel ? "an " : "a ") + std::string(word);
}

// ---- reading the Parameters ---------------------------------------------------

// The value[x] key of a part, or "" when it has none.
std::string value_key(const Json &part) {
    for (auto it = part.begin(); it != part.end(); ++it) {
        const std::string &key = it.key();
        if (key.size() > 5 && key.compare(0, 5, "value") == 0 && std::isupper(static_cast<unsigned char>(key[5])))
            return key;
    }
    return {};
}

PatchValue read_value(const Json &part, const std::string &what, const Context &ctx) {
    PatchValue value;
    const std::string key = value_key(part);
    if (!key.empty()) {
        value.type = schema::type_of_suffix(std::string_view(key).substr(5));
        if (value.type.empty())
            ctx.invalid(what + " has " + key + ", which names no R4 data type");
        value.json = part[key];
        if (!schema::json_kind_fits(value.json, value.type))
            ctx.invalid(what + "'s " + key + " is a JSON " + value.json.type_name() + ", not " + a(value.type));
        return value;
    }
    if (const Json *resource = json_member(part, "resource")) {
        const Json *type = json_member(*resource, "resourceType");
        if (!type || !type->is_string() || !schema::resource_structure(type->get_ref<const std::string &>()))
            ctx.invalid(what + "'s resource has no known resourceType");
        value.type = type->get<std::string>();
        value.json = *resource;
        return value;
    }
    const Json *parts = json_member(part, "part");
    if (!parts || !parts->is_array() || parts->empty())
        ctx.invalid(what + " has no value: a value[x], a resource or parts");
    for (size_t i = 0; i < parts->size(); i++) {
        const Json &child = (*parts)[i];
        const Json *name = json_member(child, "name");
        if (!name || !name->is_string() || name->get_ref<const std::string &>().empty())
            ctx.invalid(what + "'s part " + std::to_string(i) + " has no name");
        const std::string child_name = name->get<std::string>();
        value.parts.emplace_back(child_name, read_value(child, what + "'s part " + in_quotes(child_name), ctx));
    }
    return value;
}

// A string part (type, path, name): valueString, or valueCode for the type.
std::string read_string(const Json &part, const std::string &name, const Context &ctx) {
    for (const char *key : {"valueString", "valueCode"}) {
        const Json *value = json_member(part, key);
        if (value && value->is_string())
            return value->get<std::string>();
    }
    ctx.invalid("part " + in_quotes(name) + " needs a valueString" + (name == "type" ? " or valueCode" : ""));
}

// An integer part (index, source, destination).
int64_t read_integer(const Json &part, const std::string &name, const Context &ctx) {
    for (const char *key : {"valueInteger", "valueUnsignedInt", "valuePositiveInt"}) {
        const Json *value = json_member(part, key);
        if (value && value->is_number_integer())
            return value->get<int64_t>();
    }
    ctx.invalid("part " + in_quotes(name) + " needs a valueInteger");
}

Operation read_operation(const Json &parameter, const Context &ctx) {
    if (!parameter.is_object())
        ctx.invalid("a parameter must be an object");
    const Json *name = json_member(parameter, "name");
    if (!name || !name->is_string() || name->get_ref<const std::string &>() != "operation")
        ctx.invalid("every parameter of a FHIRPath Patch is named \"operation\"");
    const Json *parts = json_member(parameter, "part");
    if (!parts || !parts->is_array())
        ctx.invalid("the operation has no parts (type, path, ...)");
    Operation op;
    std::map<std::string, bool> seen;
    for (const Json &part : *parts) {
        const Json *part_name = part.is_object() ? json_member(part, "name") : nullptr;
        if (!part_name || !part_name->is_string())
            ctx.invalid("every part of an operation needs a name");
        const std::string &n = part_name->get_ref<const std::string &>();
        if (seen[n])
            ctx.invalid("part " + in_quotes(n) + " is given more than once");
        seen[n] = true;
        if (n == "type")
            op.type = read_string(part, n, ctx);
        else if (n == "path")
            op.path = read_string(part, n, ctx);
        else if (n == "name")
            op.name = read_string(part, n, ctx);
        else if (n == "value")
            op.value = read_value(part, "part \"value\"", ctx);
        else if (n == "index")
            op.index = read_integer(part, n, ctx);
        else if (n == "source")
            op.source = read_integer(part, n, ctx);
        else if (n == "destination")
            op.destination = read_integer(part, n, ctx);
        else
            ctx.invalid("unknown part " + in_quotes(n) +
                        " (an operation has type, path, name, value, index, source and destination)");
    }
    if (op.type.empty())
        ctx.invalid("the operation has no type (add, insert, delete, replace or move)");
    if (op.type != "add" && op.type != "insert" && op.type != "delete" && op.type != "replace" && op.type != "move")
        ctx.invalid("unknown operation type " + in_quotes(op.type) + " (add, insert, delete, replace or move)");
    if (op.path.empty())
        ctx.invalid("the operation has no path");
    auto require = [&](bool present, const char *part) {
        if (!present)
            ctx.invalid(a(op.type) + " operation needs a \"" + part + "\" part");
    };
    if (op.type == "add") {
        require(!op.name.empty(), "name");
        require(op.value.has_value(), "value");
    } else if (op.type == "insert") {
        require(op.index.has_value(), "index");
        require(op.value.has_value(), "value");
    } else if (op.type == "replace") {
        require(op.value.has_value(), "value");
    } else if (op.type == "move") {
        require(op.source.has_value(), "source");
        require(op.destination.has_value(), "destination");
    }
    return op;
}

// ---- finding elements -----------------------------------------------------------

// The pointer to the node at address `target` inside `node`, if it is there.
bool locate(const Json &node, const Json *target, std::vector<std::string> &tokens) {
    if (&node == target)
        return true;
    if (node.is_object()) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            tokens.push_back(it.key());
            if (locate(*it, target, tokens))
                return true;
            tokens.pop_back();
        }
    } else if (node.is_array()) {
        for (size_t i = 0; i < node.size(); i++) {
            tokens.push_back(std::to_string(i));
            if (locate(node[i], target, tokens))
                return true;
            tokens.pop_back();
        }
    }
    return false;
}

// What the schema says about the value at `pointer` (which exists in `doc`).
Site describe(const Json &doc, JsonPointer pointer) {
    Site site;
    const Json *type = json_member(doc, "resourceType");
    site.structure = type && type->is_string() ? schema::resource_structure(type->get_ref<const std::string &>()) : nullptr;
    const Json *node = &doc;
    for (const std::string &token : pointer.tokens()) {
        if (node->is_object()) {
            const Json &child = (*node)[token];
            site.has_element = site.structure && schema::find_element(*site.structure, token, &site.element);
            site.in_list = false;
            site.structure = site.has_element && !child.is_array() ? schema::value_structure(site.element, child) : nullptr;
            node = &child;
        } else {
            const Json &child = (*node)[*json_array_index(token)];
            site.in_list = true;
            site.structure = site.has_element ? schema::value_structure(site.element, child) : nullptr;
            node = &child;
        }
    }
    site.pointer = std::move(pointer);
    return site;
}

// The elements `path` selects in `doc`, each located; an error for a path that is
// not FHIRPath of the supported subset or selects values that are not elements of
// the document (literals, references resolved outside it).
std::vector<Site> select(const Json &doc, const std::string &path, const Context &ctx) {
    std::vector<fhirpath::Node> nodes;
    try {
        nodes = fhirpath::Expression::compile(path).evaluate(doc);
    } catch (const Error &e) {
        ctx.invalid("path " + in_quotes(path) + " is not a supported FHIRPath expression: " + e.what());
    }
    std::vector<Site> sites;
    for (const fhirpath::Node &node : nodes) {
        std::vector<std::string> tokens;
        if (!locate(doc, node.value, tokens))
            ctx.fail("path " + in_quotes(path) + " selects a value that is not an element of the resource");
        sites.push_back(describe(doc, JsonPointer(std::move(tokens))));
    }
    return sites;
}

// The one element `path` selects; an error for none or several.
Site select_one(const Json &doc, const std::string &path, const Context &ctx) {
    std::vector<Site> sites = select(doc, path, ctx);
    if (sites.empty())
        ctx.fail("path " + in_quotes(path) + " matches no element");
    if (sites.size() > 1)
        ctx.fail("path " + in_quotes(path) + " matches " + std::to_string(sites.size()) +
                 " elements; the operation needs exactly one");
    return sites[0];
}

// A readable name for an element of a structure ("Patient.contact.name").
std::string element_path(const Structure *structure, std::string_view name) {
    return (structure ? std::string(structure->name) + "." : std::string()) + std::string(name);
}

// ---- building values --------------------------------------------------------------

Json build_anonymous(const PatchValue &value, const Structure *structure, const std::string &what, const Context &ctx);

// A value placed as element `name` of an object of `structure`: its key and JSON.
struct Placed {
    std::string key;
    Json json;
};

Placed place(const PatchValue &value, const Structure *structure, const std::string &name, const Context &ctx) {
    const std::string what = element_path(structure, name);
    Element element;
    if (!structure)
        return {name, value.anonymous() ? build_anonymous(value, nullptr, what, ctx) : value.json};
    if (!schema::find_element(*structure, name, &element) && !schema::find_element_named(*structure, name, &element))
        ctx.invalid(std::string(structure->name) + " has no element " + in_quotes(name));
    if (element.choice()) {
        if (value.anonymous())
            ctx.invalid(what + " is a choice of types; give its value as a value[x]");
        // "value" takes any of the choice's types; "valueQuantity" only its own.
        std::vector<std::string_view> candidates =
            element.type.empty() ? element.types() : std::vector<std::string_view>{element.type};
        std::string_view chosen;
        for (std::string_view t : candidates)
            if (t == value.type)
                chosen = t;
        for (std::string_view t : candidates)
            if (chosen.empty() && schema::type_fits(value.type, t))
                chosen = t;
        if (chosen.empty())
            ctx.invalid(a(value.type) + " value cannot be " + what + " (" +
                        std::string(element.type.empty() ? std::string_view(element.row->types) : element.type) + ")");
        if (!schema::json_kind_fits(value.json, chosen))
            ctx.invalid("the value for " + what + " is not a valid " + std::string(chosen));
        return {schema::choice_key(element.name(), chosen), value.json};
    }
    Placed placed{std::string(element.name()), Json()};
    if (value.anonymous()) {
        const Structure *inner = schema::value_structure(element, Json());
        if (!inner)
            ctx.invalid(what + " is " + a(element.type) + "; give its value as a value[x]");
        placed.json = build_anonymous(value, inner, what, ctx);
        return placed;
    }
    if (!schema::type_fits(value.type, element.type))
        ctx.invalid(a(value.type) + " value cannot be " + what + " (" + std::string(element.type) + ")");
    if (!schema::json_kind_fits(value.json, element.type))
        ctx.invalid("the value for " + what + " is not a valid " + std::string(element.type));
    placed.json = value.json;
    return placed;
}

// An anonymous element from its parts; repeated names become arrays where the
// element repeats (and are an error where it does not).
Json build_anonymous(const PatchValue &value, const Structure *structure, const std::string &what, const Context &ctx) {
    Json object = Json::object();
    std::map<std::string, std::vector<Json>> by_key;
    std::map<std::string, bool> repeats;
    for (const auto &[name, part] : value.parts) {
        Placed placed = place(part, structure, name, ctx);
        Element element;
        repeats[placed.key] = structure ? schema::find_element(*structure, placed.key, &element) && element.repeats()
                                        : false;
        by_key[placed.key].push_back(std::move(placed.json));
    }
    for (auto &[key, values] : by_key) {
        if (repeats[key]) {
            object[key] = Json(std::move(values));
        } else if (values.size() == 1 || !structure) {
            object[key] = values.size() == 1 ? std::move(values[0]) : Json(std::move(values));
        } else {
            ctx.invalid(element_path(structure, key) + " does not repeat, but " + what + " has " +
                        std::to_string(values.size()) + " parts for it");
        }
    }
    return object;
}

// ---- editing ------------------------------------------------------------------------

// The key of the primitive extensions of key `key` ("_birthDate").
std::string extension_key(const std::string &key) { return "_" + key; }

// Removes (or with `keep_place`, nulls) index `i` of array `_key` of `object`
// when there is one, and the array itself when nothing but nulls is left.
void drop_extension_entry(Json &object, const std::string &key, size_t i, bool keep_place = false) {
    auto it = object.find(extension_key(key));
    if (it == object.end() || !it->is_array())
        return;
    if (i < it->size() && keep_place)
        (*it)[i] = nullptr;
    else if (i < it->size())
        it->erase(i);
    for (const Json &entry : *it)
        if (!entry.is_null())
            return;
    object.erase(it);
}

// Removes the value at `pointer` (not the root) and then every object or list
// that leaves empty, so the resource never holds {} or [].
void erase_at(Json &doc, const JsonPointer &pointer) {
    Json &parent = *pointer.parent().find(doc);
    if (parent.is_object()) {
        parent.erase(pointer.last());
        if (pointer.last().empty() || pointer.last()[0] != '_')
            parent.erase(extension_key(pointer.last()));
    } else {
        const size_t i = *json_array_index(pointer.last());
        parent.erase(i);
        JsonPointer list = pointer.parent();
        if (!list.is_root()) {
            Json &owner = *list.parent().find(doc);
            if (owner.is_object())
                drop_extension_entry(owner, list.last(), i);
        }
    }
    if (parent.empty() && !pointer.parent().is_root())
        erase_at(doc, pointer.parent());
}

// The list `path` names (for insert and move): its owner object and element.
struct ListSite {
    JsonPointer owner;
    std::string key;
    const Structure *structure = nullptr; // the owner's
};

ListSite select_list(const Json &doc, const std::string &path, const Context &ctx) {
    std::optional<ListPath> split = split_list_path(path);
    if (!split)
        ctx.invalid("path " + in_quotes(path) + " does not name a list: it must end in the list's element name");
    Site owner = select_one(doc, split->parent, ctx);
    const Json &object = *owner.pointer.find(doc);
    if (!object.is_object())
        ctx.fail("path " + in_quotes(split->parent) + " is " + a(object.type_name()) + ", which has no list " +
                 in_quotes(split->name));
    Element element;
    if (owner.structure) {
        if (!schema::find_element_named(*owner.structure, split->name, &element))
            ctx.invalid(std::string(owner.structure->name) + " has no element " + in_quotes(split->name));
        if (!element.repeats())
            ctx.invalid(element_path(owner.structure, split->name) + " is not a list (it does not repeat)");
    }
    const Json *list = json_member(object, split->name);
    if (list && !list->is_array())
        ctx.fail(element_path(owner.structure, split->name) + " is not a list in this resource");
    return {owner.pointer, split->name, owner.structure};
}

void apply_add(Json &doc, const Operation &op, const Context &ctx) {
    Site site = select_one(doc, op.path, ctx);
    Json &target = *site.pointer.find(doc);
    if (!target.is_object())
        ctx.fail("path " + in_quotes(op.path) + " is " + a(target.type_name()) +
                 "; add needs an element with children");
    Placed placed = place(*op.value, site.structure, op.name, ctx);
    Element element;
    const bool known = site.structure && schema::find_element(*site.structure, placed.key, &element);
    if (known && element.choice()) {
        for (auto it = target.begin(); it != target.end(); ++it) {
            Element other;
            if (schema::find_element(*site.structure, it.key(), &other) && other.row == element.row)
                ctx.fail(element_path(site.structure, std::string(element.name()) + "[x]") + " already has a value (" +
                         it.key() + "); use replace");
        }
    }
    auto existing = target.find(placed.key);
    const bool repeats = known ? element.repeats() : existing != target.end() && existing->is_array();
    if (repeats) {
        if (existing == target.end())
            target[placed.key] = Json::array({std::move(placed.json)});
        else if (existing->is_array())
            existing->push_back(std::move(placed.json));
        else
            ctx.fail(element_path(site.structure, placed.key) + " holds a single value where a list belongs");
        return;
    }
    if (existing != target.end())
        ctx.fail(element_path(site.structure, placed.key) + " already has a value; use replace");
    target[placed.key] = std::move(placed.json);
}

void apply_insert(Json &doc, const Operation &op, const Context &ctx) {
    ListSite list = select_list(doc, op.path, ctx);
    Json &owner = *list.owner.find(doc);
    const size_t size = owner.contains(list.key) ? owner[list.key].size() : 0;
    if (*op.index < 0 || static_cast<uint64_t>(*op.index) > size)
        ctx.fail("index " + std::to_string(*op.index) + " is outside the list " + in_quotes(op.path) + " (" +
                 std::to_string(size) + " elements: 0 to " + std::to_string(size) + " insert)");
    Placed placed = place(*op.value, list.structure, list.key, ctx);
    Json &items = owner[list.key];
    if (items.is_null())
        items = Json::array();
    const auto at = static_cast<std::ptrdiff_t>(*op.index);
    items.insert(items.begin() + at, std::move(placed.json));
    auto extensions = owner.find(extension_key(list.key));
    if (extensions != owner.end() && extensions->is_array() && static_cast<size_t>(at) <= extensions->size())
        extensions->insert(extensions->begin() + at, Json());
}

void apply_move(Json &doc, const Operation &op, const Context &ctx) {
    ListSite list = select_list(doc, op.path, ctx);
    Json &owner = *list.owner.find(doc);
    const size_t size = owner.contains(list.key) ? owner[list.key].size() : 0;
    for (auto [what, index] : {std::pair{"source", *op.source}, std::pair{"destination", *op.destination}})
        if (index < 0 || static_cast<uint64_t>(index) >= size)
            ctx.fail(std::string(what) + " " + std::to_string(index) + " is outside the list " + in_quotes(op.path) +
                     " (" + std::to_string(size) + " elements)");
    auto move_in = [&](Json &items) {
        Json moved = std::move(items[static_cast<size_t>(*op.source)]);
        items.erase(static_cast<size_t>(*op.source));
        items.insert(items.begin() + static_cast<std::ptrdiff_t>(*op.destination), std::move(moved));
    };
    move_in(owner[list.key]);
    auto extensions = owner.find(extension_key(list.key));
    if (extensions != owner.end() && extensions->is_array() && extensions->size() == size)
        move_in(*extensions);
}

void apply_delete(Json &doc, const Operation &op, const Context &ctx) {
    std::vector<Site> sites = select(doc, op.path, ctx);
    if (sites.empty())
        return; // R4: delete removes the element "if found"
    if (sites.size() > 1)
        ctx.fail("path " + in_quotes(op.path) + " matches " + std::to_string(sites.size()) +
                 " elements; delete removes exactly one");
    if (sites[0].pointer.is_root())
        ctx.fail("path " + in_quotes(op.path) + " is the resource itself, which a patch cannot delete");
    erase_at(doc, sites[0].pointer);
}

void apply_replace(Json &doc, const Operation &op, const Context &ctx) {
    Site site = select_one(doc, op.path, ctx);
    if (site.pointer.is_root())
        ctx.fail("path " + in_quotes(op.path) + " is the resource itself; replace its elements instead");
    JsonPointer pointer = site.pointer;
    // The element's owner object and the key the element has there.
    JsonPointer owner_pointer = site.in_list ? pointer.parent().parent() : pointer.parent();
    const std::string key = site.in_list ? pointer.parent().last() : pointer.last();
    Json &owner = *owner_pointer.find(doc);
    if (!owner.is_object()) { // a list in a list (FHIRPath does not select into one): no schema, no extensions
        *pointer.find(doc) = place(*op.value, nullptr, key, ctx).json;
        return;
    }
    const Structure *owner_structure = describe(doc, owner_pointer).structure;
    // A choice element takes the key of its new value's type (valueString -> valueQuantity).
    std::string name = key;
    if (site.has_element && site.element.choice())
        name = std::string(site.element.name());
    Placed placed = place(*op.value, owner_structure, name, ctx);
    Json &target = *pointer.find(doc);
    if (!target.is_object() && !site.in_list) // the old value's primitive extensions go with it
        owner.erase(extension_key(key));
    else if (!target.is_object())
        drop_extension_entry(owner, key, *json_array_index(pointer.last()), /*keep_place=*/true);
    if (placed.key != key) {
        owner.erase(key);
        owner[placed.key] = std::move(placed.json);
    } else {
        target = std::move(placed.json);
    }
}

} // namespace

std::optional<ListPath> split_list_path(std::string_view path) {
    int depth = 0;
    size_t last_dot = std::string_view::npos;
    for (size_t i = 0; i < path.size(); i++) {
        const char c = path[i];
        if (c == '\'' || c == '`') { // skip a quoted string or name
            for (i++; i < path.size() && path[i] != c; i++)
                if (path[i] == '\\')
                    i++;
        } else if (c == '(' || c == '[') {
            depth++;
        } else if (c == ')' || c == ']') {
            depth--;
        } else if (c == '.' && depth == 0) {
            last_dot = i;
        }
    }
    if (last_dot == std::string_view::npos || last_dot == 0)
        return std::nullopt;
    std::string_view name = path.substr(last_dot + 1);
    while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
        name.remove_suffix(1);
    if (name.size() >= 2 && name.front() == '`' && name.back() == '`')
        name = name.substr(1, name.size() - 2);
    else if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
        return std::nullopt;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return std::nullopt;
    if (name.empty())
        return std::nullopt;
    return ListPath{std::string(path.substr(0, last_dot)), std::string(name)};
}

Json apply_fhirpath_patch(const Json &resource, const Json &parameters) {
    const Json *type = json_member(parameters, "resourceType");
    if (!type || !type->is_string() || type->get_ref<const std::string &>() != "Parameters")
        throw patch_error(kForm, std::nullopt, {}, "a FHIRPath Patch must be a Parameters resource",
                          PatchIssue::Invalid);
    const Json *list = json_member(parameters, "parameter");
    if (list && !list->is_array())
        throw patch_error(kForm, std::nullopt, {}, "Parameters.parameter must be an array", PatchIssue::Invalid);
    Json doc = resource;
    if (!list)
        return doc;
    for (size_t i = 0; i < list->size(); i++) {
        Context reading(i, {});
        Operation op = read_operation((*list)[i], reading);
        Context ctx(i, op.type);
        if (op.type == "add")
            apply_add(doc, op, ctx);
        else if (op.type == "insert")
            apply_insert(doc, op, ctx);
        else if (op.type == "delete")
            apply_delete(doc, op, ctx);
        else if (op.type == "replace")
            apply_replace(doc, op, ctx);
        else
            apply_move(doc, op, ctx);
    }
    return doc;
}

} // namespace fhir
