-- (fhir_search--0.1.0--0.2.0.sql holds a frozen copy of this file as of 0.2.0: a change
-- here is a new version with its own upgrade script, never an edit of that copy.)
-- ---------------------------------------------------------------------------
-- Roles (docs/operations.md "Roles"): cluster-wide, created here when absent
-- and left in place by DROP EXTENSION (other databases may use them).
--   fhir_reader  search, read, vread, history, explain, the registry views
--   fhir_writer  fhir_reader + create, update, patch, delete, transaction, load
--   fhir_admin   fhir_writer + index builders, search parameter changes,
--                re-index, cache reset
-- Functions run as the caller (row-level security applies to searches and
-- writes) except the five that build or drop indexes or re-extract every
-- resource, which must own the tables: SECURITY DEFINER with a fixed search_path.
-- ---------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhir_reader') THEN
        CREATE ROLE fhir_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhir_writer') THEN
        CREATE ROLE fhir_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'fhir_admin') THEN
        CREATE ROLE fhir_admin NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role('fhir_writer', 'fhir_reader', 'MEMBER') THEN
        GRANT fhir_reader TO fhir_writer;
    END IF;
    IF NOT pg_catalog.pg_has_role('fhir_admin', 'fhir_writer', 'MEMBER') THEN
        GRANT fhir_writer TO fhir_admin;
    END IF;
END
$$;
COMMENT ON ROLE fhir_reader IS 'fhir_search: search, read, vread, history and explain FHIR resources';
COMMENT ON ROLE fhir_writer IS 'fhir_search: fhir_reader plus create, update, delete, transaction and bulk load';
COMMENT ON ROLE fhir_admin IS 'fhir_search: fhir_writer plus index builders, search parameter changes, re-index and cache reset';

REVOKE ALL ON SCHEMA fhir FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fhir FROM PUBLIC;
GRANT USAGE ON SCHEMA fhir TO fhir_reader;

-- fhir_reader
GRANT SELECT ON ALL TABLES IN SCHEMA fhir TO fhir_reader;
GRANT EXECUTE ON FUNCTION
    fhir.resource_types(), fhir.partition_name(text),
    fhir.read(text, text), fhir.vread(text, text, integer), fhir.history(text, text, text),
    fhir.search(text, text, text, text), fhir.explain(text, text), fhir.last_search(),
    fhir.token_hash(integer, integer, text), fhir.tokens_overlap(bigint[], bigint[]),
    fhir.token_sort_key(jsonb, integer, boolean), fhir.memory_usage(),
    fhir._search_params(), fhir.cache_stats(),
    fhir.request(text, text, text, jsonb), fhir.search_response(text, text, text, text),
    fhir.read_response(text, text, integer), fhir._capabilities(), fhir.capability_statement(),
    fhir.search_rows(text, text), fhir.compartments(), fhir.everything(text, text, text),
    fhir.validate(jsonb)
    TO fhir_reader;
GRANT USAGE ON TYPE fhir.response TO fhir_reader;

-- fhir_writer: rows of every table but the registry overrides, the recorded DDL and the
-- mass ingestion's indexes (fhir.user_ddl and fhir.mass_ingestion run what they hold: only
-- their owner writes them)
DO $$
DECLARE
    c regclass;
BEGIN
    FOR c IN SELECT oid FROM pg_catalog.pg_class
              WHERE relnamespace = 'fhir'::regnamespace AND relkind IN ('r', 'p')
                AND relname NOT IN ('search_param_override', 'user_ddl', 'mass_ingestion') ORDER BY relname LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO fhir_writer', c);
    END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE fhir.resource_rid_seq TO fhir_writer;
GRANT EXECUTE ON FUNCTION
    fhir.create(jsonb), fhir.update(jsonb, integer), fhir.delete(text, text),
    fhir.patch(text, text, jsonb, integer),
    fhir.transaction(jsonb), fhir.load(text, integer, text), fhir.load_file(text, integer, text),
    fhir.cache_invalidate(text)
    TO fhir_writer;

-- fhir_admin
GRANT INSERT, UPDATE, DELETE ON fhir.search_param_override TO fhir_admin;
GRANT USAGE ON SEQUENCE fhir.custom_param_id_seq TO fhir_admin;
GRANT EXECUTE ON FUNCTION
    fhir.create_index(text, text), fhir.index_ddl(text, text, boolean), fhir.drop_index(text, text),
    fhir.create_default_indexes(), fhir._default_index_names(), fhir.set_search_param_enabled(text, text, boolean),
    fhir.add_search_param(jsonb), fhir.drop_search_param(text, text), fhir.reindex(text), fhir.cache_reset(),
    fhir.begin_mass_ingestion(text[]), fhir.end_mass_ingestion(text, integer, boolean), fhir.mass_ingestion_ddl(),
    fhir.check(integer)
    TO fhir_admin;
ALTER FUNCTION fhir.create_index(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.drop_index(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.create_default_indexes() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.reindex(text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.drop_search_param(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.begin_mass_ingestion(text[]) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.end_mass_ingestion(text, integer, boolean) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
