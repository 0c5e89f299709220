-- 0.3.0: privileges of the objects of src/sql/api/40-patch.sql (which the upgrade runs first).
REVOKE EXECUTE ON FUNCTION fhir.patch(text, text, jsonb, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.patch(text, text, jsonb, integer) TO fhir_writer;
