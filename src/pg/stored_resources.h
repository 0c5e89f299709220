// stored_resources.h: the core's ResourceStore (resource_store.h) over SPI.
//
// Reads the current version of ValueSets, CodeSystems and Lists that a search
// names (token :in/:not-in/:above/:below, _list) from their partitions, with
// bound parameters only, and keeps each one (as fhir::Json) for the life of the
// object, i.e. one search. Requires an SPI connection; throws PgError for
// database errors.
#pragma once

#include "pg_includes.h"

#include "resource_store.h"

#include <map>
#include <memory>
#include <string>

namespace fhir_pg {

class SpiResourceStore : public fhir::ResourceStore {
  public:
    // `read_only` as for spi_execute: true inside a search (the search's
    // snapshot), false where earlier writes of the same statement must be seen.
    explicit SpiResourceStore(bool read_only) : read_only_(read_only) {}

    const fhir::Json *find_canonical(std::string_view type, const std::string &url,
                                     const std::string &version) override;
    const fhir::Json *read(std::string_view type, const std::string &id) override;

  private:
    const fhir::Json *keep(const std::string &key, bool found);

    bool read_only_;
    std::map<std::string, std::unique_ptr<fhir::Json>> loaded_; // nullptr: looked up, not stored
};

} // namespace fhir_pg
