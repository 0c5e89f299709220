// compartment_functions.cpp: fhir.compartments(), the R4 compartments this
// extension searches (generated from the CompartmentDefinitions, compartments.h),
// with the parameters in force for each member type; read by
// fhir.capability_statement() and by DBAs who disable parameters.
#include "compartments.h"

#include "cpp_wrapper.h"
#include "registry_cache.h"
#include "spi.h"
#include "srf.h"

// One row per (compartment, member resource type): the linking parameters as the
// definition lists them and those of them disabled here (unusable: they store no tokens).
FHIR_FUNCTION(fhir_compartments) {
    fhir_pg::spi_connect();
    const fhir::Registry &registry = fhir_pg::current_registry();
    ReturnSetInfo *rsinfo = fhir_pg::begin_materialized_srf(fcinfo);
    for (const std::string &compartment : fhir::compartment_types()) {
        for (const std::string &type : fhir::compartment_member_types(compartment)) {
            fhir::CompartmentCondition c = fhir::compartment_condition(registry, {compartment, "x"}, type, "");
            Datum v[5] = {fhir_pg::text_datum(compartment), fhir_pg::text_datum(fhir::compartment_url(compartment)),
                          fhir_pg::text_datum(type),
                          fhir_pg::text_array(fhir::compartment_params(compartment, type)),
                          fhir_pg::text_array(c.disabled)};
            bool n[5] = {false, false, false, false, false};
            fhir_pg::srf_put_row(rsinfo, v, n);
        }
    }
    fhir_pg::spi_finish();
    return (Datum)0;
}
