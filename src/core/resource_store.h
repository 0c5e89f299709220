// resource_store.h: read access to stored resources for core algorithms.
//
// Some searches mean something only together with other stored resources: a
// token `:in` names a ValueSet, `:below` needs the CodeSystem hierarchy, `_list`
// names a List. The algorithms that interpret those resources are pure C++
// (terminology.h, search_resolve.h); the glue implements this interface with
// SPI (src/pg/stored_resources.cpp) and the unit tests with an in-memory map.
#pragma once

#include "json.h"

#include <string>
#include <string_view>

namespace fhir {

class ResourceStore {
  public:
    virtual ~ResourceStore() = default;

    // The current resource of `type` (a canonical resource type such as ValueSet
    // or CodeSystem) whose `url` is `url` and, when `version` is not empty, whose
    // `version` is `version`; with several candidates the most recently updated.
    // nullptr when there is none. The pointer stays valid while the store lives.
    virtual const Json *find_canonical(std::string_view type, const std::string &url, const std::string &version) = 0;

    // The current resource `type`/`id`, or nullptr (absent or deleted). Valid while the store lives.
    virtual const Json *read(std::string_view type, const std::string &id) = 0;
};

} // namespace fhir
