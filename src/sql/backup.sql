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

