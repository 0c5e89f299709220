-- 0.3.0: privileges of the objects of src/sql/api/30-capability-statement.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir._capabilities(), fhir.capability_statement() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir._capabilities(), fhir.capability_statement() TO fhir_reader;
