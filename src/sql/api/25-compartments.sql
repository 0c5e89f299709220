-- ---------------------------------------------------------------------------
-- Compartments (0.3.0): the R4 CompartmentDefinitions fhir.search(...,
-- compartment => 'Patient/123') searches, generated from the definitions.
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.compartments(OUT compartment text, OUT url text, OUT resource_type text,
                                  OUT params text[], OUT disabled_params text[])
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'fhir_compartments' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.compartments() IS 'the R4 compartments (CompartmentDefinitions Patient, Encounter, RelatedPerson, Practitioner, Device): one row per member resource type with the search parameters that put a resource in a compartment (params; empty for the focal type, which is in its own compartment by its id) and those of them that are disabled here and so not used (disabled_params)';
