-- 0.3.0: privileges of src/sql/api/60-mass-ingestion.sql (which the upgrade runs first),
-- and fhir.load / fhir.load_file with their mode argument (mode => 'mass').
REVOKE EXECUTE ON FUNCTION fhir.begin_mass_ingestion(text[]), fhir.end_mass_ingestion(text, integer, boolean),
    fhir.mass_ingestion_ddl() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.begin_mass_ingestion(text[]), fhir.end_mass_ingestion(text, integer, boolean),
    fhir.mass_ingestion_ddl() TO fhir_admin;
ALTER FUNCTION fhir.begin_mass_ingestion(text[]) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.end_mass_ingestion(text, integer, boolean) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
GRANT SELECT ON fhir.mass_ingestion TO fhir_reader;

DROP FUNCTION fhir.load(text, integer);
DROP FUNCTION fhir.load_file(text, integer);
CREATE FUNCTION fhir.load(data text, batch_size integer DEFAULT 1000, mode text DEFAULT 'default') RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load(text, integer, text) IS 'bulk load: NDJSON (one resource per line, stored under its own id like update) or one Bundle; returns the number of resources written; mode => ''mass'' (fhir_admin) drops the secondary indexes first and rebuilds them after, all in the load''s transaction (fhir.begin_mass_ingestion); mode => ''new_ids'' (or ''mass,new_ids'') promises that no resource ever had the data''s ids: no read-before-write, an existing one fails the load (FH409)';
CREATE FUNCTION fhir.load_file(path text, batch_size integer DEFAULT 1000, mode text DEFAULT 'default') RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load_file' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load_file(text, integer, text) IS 'bulk load from a server-side NDJSON or Bundle file (needs pg_read_server_files); reports progress as NOTICEs; mode => ''mass'', ''new_ids'' or ''mass,new_ids'' as for fhir.load';
REVOKE EXECUTE ON FUNCTION fhir.load(text, integer, text), fhir.load_file(text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.load(text, integer, text), fhir.load_file(text, integer, text) TO fhir_writer;
