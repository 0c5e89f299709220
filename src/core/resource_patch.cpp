// resource_patch.cpp: choosing and applying a patch form (see resource_patch.h).
#include "resource_patch.h"

#include "error.h"
#include "fhirpath_patch.h"
#include "json_patch.h"
#include "patch_error.h"
#include "resource.h"

#include <cctype>
#include <string>

namespace fhir {

namespace {

const char *form_name(PatchFormat format) {
    return format == PatchFormat::JsonPatch ? "JSON Patch" : "FHIRPath Patch";
}

// The string member `key` of a resource, or "" when absent or not a string.
std::string string_member(const Json &resource, const char *key) {
    const Json *value = json_member(resource, key);
    return value && value->is_string() ? value->get<std::string>() : std::string();
}

// Member `key` of an object, or null when absent (or `object` is no object).
Json member_or_null(const Json &object, const char *key) {
    const Json *value = json_member(object, key);
    return value ? *value : Json();
}

} // namespace

PatchFormat patch_format(const Json &patch) {
    if (patch.is_array())
        return PatchFormat::JsonPatch;
    if (patch.is_object() && string_member(patch, "resourceType") == "Parameters")
        return PatchFormat::FhirPathPatch;
    throw Error(ErrorKind::InvalidResource,
                "a patch must be a JSON Patch (a JSON array of operations) or a FHIRPath Patch (a Parameters "
                "resource), not " +
                    (patch.is_object() ? "a " + (string_member(patch, "resourceType").empty()
                                                     ? std::string("JSON object")
                                                     : string_member(patch, "resourceType") + " resource")
                                       : std::string("a JSON ") + patch.type_name()),
                operation_outcome("error", "invalid", "the patch is neither a JSON Patch nor a FHIRPath Patch"));
}

PatchMediaType patch_media_type(std::string_view content_type) {
    std::string type;
    for (char c : content_type.substr(0, content_type.find(';')))
        if (!std::isspace(static_cast<unsigned char>(c)))
            type.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (type.empty() || type == "application/json")
        return PatchMediaType::Any;
    if (type == "application/json-patch+json")
        return PatchMediaType::JsonPatch;
    if (type == "application/fhir+json")
        return PatchMediaType::FhirPathPatch;
    return PatchMediaType::Unsupported;
}

Json patch_resource(const Json &resource, const Json &patch, PatchMediaType expected) {
    const PatchFormat format = patch_format(patch);
    if ((expected == PatchMediaType::JsonPatch && format != PatchFormat::JsonPatch) ||
        (expected == PatchMediaType::FhirPathPatch && format != PatchFormat::FhirPathPatch))
        throw Error(ErrorKind::InvalidResource,
                    std::string("the body is a ") + form_name(format) + ", but Content-Type says " +
                        (expected == PatchMediaType::JsonPatch ? "application/json-patch+json (a JSON array)"
                                                               : "application/fhir+json (a Parameters resource)"),
                    operation_outcome("error", "invalid", "the patch does not match its Content-Type"));
    Json patched = format == PatchFormat::JsonPatch ? apply_json_patch(resource, patch)
                                                    : apply_fhirpath_patch(resource, patch);
    const std::string type = string_member(resource, "resourceType");
    const std::string id = string_member(resource, "id");
    if (!patched.is_object() || member_or_null(patched, "resourceType") != member_or_null(resource, "resourceType"))
        throw patch_error(form_name(format), std::nullopt, {},
                          "the patch changes resourceType; a patched " + type + " must stay one", PatchIssue::Invalid);
    if (member_or_null(patched, "id") != member_or_null(resource, "id"))
        throw patch_error(form_name(format), std::nullopt, {},
                          "the patch changes the id; " + type + "/" + id + " must keep it", PatchIssue::Invalid);
    return patched;
}

} // namespace fhir
