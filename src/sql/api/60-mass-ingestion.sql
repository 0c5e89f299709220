-- ---------------------------------------------------------------------------
-- Mass ingestion (0.3.0): initial loads into large, mostly empty stores without
-- per-row secondary-index maintenance (docs/operations.md, "Mass ingestion").
--
-- fhir.begin_mass_ingestion() records the definition of every non-unique index of
-- the fhir tables (resource partitions, history, side tables, contained resources,
-- the install script's and a DBA's alike) in fhir.mass_ingestion and drops them, in
-- one transaction; primary keys and unique indexes stay, so ids stay unique and the
-- write path's existence checks stay index lookups. Loads then write rows only.
-- fhir.end_mass_ingestion() rebuilds every recorded index that is missing (with a
-- larger maintenance_work_mem and parallel workers), optionally analyzes the loaded
-- tables and empties the table, again in one transaction. Between the two the rows of
-- fhir.mass_ingestion are the documented, detectable state: searches stay correct
-- (no index entry is ever missing: an index is either absent or built from all
-- rows) but slow, and fhir.search warns; a crash or an interrupted end leaves the
-- rows, and fhir.end_mass_ingestion() finishes the job. fhir.load(..., mode =>
-- 'mass') does all three in the load's own transaction, so an interrupted load
-- leaves the old state.
-- ---------------------------------------------------------------------------
CREATE TABLE fhir.mass_ingestion (
    index_name  text PRIMARY KEY,
    table_name  text NOT NULL,
    definition  text NOT NULL CHECK (definition ~ '^CREATE INDEX \S+ ON fhir\.'),
    in_user_ddl boolean NOT NULL,
    dropped_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE fhir.mass_ingestion IS 'indexes dropped by fhir.begin_mass_ingestion() and not yet rebuilt: while it has rows a mass ingestion is in progress (searches are correct but slow, fhir.search warns) and fhir.end_mass_ingestion() rebuilds them; written only by those functions';
COMMENT ON COLUMN fhir.mass_ingestion.definition IS 'the CREATE INDEX statement (pg_get_indexdef) that rebuilds the index';
COMMENT ON COLUMN fhir.mass_ingestion.in_user_ddl IS 'the index was recorded in fhir.user_ddl (made after CREATE EXTENSION) and is recorded there again when rebuilt';
SELECT pg_catalog.pg_extension_config_dump('fhir.mass_ingestion', '');
-- Each backend caches whether a mass ingestion is in progress; the statement trigger
-- tells every backend at commit to read it again (as for the registry).
CREATE TRIGGER mass_ingestion_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON fhir.mass_ingestion FOR EACH STATEMENT EXECUTE FUNCTION fhir._registry_changed();
COMMENT ON TRIGGER mass_ingestion_changed ON fhir.mass_ingestion IS 'tells every backend at commit to read fhir.mass_ingestion again (the WARNING of searches during a mass ingestion)';

-- Drops the secondary indexes of the fhir tables, recording them first.
CREATE FUNCTION fhir.begin_mass_ingestion(resource_types text[] DEFAULT NULL) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ix record;
    dropped integer := 0;
    unknown text;
    partitions text[];
BEGIN
    -- one begin or end at a time; loads may run meanwhile
    LOCK TABLE fhir.mass_ingestion IN EXCLUSIVE MODE;
    IF resource_types IS NOT NULL THEN
        SELECT t INTO unknown FROM unnest(resource_types) t
         WHERE t IS NULL OR t NOT IN (SELECT fhir.resource_types()) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'unknown resource type "%"', unknown USING ERRCODE = '22023';
        END IF;
        partitions := ARRAY(SELECT fhir.partition_name(t) FROM unnest(resource_types) t);
    END IF;
    FOR ix IN
        SELECT i.relname AS index_name, t.relname AS table_name,
               -- a partitioned index: ON ONLY would build the parent alone
               regexp_replace(pg_get_indexdef(i.oid), '^CREATE INDEX (\S+) ON ONLY ', 'CREATE INDEX \1 ON ') AS definition,
               EXISTS (SELECT FROM fhir.user_ddl u WHERE u.kind = 'index' AND u.name = i.relname) AS in_user_ddl
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relnamespace = 'fhir'::regnamespace
           AND NOT x.indisunique AND NOT x.indisprimary AND NOT x.indisexclusion
           AND NOT i.relispartition            -- a partitioned index's parts go with it
           AND t.relname NOT IN ('mass_ingestion', 'user_ddl', 'search_param_override')
           AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.oid)
           -- only the partitions of the types to be loaded (the other tables always):
           -- an untouched empty partition's indexes cost nothing to keep, 8 ms each to rebuild
           AND (partitions IS NULL OR NOT t.relispartition OR t.relname = ANY (partitions))
         ORDER BY t.relname, i.relname
    LOOP
        INSERT INTO fhir.mass_ingestion (index_name, table_name, definition, in_user_ddl)
        VALUES (ix.index_name, ix.table_name, ix.definition, ix.in_user_ddl)
        ON CONFLICT (index_name) DO UPDATE SET definition = EXCLUDED.definition,
            in_user_ddl = fhir.mass_ingestion.in_user_ddl OR EXCLUDED.in_user_ddl;
        EXECUTE format('DROP INDEX fhir.%I', ix.index_name);
        dropped := dropped + 1;
    END LOOP;
    RAISE NOTICE 'fhir.begin_mass_ingestion: dropped % indexes (% recorded in fhir.mass_ingestion); load now, then run fhir.end_mass_ingestion()',
        dropped, (SELECT count(*) FROM fhir.mass_ingestion);
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION fhir.begin_mass_ingestion(text[]) IS 'starts a mass ingestion: records every non-unique index of the fhir tables in fhir.mass_ingestion and drops it (primary keys and unique indexes stay), so loads write no secondary-index entries; resource_types, when given, limits it among the fhir.resource partitions to those types (history, side and contained tables always); searches stay correct but slow, and warn, until fhir.end_mass_ingestion(); returns the number of indexes dropped (a second call drops what was made or named meanwhile)';

-- The statements that rebuild the recorded indexes that are missing.
CREATE FUNCTION fhir.mass_ingestion_ddl() RETURNS SETOF text
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT m.definition FROM fhir.mass_ingestion m
     WHERE to_regclass(format('fhir.%I', m.index_name)) IS NULL
     ORDER BY pg_relation_size(to_regclass(format('fhir.%I', m.table_name))) DESC, m.index_name
$$;
COMMENT ON FUNCTION fhir.mass_ingestion_ddl() IS 'the CREATE INDEX statements of the indexes fhir.begin_mass_ingestion() dropped that do not exist yet, largest table first: a client may run them on several connections (fhir-load does) before fhir.end_mass_ingestion(), which builds the rest';

-- Rebuilds the recorded indexes and ends the mass ingestion.
CREATE FUNCTION fhir.end_mass_ingestion(maintenance_work_mem text DEFAULT '512MB', parallel_workers integer DEFAULT NULL,
                                        analyze_tables boolean DEFAULT false) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ix record;
    t record;
    total integer;
    built integer := 0;
    done integer := 0;
    started timestamptz := clock_timestamp();
    last_report timestamptz := clock_timestamp();
    one timestamptz;
    old_mem text := current_setting('maintenance_work_mem');
    old_workers text := current_setting('max_parallel_maintenance_workers');
BEGIN
    LOCK TABLE fhir.mass_ingestion IN EXCLUSIVE MODE;
    SELECT count(*) INTO total FROM fhir.mass_ingestion;
    IF total = 0 THEN
        RAISE NOTICE 'fhir.end_mass_ingestion: no mass ingestion in progress';
        RETURN 0;
    END IF;
    IF maintenance_work_mem IS NOT NULL THEN
        PERFORM set_config('maintenance_work_mem', maintenance_work_mem, true);
    END IF;
    IF parallel_workers IS NOT NULL THEN
        PERFORM set_config('max_parallel_maintenance_workers', parallel_workers::text, true);
    END IF;
    -- largest tables first: the progress NOTICEs then show the long part early
    FOR ix IN
        SELECT m.* FROM fhir.mass_ingestion m
         ORDER BY pg_relation_size(to_regclass(format('fhir.%I', m.table_name))) DESC, m.index_name
    LOOP
        done := done + 1;
        IF to_regclass(format('fhir.%I', ix.index_name)) IS NULL THEN
            one := clock_timestamp();
            EXECUTE ix.definition;
            built := built + 1;
            IF clock_timestamp() - one > interval '1 second' THEN
                RAISE NOTICE 'fhir.end_mass_ingestion: built % on fhir.% in % s', ix.index_name, ix.table_name,
                    round(extract(epoch FROM clock_timestamp() - one)::numeric, 1);
            END IF;
        END IF;
        -- the event trigger records every index made outside CREATE EXTENSION:
        -- the install script's own ones do not belong in fhir.user_ddl
        IF NOT ix.in_user_ddl THEN
            DELETE FROM fhir.user_ddl u WHERE u.kind = 'index' AND u.name = ix.index_name;
        END IF;
        IF clock_timestamp() - last_report > interval '5 seconds' THEN
            last_report := clock_timestamp();
            RAISE NOTICE 'fhir.end_mass_ingestion: % of % indexes in % s', done, total,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;
    IF analyze_tables THEN
        -- asked for: fresh tables have no statistics until autovacuum gets to them
        -- (as after any load); the loaded ones are analyzed here, each on its own
        -- (ANALYZE fhir.resource would sample
        -- every partition a second time for the parent's statistics, which no load
        -- path gathers: a DBA runs it when system-level searches need them)
        FOR t IN
            SELECT DISTINCT c.oid::regclass AS rel
              FROM fhir.mass_ingestion m
              JOIN pg_class c ON c.oid = to_regclass(format('fhir.%I', m.table_name))
             WHERE c.relkind = 'r' AND pg_relation_size(c.oid) > 0
        LOOP
            EXECUTE format('ANALYZE %s', t.rel);
        END LOOP;
    END IF;
    DELETE FROM fhir.mass_ingestion;
    PERFORM set_config('maintenance_work_mem', old_mem, true);
    PERFORM set_config('max_parallel_maintenance_workers', old_workers, true);
    RAISE NOTICE 'fhir.end_mass_ingestion: done, % indexes rebuilt (% were there already) in % s', built, total - built,
        round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
    RETURN built;
END
$$;
COMMENT ON FUNCTION fhir.end_mass_ingestion(text, integer, boolean) IS 'ends a mass ingestion (or finishes an interrupted one): rebuilds every index recorded in fhir.mass_ingestion that is missing, with the given maintenance_work_mem and max_parallel_maintenance_workers (NULL: the session''s), with analyze_tables => true analyzes the loaded tables that hold rows (otherwise autovacuum does, as after any load), and empties fhir.mass_ingestion, in one transaction; progress as NOTICEs; returns the number of indexes built';
