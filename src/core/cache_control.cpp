// cache_control.cpp: Cache-Control parsing (see cache_control.h).
#include "cache_control.h"

#include "error.h"

#include <cctype>
#include <string>

namespace fhir {

// Lowercased copy with surrounding blanks removed.
static std::string trimmed_lower(std::string_view text) {
    size_t b = 0, e = text.size();
    while (b < e && std::isspace(static_cast<unsigned char>(text[b])))
        b++;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1])))
        e--;
    std::string out(text.substr(b, e - b));
    for (char &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

CacheControl parse_cache_control(std::string_view header) {
    CacheControl cc;
    size_t start = 0;
    while (start <= header.size()) {
        size_t comma = header.find(',', start);
        if (comma == std::string_view::npos)
            comma = header.size();
        std::string directive = trimmed_lower(header.substr(start, comma - start));
        if (directive == "no-cache") {
            cc.no_cache = true;
        } else if (directive == "no-store") {
            cc.no_store = true;
        } else if (directive.rfind("max-results", 0) == 0) {
            size_t eq = directive.find('=');
            std::string value = eq == std::string::npos ? "" : trimmed_lower(directive.substr(eq + 1));
            bool digits = !value.empty() && value.size() <= 9;
            for (char c : value)
                digits = digits && std::isdigit(static_cast<unsigned char>(c));
            if (!digits || std::stoi(value) < 1)
                throw Error(ErrorKind::InvalidSearch, "invalid Cache-Control max-results '" + value + "'");
            cc.max_results = std::stoi(value);
        }
        start = comma + 1;
    }
    return cc;
}

} // namespace fhir
