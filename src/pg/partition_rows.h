// partition_rows.h: which resource types' partitions can hold rows, for the
// statements that read many partitions by name (a type NULL compartment search,
// $everything): a partition that never had a row is left out of the statement,
// so a plan over the 66 member types of the patient compartment plans the few
// that hold data.
#pragma once

#include <string>
#include <vector>

namespace fhir_pg {

// The types among `types` (in their order) whose partition has at least one
// block. Exact for the question "can a row be visible": every insert extends the
// relation before it commits, and only TRUNCATE (which removes every row) gives
// blocks back; a partition whose rows were all deleted still counts. Requires SPI.
std::vector<std::string> types_with_partition_rows(const std::vector<std::string> &types);

} // namespace fhir_pg
