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
-- Type and system history pages (fhir.history) read versions newest first: with the
-- last_updated index of each fhir.resource partition these make a page a merge of
-- ordered LIMIT scans instead of a sort of the whole history.
CREATE INDEX resource_history_last_updated_idx ON fhir.resource_history (last_updated);
CREATE INDEX resource_history_rtype_last_updated_idx ON fhir.resource_history (rtype, last_updated);

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
    value   numeric,
    lo      numeric NOT NULL,
    hi      numeric NOT NULL
);
COMMENT ON TABLE fhir.search_number IS 'number search values: a point value with its implicit precision range [lo, hi), or (value NULL) a Range spanning [lo, hi] inclusive, -Infinity/Infinity for an absent bound';
CREATE INDEX search_number_rid_idx ON fhir.search_number (rid);

CREATE TABLE fhir.search_quantity (
    rid     bigint NOT NULL,
    param   integer NOT NULL,
    value   numeric,
    lo      numeric NOT NULL,
    hi      numeric NOT NULL,
    system  text NOT NULL,
    code    text NOT NULL,
    unit    text NOT NULL
);
COMMENT ON TABLE fhir.search_quantity IS 'quantity search values: a point value with precision range [lo, hi), or (value NULL) a Range spanning [lo, hi] inclusive (-Infinity/Infinity for an absent bound), with system/code/unit';
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
    value     numeric,
    lo        numeric NOT NULL,
    hi        numeric NOT NULL,
    system    text NOT NULL,
    code      text NOT NULL,
    unit      text NOT NULL
);
COMMENT ON TABLE fhir.search_composite_number IS 'composite search values whose range component is a number or quantity: key = hash of the token components of one composite node (grp), a point value with precision range [lo, hi) or (value NULL) a Range spanning [lo, hi] inclusive, and, for quantities, system/code/unit of the component at position component';
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

-- Registry overrides: built-in parameters disabled by the DBA, custom ones, and custom
-- definitions replacing built-in ones (stored under the built-in's id).
CREATE TABLE fhir.search_param_override (
    id            integer PRIMARY KEY,
    resource_type text NOT NULL,
    code          text NOT NULL,
    enabled       boolean NOT NULL DEFAULT true,
    definition    jsonb,
    UNIQUE (resource_type, code)
);
COMMENT ON TABLE fhir.search_param_override IS 'changes to the built-in search parameter registry: enabled flags (fhir.set_search_param_enabled), custom SearchParameters (definition, ids from fhir.custom_param_id_seq) and overrides of built-in ones (definition under the built-in''s id); use fhir.add_search_param()/fhir.drop_search_param()';
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

CREATE FUNCTION fhir.history(resource_type text DEFAULT NULL, id text DEFAULT NULL, query text DEFAULT '') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_history' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.history(text, text, text) IS 'FHIR history as one page of a history Bundle, newest version first: of one resource (type and id; NULL when it never existed), of a type (id NULL) or of the system (both NULL); query is the URL query string as sent (a leading ? or a whole next link is accepted) with _count, _since (lastUpdated >= instant) and _at (versions current within the date''s period); other parameters are errors; self/next/previous links page through a snapshot taken at the first page; total at instance level only';

CREATE FUNCTION fhir.transaction(bundle jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'fhir_transaction' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.transaction(jsonb) IS 'processes a transaction Bundle (all or nothing) or a batch Bundle (each entry on its own) and returns the response Bundle';

CREATE FUNCTION fhir.load(data text, batch_size integer DEFAULT 1000, mode text DEFAULT 'default') RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load(text, integer, text) IS 'bulk load: NDJSON (one resource per line, stored under its own id like update) or one Bundle; returns the number of resources written; mode => ''mass'' (fhir_admin) drops the secondary indexes first and rebuilds them after, all in the load''s transaction (fhir.begin_mass_ingestion); mode => ''new_ids'' (or ''mass,new_ids'') promises that no resource ever had the data''s ids: no read-before-write, an existing one fails the load (FH409)';

CREATE FUNCTION fhir.load_file(path text, batch_size integer DEFAULT 1000, mode text DEFAULT 'default') RETURNS bigint
    AS 'MODULE_PATHNAME', 'fhir_load_file' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION fhir.load_file(text, integer, text) IS 'bulk load from a server-side NDJSON or Bundle file (needs pg_read_server_files); reports progress as NOTICEs; mode => ''mass'', ''new_ids'' or ''mass,new_ids'' as for fhir.load';

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
        -- rid too: a _lastUpdated window's rids come from the index alone (search_pages.cpp)
        EXECUTE format('CREATE INDEX %I ON fhir.%I (last_updated) INCLUDE (rid)', p || '_last_updated_idx', p);
    END LOOP;
END
$$;
-- Rare token values (one patient's references) must be estimated as rare, or a
-- page query walks rid order through most of a partition: keep many element stats.
ALTER TABLE fhir.resource ALTER COLUMN tokens SET STATISTICS 1000;

-- ---------------------------------------------------------------------------
-- Search
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.search(resource_type text, query text, cache_control text DEFAULT NULL, compartment text DEFAULT NULL)
    RETURNS jsonb AS 'MODULE_PATHNAME', 'fhir_search' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.search(text, text, text, text) IS 'FHIR search (type NULL: system-level): query is the URL query string as sent (percent-encoded, + for spaces; a leading ? or a whole search URL, such as a next link, is accepted); returns a searchset Bundle with one page of matches and self/next/previous links whose query strings return the other pages (_count, _sort, _total, _summary, _elements, _include/_revinclude, _contained/_containedType); cache_control takes the HTTP Cache-Control header (no-cache, no-store, max-results=N); compartment => ''Patient/123'' searches that compartment (R4 CompartmentDefinitions Patient, Encounter, RelatedPerson, Practitioner, Device; type NULL: every type it holds), like GET [base]/Patient/123/Observation';

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
            WHERE to_regclass(format('fhir.%I', n)) IS NULL) AS indexed,
       p.builtin AND EXISTS (
           SELECT 1 FROM fhir.search_param_override o WHERE o.id = p.id AND o.definition IS NOT NULL) AS overridden
  FROM fhir._search_params() p;
COMMENT ON VIEW fhir.search_parameters IS 'every search parameter per resource type (R4 built-ins and custom ones) with its FHIRPath expression, whether it is enabled, the indexes that serve it (index_names, including a reference''s _sort btrees, made on demand), whether those its searches need exist (indexed), and whether a custom definition overrides the built-in one (overridden: type and expression are the override''s)';

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
COMMENT ON FUNCTION fhir.add_search_param(jsonb) IS 'adds or replaces a custom SearchParameter (code, type, base, expression) on each base; where its code is a built-in parameter of a base it overrides that one there under the built-in''s id (not _id, _lastUpdated, _text, _content; fhir.drop_search_param goes back); returns Type/code per base. Writes use the new definition at once; resources stored before keep their values until fhir.reindex(type), as its NOTICE says';

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
