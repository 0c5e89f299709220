-- bench/synthea_workload.sql: the workload of bench/synthea_search_bench.sh (issue 14).
-- psql variables: runs, warmup, phase ('quiet' picks the values and defines the searches;
-- 'writer' runs the same searches again while a writer updates Observations).
--
-- Every search is timed three ways, each a prepared statement returning the length of a
-- searchset Bundle's text, so that both sides build the same output:
--   ours:  length(fhir.search(type, query, 'no-cache')::text)
--   bare:  the search hand-written over bare(seq, rtype, id, last_updated, content) with
--          jsonb containment, ->> casts and the expression indexes the script creates, its
--          page built into a Bundle with jsonb_agg (fullUrl, resource, search.mode)
--   floor: the resources of ours' page fetched by primary key, built into the same Bundle
-- Values are picked from the data (the same script runs on Synthea and on the generator's
-- output), so every search returns rows. The checks compare ours' page (ids in order, the
-- included ones as a set) and the total (_total=accurate) with the bare statement.
\set ON_ERROR_STOP 1
SET timezone = 'UTC';
SET client_min_messages = warning;

SELECT :'phase' = 'quiet' AS quiet \gset
\if :quiet
DROP TABLE IF EXISTS bench_picks, bench_queries, bench_results, bench_cold_results;
CREATE TABLE bench_picks (k text PRIMARY KEY, v text NOT NULL);

-- ---------------------------------------------------------------- values from the data
-- the patient with the most Observations
INSERT INTO bench_picks
SELECT 'patient', split_part(content->'subject'->>'reference', '/', 2) FROM bare WHERE rtype = 'Observation'
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- Observation codes (system|code) by frequency
CREATE TEMP TABLE obs_codes AS
SELECT c->>'system' AS system, c->>'code' AS code, count(*) AS n,
       count(*) FILTER (WHERE o.content ? 'valueQuantity') AS nq
  FROM bare o, jsonb_array_elements(o.content->'code'->'coding') c
 WHERE o.rtype = 'Observation' GROUP BY 1, 2;
INSERT INTO bench_picks SELECT 'common_code', system || '|' || code FROM obs_codes ORDER BY n DESC, code LIMIT 1;
INSERT INTO bench_picks SELECT 'rare_code', system || '|' || code FROM obs_codes ORDER BY n, code LIMIT 1;
-- the code whose count is nearest 3 % of the Observations (a "few thousand matches" code)
INSERT INTO bench_picks
SELECT 'mid_code', system || '|' || code FROM obs_codes
 ORDER BY abs(n - 0.03 * (SELECT count(*) FROM bare WHERE rtype = 'Observation')), code LIMIT 1;
-- the most common code with quantity values, and its median value
INSERT INTO bench_picks SELECT 'q_code', system || '|' || code FROM obs_codes ORDER BY nq DESC, code LIMIT 1;
INSERT INTO bench_picks
SELECT 'q_median', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY (o.content->'valueQuantity'->>'value')::numeric))::text
  FROM bare o WHERE o.rtype = 'Observation'
   AND o.content @> jsonb_build_object('code', jsonb_build_object('coding', jsonb_build_array(jsonb_build_object(
         'system', split_part((SELECT v FROM bench_picks WHERE k = 'q_code'), '|', 1),
         'code', split_part((SELECT v FROM bench_picks WHERE k = 'q_code'), '|', 2)))));
-- an integer threshold above which about a quarter of all quantity values lie (tens of thousands of matches)
INSERT INTO bench_picks
SELECT 'q_threshold', round(percentile_cont(0.75) WITHIN GROUP (ORDER BY (content->'valueQuantity'->>'value')::numeric))::text
  FROM bare WHERE rtype = 'Observation' AND content ? 'valueQuantity';
-- the most common family name (ASCII letters) and SNOMED condition code of the patient
INSERT INTO bench_picks
SELECT 'family', n->>'family' FROM bare, jsonb_array_elements(content->'name') n
 WHERE rtype = 'Patient' AND n->>'family' ~ '^[A-Za-z]+$' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
INSERT INTO bench_picks
SELECT 'condition_code', c->>'system' || '|' || (c->>'code') FROM bare b, jsonb_array_elements(b.content->'code'->'coding') c
 WHERE b.rtype = 'Condition'
   AND b.content->'subject'->>'reference' = 'Patient/' || (SELECT v FROM bench_picks WHERE k = 'patient')
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
INSERT INTO bench_picks
SELECT 'med_code', c->>'system' || '|' || (c->>'code') FROM bare, jsonb_array_elements(content->'medicationCodeableConcept'->'coding') c
 WHERE rtype = 'MedicationRequest' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- the most common birth year; a year a third of the way through the birth dates
INSERT INTO bench_picks
SELECT 'birth_year', left(content->>'birthDate', 4) FROM bare WHERE rtype = 'Patient' AND content ? 'birthDate'
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
INSERT INTO bench_picks
SELECT 'birth_from', left(percentile_disc(0.33) WITHIN GROUP (ORDER BY content->>'birthDate'), 4) || '-01-01'
  FROM bare WHERE rtype = 'Patient' AND content ? 'birthDate';
-- a year of Encounters and of Observations: the year with the most Encounter starts
INSERT INTO bench_picks
SELECT 'year', left(content->'period'->>'start', 4) FROM bare WHERE rtype = 'Encounter'
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- a _lastUpdated window (whole seconds) holding about 5 % of the Observations
INSERT INTO bench_picks
SELECT 'lu_from', to_char(date_trunc('second', percentile_disc(0.40) WITHIN GROUP (ORDER BY last_updated)), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM bare WHERE rtype = 'Observation';
INSERT INTO bench_picks
SELECT 'lu_to', to_char(date_trunc('second', percentile_disc(0.45) WITHIN GROUP (ORDER BY last_updated)) + interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM bare WHERE rtype = 'Observation';
SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) AS picked FROM bench_picks;

-- ---------------------------------------------------------------- the searches
-- bare_where: WHERE clause over bare o (with o.rtype); bare_order: ORDER BY of the page
-- (NULL: a count); bare_content: the resource as the page shows it (projections);
-- bare_include: a SELECT of (rtype, id, content) rows included for the page p (seq, content).
CREATE TABLE bench_queries (n int PRIMARY KEY, class text, rtype text, query text, page int,
                            bare_where text, bare_order text, bare_content text, bare_include text);

CREATE FUNCTION pg_temp.coding(token text) RETURNS text LANGUAGE sql AS
  $$ SELECT format('jsonb_build_object(''coding'', jsonb_build_array(jsonb_build_object(''system'', %L, ''code'', %L)))',
                   split_part(token, '|', 1), split_part(token, '|', 2)) $$;
CREATE FUNCTION pg_temp.has_code(alias text, element text, token text) RETURNS text LANGUAGE sql AS
  $$ SELECT format('%s.content @> jsonb_build_object(%L, %s)', alias, element, pg_temp.coding(token)) $$;
-- a dateTime element's instant (Synthea and the generator write dateTimes to the second with a zone)
CREATE FUNCTION pg_temp.dt(expr text) RETURNS text LANGUAGE sql AS $$ SELECT format('(%s)::timestamptz', expr) $$;
-- FHIR date=geD1&date=ltD2 on a Period [start, end + 1 s)
CREATE FUNCTION pg_temp.period_ge_lt(period text, d1 text, d2 text) RETURNS text LANGUAGE sql AS
  $$ SELECT format('(coalesce((%1$s->>''end'')::timestamptz + interval ''1 second'', ''infinity'') > %2$L::timestamptz + interval ''1 day''
                     OR (coalesce((%1$s->>''start'')::timestamptz, ''-infinity'') >= %2$L
                         AND coalesce((%1$s->>''end'')::timestamptz + interval ''1 second'', ''infinity'') <= %2$L::timestamptz + interval ''1 day''))
                    AND coalesce((%1$s->>''start'')::timestamptz, ''-infinity'') < %3$L', period, d1, d2) $$;
-- Observation's date as _sort=-date orders it: the end of its range, newest first
CREATE FUNCTION pg_temp.obs_date_desc() RETURNS text LANGUAGE sql AS
  $$ SELECT 'coalesce((o.content->>''effectiveDateTime'')::timestamptz, (o.content->>''effectiveInstant'')::timestamptz,
                      CASE WHEN o.content ? ''effectivePeriod'' THEN coalesce((o.content->''effectivePeriod''->>''end'')::timestamptz, ''infinity'') END) DESC NULLS LAST, o.seq' $$;

INSERT INTO bench_queries
WITH p AS (SELECT jsonb_object_agg(k, v) AS j FROM bench_picks)
SELECT v.* FROM p, LATERAL (VALUES
  (1, 'value alone', 'Observation', 'value-quantity=gt' || (p.j->>'q_threshold'), 20,
   format('o.rtype = ''Observation'' AND (o.content->''valueQuantity''->>''value'')::numeric > %s', p.j->>'q_threshold'),
   'o.seq', NULL, NULL),
  (2, 'code + value + sort', 'Observation',
   'code=' || (p.j->>'q_code') || '&value-quantity=gt' || (p.j->>'q_median') || '&_sort=-date', 20,
   format('o.rtype = ''Observation'' AND %s AND (o.content->''valueQuantity''->>''value'')::numeric > %s',
          pg_temp.has_code('o', 'code', p.j->>'q_code'), p.j->>'q_median'),
   pg_temp.obs_date_desc(), NULL, NULL),
  (3, '_summary page', 'Patient', '_summary=true&_count=50', 50,
   'o.rtype = ''Patient''', 'o.seq',
   $c$jsonb_set(o.content - '{text,contained,extension,modifierExtension,language,maritalStatus,multipleBirthBoolean,multipleBirthInteger,photo,contact,communication,generalPractitioner}'::text[],
                '{meta,tag}', coalesce(o.content->'meta'->'tag', '[]') || '[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]')$c$,
   NULL),
  (4, 'reference', 'Observation', 'subject=Patient/' || (p.j->>'patient'), 20,
   format('o.rtype = ''Observation'' AND o.content->''subject''->>''reference'' = %L', 'Patient/' || (p.j->>'patient')), 'o.seq', NULL, NULL),
  (5, '_lastUpdated range', 'Observation', '_lastUpdated=ge' || (p.j->>'lu_from') || '&_lastUpdated=lt' || (p.j->>'lu_to'), 20,
   format('o.rtype = ''Observation'' AND o.last_updated >= %L AND o.last_updated < %L', p.j->>'lu_from', p.j->>'lu_to'), 'o.seq', NULL, NULL),
  (6, 'date range + sort', 'Encounter',
   format('date=ge%s-01-01&date=lt%s-01-01&_sort=-date', p.j->>'year', (p.j->>'year')::int + 1), 20,
   format('o.rtype = ''Encounter'' AND o.content ? ''period'' AND %s',
          pg_temp.period_ge_lt('(o.content->''period'')', (p.j->>'year') || '-01-01', ((p.j->>'year')::int + 1) || '-01-01')),
   'coalesce((o.content->''period''->>''end'')::timestamptz, ''infinity'') DESC, o.seq', NULL, NULL),
  (7, 'token + sort', 'Observation', 'code=' || (p.j->>'mid_code') || '&_sort=-date', 20,
   format('o.rtype = ''Observation'' AND %s', pg_temp.has_code('o', 'code', p.j->>'mid_code')), pg_temp.obs_date_desc(), NULL, NULL),
  (8, '_include', 'Observation', 'code=' || (p.j->>'mid_code') || '&_include=Observation:subject', 20,
   format('o.rtype = ''Observation'' AND %s', pg_temp.has_code('o', 'code', p.j->>'mid_code')), 'o.seq', NULL,
   'SELECT i.rtype, i.id, i.content FROM bare i WHERE i.rtype = ''Patient''
       AND ''Patient/'' || i.id IN (SELECT p.content->''subject''->>''reference'' FROM p)'),
  (9, 'token + date', 'Observation', 'code=' || (p.j->>'mid_code') || '&date=ge' || (p.j->>'year') || '-01-01', 20,
   format('o.rtype = ''Observation'' AND %s AND (o.content->>''effectiveDateTime'')::timestamptz >= %L',
          pg_temp.has_code('o', 'code', p.j->>'mid_code'), (p.j->>'year') || '-01-01'), 'o.seq', NULL, NULL),
  (10, 'birthdate + gender + sort', 'Patient', 'birthdate=ge' || (p.j->>'birth_from') || '&gender=female&_sort=birthdate', 20,
   format('o.rtype = ''Patient'' AND o.content @> ''{"gender":"female"}'' AND o.content->>''birthDate'' >= %L', p.j->>'birth_from'),
   'o.content->>''birthDate'', o.seq', NULL, NULL),
  (11, '_summary=count', 'Observation', 'code=' || (p.j->>'common_code') || '&_summary=count', 0,
   format('o.rtype = ''Observation'' AND %s', pg_temp.has_code('o', 'code', p.j->>'common_code')), NULL, NULL, NULL),
  (12, 'chain', 'Observation', 'subject:Patient.family=' || lower(p.j->>'family') || '&code=' || (p.j->>'common_code'), 20,
   format('o.rtype = ''Observation'' AND %s AND o.content->''subject''->>''reference'' IN
             (SELECT ''Patient/'' || pt.id FROM bare pt WHERE pt.rtype = ''Patient''
                 AND EXISTS (SELECT 1 FROM jsonb_array_elements(pt.content->''name'') nm WHERE lower(nm->>''family'') LIKE %L))',
          pg_temp.has_code('o', 'code', p.j->>'common_code'), lower(p.j->>'family') || '%'), 'o.seq', NULL, NULL),
  (13, '_has', 'Patient', '_has:Observation:patient:code=' || (p.j->>'rare_code'), 20,
   format('o.rtype = ''Patient'' AND EXISTS (SELECT 1 FROM bare ob WHERE ob.rtype = ''Observation''
             AND ob.content @> jsonb_build_object(''code'', %s, ''subject'', jsonb_build_object(''reference'', ''Patient/'' || o.id)))',
          pg_temp.coding(p.j->>'rare_code')), 'o.seq', NULL, NULL),
  (14, 'string prefix', 'Patient', 'family=' || lower(left(p.j->>'family', 3)), 20,
   format('o.rtype = ''Patient'' AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.content->''name'') nm WHERE lower(nm->>''family'') LIKE %L)',
          lower(left(p.j->>'family', 3)) || '%'), 'o.seq', NULL, NULL),
  (15, 'token + reference', 'Condition', 'code=' || (p.j->>'condition_code') || '&patient=Patient/' || (p.j->>'patient'), 20,
   format('o.rtype = ''Condition'' AND o.content @> jsonb_build_object(''code'', %s, ''subject'', jsonb_build_object(''reference'', %L))',
          pg_temp.coding(p.j->>'condition_code'), 'Patient/' || (p.j->>'patient')), 'o.seq', NULL, NULL),
  (16, 'token', 'MedicationRequest', 'code=' || (p.j->>'med_code'), 20,
   format('o.rtype = ''MedicationRequest'' AND %s', pg_temp.has_code('o', 'medicationCodeableConcept', p.j->>'med_code')), 'o.seq', NULL, NULL),
  (17, 'birth year', 'Patient', 'birthdate=' || (p.j->>'birth_year'), 20,
   format('o.rtype = ''Patient'' AND left(o.content->>''birthDate'', 4) = %L', p.j->>'birth_year'), 'o.seq', NULL, NULL),
  (18, 'token, many matches', 'Observation', 'code=' || (p.j->>'common_code'), 20,
   format('o.rtype = ''Observation'' AND %s', pg_temp.has_code('o', 'code', p.j->>'common_code')), 'o.seq', NULL, NULL)
) v(n, class, rtype, query, page, bare_where, bare_order, bare_content, bare_include);

CREATE TABLE bench_results (phase text, n int, total bigint, page int,
                            ours_med float8, ours_p95 float8, ours_p99 float8, bare_med float8, bare_p95 float8,
                            floor_med float8, floor_p95 float8, ours_len int, bare_len int, check_result text,
                            PRIMARY KEY (phase, n));
CREATE TABLE bench_cold_results (n int PRIMARY KEY, cold_ms float8);
\endif

-- ---------------------------------------------------------------- statements and timing
\ir lib/timing.sql

-- A searchset Bundle of rows (rtype, id, content, mode, ord) named e, as jsonb text length.
CREATE OR REPLACE FUNCTION bench_bundle_sql(rows_sql text) RETURNS text LANGUAGE sql AS $$
  SELECT format('SELECT length(jsonb_build_object(''resourceType'', ''Bundle'', ''type'', ''searchset'', ''entry'',
                   coalesce(jsonb_agg(jsonb_build_object(''fullUrl'', e.rtype || ''/'' || e.id, ''resource'', e.content,
                                                         ''search'', jsonb_build_object(''mode'', e.mode)) ORDER BY e.ord), ''[]''))::text)
                 FROM (%s) e', rows_sql) $$;

-- SQL of search n: ours, bare (the page rows as a Bundle) and bare_count.
CREATE OR REPLACE FUNCTION bench_sql(qn int, OUT ours text, OUT bare_rows text, OUT bare text, OUT bare_count text)
LANGUAGE plpgsql AS $$
DECLARE q bench_queries;
BEGIN
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  ours := format('SELECT length(fhir.search(%L, %L, ''no-cache'')::text)', q.rtype, q.query);
  bare_count := format('SELECT count(*)::int FROM bare o WHERE %s', q.bare_where);
  IF q.bare_order IS NULL THEN
    bare := bare_count;
    RETURN;
  END IF;
  -- the page in order with its content as shown (projections), then the included rows
  bare_rows := format('WITH p AS MATERIALIZED (SELECT o.seq, o.rtype, o.id, %s AS shown, o.content FROM bare o WHERE %s ORDER BY %s LIMIT %s)
                       SELECT p.rtype, p.id, p.shown AS content, ''match'' AS mode, row_number() OVER (ORDER BY NULL) AS ord FROM p%s',
                      coalesce(q.bare_content, 'o.content'), q.bare_where, q.bare_order, q.page,
                      CASE WHEN q.bare_include IS NULL THEN ''
                           ELSE format(' UNION ALL SELECT x.rtype, x.id, x.content, ''include'', 1000000 + row_number() OVER () FROM (%s) x', q.bare_include) END);
  bare := bench_bundle_sql(bare_rows);
END $$;

-- Runs search n in this phase: checks it against bare, times the three variants.
DROP FUNCTION IF EXISTS bench_one(int, int, int, text);
CREATE FUNCTION bench_one(qn int, runs int, warmup int, run_phase text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  q bench_queries;
  s record;
  ours_res jsonb;
  ours_match text[]; ours_incl text[];
  bare_match text[]; bare_incl text[];
  total bigint; bare_total bigint;
  ours_len int; bare_len int;
  outcome text; check_result text; floor_sql text;
  o record; b record; f record;
BEGIN
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  SELECT * INTO s FROM bench_sql(qn);
  ours_res := fhir.search(q.rtype, q.query, 'no-cache');
  SELECT array_agg(e->'resource'->>'resourceType' || '/' || (e->'resource'->>'id') ORDER BY i) FILTER (WHERE e->'search'->>'mode' = 'match'),
         array_agg(e->'resource'->>'resourceType' || '/' || (e->'resource'->>'id') ORDER BY e->'resource'->>'resourceType', e->'resource'->>'id')
           FILTER (WHERE e->'search'->>'mode' = 'include'),
         string_agg(e->'resource'->'issue'->0->>'diagnostics', '; ') FILTER (WHERE e->'search'->>'mode' = 'outcome')
    INTO ours_match, ours_incl, outcome
    FROM jsonb_array_elements(coalesce(ours_res->'entry', '[]')) WITH ORDINALITY x(e, i);
  ours_match := coalesce(ours_match, '{}'); ours_incl := coalesce(ours_incl, '{}');
  IF outcome IS NOT NULL THEN
    RAISE WARNING 'search % (% %): fhir.search reported: %', qn, q.rtype, q.query, outcome;
  END IF;
  EXECUTE s.bare_count INTO bare_total;
  IF q.bare_order IS NULL THEN
    total := (ours_res->>'total')::bigint;
    check_result := CASE WHEN total = bare_total THEN 'same count' ELSE format('COUNT DIFFERS (bare %s)', bare_total) END;
  ELSE
    -- the total of the matches: the same conditions with _summary=count
    total := (fhir.search(q.rtype, concat_ws('&', (SELECT string_agg(x, '&') FROM unnest(string_to_array(q.query, '&')) x
                                                     WHERE x !~ '^_(count|summary|sort|include|elements)='), '_summary=count'),
                          'no-cache')->>'total')::bigint;
    EXECUTE format('SELECT coalesce(array_agg(rtype || ''/'' || id ORDER BY ord) FILTER (WHERE mode = ''match''), ''{}''),
                           coalesce(array_agg(rtype || ''/'' || id ORDER BY rtype, id) FILTER (WHERE mode = ''include''), ''{}'') FROM (%s) r',
                   s.bare_rows) INTO bare_match, bare_incl;
    check_result := CASE WHEN ours_match = bare_match THEN 'yes'
                         WHEN ours_match @> bare_match AND bare_match @> ours_match THEN 'same rows, ORDER DIFFERS'
                         ELSE 'PAGE DIFFERS' END;
    IF ours_incl IS DISTINCT FROM bare_incl THEN
      check_result := check_result || ', INCLUDES DIFFER';
    END IF;
    IF total IS DISTINCT FROM bare_total THEN
      check_result := check_result || format(', TOTAL DIFFERS (bare %s)', bare_total);
    END IF;
    -- the floor: ours' entries by primary key, the same Bundle shape
    floor_sql := bench_bundle_sql(format(
      'SELECT r.rtype, r.id, %s AS content, w.mode, w.ord FROM unnest(%L::text[], %L::text[], %L::text[]) WITH ORDINALITY w(rtype, id, mode, ord)
         JOIN fhir.resource r ON r.rtype = w.rtype AND r.id = w.id',
      CASE WHEN q.bare_content IS NULL THEN 'r.content' ELSE replace(q.bare_content, 'o.content', 'r.content') END,
      (SELECT array_agg(split_part(x, '/', 1)) FROM unnest(ours_match || ours_incl) x),
      (SELECT array_agg(split_part(x, '/', 2)) FROM unnest(ours_match || ours_incl) x),
      array_cat(array_fill('match'::text, ARRAY[cardinality(ours_match)]), array_fill('include'::text, ARRAY[cardinality(ours_incl)]))));
  END IF;
  IF check_result NOT IN ('yes', 'same count') THEN
    RAISE WARNING 'search % (% %): %; ours % / bare %', qn, q.rtype, q.query, check_result, ours_match, bare_match;
  END IF;
  IF cardinality(ours_match) = 0 AND q.bare_order IS NOT NULL THEN
    RAISE WARNING 'search % (% %) returned no rows', qn, q.rtype, q.query;
  END IF;
  EXECUTE s.ours INTO ours_len;
  EXECUTE s.bare INTO bare_len;

  EXECUTE format('PREPARE bench_ours_%s AS %s', qn, s.ours);
  EXECUTE format('PREPARE bench_bare_%s AS %s', qn, s.bare);
  SELECT * INTO o FROM bench_time(format('EXECUTE bench_ours_%s', qn), runs, warmup);
  SELECT * INTO b FROM bench_time(format('EXECUTE bench_bare_%s', qn), runs, warmup);
  IF floor_sql IS NOT NULL AND run_phase = 'quiet' THEN
    EXECUTE format('PREPARE bench_floor_%s AS %s', qn, floor_sql);
    SELECT * INTO f FROM bench_time(format('EXECUTE bench_floor_%s', qn), runs, warmup);
  ELSE
    SELECT NULL::float8 AS med, NULL::float8 AS p95 INTO f;
  END IF;
  INSERT INTO bench_results VALUES (run_phase, qn, total, cardinality(ours_match), o.med, o.p95, o.p99, b.med, b.p95, f.med, f.p95,
                                    ours_len, bare_len, check_result)
    ON CONFLICT (phase, n) DO UPDATE SET total = EXCLUDED.total, page = EXCLUDED.page, ours_med = EXCLUDED.ours_med,
      ours_p95 = EXCLUDED.ours_p95, ours_p99 = EXCLUDED.ours_p99, bare_med = EXCLUDED.bare_med, bare_p95 = EXCLUDED.bare_p95,
      floor_med = EXCLUDED.floor_med, floor_p95 = EXCLUDED.floor_p95, ours_len = EXCLUDED.ours_len, bare_len = EXCLUDED.bare_len,
      check_result = EXCLUDED.check_result;
  RETURN format('%-6s %2s %-26s %-90s matches %8s | ms ours %8s p99 %8s | bare %8s | floor %7s | len %s/%s | %s',
                run_phase, qn, q.class, left(q.query, 90), total, round(o.med::numeric, 2), round(o.p99::numeric, 2),
                round(b.med::numeric, 2), coalesce(round(f.med::numeric, 2)::text, 'n/a'), ours_len, bare_len, check_result);
END $$;

-- The first execution of search n in this (new) backend, in ms.
CREATE OR REPLACE FUNCTION bench_cold(qn int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE q bench_queries; t timestamptz; ms float8; r jsonb;
BEGIN
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  t := clock_timestamp();
  r := fhir.search(q.rtype, q.query, 'no-cache');
  ms := extract(epoch FROM clock_timestamp() - t) * 1000;
  INSERT INTO bench_cold_results VALUES (qn, ms) ON CONFLICT (n) DO UPDATE SET cold_ms = EXCLUDED.cold_ms;
  RETURN ms;
END $$;

-- The results as a markdown table, with the goals' misses in bold.
CREATE OR REPLACE FUNCTION bench_report() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  RETURN NEXT '| # | class | search | matches | ours med | ours p99 | bare med | floor med | bare/ours | ours/floor | writer p99 / quiet med | cold / warm | same page |';
  RETURN NEXT '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  FOR r IN
    SELECT q.n, q.class, q.rtype, q.query, qu.total, qu.ours_med, qu.ours_p99, qu.bare_med, qu.floor_med, qu.check_result,
           w.ours_p99 AS w_p99, c.cold_ms, q.class IN ('chain', '_has') AS join_class
      FROM bench_queries q JOIN bench_results qu ON qu.n = q.n AND qu.phase = 'quiet'
      LEFT JOIN bench_results w ON w.n = q.n AND w.phase = 'writer'
      LEFT JOIN bench_cold_results c ON c.n = q.n
     ORDER BY q.n
  LOOP
    RETURN NEXT format('| %s | %s | %s `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', r.n, r.class, r.rtype,
      replace(r.query, '|', '\|'), to_char(r.total, 'FM999,999,990'), round(r.ours_med::numeric, 2), round(r.ours_p99::numeric, 2),
      round(r.bare_med::numeric, 2), coalesce(round(r.floor_med::numeric, 2)::text, 'n/a'),
      CASE WHEN r.bare_med / r.ours_med < 1 THEN '**' || round((r.bare_med / r.ours_med)::numeric, 2) || '**'
           ELSE round((r.bare_med / r.ours_med)::numeric, 2)::text END,
      CASE WHEN r.floor_med IS NULL THEN 'n/a'
           WHEN r.ours_med / r.floor_med > CASE WHEN r.join_class THEN 3 ELSE 1.5 END
             THEN '**' || round((r.ours_med / r.floor_med)::numeric, 2) || '**'
           ELSE round((r.ours_med / r.floor_med)::numeric, 2)::text END,
      CASE WHEN r.w_p99 IS NULL THEN 'n/a'
           WHEN r.w_p99 / r.ours_med > 1.5 THEN '**' || round((r.w_p99 / r.ours_med)::numeric, 2) || '**'
           ELSE round((r.w_p99 / r.ours_med)::numeric, 2)::text END,
      CASE WHEN r.cold_ms IS NULL THEN 'n/a'
           WHEN r.cold_ms / r.ours_med > 3 THEN '**' || round((r.cold_ms / r.ours_med)::numeric, 1) || '**'
           ELSE round((r.cold_ms / r.ours_med)::numeric, 1)::text END,
      r.check_result);
  END LOOP;
  RETURN NEXT '';
  RETURN NEXT (SELECT format('Geometric mean bare/ours: %s (min %s); ours/floor: %s; searches slower than bare: %s; count rate of search 11: %s M matches/s',
      round(exp(avg(ln(bare_med / ours_med)))::numeric, 2), round(min(bare_med / ours_med)::numeric, 2),
      round(exp(avg(ln(ours_med / floor_med)) FILTER (WHERE floor_med IS NOT NULL))::numeric, 2),
      count(*) FILTER (WHERE bare_med < ours_med),
      (SELECT round((total / ours_med / 1000)::numeric, 2) FROM bench_results WHERE phase = 'quiet' AND n = 11))
    FROM bench_results WHERE phase = 'quiet');
END $$;

-- The plans, for the script to write to WORK/explain/qN.txt.
CREATE OR REPLACE FUNCTION bench_explain(qn int) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE q bench_queries; s record; e jsonb; line text;
BEGIN
  SET LOCAL timezone = 'UTC';
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  SELECT * INTO s FROM bench_sql(qn);
  e := fhir.explain(q.rtype, q.query);
  RETURN NEXT format('-- %s: %s %s', qn, q.rtype, q.query);
  RETURN NEXT e->>'sql';
  RETURN NEXT 'parameters: ' || (e->'parameters')::text;
  RETURN NEXT jsonb_pretty(e->'plan');
  RETURN NEXT '-- bare: ' || s.bare;
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS) ' || s.bare LOOP
    RETURN NEXT line;
  END LOOP;
END $$;

RESET client_min_messages;
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT bench_one(%s, %s, %s, %L)', n, :runs, :warmup, :'phase') FROM bench_queries ORDER BY n
\gexec
\pset tuples_only off
