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

-- 0.2.0 reads query strings as clients send them (a leading ?, a whole URL, + as a space)
COMMENT ON FUNCTION fhir.search(text, text, text) IS 'FHIR search (type NULL: system-level): query is the URL query string as sent (percent-encoded, + for spaces; a leading ? or a whole search URL, such as a next link, is accepted); returns a searchset Bundle with one page of matches and self/next/previous links whose query strings return the other pages (_count, _sort, _total, _summary, _elements, _include/_revinclude, _contained/_containedType); cache_control takes the HTTP Cache-Control header (no-cache, no-store, max-results=N)';

CREATE FUNCTION fhir._default_index_names() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_default_index_names' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir._default_index_names() IS 'names of the indexes fhir.create_default_indexes() makes, without making them';

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

-- What an 0.1.0 install gained after CREATE EXTENSION is recorded now, so that the next
-- pg_dump keeps it: every index on a fhir table but those of constraints, those the
-- 0.1.0 script made and the default set; and the row-level security of the fhir tables.
INSERT INTO fhir.user_ddl (kind, rel, name, definition)
SELECT 'index', t.relname, i.relname, pg_catalog.pg_get_indexdef(i.oid)
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
                                               t.relname || '_last_updated_idx'))
UNION ALL
SELECT kind, rel, name, definition FROM fhir._row_security_ddl();

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

-- fhir_writer: rows of every table but the registry overrides and the recorded DDL
-- (fhir.user_ddl runs what it holds: only its owner writes it)
DO $$
DECLARE
    c regclass;
BEGIN
    FOR c IN SELECT oid FROM pg_catalog.pg_class
              WHERE relnamespace = 'fhir'::regnamespace AND relkind IN ('r', 'p')
                AND relname NOT IN ('search_param_override', 'user_ddl') ORDER BY relname LOOP
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
