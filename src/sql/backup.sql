-- (fhir_search--0.1.0--0.2.0.sql holds a frozen copy of this file as of 0.2.0: a change
-- here is a new version with its own upgrade script, never an edit of that copy.)
-- ---------------------------------------------------------------------------
-- What a DBA adds to the extension's tables after installation is skipped by
-- pg_dump: it writes no index of an extension's table and no row-level security
-- (neither the policies nor ENABLE/FORCE ROW LEVEL SECURITY), so a restore would
-- lose indexes made by fhir.create_index and, worse, open tables that policies
-- had closed. Event triggers record that DDL, as the catalog describes it, in
-- fhir.user_ddl, which pg_dump dumps; restoring its rows runs it again (the row
-- trigger). What the install script makes is made again by CREATE EXTENSION and
-- is not recorded. docs/operations.md, "Backup and restore".
-- ---------------------------------------------------------------------------
CREATE TABLE fhir.user_ddl (
    kind       text NOT NULL CHECK (kind IN ('index', 'policy', 'row security', 'force row security')),
    rel        text NOT NULL,
    name       text NOT NULL,
    definition text NOT NULL CHECK (definition ~ '^(CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?fhir\.|CREATE POLICY \S+ ON fhir\.|ALTER TABLE fhir\.\S+ (ENABLE|FORCE) ROW LEVEL SECURITY$)'),
    PRIMARY KEY (kind, rel, name)
);
COMMENT ON TABLE fhir.user_ddl IS 'DDL on fhir tables made after CREATE EXTENSION that pg_dump would skip: indexes (fhir.create_index, a DBA''s CREATE INDEX), row-level security policies and ENABLE/FORCE ROW LEVEL SECURITY; recorded by event triggers from the catalog, dumped by pg_dump, run again when a restore inserts the rows; written only by the extension''s owner';
COMMENT ON COLUMN fhir.user_ddl.rel IS 'the fhir table (relname) the DDL is on';
COMMENT ON COLUMN fhir.user_ddl.name IS 'the index or policy name (empty for row security)';

-- The row-level security state of the fhir tables as DDL (policies, ENABLE, FORCE).
CREATE FUNCTION fhir._row_security_ddl(OUT kind text, OUT rel text, OUT name text, OUT definition text)
    RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'policy', p.tablename::text, p.policyname::text,
           format('CREATE POLICY %I ON fhir.%I AS %s FOR %s TO %s', p.policyname, p.tablename, p.permissive, p.cmd,
                  (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ')
                     FROM unnest(p.roles) r))
           || coalesce(' USING (' || p.qual || ')', '') || coalesce(' WITH CHECK (' || p.with_check || ')', '')
      FROM pg_policies p WHERE p.schemaname = 'fhir'
    UNION ALL
    SELECT 'row security', c.relname::text, '', format('ALTER TABLE fhir.%I ENABLE ROW LEVEL SECURITY', c.relname)
      FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relrowsecurity
    UNION ALL
    SELECT 'force row security', c.relname::text, '', format('ALTER TABLE fhir.%I FORCE ROW LEVEL SECURITY', c.relname)
      FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relforcerowsecurity
$$;
COMMENT ON FUNCTION fhir._row_security_ddl() IS 'the row-level security of the fhir tables (policies, ENABLE and FORCE ROW LEVEL SECURITY) as the DDL that makes it';

-- Brings the row-security rows of fhir.user_ddl to the catalog's state.
CREATE FUNCTION fhir._user_ddl_sync_row_security() RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM fhir.user_ddl u
     WHERE u.kind <> 'index'
       AND NOT EXISTS (SELECT FROM fhir._row_security_ddl() d
                        WHERE (d.kind, d.rel, d.name, d.definition) = (u.kind, u.rel, u.name, u.definition));
    INSERT INTO fhir.user_ddl (kind, rel, name, definition)
    SELECT d.kind, d.rel, d.name, d.definition FROM fhir._row_security_ddl() d
        ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION fhir._user_ddl_sync_row_security() IS 'makes the policy and row security rows of fhir.user_ddl match the catalog';

-- ddl_command_end: records indexes made on fhir tables outside the install script,
-- and the row security of the fhir tables after CREATE/ALTER POLICY and ALTER TABLE.
CREATE FUNCTION fhir._user_ddl_created() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF tg_tag = 'CREATE INDEX' THEN
        INSERT INTO fhir.user_ddl AS u (kind, rel, name, definition)
        SELECT 'index', t.relname, i.relname, pg_get_indexdef(i.oid)
          FROM pg_event_trigger_ddl_commands() c
          JOIN pg_class i ON i.oid = c.objid
          JOIN pg_index x ON x.indexrelid = i.oid
          JOIN pg_class t ON t.oid = x.indrelid
         WHERE c.classid = 'pg_class'::regclass AND NOT c.in_extension
           AND t.relnamespace = 'fhir'::regnamespace
           AND NOT i.relispartition             -- a partitioned index's parts come with it
        ON CONFLICT (kind, rel, name) DO UPDATE SET definition = EXCLUDED.definition
         WHERE u.definition IS DISTINCT FROM EXCLUDED.definition;
    ELSIF tg_tag IN ('CREATE POLICY', 'ALTER POLICY')   -- a policy has no schema of its own
       OR EXISTS (SELECT FROM pg_event_trigger_ddl_commands() c
                   WHERE NOT c.in_extension AND c.schema_name = 'fhir') THEN
        PERFORM fhir._user_ddl_sync_row_security();
    END IF;
END
$$;
COMMENT ON FUNCTION fhir._user_ddl_created() IS 'event trigger: records indexes and row-level security made on fhir tables after CREATE EXTENSION in fhir.user_ddl';

-- sql_drop: forgets dropped indexes and policies.
CREATE FUNCTION fhir._user_ddl_dropped() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM fhir.user_ddl u USING pg_event_trigger_dropped_objects() d
     WHERE d.object_type = 'index' AND d.schema_name = 'fhir' AND u.kind = 'index' AND u.name = d.object_name;
    IF tg_tag = 'DROP POLICY' THEN
        PERFORM fhir._user_ddl_sync_row_security();
    END IF;
END
$$;
COMMENT ON FUNCTION fhir._user_ddl_dropped() IS 'event trigger: forgets dropped indexes and policies recorded in fhir.user_ddl';

-- Runs a recorded statement when a restore (or a DBA) inserts its row, unless the
-- database has it already (the event triggers insert rows for what exists). A
-- statement that fails (a policy naming a role this cluster lacks) is reported and
-- skipped: the other rows still restore, and a table whose ENABLE ROW LEVEL SECURITY
-- restored without its policies shows no rows (closed, not open).
CREATE FUNCTION fhir._user_ddl_restore() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    present boolean;
BEGIN
    present := CASE NEW.kind
        WHEN 'index' THEN to_regclass(format('fhir.%I', NEW.name)) IS NOT NULL
        WHEN 'policy' THEN EXISTS (SELECT FROM pg_policies p
                                    WHERE p.schemaname = 'fhir' AND p.tablename = NEW.rel AND p.policyname = NEW.name)
        WHEN 'row security' THEN EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace
                                           AND c.relname = NEW.rel AND c.relrowsecurity)
        ELSE EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace
                       AND c.relname = NEW.rel AND c.relforcerowsecurity)
    END;
    IF NOT present THEN
        BEGIN
            -- no ONLY: the index of the partitioned fhir.resource is built on its partitions too
            EXECUTE regexp_replace(NEW.definition, '^CREATE (UNIQUE )?INDEX (\S+) ON ONLY ', 'CREATE \1INDEX \2 ON ');
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'fhir_search: could not restore % "%" on fhir.%: %', NEW.kind, NEW.name, NEW.rel, SQLERRM
                USING HINT = 'The row stays in fhir.user_ddl; fix the cause and run its definition by hand.';
        END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION fhir._user_ddl_restore() IS 'trigger: runs the DDL a new row of fhir.user_ddl records (restores from pg_dump) unless it exists already';

CREATE TRIGGER user_ddl_restore AFTER INSERT ON fhir.user_ddl
    FOR EACH ROW EXECUTE FUNCTION fhir._user_ddl_restore();
CREATE EVENT TRIGGER fhir_search_ddl_created ON ddl_command_end
    WHEN TAG IN ('CREATE INDEX', 'CREATE POLICY', 'ALTER POLICY', 'ALTER TABLE')
    EXECUTE FUNCTION fhir._user_ddl_created();
CREATE EVENT TRIGGER fhir_search_ddl_dropped ON sql_drop WHEN TAG IN ('DROP INDEX', 'DROP POLICY')
    EXECUTE FUNCTION fhir._user_ddl_dropped();

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

