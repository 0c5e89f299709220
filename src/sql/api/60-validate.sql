-- ---------------------------------------------------------------------------
-- Validation (0.3.0): fhir.validate, the check every write runs, on demand.
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.validate(resource jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_validate' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fhir.validate(jsonb) IS 'the R4 operation $validate: an OperationOutcome listing every issue of the resource against the FHIR R4 StructureDefinitions (JSON rules, element names, primitive formats, cardinality, contained resources) and the limits fhir_search.max_resource_depth and max_resource_size, each with its FHIRPath location in expression; one information issue when there is none. Writes run the same check as fhir_search.validation says (strict by default)';
