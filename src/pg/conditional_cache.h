// conditional_cache.h: conditional matching through the match-URL cache.
// Requires an SPI connection.
#pragma once

#include <string>
#include <vector>

namespace fhir_pg {

// match_conditional(type, query, limit), answered from this backend's match-URL
// cache when fhir_search.match_url_cache_size > 0 and the remembered answer is
// still fresh (no write of `type` committed since it was searched, none by this
// transaction). Queries that read other types (chains, _has, modifiers) are always
// searched.
std::vector<std::string> match_conditional_cached(const std::string &type, const std::string &query, long limit);

} // namespace fhir_pg
