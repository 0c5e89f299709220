-- Privileges of src/sql/api/70-check.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.check(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.check(integer) TO fhir_admin;
