-- History at instance, type and system level (fhir.history with a query, paged):
-- the lastUpdated indexes of the history table, and the new signature.
CREATE INDEX resource_history_last_updated_idx ON fhir.resource_history (last_updated);
CREATE INDEX resource_history_rtype_last_updated_idx ON fhir.resource_history (rtype, last_updated);

DROP FUNCTION fhir.history(text, text);
CREATE FUNCTION fhir.history(resource_type text DEFAULT NULL, id text DEFAULT NULL, query text DEFAULT '') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_history' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.history(text, text, text) IS 'FHIR history as one page of a history Bundle, newest version first: of one resource (type and id; NULL when it never existed), of a type (id NULL) or of the system (both NULL); query is the URL query string as sent (a leading ? or a whole next link is accepted) with _count, _since (lastUpdated >= instant) and _at (versions current within the date''s period); other parameters are errors; self/next/previous links page through a snapshot taken at the first page; total at instance level only';
REVOKE EXECUTE ON FUNCTION fhir.history(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.history(text, text, text) TO fhir_reader;
