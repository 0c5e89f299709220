-- Privileges of src/sql/api/50-everything.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.everything(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.everything(text, text, text) TO fhir_reader;
