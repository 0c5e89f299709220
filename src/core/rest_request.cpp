// rest_request.cpp: routing FHIR REST requests and reading their headers.
#include "rest_request.h"

#include "error.h"
#include "query_string.h"
#include "registry.h"

#include <cctype>
#include <vector>

namespace fhir {

const char *interaction_name(Interaction interaction) {
    switch (interaction) {
    case Interaction::None:
        return "none";
    case Interaction::Capabilities:
        return "capabilities";
    case Interaction::Read:
        return "read";
    case Interaction::VRead:
        return "vread";
    case Interaction::Search:
        return "search";
    case Interaction::CompartmentSearch:
        return "compartment-search";
    case Interaction::HistoryInstance:
        return "history-instance";
    case Interaction::HistoryType:
        return "history-type";
    case Interaction::HistorySystem:
        return "history-system";
    case Interaction::Create:
        return "create";
    case Interaction::Update:
        return "update";
    case Interaction::ConditionalUpdate:
        return "conditional-update";
    case Interaction::Patch:
        return "patch";
    case Interaction::ConditionalPatch:
        return "conditional-patch";
    case Interaction::Delete:
        return "delete";
    case Interaction::ConditionalDelete:
        return "conditional-delete";
    case Interaction::Transaction:
        return "transaction";
    case Interaction::Operation:
        return "operation";
    }
    return "none";
}

namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    for (char &c : out)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// "http://host:8080/fhir/x" -> "/fhir/x"; text without a scheme is returned as is.
std::string_view path_of_absolute(std::string_view url) {
    size_t scheme = url.find("://");
    if (scheme == std::string_view::npos || url.find_first_of("/?") < scheme)
        return url;
    size_t path = url.find_first_of("/?", scheme + 3);
    return path == std::string_view::npos ? std::string_view() : url.substr(path);
}

RestRoute no_route(int status, std::string why) {
    RestRoute route;
    route.error_status = status;
    route.error = std::move(why);
    return route;
}

bool is_valid_id_segment(const std::string &id) {
    if (id.empty() || id.size() > 64)
        return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
            return false;
    return true;
}

} // namespace

RestRoute route_request(std::string_view method_text, std::string_view url, std::string_view base_url) {
    const std::string method = upper(method_text);
    bool head = method == "HEAD";
    const std::string verb = head ? "GET" : method;
    if (verb != "GET" && verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE")
        return no_route(405, "HTTP method " + method + " is not part of FHIR's RESTful API");

    // Strip the base: the whole configured base URL, else scheme and host, then the
    // base's path.
    std::string_view target = url;
    if (!base_url.empty() && starts_with(target, base_url))
        target.remove_prefix(base_url.size());
    else {
        target = path_of_absolute(target);
        std::string_view base_path = path_of_absolute(base_url);
        if (base_path.size() > 1 && base_path != base_url && starts_with(target, base_path))
            target.remove_prefix(base_path.size());
    }
    std::string_view fragmentless = target.substr(0, target.find('#'));
    size_t qmark = fragmentless.find('?');
    std::string_view path = fragmentless.substr(0, qmark);
    RestRoute route;
    route.head = head;
    if (qmark != std::string_view::npos)
        route.query = std::string(fragmentless.substr(qmark + 1));

    std::vector<std::string> segments;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t slash = path.find('/', pos);
        if (slash == std::string_view::npos)
            slash = path.size();
        if (slash > pos) {
            try {
                segments.push_back(percent_decode(path.substr(pos, slash - pos)));
            } catch (const Error &e) {
                // a malformed escape or invalid UTF-8 in the path is the client's error
                return no_route(400, std::string("malformed URL path: ") + e.what());
            }
        }
        pos = slash + 1;
    }
    const size_t n = segments.size();
    auto is_type = [](const std::string &s) { return Registry::is_resource_type(s); };
    auto not_allowed = [&](const std::string &what) {
        return no_route(405, "HTTP method " + method + " is not allowed on " + what);
    };
    auto bad_id = [&](const std::string &id) {
        return no_route(400, "invalid resource id \"" + id + "\": ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'");
    };

    if (n == 0) {
        if (verb == "POST")
            route.interaction = Interaction::Transaction;
        else if (verb == "GET")
            route.interaction = Interaction::Search; // system level
        else
            return not_allowed("the base URL");
        return route;
    }
    const std::string &first = segments[0];
    if (n == 1 && first == "metadata") {
        if (verb != "GET")
            return not_allowed("metadata");
        route.interaction = Interaction::Capabilities;
        return route;
    }
    if (n == 1 && first == "_history") {
        if (verb != "GET")
            return not_allowed("_history");
        route.interaction = Interaction::HistorySystem;
        return route;
    }
    if (n == 1 && first == "_search") {
        if (verb != "POST")
            return not_allowed("_search");
        route.interaction = Interaction::Search;
        return route;
    }
    if (!first.empty() && first[0] == '$')
        return no_route(501, "operation " + first + " at the system level is not supported");
    if (!is_type(first))
        return no_route(404, "unknown resource type \"" + first + "\"");
    route.type = first;

    if (n == 1) {
        if (verb == "GET")
            route.interaction = Interaction::Search;
        else if (verb == "POST")
            route.interaction = Interaction::Create;
        else {
            if (route.query.empty())
                return no_route(400, "HTTP method " + method + " on " + first +
                                         " needs a resource id or a search (a conditional " +
                                         (verb == "PUT" ? "update" : verb == "PATCH" ? "patch" : "delete") + ")");
            route.interaction = verb == "PUT"     ? Interaction::ConditionalUpdate
                                : verb == "PATCH" ? Interaction::ConditionalPatch
                                                  : Interaction::ConditionalDelete;
        }
        return route;
    }
    const std::string &second = segments[1];
    if (n == 2) {
        if (second == "_search") {
            if (verb != "POST")
                return not_allowed(first + "/_search");
            route.interaction = Interaction::Search;
            return route;
        }
        if (second == "_history") {
            if (verb != "GET")
                return not_allowed(first + "/_history");
            route.interaction = Interaction::HistoryType;
            return route;
        }
        if (!second.empty() && second[0] == '$') {
            route.interaction = Interaction::Operation;
            route.operation = second.substr(1);
            return route;
        }
        if (!is_valid_id_segment(second))
            return bad_id(second);
        route.id = second;
        if (verb == "GET")
            route.interaction = Interaction::Read;
        else if (verb == "PUT")
            route.interaction = Interaction::Update;
        else if (verb == "PATCH")
            route.interaction = Interaction::Patch;
        else if (verb == "DELETE")
            route.interaction = Interaction::Delete;
        else
            return not_allowed(first + "/" + second + " (create is POST " + first + ")");
        return route;
    }
    if (!is_valid_id_segment(second))
        return bad_id(second);
    route.id = second;
    const std::string &third = segments[2];
    if (n == 3 && third == "_history") {
        if (verb != "GET")
            return not_allowed(first + "/" + second + "/_history");
        route.interaction = Interaction::HistoryInstance;
        return route;
    }
    if (n == 3 && !third.empty() && third[0] == '$') {
        if (verb != "GET" && verb != "POST")
            return not_allowed(first + "/" + second + "/" + third);
        route.interaction = Interaction::Operation;
        route.operation = third.substr(1);
        return route;
    }
    if (n == 3 && (third == "*" || is_type(third))) {
        if (verb != "GET")
            return not_allowed("a compartment");
        route.interaction = Interaction::CompartmentSearch;
        route.compartment_type = first;
        route.compartment_id = second;
        route.type = third == "*" ? std::string() : third;
        route.id.clear();
        return route;
    }
    if (n == 4 && third == "_history") {
        if (verb != "GET")
            return not_allowed("a version");
        const std::string &v = segments[3];
        int version = 0;
        bool digits = !v.empty() && v.size() <= 9;
        for (char c : v) {
            digits = digits && std::isdigit(static_cast<unsigned char>(c));
            if (digits)
                version = version * 10 + (c - '0');
        }
        if (!digits || version < 1)
            return no_route(404, "no version \"" + v + "\" of " + first + "/" + second);
        route.interaction = Interaction::VRead;
        route.version = version;
        return route;
    }
    if (n == 4 && is_type(third) && segments[3] == "_search")
        return no_route(501, "POST _search in a compartment is not supported; use GET");
    return no_route(404, "no FHIR interaction at \"" + std::string(path) + "\"");
}

std::optional<int> etag_version(std::string_view etag) {
    while (!etag.empty() && etag.front() == ' ')
        etag.remove_prefix(1);
    while (!etag.empty() && etag.back() == ' ')
        etag.remove_suffix(1);
    if (starts_with(etag, "W/"))
        etag.remove_prefix(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
        etag = etag.substr(1, etag.size() - 2);
    if (etag.empty() || etag.size() > 9)
        return std::nullopt;
    int version = 0;
    for (char c : etag) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        version = version * 10 + (c - '0');
    }
    return version;
}

Prefer parse_prefer(std::string_view header) {
    Prefer prefer;
    size_t pos = 0;
    while (pos < header.size()) {
        size_t end = header.find_first_of(",;", pos);
        if (end == std::string_view::npos)
            end = header.size();
        std::string_view token = header.substr(pos, end - pos);
        while (!token.empty() && token.front() == ' ')
            token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ')
            token.remove_suffix(1);
        if (token == "return=minimal")
            prefer.return_ = PreferReturn::Minimal;
        else if (token == "return=representation")
            prefer.return_ = PreferReturn::Representation;
        else if (token == "return=OperationOutcome")
            prefer.return_ = PreferReturn::OperationOutcome;
        else if (token == "handling=strict")
            prefer.strict = true;
        else if (token == "handling=lenient")
            prefer.strict = false;
        pos = end + 1;
    }
    return prefer;
}

namespace {
// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
} // namespace

std::optional<int64_t> parse_http_date(std::string_view text) {
    // IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"), the form RFC 9110 says to send.
    if (text.size() != 29 || text[3] != ',' || text.substr(25) != " GMT")
        return std::nullopt;
    static const char *const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto number = [&](size_t at, size_t len) -> int {
        int v = 0;
        for (size_t i = at; i < at + len; i++) {
            if (!std::isdigit(static_cast<unsigned char>(text[i])))
                return -1;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    int day = number(5, 2), year = number(12, 4), hour = number(17, 2), minute = number(20, 2), second = number(23, 2);
    unsigned month = 0;
    for (unsigned i = 0; i < 12; i++)
        if (text.substr(8, 3) == kMonths[i])
            month = i + 1;
    if (day < 1 || day > 31 || year < 0 || month == 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
        second < 0 || second > 60 || text[16] != ' ' || text[19] != ':' || text[22] != ':')
        return std::nullopt;
    int64_t days = days_from_civil(year, month, static_cast<unsigned>(day));
    return ((days * 24 + hour) * 60 + minute) * 60 * INT64_C(1000000) + static_cast<int64_t>(second) * 1000000;
}

int http_status_for_sqlstate(std::string_view sqlstate, bool if_match, bool search) {
    if (sqlstate.size() != 5)
        return 500;
    if (sqlstate == "22P02" || sqlstate == "22023" || sqlstate == "22021" || sqlstate == "22007" ||
        sqlstate == "22008" || sqlstate == "22003")
        return 400;
    if (sqlstate == "42704")
        return 400; // a resource type in the path was routed (404) before anything ran
    if (sqlstate == "0A000")
        return search ? 400 : 501;
    if (sqlstate == "FH404")
        return 404;
    if (sqlstate == "FH410")
        return 410;
    if (sqlstate == "FH409")
        return if_match ? 412 : 409;
    if (sqlstate == "FH412")
        return 412;
    if (sqlstate == "42501")
        return 403;
    if (sqlstate == "57014" || sqlstate == "55P03" || sqlstate.substr(0, 2) == "53")
        return 503;
    if (sqlstate == "40001" || sqlstate == "40P01")
        return 409;
    if (sqlstate.substr(0, 2) == "22")
        return 400;
    return 500;
}

} // namespace fhir
