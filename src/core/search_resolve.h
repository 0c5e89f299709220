// search_resolve.h: filling in search values that other stored resources define.
//
// Three kinds of clause mean nothing until resources the query names are read:
//   - token :in / :not-in  -> the codes of a ValueSet (terminology.h)
//   - token :below / :above -> a code and its descendants / ancestors in a CodeSystem
//   - _list                -> the ids of the clause's type on a List's entries
// The parser (search_query.h) leaves the ValueSet reference, system|code or List
// id in the value; StoredValueResolver reads the resources through a
// ResourceStore and fills SearchValue::codings or ::ids, so build_where() can
// bind them as one array (search_sql.h). The glue runs it after parsing and
// before building SQL, under the same snapshot as the search itself.
//
// _list semantics: an entry counts when its item is a reference "Type/id" (or an
// absolute URL ending in Type/id, optionally /_history/v, as chains read
// references) to the clause's type, and the entry is not marked deleted. A List
// that is not stored (or deleted) matches nothing, like `_id` of an unknown id.
#pragma once

#include "resource_store.h"
#include "search_query.h"
#include "terminology.h"

#include <string>
#include <vector>

namespace fhir {

class StoredValueResolver {
  public:
    explicit StoredValueResolver(ResourceStore &store);

    // Fills `resolved`, `codings` or `ids` of every value that needs stored
    // resources. Throws fhir::Error as terminology.h describes.
    void resolve(SearchQuery &query);

  private:
    void resolve_clause(SearchClause &clause);

    ResourceStore &store_;
    Terminology terminology_; // kept across queries: a system-level search resolves once per type
};

// True when `clause` needs StoredValueResolver before build_where().
bool needs_stored_values(const SearchClause &clause);

// The resource types StoredValueResolver reads for `query` (ValueSet and
// CodeSystem, List), so a cached result can depend on them.
std::vector<std::string> stored_value_types(const SearchQuery &query);

// The local "Type" and "id" a reference names ("Type/id", ".../Type/id", either
// with /_history/v), or false.
bool parse_local_reference(const std::string &reference, std::string *type, std::string *id);

} // namespace fhir
