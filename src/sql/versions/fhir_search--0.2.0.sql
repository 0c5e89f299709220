-- fhir_search install script (becomes fhir_search--<version>.sql at build time).
--
-- Storage layout (docs/architecture.md explains the choices and measurements):
--   fhir.resource               current version of every resource, LIST-partitioned by
--                               type: one partition per R4 type (fhir.resource_<type>),
--                               holding the jsonb plus `tokens`, the hashed token,
--                               reference and uri values of its search parameters
--                               (one GIN index answers any AND/OR of them).
--   fhir.resource_history       every superseded version and delete tombstone.
--   fhir.search_string/date/number/quantity/reference
--                               extracted values the GIN array cannot answer
--                               (prefix, range and join searches), keyed by rid.
--   fhir.search_composite_number/date
--                               composites with a range component: the token
--                               components' hash paired with the range value.
--   fhir.search_text            _text/_content documents as tsvectors (disabled
--                               by default: enabling costs at every write).
--   fhir.contained_resource     contained resources, indexed under their own type (_contained).
--   fhir.search_param_override  DBA changes to the built-in registry and custom params.

\echo Use "CREATE EXTENSION fhir_search" to load this file. \quit

-- The schema belongs to the extension (the control file names pg_catalog as the
-- extension's schema, as Citus does), so DROP EXTENSION removes it with everything
-- in it, and CREATE EXTENSION refuses to mix its objects into an existing schema fhir.
CREATE SCHEMA fhir;
COMMENT ON SCHEMA fhir IS 'HL7 FHIR R4 storage and search (extension fhir_search): resources, history, search side tables and the fhir.* functions; grant the roles fhir_reader, fhir_writer or fhir_admin rather than privileges on its objects';

CREATE SEQUENCE fhir.resource_rid_seq CACHE 64;
COMMENT ON SEQUENCE fhir.resource_rid_seq IS 'surrogate keys (rid) of stored resources; the search side tables refer to resources by rid';

CREATE TABLE fhir.resource (
    rid          bigint      NOT NULL,
    rtype        text        NOT NULL,
    id           text        NOT NULL,
    version_id   integer     NOT NULL,
    last_updated timestamptz NOT NULL,
    content      jsonb       NOT NULL,
    tokens       bigint[]    NOT NULL DEFAULT '{}',
    PRIMARY KEY (rtype, id)
) PARTITION BY LIST (rtype);
COMMENT ON TABLE fhir.resource IS 'current version of every FHIR resource, one partition per resource type; write through fhir.create/update/delete';
COMMENT ON COLUMN fhir.resource.rid IS 'surrogate key used by the search side tables';
COMMENT ON COLUMN fhir.resource.tokens IS 'hashed token/reference/uri search values (see docs/architecture.md); maintained by the extension';

CREATE TABLE fhir.resource_history (
    rtype        text        NOT NULL,
    id           text        NOT NULL,
    version_id   integer     NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted      boolean     NOT NULL DEFAULT false,
    content      jsonb,
    PRIMARY KEY (rtype, id, version_id)
);
COMMENT ON TABLE fhir.resource_history IS 'superseded versions and delete tombstones (content NULL); the current version lives in fhir.resource';

-- Search side tables. Each row belongs to one resource (rid) and one search
-- parameter (param, the registry id). Per-parameter partial indexes on these are
-- made by fhir.create_index(); the rid indexes serve re-index and deletes.
CREATE TABLE fhir.search_string (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    norm    text COLLATE "C" NOT NULL,
    exact   text NOT NULL
);
COMMENT ON TABLE fhir.search_string IS 'string search values: norm is lowercased and accent-free for the default and :contains matches, exact for :exact; param < 0 holds the display text of token parameter -param (for :text)';
CREATE INDEX search_string_rid_idx ON fhir.search_string (rid);

CREATE TABLE fhir.search_date (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    multi   boolean NOT NULL DEFAULT false,
    lo      timestamptz NOT NULL,
    hi      timestamptz NOT NULL,
    CHECK (lo <= hi)
);
COMMENT ON TABLE fhir.search_date IS 'date search values as half-open ranges [lo, hi) in UTC (-infinity/infinity for open periods); lo <= hi always (an inverted Period is stored from its end to its start)';
COMMENT ON COLUMN fhir.search_date.multi IS 'the resource has more than one value for this parameter; searches with several date conditions on a parameter that has no such resource test them on one row (docs/architecture.md, "Date searches")';
CREATE INDEX search_date_rid_idx ON fhir.search_date (rid);
CREATE INDEX search_date_multi_idx ON fhir.search_date (param, rid) WHERE multi;

CREATE TABLE fhir.search_number (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    value   numeric NOT NULL,
    lo      numeric NOT NULL,
    hi      numeric NOT NULL
);
COMMENT ON TABLE fhir.search_number IS 'number search values with their implicit precision range [lo, hi)';
CREATE INDEX search_number_rid_idx ON fhir.search_number (rid);

CREATE TABLE fhir.search_quantity (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    value   numeric NOT NULL,
    lo      numeric NOT NULL,
    hi      numeric NOT NULL,
    system  text NOT NULL,
    code    text NOT NULL,
    unit    text NOT NULL
);
COMMENT ON TABLE fhir.search_quantity IS 'quantity search values: value with precision range [lo, hi) and system/code/unit';
CREATE INDEX search_quantity_rid_idx ON fhir.search_quantity (rid);

CREATE TABLE fhir.search_reference (
    rid          bigint NOT NULL,
    param        integer NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL
);
COMMENT ON TABLE fhir.search_reference IS 'reference search values (target type and id) for chaining, _has and _include/_revinclude joins';
CREATE INDEX search_reference_rid_idx ON fhir.search_reference (rid);
CREATE INDEX search_reference_target_idx ON fhir.search_reference (target_type, target_id, param);

-- Composites with a range component (Observation code-value-quantity etc.): one
-- row per composite node (grp), key and range value, so that both components
-- match in the same repetition. key is fhir.token_hash of the token component
-- under the composite's parameter id (several token components folded into one),
-- so it is unique per parameter and the (key, value) indexes serve every composite.
CREATE TABLE fhir.search_composite_number (
    rid       bigint NOT NULL,
    param     integer NOT NULL,
    grp       integer NOT NULL,
    component integer NOT NULL,
    key       bigint NOT NULL,
    value     numeric NOT NULL,
    lo        numeric NOT NULL,
    hi        numeric NOT NULL,
    system    text NOT NULL,
    code      text NOT NULL,
    unit      text NOT NULL
);
COMMENT ON TABLE fhir.search_composite_number IS 'composite search values whose range component is a number or quantity: key = hash of the token components of one composite node (grp), value with precision range [lo, hi) and, for quantities, system/code/unit of the component at position component';
CREATE INDEX search_composite_number_rid_idx ON fhir.search_composite_number (rid);
CREATE INDEX search_composite_number_key_idx ON fhir.search_composite_number (key, value);

CREATE TABLE fhir.search_composite_date (
    rid       bigint NOT NULL,
    param     integer NOT NULL,
    grp       integer NOT NULL,
    component integer NOT NULL,
    key       bigint NOT NULL,
    lo        timestamptz NOT NULL,
    hi        timestamptz NOT NULL
);
COMMENT ON TABLE fhir.search_composite_date IS 'composite search values whose range component is a date: key = hash of the token components of one composite node (grp), the date as the half-open range [lo, hi)';
CREATE INDEX search_composite_date_rid_idx ON fhir.search_composite_date (rid);
CREATE INDEX search_composite_date_key_idx ON fhir.search_composite_date (key, lo, hi);

CREATE TABLE fhir.search_composite_string (
    rid       bigint NOT NULL,
    param     integer NOT NULL,
    grp       integer NOT NULL,
    component integer NOT NULL,
    key       bigint NOT NULL,
    norm      text COLLATE "C" NOT NULL
);
COMMENT ON TABLE fhir.search_composite_string IS 'composite search values with a string component (Observation code-value-string): key = hash of the token components of one composite node (grp), the string lowercased and accent-free as in fhir.search_string';
CREATE INDEX search_composite_string_rid_idx ON fhir.search_composite_string (rid);
CREATE INDEX search_composite_string_key_idx ON fhir.search_composite_string (key, norm);

-- Full text (_text, _content): one document per resource and parameter, folded
-- (lowercase, accent-free) in C++ and parsed with the fixed 'simple' configuration.
CREATE TABLE fhir.search_text (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    doc     tsvector NOT NULL
);
COMMENT ON TABLE fhir.search_text IS 'full-text documents of _text (narrative) and _content (all text): to_tsvector(''simple'', folded text); filled only for the resource types where fhir.set_search_param_enabled() turned these parameters on';
CREATE INDEX search_text_rid_idx ON fhir.search_text (rid);
CREATE INDEX search_text_doc_idx ON fhir.search_text USING gin (doc);

-- ---- contained resources (_contained / _containedType) --------------------
-- Every contained resource with a known resourceType and a valid local id,
-- indexed at write time under its own type like a top-level resource: its own
-- rid (from the same sequence, so side rows never collide), its tokens here and
-- its side rows in the search_* tables. Rows belong to the container's current
-- version: an update replaces them, a delete removes them (with their side rows).
CREATE TABLE fhir.contained_resource (
    rid            bigint      PRIMARY KEY,
    container_rid  bigint      NOT NULL,
    container_type text        NOT NULL,
    container_id   text        NOT NULL,
    rtype          text        NOT NULL,
    id             text        NOT NULL,
    last_updated   timestamptz NOT NULL,
    content        jsonb       NOT NULL,
    tokens         bigint[]    NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE fhir.contained_resource IS 'contained resources of current resource versions, indexed under their own type for _contained searches and for chains through local #id references; id is the local id (#id), last_updated the container''s; maintained by the extension';
COMMENT ON COLUMN fhir.contained_resource.container_rid IS 'rid of the containing resource in fhir.resource';
CREATE INDEX contained_resource_container_idx ON fhir.contained_resource (container_rid);
CREATE INDEX contained_resource_rtype_idx ON fhir.contained_resource (rtype, rid);
CREATE INDEX contained_resource_container_type_idx ON fhir.contained_resource (rtype, container_type);
CREATE INDEX contained_resource_tokens_idx ON fhir.contained_resource USING gin (tokens);
ALTER TABLE fhir.contained_resource ALTER COLUMN tokens SET STATISTICS 1000;

-- Registry overrides: built-in parameters disabled by the DBA, and custom ones.
CREATE TABLE fhir.search_param_override (
    id            integer PRIMARY KEY,
    resource_type text NOT NULL,
    code          text NOT NULL,
    enabled       boolean NOT NULL DEFAULT true,
    definition    jsonb,
    UNIQUE (resource_type, code)
);
COMMENT ON TABLE fhir.search_param_override IS 'changes to the built-in search parameter registry (enabled flag) and custom SearchParameters (definition); use fhir.enable_search_param()/fhir.add_search_param()';
CREATE SEQUENCE fhir.custom_param_id_seq START 100000;

-- ---------------------------------------------------------------------------
-- C functions
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.resource_types() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_resource_types' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fhir.resource_types() IS 'every FHIR R4 resource type the extension knows (generated from the official definitions)';

CREATE FUNCTION fhir.partition_name(resource_type text) RETURNS text
    AS 'MODULE_PATHNAME', 'fhir_partition_name' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fhir.partition_name(text) IS 'name of the fhir.resource partition holding one resource type';

CREATE FUNCTION fhir.create(resource jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_create' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.create(jsonb) IS 'FHIR create: stores a new resource under a server-assigned id and returns it with id and meta set';

CREATE FUNCTION fhir.update(resource jsonb, if_match integer DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_update' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.update(jsonb, integer) IS 'FHIR update (create-or-update with the client''s id); if_match, when given, must equal the current version (like If-Match), else SQLSTATE FH409';

CREATE FUNCTION fhir.read(resource_type text, id text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_read' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION fhir.read(text, text) IS 'FHIR read: the current version, or NULL when absent or deleted';

CREATE FUNCTION fhir.vread(resource_type text, id text, version_id integer) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_vread' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION fhir.vread(text, text, integer) IS 'FHIR vread: one version of a resource, or NULL when there is no such version (or it is a delete)';

CREATE FUNCTION fhir.delete(resource_type text, id text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fhir_delete' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.delete(text, text) IS 'FHIR delete: removes the current version (kept in history with a tombstone); true if something was deleted';

CREATE FUNCTION fhir.history(resource_type text, id text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_history' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION fhir.history(text, text) IS 'FHIR history of one resource as a history Bundle, newest version first';

CREATE FUNCTION fhir.transaction(bundle jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_transaction' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.transaction(jsonb) IS 'processes a transaction Bundle (all or nothing) or a batch Bundle (each entry on its own) and returns the response Bundle';

CREATE FUNCTION fhir.load(data text, batch_size integer DEFAULT 1000) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load(text, integer) IS 'bulk load: NDJSON (one resource per line, stored under its own id like update) or one Bundle; returns the number of resources written';

CREATE FUNCTION fhir.load_file(path text, batch_size integer DEFAULT 1000) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load_file' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load_file(text, integer) IS 'bulk load from a server-side NDJSON or Bundle file (needs pg_read_server_files); reports progress as NOTICEs';

CREATE FUNCTION fhir.token_hash(param_id integer, form integer, value text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_token_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION fhir.token_hash(integer, integer, text) IS 'the 64-bit hash stored in fhir.resource.tokens for a parameter, form and value';

CREATE FUNCTION fhir._tokens_overlap_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'fhir_tokens_overlap_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION fhir._tokens_overlap_support(internal) IS 'planner support of fhir.tokens_overlap: the && selectivity and tokens && hashes as a GIN index condition';

CREATE FUNCTION fhir.tokens_overlap(tokens bigint[], hashes bigint[]) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fhir_tokens_overlap' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT fhir._tokens_overlap_support;
COMMENT ON FUNCTION fhir.tokens_overlap(bigint[], bigint[]) IS 'tokens && hashes by binary search in a sorted copy of hashes (made once per query): searches use it for large value set expansions, where && as a filter compares every pair; the GIN index on tokens still answers it';

CREATE FUNCTION fhir.token_sort_key(resource jsonb, param_id integer, highest boolean DEFAULT false) RETURNS text
    AS 'MODULE_PATHNAME', 'fhir_token_sort_key' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION fhir.token_sort_key(jsonb, integer, boolean) IS 'the key _sort orders a token parameter by: system || chr(1) || code of the lowest (highest when highest) code the parameter (search parameter id) has in the resource, compared byte-wise; NULL when it has none';

CREATE FUNCTION fhir.memory_usage(OUT context_bytes bigint, OUT malloc_bytes bigint)
    AS 'MODULE_PATHNAME', 'fhir_memory_usage' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.memory_usage() IS 'this backend''s memory: bytes in PostgreSQL memory contexts and bytes malloc''d (C++ heap); for leak checks';

CREATE FUNCTION fhir._registry_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'fhir_registry_changed' LANGUAGE C;
CREATE TRIGGER search_param_override_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON fhir.search_param_override FOR EACH STATEMENT EXECUTE FUNCTION fhir._registry_changed();

-- ---------------------------------------------------------------------------
-- One partition per resource type, from the generated registry.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    t text;
    p text;
BEGIN
    FOR t IN SELECT fhir.resource_types() LOOP
        p := fhir.partition_name(t);
        EXECUTE format('CREATE TABLE fhir.%I PARTITION OF fhir.resource FOR VALUES IN (%L)', p, t);
        EXECUTE format('CREATE INDEX %I ON fhir.%I (rid)', p || '_rid_idx', p);
        EXECUTE format('CREATE INDEX %I ON fhir.%I USING gin (tokens)', p || '_tokens_idx', p);
        EXECUTE format('CREATE INDEX %I ON fhir.%I (last_updated)', p || '_last_updated_idx', p);
    END LOOP;
END
$$;
-- Rare token values (one patient's references) must be estimated as rare, or a
-- page query walks rid order through most of a partition: keep many element stats.
ALTER TABLE fhir.resource ALTER COLUMN tokens SET STATISTICS 1000;

-- ---------------------------------------------------------------------------
-- Search
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.search(resource_type text, query text, cache_control text DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_search' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.search(text, text, text) IS 'FHIR search (type NULL: system-level): query is the URL query string as sent (percent-encoded, + for spaces; a leading ? or a whole search URL, such as a next link, is accepted); returns a searchset Bundle with one page of matches and self/next/previous links whose query strings return the other pages (_count, _sort, _total, _summary, _elements, _include/_revinclude, _contained/_containedType); cache_control takes the HTTP Cache-Control header (no-cache, no-store, max-results=N)';

-- ---------------------------------------------------------------------------
-- Registry, index builders, re-index
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir._search_params(OUT id integer, OUT resource_type text, OUT code text, OUT type text,
                                    OUT expression text, OUT targets text[], OUT enabled boolean,
                                    OUT builtin boolean, OUT index_names text[], OUT search_index_names text[])
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'fhir_search_params' LANGUAGE C STABLE;

CREATE VIEW fhir.search_parameters AS
SELECT p.id, p.resource_type, p.code, p.type, p.expression, p.targets, p.enabled, p.builtin, p.index_names,
       cardinality(p.search_index_names) > 0 AND NOT EXISTS (
           SELECT 1 FROM unnest(p.search_index_names) n
            WHERE to_regclass(format('fhir.%I', n)) IS NULL) AS indexed
  FROM fhir._search_params() p;
COMMENT ON VIEW fhir.search_parameters IS 'every search parameter per resource type (R4 built-ins and custom ones) with its FHIRPath expression, whether it is enabled, the indexes that serve it (index_names, including a reference''s _sort btrees, made on demand) and whether those its searches need exist (indexed)';

CREATE VIEW fhir.search_indexes AS
SELECT p.resource_type, p.code, n AS index_name, c.oid IS NOT NULL AS present,
       pg_relation_size(c.oid) AS size_bytes, s.idx_scan AS scans
  FROM fhir._search_params() p
 CROSS JOIN LATERAL unnest(p.index_names) n
  LEFT JOIN pg_class c ON c.oid = to_regclass(format('fhir.%I', n))
  LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = c.oid
 WHERE p.enabled;
COMMENT ON VIEW fhir.search_indexes IS 'the indexes each enabled search parameter needs, whether they exist, their size and how often they were used';

CREATE FUNCTION fhir.create_index(resource_type text, code text DEFAULT NULL) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_create_index' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.create_index(text, text) IS 'creates the indexes a search parameter needs (all enabled parameters of the type when code is NULL); returns their names. For CREATE INDEX CONCURRENTLY use fhir.index_ddl() with psql \gexec';

CREATE FUNCTION fhir.index_ddl(resource_type text, code text DEFAULT NULL, concurrently boolean DEFAULT true) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_index_ddl' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.index_ddl(text, text, boolean) IS 'the CREATE INDEX [CONCURRENTLY] statements for a search parameter (or a whole type), to run outside a transaction, e.g. SELECT fhir.index_ddl(''Observation'', ''date'') \gexec';

CREATE FUNCTION fhir.drop_index(resource_type text, code text) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_drop_index' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.drop_index(text, text) IS 'drops the indexes only this search parameter uses (shared ones such as the type''s token GIN index stay); searches stay correct, only slower';

CREATE FUNCTION fhir.create_default_indexes() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_create_default_indexes' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.create_default_indexes() IS 'creates the default indexes for the most used string and date parameters (run at CREATE EXTENSION)';

CREATE FUNCTION fhir.set_search_param_enabled(resource_type text, code text, enabled boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'fhir_set_search_param_enabled' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.set_search_param_enabled(text, text, boolean) IS 'enables or disables a search parameter; disabled ones cost nothing at write time and cannot be searched (_text and _content start disabled). Returns true when fhir.reindex() is needed before the parameter finds existing resources';

CREATE FUNCTION fhir.add_search_param(search_parameter jsonb) RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_add_search_param' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.add_search_param(jsonb) IS 'adds or replaces a custom SearchParameter (code, type, base, expression); searchable for existing resources after fhir.reindex(type)';

CREATE FUNCTION fhir.reindex(resource_type text DEFAULT NULL) RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_reindex' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.reindex(text) IS 're-extracts the search values of every stored resource of a type (all types when NULL); returns the number of resources';

CREATE FUNCTION fhir.explain(resource_type text, query text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_explain' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.explain(text, text) IS 'how a search runs: the generated SQL, its bound parameters, the PostgreSQL plan (EXPLAIN, FORMAT JSON) and the indexes it uses';

CREATE FUNCTION fhir.last_search() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_last_search' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.last_search() IS 'this session''s last fhir.search(): cache HIT/MISS/BYPASS/UNAVAILABLE, what storing did, the cache entry id, kept_plans (statements that ran with a plan kept for their values, see fhir_search.plan_cache_size), and timings (parse_ms, db_ms, cache_ms, total_ms) for X-Cache / X-Process-Time style headers';

CREATE FUNCTION fhir._default_index_names() RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'fhir_default_index_names' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir._default_index_names() IS 'names of the indexes fhir.create_default_indexes() makes, without making them';

SELECT count(*) FROM fhir.create_default_indexes();
-- ---------------------------------------------------------------------------
-- Result cache (docs/cache.md): statistics, reset, explicit invalidation
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.cache_stats(OUT available boolean, OUT entries bigint, OUT bytes bigint, OUT capacity bigint,
                                 OUT hits bigint, OUT misses bigint, OUT evictions bigint, OUT invalidations bigint,
                                 OUT stores bigint, OUT hit_rate double precision, OUT note text)
    AS 'MODULE_PATHNAME', 'fhir_cache_stats' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION fhir.cache_stats() IS 'the search result cache: whether it is available (shared_preload_libraries), entries, bytes in use of capacity, hits, misses, evictions, invalidations, stores, hit rate; note says why it is unavailable';

CREATE VIEW fhir.cache_statistics AS SELECT * FROM fhir.cache_stats();
COMMENT ON VIEW fhir.cache_statistics IS 'one row of search result cache statistics (see fhir.cache_stats())';

CREATE FUNCTION fhir.cache_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'fhir_cache_reset' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fhir.cache_reset() IS 'drops every cached search result and zeroes the cache statistics (cluster-wide); not executable by PUBLIC';
REVOKE EXECUTE ON FUNCTION fhir.cache_reset() FROM PUBLIC;

CREATE FUNCTION fhir.cache_invalidate(resource_type text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'fhir_cache_invalidate' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fhir.cache_invalidate(text) IS 'when the current transaction commits, makes cached searches over resource_type (NULL: every type) stale; for writes that bypass fhir.create/update/delete';
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

-- (fhir_search--0.1.0--0.2.0.sql holds a frozen copy of this file as of 0.2.0: a change
-- here is a new version with its own upgrade script, never an edit of that copy.)
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
