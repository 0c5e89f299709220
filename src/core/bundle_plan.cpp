// bundle_plan.cpp: transaction/batch Bundle planning (see bundle_plan.h).
#include "bundle_plan.h"

#include "base64.h"
#include "query_string.h"
#include "error.h"
#include "registry.h"
#include "resource.h"

#include <algorithm>
#include <functional>
#include <string_view>

namespace fhir {

// FHIR's processing order for transaction entries.
static int method_rank(const std::string &method) {
    if (method == "DELETE")
        return 0;
    if (method == "POST")
        return 1;
    if (method == "PUT" || method == "PATCH")
        return 2;
    return 3; // GET, HEAD
}

// Parses W/"3" or "3" into 3.
static std::optional<int> parse_etag(const std::string &etag) {
    std::string digits;
    for (char c : etag)
        if (c >= '0' && c <= '9')
            digits.push_back(c);
        else if (c != 'W' && c != '/' && c != '"')
            return std::nullopt;
    if (digits.empty() || digits.size() > 9)
        return std::nullopt;
    return std::stoi(digits);
}

// Fills type/id/conditional of an entry from request.url ("Patient", "Patient/1",
// "Patient?identifier=x", with an optional leading base URL ignored).
static void parse_request_url(PlannedEntry &entry, std::string url) {
    size_t q = url.find('?');
    std::string path = q == std::string::npos ? url : url.substr(0, q);
    if (q != std::string::npos)
        entry.conditional = url.substr(q + 1);
    while (!path.empty() && path.back() == '/')
        path.pop_back();
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos)
            slash = path.size();
        if (slash > start)
            parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    // Find the last segment that names a resource type; what follows is the id.
    for (size_t i = parts.size(); i-- > 0;) {
        if (Registry::is_resource_type(parts[i])) {
            entry.type = parts[i];
            if (i + 1 < parts.size())
                entry.id = parts[i + 1];
            return;
        }
    }
    entry.error = "request.url \"" + url + "\" names no known resource type";
}

// Reads the patch of a PATCH entry: a Parameters resource, or a Binary holding
// a JSON Patch (or a FHIRPath Patch) as base64 data. Problems go to entry.error.
static void plan_patch(PlannedEntry &entry) {
    const Json *resource = entry.resource;
    const Json *type = resource ? json_member(*resource, "resourceType") : nullptr;
    if (type && type->is_string() && type->get_ref<const std::string &>() == "Parameters")
        return;
    if (!type || !type->is_string() || type->get_ref<const std::string &>() != "Binary") {
        entry.error = "PATCH needs entry.resource: a Binary holding the patch or a Parameters (FHIRPath Patch)";
        return;
    }
    const Json *content_type = json_member(*resource, "contentType");
    const Json *data = json_member(*resource, "data");
    entry.patch_media_type =
        fhir::patch_media_type(content_type && content_type->is_string() ? content_type->get<std::string>() : "");
    if (entry.patch_media_type == PatchMediaType::Unsupported) {
        entry.error = "the PATCH Binary's contentType \"" + content_type->get<std::string>() +
                      "\" is not application/json-patch+json or application/fhir+json";
        return;
    }
    std::optional<std::string> decoded =
        data && data->is_string() ? base64_decode(data->get_ref<const std::string &>()) : std::nullopt;
    if (!decoded) {
        entry.error = "the PATCH Binary has no base64 data";
        return;
    }
    entry.is_binary_patch = true;
    entry.binary_patch = std::move(*decoded);
}

// Plans one entry; problems go to entry.error.
static PlannedEntry plan_entry(const Json &item, size_t index) {
    PlannedEntry entry;
    entry.index = index;
    if (!item.is_object()) {
        entry.error = "entry is not an object";
        return entry;
    }
    if (item.contains("fullUrl") && item["fullUrl"].is_string())
        entry.full_url = item["fullUrl"].get<std::string>();
    if (item.contains("resource"))
        entry.resource = &item["resource"];
    const Json *request = item.contains("request") ? &item["request"] : nullptr;
    if (!request || !request->is_object() || !request->contains("method") || !(*request)["method"].is_string()) {
        entry.error = "entry.request.method is missing";
        return entry;
    }
    entry.method = (*request)["method"].get<std::string>();
    if (entry.method != "POST" && entry.method != "PUT" && entry.method != "PATCH" && entry.method != "DELETE" &&
        entry.method != "GET") {
        entry.error = "entry.request.method \"" + entry.method + "\" is not supported (POST, PUT, PATCH, DELETE, GET)";
        return entry;
    }
    if (!request->contains("url") || !(*request)["url"].is_string()) {
        entry.error = "entry.request.url is missing";
        return entry;
    }
    parse_request_url(entry, (*request)["url"].get<std::string>());
    if (!entry.error.empty())
        return entry;
    if (request->contains("ifNoneExist") && (*request)["ifNoneExist"].is_string())
        entry.if_none_exist = (*request)["ifNoneExist"].get<std::string>();
    if (request->contains("ifMatch") && (*request)["ifMatch"].is_string()) {
        entry.if_match = parse_etag((*request)["ifMatch"].get<std::string>());
        if (!entry.if_match) {
            entry.error = "entry.request.ifMatch is not a version ETag";
            return entry;
        }
    }
    if (entry.method == "POST" || entry.method == "PUT") {
        if (!entry.resource || !entry.resource->is_object()) {
            entry.error = "entry.resource is missing for " + entry.method;
            return entry;
        }
        try {
            ResourceIdentity identity = validate_resource(*entry.resource, entry.type);
            if (entry.method == "PUT" && entry.conditional.empty()) {
                if (entry.id.empty())
                    entry.error = "PUT needs request.url Type/id";
                else if (!identity.id.empty() && identity.id != entry.id)
                    entry.error = "resource id \"" + identity.id + "\" does not match request.url id \"" + entry.id + "\"";
            }
        } catch (const Error &e) {
            entry.error = e.what();
        }
    }
    if (entry.method == "PATCH")
        plan_patch(entry);
    if ((entry.method == "DELETE" || entry.method == "GET" || entry.method == "PATCH") && entry.id.empty() &&
        entry.conditional.empty())
        entry.error = entry.method + " needs request.url Type/id or Type?query";
    if (!entry.id.empty() && !is_valid_id(entry.id))
        entry.error = "invalid id \"" + entry.id + "\" in request.url";
    return entry;
}

BundlePlan plan_bundle(const Json &bundle) {
    if (!bundle.is_object() || bundle.value("resourceType", std::string()) != "Bundle")
        throw Error(ErrorKind::InvalidResource, "expected a Bundle resource",
                    operation_outcome("error", "invalid", "not a Bundle"));
    std::string type = bundle.value("type", std::string());
    BundlePlan plan;
    if (type == "transaction")
        plan.kind = BundleKind::Transaction;
    else if (type == "batch")
        plan.kind = BundleKind::Batch;
    else
        throw Error(ErrorKind::InvalidResource,
                    "Bundle.type must be \"transaction\" or \"batch\", not \"" + type + "\"",
                    operation_outcome("error", "invalid", "unsupported Bundle.type"));
    if (bundle.contains("entry")) {
        const Json &entries = bundle["entry"];
        if (!entries.is_array())
            throw Error(ErrorKind::InvalidResource, "Bundle.entry must be an array");
        for (size_t i = 0; i < entries.size(); i++)
            plan.entries.push_back(plan_entry(entries[i], i));
    }
    plan.entry_count = plan.entries.size();
    std::stable_sort(plan.entries.begin(), plan.entries.end(), [](const PlannedEntry &a, const PlannedEntry &b) {
        return method_rank(a.method) < method_rank(b.method);
    });
    return plan;
}

std::vector<std::string> references_to_resolve(const Json &resource) {
    std::vector<std::string> found;
    std::function<void(const Json &)> walk = [&](const Json &node) {
        if (node.is_object()) {
            for (auto it = node.begin(); it != node.end(); ++it) {
                if (it.key() == "reference" && it->is_string()) {
                    const std::string &ref = it->get_ref<const std::string &>();
                    bool urn = ref.rfind("urn:uuid:", 0) == 0 || ref.rfind("urn:oid:", 0) == 0;
                    std::string type, query;
                    if (urn || split_conditional_reference(ref, &type, &query))
                        found.push_back(ref);
                } else {
                    walk(*it);
                }
            }
        } else if (node.is_array()) {
            for (const auto &child : node)
                walk(child);
        }
    };
    walk(resource);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

bool split_conditional_reference(const std::string &reference, std::string *type, std::string *query) {
    size_t q = reference.find('?');
    if (q == std::string::npos || q == 0)
        return false;
    std::string t = reference.substr(0, q);
    if (!Registry::is_resource_type(t))
        return false;
    *type = t;
    *query = reference.substr(q + 1);
    return true;
}

std::string rewrite_reference_strings(const std::string &json_text, const ReferenceMap &mapping) {
    if (mapping.empty())
        return json_text;
    std::string out;
    out.reserve(json_text.size() + json_text.size() / 8);
    size_t i = 0, copied = 0; // json_text[copied, i) is still to copy
    while (i < json_text.size()) {
        if (json_text[i] != '"') {
            i++;
            continue;
        }
        // One JSON string token, replaced when it matches exactly.
        size_t j = i + 1;
        while (j < json_text.size() && json_text[j] != '"') {
            if (json_text[j] == '\\')
                j++;
            j++;
        }
        std::string_view token(json_text.data() + i + 1, std::min(j, json_text.size()) - i - 1);
        auto it = mapping.find(token);
        if (it != mapping.end()) {
            out.append(json_text, copied, i + 1 - copied);
            out += it->second;
            copied = j; // the closing quote is copied with what follows
        }
        i = j + 1;
    }
    if (copied < json_text.size())
        out.append(json_text, copied, std::string::npos);
    return out;
}

size_t rewrite_reference_values(Json &node, const ReferenceMap &mapping) {
    size_t n = 0;
    if (node.is_string()) {
        auto it = mapping.find(node.get_ref<const std::string &>());
        if (it != mapping.end()) {
            node = it->second;
            n++;
        }
    } else if (node.is_object() || node.is_array()) {
        for (auto &child : node)
            n += rewrite_reference_values(child, mapping);
    }
    return n;
}

bool conditional_reads_only_its_type(const std::string &query) {
    for (const QueryPair &pair : split_query_string(query)) {
        const std::string &name = pair.name;
        if (name.find_first_of(".:") != std::string::npos || name.rfind("_has", 0) == 0 || name == "_list")
            return false;
    }
    return true;
}

} // namespace fhir
