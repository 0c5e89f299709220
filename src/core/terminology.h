// terminology.h: value set expansion and code system subsumption over stored
// ValueSet and CodeSystem resources (FHIR R4 terminology, the parts search needs).
//
// A value set is expanded from what is stored, never guessed:
//   - a stored `expansion` that is complete (no offset, `total` not above the
//     codes present) is used as is: `contains`, nested, except abstract entries;
//   - otherwise `compose`: each include is the intersection of its system part
//     and its `valueSet` parts; the system part is the listed `concept`s (no
//     CodeSystem needed), or the stored CodeSystem's codes passing every
//     `filter`, or all its codes; includes are united and excludes (same forms)
//     removed. `compose.inactive = false` drops concepts whose property
//     `inactive` is true or `status` is retired/inactive.
//   - filters on property `concept` (or `code`): is-a, descendent-of, is-not-a,
//     generalizes, = and in, over the CodeSystem hierarchy.
// A CodeSystem's hierarchy comes from nested `concept`s and from the concept
// properties `parent` and `child` (by code, or any property declared with the
// concept-properties#parent/#child uri); several parents are allowed, cycles
// are harmless. Only CodeSystems with content `complete` (or no content) are
// used for system-wide includes, filters and subsumption.
//
// Everything that cannot be answered exactly throws fhir::Error naming the url:
// a ValueSet or CodeSystem that is not stored (InvalidSearch), a code not
// defined in its CodeSystem (InvalidSearch), a value set including itself
// (InvalidSearch), an unsupported filter, an incomplete CodeSystem or a partial
// expansion without compose (UnsupportedFeature). Nothing is silently dropped.
//
// One Terminology object per search: it remembers expansions and code system
// hierarchies, so a value set used twice (or by several types of a
// system-level search) is expanded once.
#pragma once

#include "json.h"
#include "resource_store.h"
#include "search_query.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fhir {

class Terminology {
  public:
    explicit Terminology(ResourceStore &store);
    ~Terminology();
    Terminology(const Terminology &) = delete;
    Terminology &operator=(const Terminology &) = delete;

    // The codes of the value set `reference`: a canonical "url" or "url|version",
    // or a literal "ValueSet/id". Sorted by (system, code), unique.
    const std::vector<Coding> &expand(const std::string &reference);

    // `code` and every code below it (is-a descendants) in the stored CodeSystem `system`.
    std::vector<Coding> subsumed_by(const std::string &system, const std::string &code);

    // `code` and every code above it (ancestors) in the stored CodeSystem `system`.
    std::vector<Coding> subsumers_of(const std::string &system, const std::string &code);

    // A CodeSystem's codes and hierarchy (defined in terminology.cpp).
    struct CodeSystemIndex;

  private:

    const CodeSystemIndex &code_system(const std::string &url, const std::string &version,
                                       const std::string &needed_by);
    const std::vector<Coding> &expand_reference(const std::string &reference, const std::string &included_by);
    std::vector<Coding> expand_resource(const Json &value_set, const std::string &label);
    std::vector<Coding> compose_codes(const Json &compose, const std::string &label);
    std::vector<Coding> include_codes(const Json &include, const std::string &label, bool inactive_too);
    std::vector<size_t> filter_codes(const CodeSystemIndex &cs, const Json &filter, const std::string &label);

    ResourceStore &store_;
    std::map<std::string, std::unique_ptr<CodeSystemIndex>> code_systems_; // "url|version"
    std::map<std::string, const std::vector<Coding> *> by_reference_; // into by_resource_
    std::map<const Json *, std::vector<Coding>> by_resource_;
    std::vector<std::pair<const Json *, std::string>> expanding_; // value sets being expanded, outermost first
};

} // namespace fhir
