// rest_request.h: an HTTP request of FHIR's RESTful API, read into the
// interaction it asks for (R4 http.html), without touching the database.
//
// fhir.request() (src/pg/rest_request.cpp) takes what an HTTP server receives,
// the method, the URL and a few headers, and runs the interaction; this file is
// the pure half: routing the URL, and reading ETag, Prefer and date headers.
//   GET  metadata                          capabilities
//   GET  Patient/1                          read        (HEAD like GET)
//   GET  Patient/1/_history/2               vread
//   GET  Patient?name=x, POST Patient/_search   search  (form body = query)
//   GET  ?_type=..., POST _search           system search
//   GET  Patient/1/Observation?code=x       compartment search ("*": every type)
//   GET  Patient/1/_history, Patient/_history, _history   history
//   POST Patient                            create      (If-None-Exist: conditional)
//   PUT  Patient/1, PUT Patient?identifier=x   update, conditional update
//   PATCH Patient/1, PATCH Patient?identifier=x patch, conditional patch
//   DELETE Patient/1, DELETE Patient?identifier=x delete, conditional delete
//   POST (empty path)                       transaction or batch Bundle
//   GET|POST Patient/1/$everything          an operation on an instance
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fhir {

enum class Interaction {
    None, // no route: see RestRoute::error_status
    Capabilities,
    Read,
    VRead,
    Search,            // type-level, or system-level when type is empty
    CompartmentSearch, // compartment_type/compartment_id, type ("" = every type)
    HistoryInstance,
    HistoryType,
    HistorySystem,
    Create,
    Update,
    ConditionalUpdate,
    Patch,
    ConditionalPatch,
    Delete,
    ConditionalDelete,
    Transaction, // transaction or batch: the Bundle's type says which
    Operation,   // $name on a type or an instance (operation holds the name without '$')
};

const char *interaction_name(Interaction interaction);

struct RestRoute {
    Interaction interaction = Interaction::None;
    std::string type;             // resource type of the path ("" for system level)
    std::string id;               // resource id (read, vread, update, patch, delete, history, operation)
    std::optional<int> version;   // vread
    std::string compartment_type; // compartment search: "Patient", ...
    std::string compartment_id;
    std::string operation;        // Operation: "everything", ...
    std::string query;            // the URL's query string, undecoded (without '?')
    bool head = false;            // HEAD: answer as GET, without a body
    int error_status = 0;         // Interaction::None: 400, 404 or 405
    std::string error;            // Interaction::None: why
};

// Routes `method` (case-insensitive) and `url`. The URL is the request target as
// an HTTP server sees it, relative to the FHIR base ("Patient/1?x=y", "/Patient/1")
// or absolute; `base_url` (fhir_search.base_url, may be empty) is stripped first,
// and so is its path ("/fhir/") from a target that starts with it. The path's
// first segment must be a resource type of the registry (404 otherwise), except
// for metadata, _history, _search and the empty path.
RestRoute route_request(std::string_view method, std::string_view url, std::string_view base_url);

// The version of an ETag as sent in If-Match (W/"3", "3" or 3); nullopt when the
// header is not one.
std::optional<int> etag_version(std::string_view etag);

// Prefer header values this API honours (R4 http.html#ops, search.html#errors).
enum class PreferReturn { Default, Minimal, Representation, OperationOutcome };
struct Prefer {
    PreferReturn return_ = PreferReturn::Default;
    std::optional<bool> strict; // handling=strict (true) / lenient (false)
};
Prefer parse_prefer(std::string_view header);

// An HTTP-date (RFC 9110: "Sun, 06 Nov 1994 08:49:37 GMT") as unix microseconds,
// for If-Modified-Since; nullopt when it is not one (the header is then ignored,
// as RFC 9110 says).
std::optional<int64_t> parse_http_date(std::string_view text);

// The HTTP status a FHIR server sends for an error with this SQLSTATE (the
// README's table). `if_match` says whether the request carried If-Match (a
// version conflict is then 412, else 409); `search` whether it was a search
// (an unsupported feature is then 400, else 501).
int http_status_for_sqlstate(std::string_view sqlstate, bool if_match, bool search);

} // namespace fhir
