-- Privileges of src/sql/api/60-validate.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.validate(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.validate(jsonb) TO fhir_reader;
