// http_mapping.h: how fhir-server maps HTTP onto fhir.request() and back:
// content negotiation (_format, Accept, Content-Type), the request headers
// passed to the SQL API, and the pieces of a response (OperationOutcome bodies
// of the server's own errors, HTTP dates, gzip negotiation). Pure functions on
// strings: no sockets, no database.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fhir_server {

// The outcome of content negotiation: an error status (406, 415) with its
// reason, or the Content-Type of the response.
struct Negotiation {
    int error_status = 0;
    std::string error;
    std::string content_type = "application/fhir+json; charset=utf-8";
};

// _format in the query overrides Accept (R4 http.html#mime-type); only JSON is served.
Negotiation negotiate_response_type(std::string_view target, std::string_view accept);

// 415 unless a request body's Content-Type (and Content-Encoding) is one the API reads:
// application/fhir+json, application/json, application/json-patch+json, and the
// form encoding of POST _search. A body without Content-Type is read as JSON.
Negotiation check_request_type(std::string_view content_type, std::string_view content_encoding);

// The request headers fhir.request() reads, as a JSON object (names lower-case).
std::string headers_json(const std::vector<std::pair<std::string, std::string>> &headers);

// The headers fhir.request() reads (lower-case), to pick them out of a request.
bool is_api_header(std::string_view lower_name);

// An OperationOutcome with one issue, as JSON text.
std::string operation_outcome(std::string_view severity, std::string_view code, std::string_view diagnostics);

// The issue code of an OperationOutcome for a status the server answers itself.
const char *issue_code(int status);

// True when Accept-Encoding lets the response be gzipped (gzip with q > 0, or *).
bool accepts_gzip(std::string_view accept_encoding);

// An IMF-fixdate (RFC 9110) for Last-Modified.
std::string http_date(double unix_seconds);

// JSON string escaping (without the quotes).
std::string json_escape(std::string_view s);

} // namespace fhir_server
