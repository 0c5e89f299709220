// partition_rows.cpp: types_with_partition_rows() (partition_rows.h).
#include "partition_rows.h"

#include "cpp_wrapper.h"
#include "resource.h"
#include "spi.h"

namespace fhir_pg {

std::vector<std::string> types_with_partition_rows(const std::vector<std::string> &types) {
    std::vector<std::string> names;
    for (const std::string &t : types)
        names.push_back(fhir::partition_table(t));
    // pg_relation_size asks the storage manager for the file's length: no lock
    // beyond the relation lookup, no scan.
    SPIPlanPtr plan = prepare_cached("SELECT u.t FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(t, rel, n) "
                                     "WHERE pg_relation_size(u.rel::regclass) > 0 ORDER BY u.n",
                                     {TEXTARRAYOID, TEXTARRAYOID});
    Datum v[2] = {text_array(types), text_array(names)};
    uint64_t n = spi_execute(plan, v, nullptr, true);
    std::vector<std::string> out;
    for (uint64_t r = 0; r < n; r++)
        out.push_back(spi_get_text(r, 1));
    return out;
}

} // namespace fhir_pg
