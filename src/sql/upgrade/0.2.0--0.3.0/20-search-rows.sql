-- 0.3.0: privileges of the objects of src/sql/api/20-search-rows.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.search_rows(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.search_rows(text, text) TO fhir_reader;
