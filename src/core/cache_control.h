// cache_control.h: the HTTP Cache-Control request header as fhir.search reads it.
//
// Smile CDR's query cache semantics: no-cache skips reuse of a cached result (a
// fresh result is still stored for paging); no-store neither reads nor stores and
// returns all results at once without paging; max-results=N caps the results.
// Other directives are ignored, as HTTP says unknown ones must be.
#pragma once

#include <optional>
#include <string_view>

namespace fhir {

struct CacheControl {
    bool no_cache = false;
    bool no_store = false;
    std::optional<int> max_results;
};

// Throws fhir::Error(InvalidSearch) for a malformed max-results value.
CacheControl parse_cache_control(std::string_view header);

} // namespace fhir
