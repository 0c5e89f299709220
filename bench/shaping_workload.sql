-- bench/shaping_workload.sql: the result-shaping benchmark's workload, run by
-- bench/shaping_bench.sh with psql variables runs, warmup, depth (deepest page
-- followed) and cache_control, on a database holding gen_sample.py data in fhir.resource.
--
-- Four measurements, each into a table the script turns into the report:
--   shape_payload     bytes of the Bundle (and of its resources alone) of a few typical
--                     searches, plain and with _summary=true/data/text and _elements
--   shape_projection  time of fhir.search(type, q), of q&_elements=..., of q&_summary=true,
--                     and of the same rows fetched by id in plain SQL, whole and projected
--                     with jsonb_build_object of the same keys
--   shape_paging      time of the page fetch at depth 1, 10, 100, ... (following `next`
--                     links, _count=20) in default order, with _sort=-date and with
--                     _sort=value-quantity (ascending: its btree is in the default set)
--   shape_count       _summary=count: matches, time, resources counted per second
-- Every timing is a prepared statement run by a plpgsql loop, timed with the server's
-- clock_timestamp() (median and p95 in ms after `warmup` runs). fhir.search gets
-- cache_control ('no-cache') as its third argument so the result cache never answers.
\set ON_ERROR_STOP 1
SET timezone = 'UTC';

SET client_min_messages = warning;
DROP TABLE IF EXISTS shape_picks, shape_searches, shape_payload, shape_projection, shape_paging, shape_paging_walk, shape_count;
RESET client_min_messages;

-- ---------------------------------------------------------------- values from the data
CREATE TABLE shape_picks (k text PRIMARY KEY, v text NOT NULL);
CREATE TEMP TABLE obs_codes AS
SELECT c->>'system' AS system, c->>'code' AS code, count(*) AS n
  FROM fhir.resource r, jsonb_array_elements(r.content->'code'->'coding') c
 WHERE r.rtype = 'Observation' GROUP BY 1, 2;
-- the most common Observation code (the paging and projection searches)
INSERT INTO shape_picks SELECT 'common_code', system || '|' || code FROM obs_codes ORDER BY n DESC, code LIMIT 1;
SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) AS picked FROM shape_picks;

-- ---------------------------------------------------------------- the searches
-- elements: the _elements value; sql_keys: the top-level keys the same projection keeps
-- in plain SQL (resourceType, id, meta, the listed elements with every choice-type key
-- present in the data, and the mandatory elements fhir.search keeps too).
CREATE TABLE shape_searches (n int PRIMARY KEY, rtype text, query text, elements text, sql_keys text[]);
INSERT INTO shape_searches
SELECT v.* FROM (SELECT v AS common FROM shape_picks WHERE k = 'common_code') p, LATERAL (VALUES
  (1, 'Patient', '_count=50', 'name,gender,birthDate',
   '{resourceType,id,meta,name,gender,birthDate}'::text[]),
  (2, 'Observation', 'code=' || p.common || '&_count=50', 'code,subject,effective,value',
   '{resourceType,id,meta,status,code,subject,effectiveDateTime,effectivePeriod,effectiveInstant,valueQuantity,valueString,valueCodeableConcept}'::text[]),
  (3, 'Encounter', 'status=finished&_count=50', 'status,class,subject,period',
   '{resourceType,id,meta,status,class,subject,period}'::text[]),
  (4, 'Observation', 'code=' || p.common || '&_count=1000', 'code,subject,effective,value',
   '{resourceType,id,meta,status,code,subject,effectiveDateTime,effectivePeriod,effectiveInstant,valueQuantity,valueString,valueCodeableConcept}'::text[])
) v(n, rtype, query, elements, sql_keys);

\ir lib/timing.sql

CREATE OR REPLACE FUNCTION shape_cc(cache_control text) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN cache_control <> '' THEN format(', %L', cache_control) ELSE '' END $$;

-- ---------------------------------------------------------------- payload size
CREATE TABLE shape_payload (n int, variant text, ord int, query text, entries int, bundle_bytes bigint, resource_bytes bigint,
                            PRIMARY KEY (n, variant));
CREATE OR REPLACE FUNCTION shape_payload_run(cache_control text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  s shape_searches;
  v record;
  b jsonb;
BEGIN
  FOR s IN SELECT * FROM shape_searches ORDER BY n LOOP
    FOR v IN SELECT * FROM (VALUES (1, 'plain', ''), (2, '_summary=true', '&_summary=true'),
                                   (3, '_summary=data', '&_summary=data'), (4, '_summary=text', '&_summary=text'),
                                   (5, '_elements', '&_elements=' || s.elements)) x(ord, variant, suffix) LOOP
      EXECUTE format('SELECT fhir.search(%L, %L%s)', s.rtype, s.query || v.suffix, shape_cc(cache_control)) INTO b;
      INSERT INTO shape_payload
      SELECT s.n, v.variant, v.ord, s.query || v.suffix, count(e), octet_length(b::text), coalesce(sum(octet_length((e->'resource')::text)), 0)
        FROM jsonb_array_elements(coalesce(b->'entry', '[]')) e WHERE e->'search'->>'mode' = 'match';
    END LOOP;
  END LOOP;
END $$;
SELECT shape_payload_run(:'cache_control') \g /dev/null

-- ---------------------------------------------------------------- projection speed
-- last: fhir.last_search() after the last timed run of a fhir.search variant (parse_ms,
-- db_ms = page SQL + projection + Bundle assembly, cache_ms = storing the Bundle for paging)
CREATE TABLE shape_projection (n int, variant text, ord int, med float8, p95 float8, last jsonb, PRIMARY KEY (n, variant));
CREATE OR REPLACE FUNCTION shape_projection_run(qn int, runs int, warmup int, cache_control text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  s shape_searches;
  ids text[];
  b jsonb;
  proj text;
  by_ids text;
  v record;
  t record;
  same boolean;
BEGIN
  SELECT * INTO s FROM shape_searches WHERE n = qn;
  b := fhir.search(s.rtype, s.query);
  SELECT coalesce(array_agg(e->'resource'->>'id' ORDER BY i), '{}') INTO ids
    FROM jsonb_array_elements(coalesce(b->'entry', '[]')) WITH ORDINALITY x(e, i) WHERE e->'search'->>'mode' = 'match';
  -- the same rows by primary key, in page order, as a json array
  by_ids := format('FROM unnest(%L::text[]) WITH ORDINALITY u(id, i) JOIN fhir.%I r ON r.rtype = %L AND r.id = u.id',
                   ids, fhir.partition_name(s.rtype), s.rtype);
  SELECT string_agg(format('%L, r.content->%L', k, k), ', ') INTO proj FROM unnest(s.sql_keys) k;
  -- the same keys as _elements? (fhir.search adds the SUBSETTED tag to meta: compare without meta)
  EXECUTE format('SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(%s)) - ''meta'' ORDER BY u.i) %s', proj, by_ids) INTO b;
  SELECT b = jsonb_agg((e->'resource') - 'meta' ORDER BY i) INTO same
    FROM jsonb_array_elements(fhir.search(s.rtype, s.query || '&_elements=' || s.elements)->'entry') WITH ORDINALITY x(e, i)
   WHERE e->'search'->>'mode' = 'match';
  IF NOT coalesce(same, false) THEN
    RAISE WARNING 'search %: the plain-SQL projection differs from _elements=%', qn, s.elements;
  END IF;
  FOR v IN SELECT * FROM (VALUES
      (1, 'ours plain', format('SELECT fhir.search(%L, %L%s)', s.rtype, s.query, shape_cc(cache_control))),
      (2, 'ours _elements', format('SELECT fhir.search(%L, %L%s)', s.rtype, s.query || '&_elements=' || s.elements, shape_cc(cache_control))),
      (3, 'ours _summary=true', format('SELECT fhir.search(%L, %L%s)', s.rtype, s.query || '&_summary=true', shape_cc(cache_control))),
      (4, 'sql rows by id', format('SELECT jsonb_agg(r.content ORDER BY u.i) %s', by_ids)),
      (5, 'sql projection by id', format('SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(%s)) ORDER BY u.i) %s', proj, by_ids))
    ) x(ord, variant, stmt) LOOP
    EXECUTE format('PREPARE shape_p%s_%s AS %s', qn, v.ord, v.stmt);
    SELECT * INTO t FROM bench_time(format('EXECUTE shape_p%s_%s', qn, v.ord), runs, warmup);
    INSERT INTO shape_projection VALUES (qn, v.variant, v.ord, t.med, t.p95, CASE WHEN v.ord <= 3 THEN fhir.last_search() END);
  END LOOP;
  RETURN format('projection %s: %s %s (%s rows) done', qn, s.rtype, s.query, cardinality(ids));
END $$;

-- ---------------------------------------------------------------- deep paging
-- Follows `next` links (the query string after '?') from page 1 to page `depth`, timing
-- every fetch once (the walk), then times the pages at depths 1, 10, 100, ... again
-- (`runs` after `warmup`). The walk also checks that no id comes twice.
CREATE TABLE shape_paging (label text, query text, depth int, med float8, p95 float8, walk_ms float8, page_query text,
                           PRIMARY KEY (label, depth));
CREATE TABLE shape_paging_walk (label text, query text, pages int, rows bigint, distinct_ids bigint, total bigint,
                                walk_total_ms float8, PRIMARY KEY (label));
CREATE TEMP TABLE walk_pages (label text, depth int, qs text, walk_ms float8);  -- the pages to time again
CREATE OR REPLACE FUNCTION shape_paging_run(label text, rtype text, query text, depth int, runs int, warmup int, cache_control text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  qs text := query;
  b jsonb;
  next_url text;
  t0 timestamptz;
  ms float8;
  walk float8 := 0;
  ids text[] := '{}';
  page_ids text[];
  p int := 0;
  marks int[] := '{}';
  d int;
  t record;
  total bigint;
BEGIN
  d := 1;
  WHILE d <= depth LOOP marks := marks || d; d := d * 10; END LOOP;
  LOOP
    p := p + 1;
    t0 := clock_timestamp();
    EXECUTE format('SELECT fhir.search(%L, %L%s)', rtype, qs, shape_cc(cache_control)) INTO b;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    walk := walk + ms;
    SELECT coalesce(array_agg(e->'resource'->>'id'), '{}') INTO page_ids
      FROM jsonb_array_elements(coalesce(b->'entry', '[]')) e WHERE e->'search'->>'mode' = 'match';
    ids := ids || page_ids;
    IF p = ANY (marks) THEN
      INSERT INTO walk_pages VALUES (label, p, qs, ms);
    END IF;
    SELECT l->>'url' INTO next_url FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next';
    IF next_url IS NULL AND NOT p = ANY (marks) THEN
      INSERT INTO walk_pages VALUES (label, p, qs, ms);   -- the last page, when it comes before `depth`
    END IF;
    EXIT WHEN next_url IS NULL OR p >= depth;
    qs := substr(next_url, strpos(next_url, '?') + 1);
  END LOOP;
  total := (fhir.search(rtype, query || '&_summary=count')->>'total')::bigint;
  INSERT INTO shape_paging_walk
  SELECT label, query, p, cardinality(ids), (SELECT count(DISTINCT x) FROM unnest(ids) x), total, walk;
  FOR d, qs, ms IN SELECT w.depth, w.qs, w.walk_ms FROM walk_pages w WHERE w.label = shape_paging_run.label ORDER BY w.depth LOOP
    EXECUTE format('PREPARE shape_page_%s_%s AS SELECT fhir.search(%L, %L%s)', label, d, rtype, qs, shape_cc(cache_control));
    SELECT * INTO t FROM bench_time(format('EXECUTE shape_page_%s_%s', label, d), runs, warmup);
    INSERT INTO shape_paging VALUES (label, query, d, t.med, t.p95, ms, qs);
  END LOOP;
  RETURN format('paging %s: %s pages walked in %s s', label, p, round((walk / 1000)::numeric, 1));
END $$;

-- ---------------------------------------------------------------- _summary=count throughput
CREATE TABLE shape_count (n int PRIMARY KEY, rtype text, query text, total bigint, med float8, p95 float8);
CREATE OR REPLACE FUNCTION shape_count_run(runs int, warmup int, cache_control text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  c record;
  t record;
  total bigint;
BEGIN
  FOR c IN
    SELECT row_number() OVER (ORDER BY ord, k) AS n, rtype, query FROM (
      -- the five most common Observation codes
      SELECT 1 AS ord, -n AS k, 'Observation' AS rtype, format('code=%s|%s&_summary=count', system, code) AS query
        FROM (SELECT * FROM obs_codes ORDER BY n DESC, code LIMIT 5) o
      UNION ALL SELECT 2, 0, 'Observation', 'category=vital-signs&_summary=count'
      UNION ALL SELECT 3, 0, 'Observation', '_summary=count'
      UNION ALL SELECT 4, 0, 'Patient', 'gender=female&_summary=count'
      UNION ALL SELECT 5, 0, 'Encounter', 'status=finished&_summary=count') x
  LOOP
    EXECUTE format('SELECT (fhir.search(%L, %L%s)->>''total'')::bigint', c.rtype, c.query, shape_cc(cache_control)) INTO total;
    EXECUTE format('PREPARE shape_count_%s AS SELECT fhir.search(%L, %L%s)', c.n, c.rtype, c.query, shape_cc(cache_control));
    SELECT * INTO t FROM bench_time(format('EXECUTE shape_count_%s', c.n), runs, warmup);
    INSERT INTO shape_count VALUES (c.n, c.rtype, c.query, total, t.med, t.p95);
  END LOOP;
END $$;

-- ---------------------------------------------------------------- run
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT shape_projection_run(%s, %s, %s, %L)', n, :runs, :warmup, :'cache_control') FROM shape_searches ORDER BY n
\gexec
SELECT format('SELECT shape_paging_run(%L, %L, %L, %s, %s, %s, %L)', label, 'Observation', q, :depth, :runs, :warmup, :'cache_control')
  FROM (SELECT v AS common FROM shape_picks WHERE k = 'common_code') p,
       LATERAL (VALUES (1, 'default', 'code=' || p.common || '&_count=20'),
                       (2, 'sort_date', 'code=' || p.common || '&_count=20&_sort=-date'),
                       (3, 'sort_value', 'code=' || p.common || '&_count=20&_sort=value-quantity')) x(o, label, q)
 ORDER BY o
\gexec
SELECT format('SELECT shape_count_run(%s, %s, %L)', :runs, :warmup, :'cache_control')
\gexec
SELECT 'count done'
\pset tuples_only off
