// search_includes.h: _include and _revinclude (with :iterate) on a page of matches,
// for top-level and contained resources.
#pragma once

#include "search_pages.h"

#include <string>
#include <vector>

namespace fhir_pg {

// A resource of the page or added to it by _include/_revinclude: top-level, or
// contained (then `id` is its local id and the entry's fullUrl is the
// container's URL + "#" + id).
struct Included {
    int64_t rid;
    std::string type, id;
    Datum content;
    bool contained = false;
    std::string container_type, container_id;

    // "Type/id", or "ContainerType/containerId#localid": the entry's URL after the base.
    std::string path() const {
        return contained ? container_type + "/" + container_id + "#" + id : type + "/" + id;
    }
};

// Applies every _include/_revinclude of the query to a page: each included
// resource once, none that is already a match; :iterate repeats on what was
// included, at most fhir_search.max_include_rounds rounds (cycle-safe through the
// seen set), and at most fhir_search.max_included resources in all. When a limit
// cut the result, *limit_note says which (for a warning in the Bundle's
// OperationOutcome); it stays empty otherwise.
std::vector<Included> collect_includes(const SearchStatement &st, const Page &page, std::string *limit_note);

} // namespace fhir_pg
