-- ---------------------------------------------------------------------------
-- $everything (0.3.0): Patient/[id]/$everything and Encounter/[id]/$everything.
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.everything(resource_type text, id text, query text DEFAULT '') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_everything' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.everything(text, text, text) IS 'the R4 operation $everything of a Patient or an Encounter as one page of a searchset Bundle: the resource itself, every resource in its compartment (search.mode match) and the resources those reference (include); query is the URL query string as sent (a whole next link is accepted) with start/end (care date range; resources without a clinical date are kept), _since (lastUpdated >= instant), _type (comma list) and _count; next links page on; total counts the matches; NULL when the resource is not stored';
