-- 0.3.0: privileges of the objects of src/sql/api/10-responses.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.request(text, text, text, jsonb), fhir.search_response(text, text, text, text),
    fhir.read_response(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.request(text, text, text, jsonb), fhir.search_response(text, text, text, text),
    fhir.read_response(text, text, integer) TO fhir_reader;
GRANT USAGE ON TYPE fhir.response TO fhir_reader;
