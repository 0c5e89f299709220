-- ---------------------------------------------------------------------------
-- Patch (0.3.0): FHIR's patch interaction, JSON Patch and FHIRPath Patch.
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.patch(resource_type text, id text, patch jsonb, if_match integer DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_patch' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.patch(text, text, jsonb, integer) IS 'FHIR patch: applies a JSON Patch (RFC 6902, a JSON array of operations) or a FHIRPath Patch (a Parameters resource) to the current version and stores the result like fhir.update (new version, history, search values), returning it; atomic (any failing operation, a failed test included, changes nothing: SQLSTATE 22023 naming the operation); resourceType and id cannot change; if_match, when given, must equal the current version, else FH409; FH404 when the resource does not exist, FH410 when it was deleted; NULL when resource_type, id or patch is NULL';
