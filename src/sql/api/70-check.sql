-- ---------------------------------------------------------------------------
-- Consistency check (0.3.0): do the side tables agree with the resources?
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.check(sample integer DEFAULT NULL)
    RETURNS TABLE (resource_type text, id text, problem text)
    AS 'MODULE_PATHNAME', 'fhir_check' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.check(integer) IS 'consistency check: extracts the search values of every stored resource (or of sample resources picked at random) again with the current registry and reports each resource whose stored tokens or side-table row counts differ from what its content makes, and (full check only) side rows that belong to no resource; no rows means consistent. After a crash, a restore or an enabled parameter without fhir.reindex. Contained resources are not re-extracted';
