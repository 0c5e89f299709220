// http_mapping.cpp: content negotiation and header mapping of fhir-server.
#include "http_mapping.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace fhir_server {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Splits a header value at commas (none of the lists read here quote commas).
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (;;) {
        size_t end = s.find(sep, start);
        out.push_back(trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
        if (end == std::string_view::npos)
            return out;
        start = end + 1;
    }
}

// One element of an Accept-like list: the value before ';' and its q (1 without one).
std::pair<std::string, double> media_range(std::string_view item) {
    std::vector<std::string_view> parts = split(item, ';');
    double q = 1;
    for (size_t i = 1; i < parts.size(); i++) {
        std::string p = lower(parts[i]);
        if (p.rfind("q=", 0) == 0)
            q = std::strtod(p.c_str() + 2, nullptr);
    }
    return {lower(parts[0]), q};
}

int hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

// Form decoding of a query value: %XX and '+' as a space.
std::string decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '+')
            out += ' ';
        else if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else
            out += s[i];
    }
    return out;
}

bool is_json_format(const std::string &f) {
    // "application/fhir+json" arrives as "application/fhir json" when the '+' was not escaped.
    return f == "json" || f == "application/json" || f == "application/fhir+json" || f == "application/fhir json" ||
           f == "application/json+fhir" || f == "application/json fhir" || f == "text/json";
}

} // namespace

Negotiation negotiate_response_type(std::string_view target, std::string_view accept) {
    Negotiation n;
    size_t q = target.find('?');
    if (q != std::string_view::npos) {
        for (std::string_view pair : split(target.substr(q + 1), '&')) {
            if (pair.rfind("_format=", 0) != 0)
                continue;
            std::string value = lower(trim(decode(pair.substr(8))));
            size_t semi = value.find(';');
            if (semi != std::string::npos)
                value = std::string(trim(value.substr(0, semi)));
            if (!is_json_format(value)) {
                n.error_status = 406;
                n.error = "_format \"" + value + "\" is not served here; this server speaks JSON (application/fhir+json)";
                return n;
            }
            if (value == "application/json" || value == "text/json")
                n.content_type = "application/json; charset=utf-8";
            return n; // _format wins over Accept
        }
    }
    accept = trim(accept);
    if (accept.empty())
        return n;
    bool fhir_json = false, plain_json = false, any = false;
    for (std::string_view item : split(accept, ',')) {
        if (item.empty())
            continue;
        auto [type, quality] = media_range(item);
        if (quality <= 0)
            continue;
        if (type == "application/fhir+json" || type == "application/json+fhir")
            fhir_json = true;
        else if (type == "application/json" || type == "text/json")
            plain_json = true;
        else if (type == "*/*" || type == "application/*")
            any = true;
    }
    if (!fhir_json && !plain_json && !any) {
        n.error_status = 406;
        n.error = "Accept \"" + std::string(accept.substr(0, 200)) +
                  "\" names no media type this server sends: application/fhir+json or application/json";
        return n;
    }
    if (plain_json && !fhir_json)
        n.content_type = "application/json; charset=utf-8";
    return n;
}

Negotiation check_request_type(std::string_view content_type, std::string_view content_encoding) {
    Negotiation n;
    std::string encoding = lower(trim(content_encoding));
    if (!encoding.empty() && encoding != "identity") {
        n.error_status = 415;
        n.error = "Content-Encoding \"" + encoding + "\" is not accepted for request bodies";
        return n;
    }
    std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
    if (type.empty() || type == "application/fhir+json" || type == "application/json" ||
        type == "application/json+fhir" || type == "application/json-patch+json" ||
        type == "application/x-www-form-urlencoded")
        return n;
    n.error_status = 415;
    n.error = "Content-Type \"" + std::string(content_type.substr(0, 200)) +
              "\" is not read here: send application/fhir+json (application/json-patch+json for a JSON Patch, "
              "application/x-www-form-urlencoded for POST _search)";
    return n;
}

bool is_api_header(std::string_view n) {
    return n == "if-match" || n == "if-none-exist" || n == "if-none-match" || n == "if-modified-since" ||
           n == "prefer" || n == "cache-control" || n == "content-type";
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (char ch : s) {
        unsigned char c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += ch;
            }
        }
    }
    return out;
}

std::string headers_json(const std::vector<std::pair<std::string, std::string>> &headers) {
    std::string out = "{";
    for (const auto &[name, value] : headers) {
        if (out.size() > 1)
            out += ',';
        out += '"' + json_escape(name) + "\":\"" + json_escape(value) + '"';
    }
    return out + "}";
}

std::string operation_outcome(std::string_view severity, std::string_view code, std::string_view diagnostics) {
    return "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"" + json_escape(severity) +
           "\",\"code\":\"" + json_escape(code) + "\",\"diagnostics\":\"" + json_escape(diagnostics) + "\"}]}";
}

const char *issue_code(int status) {
    switch (status) {
    case 401:
        return "login";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 405:
    case 406:
    case 415:
    case 501:
        return "not-supported";
    case 408:
    case 503:
        return "transient";
    case 409:
        return "conflict";
    case 413:
    case 431:
        return "too-costly";
    case 500:
        return "exception";
    default:
        return "invalid";
    }
}

bool accepts_gzip(std::string_view accept_encoding) {
    for (std::string_view item : split(accept_encoding, ',')) {
        auto [coding, quality] = media_range(item);
        if ((coding == "gzip" || coding == "x-gzip" || coding == "*") && quality > 0)
            return true;
    }
    return false;
}

std::string http_date(double unix_seconds) {
    std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
    std::tm tm{};
    gmtime_r(&t, &tm);
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

} // namespace fhir_server
