-- ---------------------------------------------------------------------------
-- Custom search parameters: removing them, and going back from an override of a
-- built-in one to its R4 definition (0.3.0; fhir.add_search_param adds both)
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.drop_search_param(resource_type text, code text) RETURNS text
    AS 'MODULE_PATHNAME', 'fhir_drop_search_param' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.drop_search_param(text, text) IS 'removes a custom search parameter from one resource type (returns ''removed'') or drops the override of a built-in one there, putting its R4 definition back in force (returns ''built-in restored''), with the indexes only the dropped definition used; resources stored before keep the dropped definition''s values until fhir.reindex(resource_type)';
