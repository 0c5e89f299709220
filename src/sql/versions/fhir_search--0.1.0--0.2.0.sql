-- fhir_search 0.1.0 -> 0.2.0 (ALTER EXTENSION fhir_search UPDATE TO '0.2.0').
-- Frozen once released; a later schema change gets its own fhir_search--0.2.0--X.sql.
--
-- 0.2.0: the schema fhir becomes a member of the extension (DROP EXTENSION removes
-- it), every table and sequence is dumped by pg_dump, and the roles fhir_reader,
-- fhir_writer and fhir_admin replace PUBLIC's EXECUTE on the functions.
\echo Use "ALTER EXTENSION fhir_search UPDATE TO '0.2.0'" to load this file. \quit

-- 0.1.0 named fhir as the extension's schema, so CREATE EXTENSION made it outside
-- the extension and ALTER EXTENSION ADD refuses "the schema contains the extension".
-- 0.2.0 installs name pg_catalog (nothing of ours lives there) and create fhir
-- in their script; bring an 0.1.0 install to the same catalog state: the
-- extension's namespace becomes pg_catalog (pinned: no dependency row), the old
-- dependency on fhir goes, and fhir becomes a member.
UPDATE pg_catalog.pg_extension SET extnamespace = 'pg_catalog'::regnamespace WHERE extname = 'fhir_search';
DELETE FROM pg_catalog.pg_depend
 WHERE classid = 'pg_catalog.pg_extension'::regclass
   AND objid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'fhir_search')
   AND refclassid = 'pg_catalog.pg_namespace'::regclass
   AND refobjid = 'fhir'::regnamespace;
ALTER EXTENSION fhir_search ADD SCHEMA fhir;
COMMENT ON SCHEMA fhir IS 'HL7 FHIR R4 storage and search (extension fhir_search): resources, history, search side tables and the fhir.* functions; grant the roles fhir_reader, fhir_writer or fhir_admin rather than privileges on its objects';

-- ---------------------------------------------------------------------------
-- Backups: pg_dump writes the rows of every table of the extension and the
-- positions of its sequences (pg_extension_config_dump). Resources, history,
-- side tables, contained resources and search parameter overrides are all dumped,
-- so a restore needs no re-index. A table added by a later version must be marked
-- in its upgrade script too (the pg_regress test "extension" checks that every
-- table and sequence of schema fhir is marked).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    c regclass;
BEGIN
    FOR c IN SELECT oid FROM pg_catalog.pg_class
              WHERE relnamespace = 'fhir'::regnamespace AND relkind IN ('r', 'S') ORDER BY relname LOOP
        PERFORM pg_catalog.pg_extension_config_dump(c, '');
    END LOOP;
END
$$;

CREATE FUNCTION fhir._default_index_names() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_default_index_names' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir._default_index_names() IS 'names of the indexes fhir.create_default_indexes() makes, without making them';

-- ---------------------------------------------------------------------------
-- Indexes made after installation (fhir.create_index, fhir.index_ddl run with
-- \gexec, a DBA's own CREATE INDEX on a fhir table) belong to no extension script,
-- and pg_dump writes no index of an extension's table: a restore would lose them.
-- An event trigger records their definitions in fhir.user_index, which pg_dump
-- dumps, and restoring its rows builds the indexes again (CREATE INDEX IF NOT
-- EXISTS, by the trigger on the table). Indexes the install script makes are
-- made again by CREATE EXTENSION and are not recorded.
-- ---------------------------------------------------------------------------
CREATE TABLE fhir.user_index (
    name       text PRIMARY KEY,
    definition text NOT NULL CHECK (definition ~ '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?fhir\.')
);
COMMENT ON TABLE fhir.user_index IS 'indexes on fhir tables made after CREATE EXTENSION (fhir.create_index, a DBA''s CREATE INDEX), as pg_get_indexdef text: recorded by an event trigger, dumped by pg_dump, and built again when a restore inserts the rows; written only by the extension''s owner';

-- Records indexes made on fhir tables outside the install script (ddl_command_end).
CREATE FUNCTION fhir._user_index_created() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO fhir.user_index AS u (name, definition)
    SELECT i.relname, pg_get_indexdef(i.oid)
      FROM pg_event_trigger_ddl_commands() c
      JOIN pg_class i ON i.oid = c.objid
      JOIN pg_index x ON x.indexrelid = i.oid
      JOIN pg_class t ON t.oid = x.indrelid
     WHERE c.classid = 'pg_class'::regclass AND NOT c.in_extension
       AND t.relnamespace = 'fhir'::regnamespace
       AND NOT i.relispartition                 -- a partitioned index's parts come with it
    ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition
     WHERE u.definition IS DISTINCT FROM EXCLUDED.definition;
END
$$;
COMMENT ON FUNCTION fhir._user_index_created() IS 'event trigger: records indexes made on fhir tables after CREATE EXTENSION in fhir.user_index';

-- Forgets dropped indexes (sql_drop).
CREATE FUNCTION fhir._user_index_dropped() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM fhir.user_index u USING pg_event_trigger_dropped_objects() d
     WHERE d.object_type = 'index' AND d.schema_name = 'fhir' AND u.name = d.object_name;
END
$$;
COMMENT ON FUNCTION fhir._user_index_dropped() IS 'event trigger: forgets dropped indexes recorded in fhir.user_index';

-- Builds a recorded index when a restore (or a DBA) inserts its row.
CREATE FUNCTION fhir._user_index_restore() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- the event trigger recording a new index inserts its row too: it exists then
    IF to_regclass(format('fhir.%I', NEW.name)) IS NULL THEN
        -- no ONLY: the index of a partitioned table is built on its partitions too
        EXECUTE regexp_replace(NEW.definition, '^CREATE (UNIQUE )?INDEX (\S+) ON (ONLY )?', 'CREATE \1INDEX \2 ON ');
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION fhir._user_index_restore() IS 'trigger: builds the index a row of fhir.user_index describes (restores from pg_dump)';

-- Indexes an 0.1.0 install gained after CREATE EXTENSION (the DBA's, fhir.create_index's)
-- are recorded now, so that the next pg_dump keeps them: every index on a fhir table but
-- those of constraints, those the 0.1.0 script made and the default set.
INSERT INTO fhir.user_index (name, definition)
SELECT i.relname, pg_catalog.pg_get_indexdef(i.oid)
  FROM pg_catalog.pg_index x
  JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
  JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace AND NOT i.relispartition
   AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conindid = i.oid)
   AND i.relname NOT IN (SELECT fhir._default_index_names())
   AND i.relname NOT IN ('search_string_rid_idx', 'search_date_rid_idx', 'search_date_multi_idx',
       'search_number_rid_idx', 'search_quantity_rid_idx', 'search_reference_rid_idx',
       'search_reference_target_idx', 'search_composite_number_rid_idx', 'search_composite_number_key_idx',
       'search_composite_date_rid_idx', 'search_composite_date_key_idx', 'search_composite_string_rid_idx',
       'search_composite_string_key_idx', 'search_text_rid_idx', 'search_text_doc_idx',
       'contained_resource_container_idx', 'contained_resource_rtype_idx',
       'contained_resource_container_type_idx', 'contained_resource_tokens_idx')
   AND NOT (t.relispartition AND i.relname IN (t.relname || '_rid_idx', t.relname || '_tokens_idx',
                                               t.relname || '_last_updated_idx'));

CREATE TRIGGER user_index_restore AFTER INSERT ON fhir.user_index
    FOR EACH ROW EXECUTE FUNCTION fhir._user_index_restore();
CREATE EVENT TRIGGER fhir_search_index_created ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
    EXECUTE FUNCTION fhir._user_index_created();
CREATE EVENT TRIGGER fhir_search_index_dropped ON sql_drop WHEN TAG IN ('DROP INDEX')
    EXECUTE FUNCTION fhir._user_index_dropped();

-- ---------------------------------------------------------------------------
-- Backups: pg_dump writes the rows of every table of the extension and the
-- positions of its sequences (pg_extension_config_dump). Resources, history,
-- side tables, contained resources and search parameter overrides are all dumped,
-- so a restore needs no re-index. A table added by a later version must be marked
-- in its upgrade script too (the pg_regress test "extension" checks that every
-- table and sequence of schema fhir is marked).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    c regclass;
BEGIN
    FOR c IN SELECT oid FROM pg_catalog.pg_class
              WHERE relnamespace = 'fhir'::regnamespace AND relkind IN ('r', 'S') ORDER BY relname LOOP
        PERFORM pg_catalog.pg_extension_config_dump(c, '');
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Roles (docs/operations.md "Roles"): cluster-wide, created here when absent
-- and left in place by DROP EXTENSION (other databases may use them).
--   fhir_reader  search, read, vread, history, explain, the registry views
--   fhir_writer  fhir_reader + create, update, delete, transaction, load
--   fhir_admin   fhir_writer + index builders, search parameter changes,
--                re-index, cache reset
-- Functions run as the caller (row-level security applies to searches and
-- writes) except the four that build indexes or re-extract every resource,
-- which must own the tables: SECURITY DEFINER with a fixed search_path.
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
    fhir.read(text, text), fhir.vread(text, text, integer), fhir.history(text, text),
    fhir.search(text, text, text), fhir.explain(text, text), fhir.last_search(),
    fhir.token_hash(integer, integer, text), fhir.tokens_overlap(bigint[], bigint[]),
    fhir.token_sort_key(jsonb, integer, boolean), fhir.memory_usage(),
    fhir._search_params(), fhir.cache_stats()
    TO fhir_reader;

-- fhir_writer: rows of every table but the registry overrides
DO $$
DECLARE
    c regclass;
BEGIN
    FOR c IN SELECT oid FROM pg_catalog.pg_class
              WHERE relnamespace = 'fhir'::regnamespace AND relkind IN ('r', 'p')
                AND relname <> 'search_param_override' ORDER BY relname LOOP
        EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %s TO fhir_writer', c);
    END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE fhir.resource_rid_seq TO fhir_writer;
GRANT EXECUTE ON FUNCTION
    fhir.create(jsonb), fhir.update(jsonb, integer), fhir.delete(text, text),
    fhir.transaction(jsonb), fhir.load(text, integer), fhir.load_file(text, integer),
    fhir.cache_invalidate(text)
    TO fhir_writer;

-- fhir_admin
GRANT INSERT, UPDATE, DELETE ON fhir.search_param_override TO fhir_admin;
GRANT USAGE ON SEQUENCE fhir.custom_param_id_seq TO fhir_admin;
GRANT EXECUTE ON FUNCTION
    fhir.create_index(text, text), fhir.index_ddl(text, text, boolean), fhir.drop_index(text, text),
    fhir.create_default_indexes(), fhir._default_index_names(), fhir.set_search_param_enabled(text, text, boolean),
    fhir.add_search_param(jsonb), fhir.reindex(text), fhir.cache_reset()
    TO fhir_admin;
ALTER FUNCTION fhir.create_index(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.drop_index(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.create_default_indexes() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION fhir.reindex(text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
