// rest_request.cpp: the one-call responses, fhir.request() (any FHIR REST
// request: method, URL, body, headers), fhir.search_response() and
// fhir.read_response(), each returning one fhir.response row with everything an
// HTTP layer sends: status, body, Location, ETag, Last-Modified, cache status and
// timings. Nothing is kept in the session, so the row is right behind a pooler.
//
// The interaction runs in a subtransaction: a failure comes back as its HTTP
// status (rest_request.h: http_status_for_sqlstate) with an OperationOutcome
// body instead of an error, and leaves nothing written.
#include "pg_includes.h"

#include "conditional.h"
#include "conditional_cache.h"
#include "cpp_wrapper.h"
#include "everything.h"
#include "guc.h"
#include "patch_writer.h"
#include "pg_json.h"
#include "query_string.h"
#include "registry.h"
#include "resource.h"
#include "resource_writer.h"
#include "rest_request.h"
#include "result_cache.h"
#include "search_exec.h"
#include "spi.h"
#include "values.h"

#include <cctype>
#include <map>

extern "C" {
#include "funcapi.h"
#include "utils/guc.h"
}

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;
using fhir::Interaction;

struct Response {
    int status = 200;
    Datum body = 0; // jsonb, or 0 for none
    std::string location;
    std::string etag;
    std::optional<int64_t> last_modified; // unix micros
    std::string cache;                    // searches: HIT, MISS, BYPASS, UNAVAILABLE
    std::string cache_entry_id;
    bool timed = false; // parse/db/cache times are those of a search
    double parse_ms = 0, db_ms = 0, cache_ms = 0;
};

// Request headers by lower-case name (from a jsonb object of strings).
using Headers = std::map<std::string, std::string>;

Headers read_headers(Jsonb *headers) {
    Headers out;
    if (!headers)
        return out;
    fhir::Json json = jsonb_to_json(headers);
    if (!json.is_object())
        throw Error(ErrorKind::InvalidResource, "headers must be a JSON object of header names and values");
    for (auto it = json.begin(); it != json.end(); ++it) {
        std::string name = it.key();
        for (char &c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (it->is_string())
            out[name] = it->get<std::string>();
        else if (it->is_number_integer())
            out[name] = std::to_string(it->get<int64_t>());
        else if (!it->is_null())
            throw Error(ErrorKind::InvalidResource, "header \"" + it.key() + "\" must be a string");
    }
    return out;
}

std::string header(const Headers &headers, const char *name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

std::string etag_of(int version) { return "W/\"" + std::to_string(version) + "\""; }

Datum outcome_body(const char *severity, const char *code, const std::string &diagnostics) {
    return text_to_jsonb(fhir::operation_outcome(severity, code, diagnostics));
}

Response outcome_response(int status, const char *code, const std::string &diagnostics) {
    Response r;
    r.status = status;
    r.body = outcome_body(status >= 400 ? "error" : "information", code, diagnostics);
    return r;
}

// The resource of a request body (JSON text), parsed; its type must be the URL's.
struct BodyResource {
    fhir::Json parsed;
    Datum content = 0;
    fhir::ResourceIdentity identity;
};
BodyResource body_resource(const std::optional<std::string> &body, const std::string &type) {
    if (!body || body->empty())
        throw Error(ErrorKind::InvalidResource, "the request has no body; it needs a " +
                                                    (type.empty() ? std::string("resource") : type) + " resource");
    BodyResource out;
    out.parsed = fhir::Json::parse(*body, nullptr, false);
    if (out.parsed.is_discarded())
        throw Error(ErrorKind::InvalidJson, "the request body is not valid JSON",
                    fhir::operation_outcome("error", "structure", "the request body is not valid JSON"));
    out.identity = fhir::validate_resource(out.parsed, type);
    out.content = text_to_jsonb(*body);
    return out;
}

// The response body of a write, as Prefer asks (R4 http.html#ops).
Datum write_body(const fhir::Prefer &prefer, Datum resource, const std::string &what) {
    switch (prefer.return_) {
    case fhir::PreferReturn::Minimal:
        return 0;
    case fhir::PreferReturn::OperationOutcome:
        return outcome_body("information", "informational", what);
    default:
        return resource;
    }
}

// One stored version, current or in history.
struct Version {
    bool found = false;
    int version = 0;
    int64_t last_updated = 0;
    bool deleted = false;
    Datum content = 0; // in the caller's context
};

// The (version_id, last_updated, deleted, content) row of the last SPI result, if any.
Version version_row(uint64_t rows) {
    Version out;
    if (rows == 0)
        return out;
    out.found = true;
    out.version = spi_get_int32(0, 1);
    out.last_updated = timestamptz_to_unix_micros(DatumGetTimestampTz(spi_get_datum_outer(0, 2)));
    out.deleted = spi_get_bool(0, 3);
    out.content = spi_get_datum_outer(0, 4);
    return out;
}

// The current version of (type, id), or else its newest history row (a delete
// tombstone when the resource was deleted). Requires SPI.
Version newest_version(const std::string &type, const std::string &id) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT version_id, last_updated, false, content FROM " + fhir::partition_table(type) +
            " WHERE rtype = $1 AND id = $2 "
            "UNION ALL (SELECT version_id, last_updated, deleted, NULL::jsonb FROM fhir.resource_history "
            "WHERE rtype = $1 AND id = $2 ORDER BY version_id DESC LIMIT 1) LIMIT 1",
        {TEXTOID, TEXTOID});
    Datum v[2] = {text_datum(type), text_datum(id)};
    return version_row(spi_execute(plan, v, nullptr, true, 1));
}

// One version of (type, id). Requires SPI.
Version version_of(const std::string &type, const std::string &id, int version) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT version_id, last_updated, false, content FROM " + fhir::partition_table(type) +
            " WHERE rtype = $1 AND id = $2 AND version_id = $3 "
            "UNION ALL SELECT version_id, last_updated, deleted, content FROM fhir.resource_history "
            "WHERE rtype = $1 AND id = $2 AND version_id = $3 LIMIT 1",
        {TEXTOID, TEXTOID, INT4OID});
    Datum v[3] = {text_datum(type), text_datum(id), Int32GetDatum(version)};
    return version_row(spi_execute(plan, v, nullptr, true, 1));
}

// read and vread: 200, 304 (If-None-Match / If-Modified-Since), 404, 410.
Response read_interaction(const std::string &type, const std::string &id, std::optional<int> version,
                          const Headers &headers) {
    spi_connect();
    Version v = version ? version_of(type, id, *version) : newest_version(type, id);
    spi_finish();
    const std::string what = type + "/" + id + (version ? "/_history/" + std::to_string(*version) : "");
    if (!v.found)
        return outcome_response(404, "not-found", what + " is not known");
    Response r;
    r.etag = etag_of(v.version);
    r.last_modified = v.last_updated;
    if (v.deleted) {
        Response gone = outcome_response(410, "deleted", what + " was deleted (version " + std::to_string(v.version) + ")");
        gone.etag = r.etag;
        gone.last_modified = r.last_modified;
        return gone;
    }
    r.location = base_url_prefix() + type + "/" + id + "/_history/" + std::to_string(v.version);
    const std::string if_none_match = header(headers, "if-none-match");
    std::optional<int64_t> since = fhir::parse_http_date(header(headers, "if-modified-since"));
    bool not_modified = !if_none_match.empty() ? fhir::etag_version(if_none_match) == v.version
                                               : since && v.last_updated / 1000000 <= *since / 1000000;
    if (not_modified) {
        r.status = 304;
        return r;
    }
    r.body = v.content;
    return r;
}

// Runs `body` with fhir_search.strict_handling set as Prefer asks, if it asks.
template <typename Body>
Response with_handling(const fhir::Prefer &prefer, Body &&body) {
    if (!prefer.strict)
        return body();
    const char *value = *prefer.strict ? "on" : "off";
    int level = pg_call([value] {
        int nest = NewGUCNestLevel();
        (void)set_config_option("fhir_search.strict_handling", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                true, 0, false);
        return nest;
    });
    Response r = body(); // on error, the subtransaction's abort restores the setting
    pg_call([level] { AtEOXact_GUC(true, level); });
    return r;
}

Response search_interaction(const std::string &type, const std::string &query, const std::string &cache_control,
                            const std::string &compartment = std::string()) {
    Response r;
    r.body = run_search(type, std::string(fhir::query_of_url(query)), cache_control, compartment);
    SearchReport report = last_search_report();
    r.cache = report.cache;
    r.cache_entry_id = report.entry_id;
    r.timed = true;
    r.parse_ms = report.parse_ms;
    r.db_ms = report.db_ms;
    r.cache_ms = report.cache_ms;
    return r;
}

// The query of POST _search: the URL's query and the form body together.
std::string search_query(const fhir::RestRoute &route, const std::optional<std::string> &body) {
    std::string query = route.query;
    if (body && !body->empty())
        query += (query.empty() ? "" : "&") + *body;
    return query;
}

// The matches of a conditional interaction: exactly one, none (nullopt), or 412.
std::optional<std::string> single_match(const std::string &type, const std::string &query, const char *what) {
    std::vector<std::string> ids = match_conditional_cached(type, std::string(fhir::query_of_url(query)), 2);
    if (ids.size() > 1)
        throw Error(ErrorKind::PreconditionFailed,
                    std::string(what) + " \"" + type + "?" + query + "\" matched more than one resource",
                    fhir::operation_outcome("error", "multiple-matches",
                                            std::string(what) + " matched more than one resource"));
    if (ids.empty())
        return std::nullopt;
    return ids[0];
}

Response stored_response(const StoredResource &stored, const fhir::Prefer &prefer, const char *verb) {
    Response r;
    r.status = stored.created ? 201 : 200;
    r.etag = etag_of(stored.version);
    r.last_modified = stored.last_updated;
    r.location = base_url_prefix() + stored.type + "/" + stored.id + "/_history/" + std::to_string(stored.version);
    Datum content = stored.content;
    Datum resource = pg_call([content] { return SPI_datumTransfer(content, false, -1); });
    r.body = write_body(prefer, resource, stored.type + "/" + stored.id + " " + verb);
    return r;
}

Response create_interaction(const std::string &type, const std::optional<std::string> &body, const Headers &headers,
                            const fhir::Prefer &prefer) {
    BodyResource res = body_resource(body, type);
    spi_connect();
    const std::string if_none_exist = header(headers, "if-none-exist");
    if (!if_none_exist.empty()) {
        if (std::optional<std::string> existing = single_match(type, if_none_exist, "If-None-Exist")) {
            // R4: one match, so the create is ignored and the match returned (200).
            Version v = newest_version(type, *existing);
            spi_finish();
            Response r;
            r.etag = etag_of(v.version);
            r.last_modified = v.last_updated;
            r.location = base_url_prefix() + type + "/" + *existing + "/_history/" + std::to_string(v.version);
            r.body = write_body(prefer, v.content, type + "/" + *existing + " exists; nothing created");
            return r;
        }
    }
    StoredResource stored = write_resource(res.content, std::move(res.parsed), type, std::string(), std::nullopt);
    Response r = stored_response(stored, prefer, "created");
    spi_finish();
    return r;
}

std::optional<int> if_match_version(const Headers &headers) {
    const std::string value = header(headers, "if-match");
    if (value.empty())
        return std::nullopt;
    std::optional<int> version = fhir::etag_version(value);
    if (!version)
        throw Error(ErrorKind::InvalidResource, "If-Match \"" + value + "\" is not a version ETag such as W/\"3\"");
    return version;
}

Response update_interaction(const fhir::RestRoute &route, const std::optional<std::string> &body,
                            const Headers &headers, const fhir::Prefer &prefer) {
    BodyResource res = body_resource(body, route.type);
    std::optional<int> if_match = if_match_version(headers);
    spi_connect();
    std::string id = route.id;
    if (route.interaction == Interaction::ConditionalUpdate) {
        std::optional<std::string> match = single_match(route.type, route.query, "conditional update");
        if (match) {
            if (!res.identity.id.empty() && res.identity.id != *match)
                throw Error(ErrorKind::InvalidResource,
                            "the resource's id \"" + res.identity.id + "\" is not that of the match, \"" + *match + "\"");
            id = *match;
        } else {
            id = res.identity.id.empty() ? new_resource_id() : res.identity.id;
        }
    } else if (res.identity.id != route.id) {
        throw Error(ErrorKind::InvalidResource,
                    res.identity.id.empty() ? "the resource has no id; an update needs the URL's id \"" + route.id + "\""
                                            : "the resource's id \"" + res.identity.id + "\" is not the URL's id \"" +
                                                  route.id + "\"",
                    fhir::operation_outcome("error", "invalid", "the resource id must equal the id in the URL"));
    }
    StoredResource stored = write_resource(res.content, std::move(res.parsed), route.type, id, if_match);
    Response r = stored_response(stored, prefer, stored.created ? "created" : "updated");
    spi_finish();
    return r;
}

// PATCH: a JSON Patch (Content-Type application/json-patch+json) or a FHIRPath
// Patch (application/fhir+json); application/json or no Content-Type: the body's
// shape decides. Conditional: no match 404, several 412.
Response patch_interaction(const fhir::RestRoute &route, const std::optional<std::string> &body,
                           const Headers &headers, const fhir::Prefer &prefer) {
    const std::string content_type = header(headers, "content-type");
    const fhir::PatchMediaType media_type = fhir::patch_media_type(content_type);
    if (media_type == fhir::PatchMediaType::Unsupported)
        return outcome_response(415, "not-supported",
                                "Content-Type \"" + content_type +
                                    "\" is not a patch this server takes: application/json-patch+json (JSON Patch) "
                                    "or application/fhir+json (FHIRPath Patch)");
    if (!body || body->empty())
        throw Error(ErrorKind::InvalidResource, "the request has no body; PATCH needs a JSON Patch or a FHIRPath Patch",
                    fhir::operation_outcome("error", "required", "the PATCH request has no body"));
    fhir::Json patch = patch_document(*body);
    std::optional<int> if_match = if_match_version(headers);
    spi_connect();
    std::string id = route.id;
    if (route.interaction == Interaction::ConditionalPatch) {
        std::optional<std::string> match = single_match(route.type, route.query, "conditional patch");
        if (!match) {
            spi_finish();
            return outcome_response(404, "not-found", "no " + route.type + " matched \"" + route.query +
                                                          "\"; nothing patched");
        }
        id = *match;
    }
    StoredResource stored = patch_resource(route.type, id, patch, if_match, media_type);
    Response r = stored_response(stored, prefer, "patched");
    spi_finish();
    return r;
}

Response delete_interaction(const fhir::RestRoute &route, const fhir::Prefer &prefer) {
    spi_connect();
    std::string id = route.id;
    bool deleted = false;
    if (route.interaction == Interaction::ConditionalDelete) {
        if (std::optional<std::string> match = single_match(route.type, route.query, "conditional delete")) {
            id = *match;
            deleted = delete_resource(route.type, id);
        }
    } else {
        deleted = delete_resource(route.type, id);
    }
    spi_finish();
    // R4: deleting what is already gone has no effect and is not an error.
    const std::string what = id.empty() ? "no " + route.type + " matched; nothing deleted"
                             : deleted  ? route.type + "/" + id + " deleted"
                                        : route.type + "/" + id + " was not there; nothing deleted";
    if (prefer.return_ == fhir::PreferReturn::OperationOutcome)
        return outcome_response(200, "informational", what);
    Response r;
    r.status = 204;
    return r;
}

// A public SQL function of the API on bound arguments, returning its jsonb
// (the interactions whose logic lives in SQL-callable functions).
Datum call_api(const std::string &sql, const std::vector<Oid> &types, const std::vector<Datum> &values,
               const std::vector<bool> &nulls = {}) {
    spi_connect();
    SPIPlanPtr plan = prepare_cached(sql, types);
    std::vector<char> null_flags(values.size(), ' ');
    for (size_t i = 0; i < nulls.size(); i++)
        if (nulls[i])
            null_flags[i] = 'n';
    uint64_t n = spi_execute(plan, const_cast<Datum *>(values.data()), null_flags.data(), false, 1);
    Datum result = n ? spi_get_datum_outer(0, 1) : (Datum)0;
    spi_finish();
    return result;
}

Response transaction_interaction(const std::optional<std::string> &body) {
    BodyResource res = body_resource(body, "Bundle");
    Response r;
    r.body = call_api("SELECT fhir.transaction($1)", {JSONBOID}, {res.content});
    return r;
}

Response history_interaction(const fhir::RestRoute &route) {
    // fhir.history serves the three levels: type NULL for the system, id NULL for a type.
    const bool system = route.interaction == Interaction::HistorySystem;
    const bool instance = route.interaction == Interaction::HistoryInstance;
    Response r;
    r.body = call_api("SELECT fhir.history($1, $2, $3)", {TEXTOID, TEXTOID, TEXTOID},
                      {text_datum(route.type), text_datum(route.id), text_datum(route.query)},
                      {system, !instance, false});
    if (!r.body) {
        spi_connect();
        Version v = newest_version(route.type, route.id);
        spi_finish();
        if (!v.found)
            return outcome_response(404, "not-found", route.type + "/" + route.id + " is not known");
    }
    return r;
}

// The query of POST $everything: the URL's query and the Parameters body's
// parameters (name and a primitive value[x]) as query pairs.
std::string operation_query(const fhir::RestRoute &route, const std::optional<std::string> &body) {
    std::string query(fhir::query_of_url(route.query));
    if (!body || body->empty())
        return query;
    BodyResource parameters = body_resource(body, "Parameters");
    for (const fhir::Json &p : parameters.parsed.value("parameter", fhir::Json::array())) {
        if (!p.is_object() || !p.contains("name") || !p["name"].is_string())
            throw Error(ErrorKind::InvalidResource, "a Parameters.parameter without a name");
        std::string value;
        for (auto it = p.begin(); it != p.end(); ++it) {
            if (it.key().rfind("value", 0) != 0)
                continue;
            if (it.value().is_string())
                value = it.value().get<std::string>();
            else if (it.value().is_number_integer())
                value = std::to_string(it.value().get<int64_t>());
            else
                throw Error(ErrorKind::InvalidResource, "parameter " + p["name"].get<std::string>() +
                                                            " of $everything needs a primitive value");
        }
        query += (query.empty() ? "" : "&") + fhir::percent_encode(p["name"].get<std::string>()) + "=" +
                 fhir::percent_encode(value);
    }
    return query;
}

// Patient/1/$everything, Encounter/1/$everything: 404 for an unknown resource, 410 for a deleted one.
Response everything_interaction(const fhir::RestRoute &route, const std::optional<std::string> &body) {
    bool found = false;
    Response r;
    r.body = run_everything(route.type, route.id, operation_query(route, body), &found);
    if (found)
        return r;
    spi_connect();
    Version v = newest_version(route.type, route.id);
    spi_finish();
    const std::string what = route.type + "/" + route.id;
    if (v.found && v.deleted)
        return outcome_response(410, "deleted", what + " was deleted (version " + std::to_string(v.version) + ")");
    return outcome_response(404, "not-found", what + " is not known");
}

Response capabilities_interaction() {
    Response r;
    r.body = call_api("SELECT fhir.capability_statement()", {}, {});
    return r;
}

Response dispatch(const fhir::RestRoute &route, const std::optional<std::string> &body, const Headers &headers) {
    const fhir::Prefer prefer = fhir::parse_prefer(header(headers, "prefer"));
    switch (route.interaction) {
    case Interaction::Read:
        return read_interaction(route.type, route.id, std::nullopt, headers);
    case Interaction::VRead:
        return read_interaction(route.type, route.id, route.version, headers);
    case Interaction::Search:
        return with_handling(prefer, [&] {
            return search_interaction(route.type, search_query(route, body), header(headers, "cache-control"));
        });
    case Interaction::Create:
        return create_interaction(route.type, body, headers, prefer);
    case Interaction::Update:
    case Interaction::ConditionalUpdate:
        return update_interaction(route, body, headers, prefer);
    case Interaction::Delete:
    case Interaction::ConditionalDelete:
        return delete_interaction(route, prefer);
    case Interaction::Transaction:
        return transaction_interaction(body);
    case Interaction::HistoryInstance:
    case Interaction::HistoryType:
    case Interaction::HistorySystem:
        return history_interaction(route);
    case Interaction::Capabilities:
        return capabilities_interaction();
    case Interaction::CompartmentSearch:
        // Patient/1/Observation (type "" for Patient/1/*: every type in the compartment).
        return with_handling(prefer, [&] {
            return search_interaction(route.type, route.query, header(headers, "cache-control"),
                                      route.compartment_type + "/" + route.compartment_id);
        });
    case Interaction::Patch:
    case Interaction::ConditionalPatch:
        return patch_interaction(route, body, headers, prefer);
    case Interaction::Operation:
        if (route.operation == "everything" && !route.id.empty())
            return everything_interaction(route, body);
        throw Error(ErrorKind::UnsupportedFeature,
                    "operation $" + route.operation + (route.id.empty() ? " on a type" : "") + " is not supported");
    case Interaction::None:
        break;
    }
    throw Error(ErrorKind::Internal, "request without an interaction");
}

// The body of a failed interaction: the OperationOutcome in DETAIL, or one made
// from the message.
Datum failure_body(const SubtransactionFailure &failure, const char *code) {
    if (!failure.detail.empty()) {
        fhir::Json detail = fhir::Json::parse(failure.detail, nullptr, false);
        if (!detail.is_discarded() && detail.is_object() && detail.value("resourceType", "") == "OperationOutcome")
            return text_to_jsonb(failure.detail);
    }
    return outcome_body("error", code, failure.message);
}

const char *issue_code_for_status(int status) {
    switch (status) {
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 410:
        return "deleted";
    case 409:
        return "conflict";
    case 412:
        return "conflict";
    case 501:
        return "not-supported";
    case 503:
        return "transient";
    case 500:
        return "exception";
    default:
        return "invalid";
    }
}

// Runs a routed request in a subtransaction; a failure becomes its status and
// OperationOutcome.
Response run_request(const fhir::RestRoute &route, const std::optional<std::string> &body, const Headers &headers) {
    if (route.interaction == Interaction::None)
        return outcome_response(route.error_status, issue_code_for_status(route.error_status), route.error);
    Response response;
    SubtransactionFailure failure = run_in_subtransaction([&] { response = dispatch(route, body, headers); });
    if (!failure.failed)
        return response;
    const bool searching = route.interaction == Interaction::Search || route.interaction == Interaction::CompartmentSearch;
    char *code = pg_call([&failure] { return unpack_sql_state(failure.sqlstate); });
    Response r;
    r.status = fhir::http_status_for_sqlstate(code, !header(headers, "if-match").empty(), searching);
    r.body = failure_body(failure, issue_code_for_status(r.status));
    return r;
}

// The fhir.response row.
Datum response_datum(FunctionCallInfo fcinfo, const Response &r, int64_t started) {
    double total_ms = static_cast<double>(now_unix_micros() - started) / 1000.0;
    cache::Stats stats = cache::stats();
    Datum values[12];
    bool nulls[12];
    for (bool &n : nulls)
        n = true;
    auto set_text = [&](int i, const std::string &s) {
        if (!s.empty()) {
            values[i] = text_datum(s);
            nulls[i] = false;
        }
    };
    auto set_double = [&](int i, double d) {
        values[i] = Float8GetDatum(d);
        nulls[i] = false;
    };
    values[0] = Int32GetDatum(r.status);
    nulls[0] = false;
    if (r.body) {
        values[1] = r.body;
        nulls[1] = false;
    }
    set_text(2, r.location);
    set_text(3, r.etag);
    if (r.last_modified) {
        values[4] = TimestampTzGetDatum(unix_micros_to_timestamptz(*r.last_modified));
        nulls[4] = false;
    }
    set_text(5, r.cache);
    set_text(6, r.cache_entry_id);
    if (r.timed) {
        set_double(7, r.parse_ms);
        set_double(8, r.db_ms);
        set_double(9, r.cache_ms);
    }
    set_double(10, total_ms);
    if (stats.available)
        set_double(11, stats.hit_rate);
    return pg_call([fcinfo, &values, &nulls] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "fhir.response functions must return a composite type");
        desc = BlessTupleDesc(desc);
        if (desc->natts != 12)
            elog(ERROR, "fhir.response has %d columns, expected 12", desc->natts);
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

std::optional<std::string> optional_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_NARGS() <= n || PG_ARGISNULL(n))
        return std::nullopt;
    return optional_text_arg(fcinfo, n);
}

} // namespace
} // namespace fhir_pg

// fhir.request(method, url, body, headers): any FHIR REST request.
FHIR_FUNCTION(fhir_request) {
    using namespace fhir_pg;
    const int64_t started = now_unix_micros();
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        throw fhir::Error(fhir::ErrorKind::InvalidResource, "fhir.request needs a method and a URL");
    const std::string method = optional_text_arg(fcinfo, 0);
    const std::string url = optional_text_arg(fcinfo, 1);
    std::optional<std::string> body = optional_arg(fcinfo, 2);
    Jsonb *headers_jsonb = PG_NARGS() > 3 && !PG_ARGISNULL(3) ? pg_call([fcinfo] { return PG_GETARG_JSONB_P(3); })
                                                               : nullptr;
    Headers headers = read_headers(headers_jsonb);
    fhir::RestRoute route = fhir::route_request(method, url, base_url_prefix());
    Response r = run_request(route, body, headers);
    if (route.head)
        r.body = 0;
    return response_datum(fcinfo, r, started);
}

// fhir.search_response(type, query, cache_control, compartment): fhir.search as a response row.
FHIR_FUNCTION(fhir_search_response) {
    using namespace fhir_pg;
    const int64_t started = now_unix_micros();
    fhir::RestRoute route;
    route.interaction = fhir::Interaction::Search;
    route.type = optional_text_arg(fcinfo, 0);
    if (!PG_ARGISNULL(0) && !fhir::Registry::is_resource_type(route.type)) {
        route.interaction = fhir::Interaction::None;
        route.error_status = 404;
        route.error = "unknown resource type \"" + route.type + "\"";
    }
    route.query = optional_text_arg(fcinfo, 1);
    Headers headers;
    if (std::optional<std::string> cc = optional_arg(fcinfo, 2))
        headers["cache-control"] = *cc;
    if (std::optional<std::string> compartment = optional_arg(fcinfo, 3)) {
        // "Patient/123": routed like GET Patient/123/Type; a malformed one fails in the search (400).
        route.interaction = route.interaction == fhir::Interaction::None ? route.interaction
                                                                         : fhir::Interaction::CompartmentSearch;
        size_t slash = compartment->find('/');
        route.compartment_type = compartment->substr(0, slash);
        route.compartment_id = slash == std::string::npos ? std::string() : compartment->substr(slash + 1);
    }
    return response_datum(fcinfo, run_request(route, std::nullopt, headers), started);
}

// fhir.read_response(type, id, version_id): read or vread as a response row.
FHIR_FUNCTION(fhir_read_response) {
    using namespace fhir_pg;
    const int64_t started = now_unix_micros();
    fhir::RestRoute route;
    route.type = optional_text_arg(fcinfo, 0);
    route.id = optional_text_arg(fcinfo, 1);
    route.interaction = PG_NARGS() > 2 && !PG_ARGISNULL(2) ? fhir::Interaction::VRead : fhir::Interaction::Read;
    if (route.interaction == fhir::Interaction::VRead)
        route.version = PG_GETARG_INT32(2);
    if (!fhir::Registry::is_resource_type(route.type)) {
        route.interaction = fhir::Interaction::None;
        route.error_status = 404;
        route.error = "unknown resource type \"" + route.type + "\"";
    } else if (!fhir::is_valid_id(route.id)) {
        route.interaction = fhir::Interaction::None;
        route.error_status = 400;
        route.error = "invalid resource id \"" + route.id.substr(0, 80) + "\"";
    }
    return response_datum(fcinfo, run_request(route, std::nullopt, Headers()), started);
}
