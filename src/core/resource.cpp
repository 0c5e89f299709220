// resource.cpp: validation of resources before they are stored.
#include "resource.h"

#include "error.h"
#include "registry.h"
#include "resource_validation.h"

namespace fhir {

// True for the id characters FHIR allows.
static bool is_id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_valid_id(std::string_view id) {
    if (id.empty() || id.size() > 64)
        return false;
    for (char c : id)
        if (!is_id_char(c))
            return false;
    return true;
}

// Shortens user text quoted in error messages so a huge value cannot flood the log.
static std::string quote_for_message(std::string_view text) {
    constexpr size_t kMax = 80;
    if (text.size() <= kMax)
        return "\"" + std::string(text) + "\"";
    return "\"" + std::string(text.substr(0, kMax)) + "...\"";
}

ResourceIdentity validate_resource(const Json &resource, std::string_view expected_type) {
    if (!resource.is_object())
        throw Error(ErrorKind::InvalidResource,
                    std::string("a FHIR resource must be a JSON object, not ") + resource.type_name(),
                    operation_outcome("error", "structure", "resource is not a JSON object"));
    auto type_it = resource.find("resourceType");
    if (type_it == resource.end())
        throw Error(ErrorKind::InvalidResource, "resource has no resourceType",
                    operation_outcome("error", "required", "resourceType is missing"));
    if (!type_it->is_string())
        throw Error(ErrorKind::InvalidResource, "resourceType must be a string",
                    operation_outcome("error", "structure", "resourceType is not a string"));
    ResourceIdentity identity;
    identity.type = type_it->get<std::string>();
    if (!Registry::is_resource_type(identity.type))
        throw Error(ErrorKind::UnknownResourceType,
                    "unknown resourceType " + quote_for_message(identity.type),
                    operation_outcome("error", "not-supported", "unknown resourceType " + identity.type));
    if (!expected_type.empty() && identity.type != expected_type)
        throw Error(ErrorKind::InvalidResource,
                    "resourceType " + quote_for_message(identity.type) + " does not match " +
                        quote_for_message(expected_type),
                    operation_outcome("error", "invalid", "resourceType does not match the request"));
    auto id_it = resource.find("id");
    if (id_it != resource.end()) {
        if (!id_it->is_string())
            throw Error(ErrorKind::InvalidResource, "resource id must be a string",
                        operation_outcome("error", "structure", "id is not a string"));
        identity.id = id_it->get<std::string>();
        if (!is_valid_id(identity.id))
            throw Error(ErrorKind::InvalidResource,
                        "invalid resource id " + quote_for_message(identity.id) +
                            ": ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'",
                        operation_outcome("error", "value", "invalid id"));
    }
    auto meta_it = resource.find("meta");
    if (meta_it != resource.end() && !meta_it->is_object())
        throw Error(ErrorKind::InvalidResource, "resource meta must be an object",
                    operation_outcome("error", "structure", "meta is not an object"));
    enforce_validation(resource); // the R4 rules and limits, as fhir_search.validation says
    return identity;
}

std::string uuid_v4_from_bytes(const unsigned char bytes[16]) {
    static const char kHex[] = "0123456789abcdef";
    unsigned char b[16];
    for (int i = 0; i < 16; i++)
        b[i] = bytes[i];
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out.push_back('-');
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0f]);
    }
    return out;
}

std::string operation_outcome(std::string_view severity, std::string_view code, std::string_view diagnostics) {
    // ordered_json: FHIR clients expect resourceType first.
    nlohmann::ordered_json issue = {{"severity", severity}, {"code", code}, {"diagnostics", diagnostics}};
    nlohmann::ordered_json outcome = {{"resourceType", "OperationOutcome"}, {"issue", nlohmann::ordered_json::array({issue})}};
    return outcome.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace fhir

namespace fhir {

std::string partition_name(std::string_view resource_type) {
    std::string name = "resource_";
    for (char c : resource_type)
        name.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
    return name;
}

std::string partition_table(std::string_view resource_type) {
    if (!Registry::is_resource_type(resource_type))
        throw Error(ErrorKind::UnknownResourceType, "unknown resource type \"" + std::string(resource_type) + "\"");
    return "fhir." + partition_name(resource_type);
}

} // namespace fhir
