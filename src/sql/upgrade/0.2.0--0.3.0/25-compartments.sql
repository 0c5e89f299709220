-- Compartment search (0.3.0): fhir.search gains the named argument compartment
-- ('Patient/123'); the three-argument function of 0.2.0 is replaced (calls with
-- three arguments or fewer resolve to the new one through its defaults).
DROP FUNCTION fhir.search(text, text, text);
CREATE FUNCTION fhir.search(resource_type text, query text, cache_control text DEFAULT NULL, compartment text DEFAULT NULL)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'fhir_search' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.search(text, text, text, text) IS 'FHIR search (type NULL: system-level): query is the URL query string as sent (percent-encoded, + for spaces; a leading ? or a whole search URL, such as a next link, is accepted); returns a searchset Bundle with one page of matches and self/next/previous links whose query strings return the other pages (_count, _sort, _total, _summary, _elements, _include/_revinclude, _contained/_containedType); cache_control takes the HTTP Cache-Control header (no-cache, no-store, max-results=N); compartment => ''Patient/123'' searches that compartment (R4 CompartmentDefinitions Patient, Encounter, RelatedPerson, Practitioner, Device; type NULL: every type it holds), like GET [base]/Patient/123/Observation';
REVOKE EXECUTE ON FUNCTION fhir.search(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.search(text, text, text, text) TO fhir_reader;
-- Privileges of src/sql/api/40-compartments.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.compartments() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.compartments() TO fhir_reader;
