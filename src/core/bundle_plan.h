// bundle_plan.h: turning a transaction or batch Bundle into an ordered list of writes.
//
// Pure planning, no database: validates each entry, works out its target
// (type, id, conditional query), orders entries the way FHIR requires (DELETE,
// POST, PUT/PATCH, GET), and finds the references that must be rewritten once
// ids are known (urn:uuid: fullUrls and conditional references Type?query).
#pragma once

#include "json.h"
#include "resource_patch.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fhir {

enum class BundleKind { Transaction, Batch };

struct PlannedEntry {
    size_t index = 0;           // position in Bundle.entry (responses keep this order)
    std::string method;         // POST, PUT, PATCH, DELETE, GET
    std::string type;           // target resource type
    std::string id;             // target id (PUT/DELETE/GET by id); for POST assigned later
    std::string conditional;    // query of a conditional PUT/PATCH/DELETE ("identifier=a|b"), else ""
    std::string if_none_exist;  // POST ifNoneExist query, else ""
    std::optional<int> if_match; // from request.ifMatch W/"n"
    std::string full_url;       // entry.fullUrl ("urn:uuid:..." or absolute), may be ""
    const Json *resource = nullptr;
    // PATCH: the patch is entry.resource, a Parameters (FHIRPath Patch), or a
    // Binary whose data (decoded here into binary_patch) is the patch its
    // contentType names (R4 http.html#transaction).
    bool is_binary_patch = false;
    std::string binary_patch;
    PatchMediaType patch_media_type = PatchMediaType::Any;
    std::string error;          // non-empty: the entry is invalid (batch reports it; transaction fails)
};

struct BundlePlan {
    BundleKind kind = BundleKind::Transaction;
    std::vector<PlannedEntry> entries; // in processing order
    size_t entry_count = 0;
};

// Throws fhir::Error when the Bundle itself is unusable (not a Bundle, wrong
// type, entry not an array). Per-entry problems land in PlannedEntry::error.
BundlePlan plan_bundle(const Json &bundle);

// Every distinct reference string in `resource` (values of "reference" keys at
// any depth) that is a urn:uuid: or a conditional reference ("Type?query").
std::vector<std::string> references_to_resolve(const Json &resource);

// Reference rewrites of a Bundle: fullUrl or conditional reference -> Type/id.
using ReferenceMap = std::map<std::string, std::string, std::less<>>;

// Replaces each exact JSON string "old" by "new" in JSON text (both unescaped
// forms must need no JSON escaping; urn:uuid and Type/id never do).
std::string rewrite_reference_strings(const std::string &json_text, const ReferenceMap &mapping);

// The same rewrite on a parsed document: every string value equal to a key of
// `mapping` becomes its value (object keys are left alone). Returns how many.
size_t rewrite_reference_values(Json &node, const ReferenceMap &mapping);

// Whether a conditional query ("identifier=a|b&active=true") reads nothing but
// resources of its own type: no chains, no _has, no _list, no modifiers (:in and
// :below read ValueSets and CodeSystems). Writes of other types cannot change
// what such a query matches.
bool conditional_reads_only_its_type(const std::string &query);

// Splits a conditional reference "Patient?identifier=a|b" into type and query.
bool split_conditional_reference(const std::string &reference, std::string *type, std::string *query);

} // namespace fhir
