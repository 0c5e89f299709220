-- bench/search_workload.sql: the search benchmark's workload, run by bench/search_bench.sh
-- with psql variables runs, warmup, cache_control, on a database holding the same
-- NDJSON in fhir.resource (fhir.load_file) and in bare(id, rtype, content jsonb).
--
-- For every search three prepared statements are timed by a plpgsql loop with the
-- server's clock (same loop, same EXECUTE, so the measurement overhead is identical):
--   ours:  SELECT fhir.search(type, query, cache_control)       first page, a Bundle
--   bare:  the same search hand-written over bare with jsonb operators, the same
--          first page (LIMIT 20, ORDER BY id or the sort key) as a json array
--   floor: the rows fhir.search returned, fetched by primary key from the partition
-- The first page of ours and bare are compared (same ids in the same order), and the
-- total match counts too (_total=accurate against count(*) of the bare search).
\set ON_ERROR_STOP 1
SET timezone = 'UTC';   -- date-only search values are UTC days; the bare casts use the session zone

SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_picks, bench_queries, bench_results;
RESET client_min_messages;
CREATE TABLE bench_picks (k text PRIMARY KEY, v text NOT NULL);

-- ---------------------------------------------------------------- values from the data
-- the patient with the most heart-rate Observations (ties: smallest id)
INSERT INTO bench_picks
SELECT 'patient', split_part(ref, '/', 2) FROM (
  SELECT content->'subject'->>'reference' AS ref, count(*) AS n FROM bare
   WHERE rtype = 'Observation' AND content @> '{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]}}'
   GROUP BY 1) x
 ORDER BY n DESC, ref LIMIT 1;
-- that patient's SNOMED condition code that is most common overall
INSERT INTO bench_picks
SELECT 'condition_code', code FROM (
  SELECT DISTINCT c->>'code' AS code FROM bare b, jsonb_array_elements(b.content->'code'->'coding') c
   WHERE b.rtype = 'Condition' AND c->>'system' = 'http://snomed.info/sct'
     AND b.content @> jsonb_build_object('subject', jsonb_build_object('reference', 'Patient/' || (SELECT v FROM bench_picks WHERE k = 'patient')))) x
 ORDER BY (SELECT count(*) FROM bare y WHERE y.rtype = 'Condition'
              AND y.content @> jsonb_build_object('code', jsonb_build_object('coding', jsonb_build_array(
                                 jsonb_build_object('system', 'http://snomed.info/sct', 'code', x.code))))) DESC, code
 LIMIT 1;
-- the most common family name (plain ASCII letters, so lower() LIKE is the same as FHIR's normalization)
INSERT INTO bench_picks
SELECT 'family', n->>'family' FROM bare, jsonb_array_elements(content->'name') n
 WHERE rtype = 'Patient' AND n->>'family' ~ '^[A-Za-z]+$' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- the most common given name
INSERT INTO bench_picks
SELECT 'given', g FROM bare, jsonb_array_elements(content->'name') n, jsonb_array_elements_text(n->'given') g
 WHERE rtype = 'Patient' AND g ~ '^[A-Za-z]+$' GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- the rarest and the most common Observation code (any system; the generator's code set is fixed,
-- so even the rarest is common: about 0.44 of patients at 1M)
CREATE TEMP TABLE obs_codes AS
SELECT c->>'system' AS system, c->>'code' AS code, count(*) AS n FROM bare, jsonb_array_elements(content->'code'->'coding') c
 WHERE rtype = 'Observation' GROUP BY 1, 2;
INSERT INTO bench_picks SELECT 'rare_code', code FROM obs_codes ORDER BY n, code LIMIT 1;
INSERT INTO bench_picks SELECT 'common_code', system || '|' || code FROM obs_codes ORDER BY n DESC, code LIMIT 1;
-- the most common birth year
INSERT INTO bench_picks
SELECT 'birth_year', left(content->>'birthDate', 4) FROM bare WHERE rtype = 'Patient' AND content ? 'birthDate'
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
-- the most common RxNorm code of MedicationRequests
INSERT INTO bench_picks
SELECT 'rxnorm', c->>'code' FROM bare, jsonb_array_elements(content->'medicationCodeableConcept'->'coding') c
 WHERE rtype = 'MedicationRequest' AND c->>'system' = 'http://www.nlm.nih.gov/research/umls/rxnorm'
 GROUP BY 2 ORDER BY count(*) DESC, 2 LIMIT 1;
SELECT string_agg(format('%s=%s', k, v), ', ' ORDER BY k) AS picked FROM bench_picks;

-- ---------------------------------------------------------------- the searches
-- `bare_from`: FROM/WHERE of the hand-written search over bare (alias o);
-- `bare_order`: its ORDER BY (NULL: a count). fhir.search's default order is
-- insertion order, which is id order for the generator's output.
CREATE TABLE bench_queries (n int PRIMARY KEY, rtype text, query text, bare_from text, bare_order text);

CREATE FUNCTION pg_temp.coding(system text, code text) RETURNS text LANGUAGE sql AS
  $$ SELECT quote_literal(jsonb_build_object('coding', jsonb_build_array(
               jsonb_strip_nulls(jsonb_build_object('system', system, 'code', code))))::text) || '::jsonb' $$;
-- FHIR starts-with on a HumanName (family, given, prefix, suffix, text), case-insensitive
CREATE FUNCTION pg_temp.name_match(alias text, prefix text) RETURNS text LANGUAGE sql AS
  $$ SELECT format('EXISTS (SELECT 1 FROM jsonb_array_elements(%1$s.content->''name'') nm
                     WHERE lower(nm->>''family'') LIKE %2$L OR lower(nm->>''text'') LIKE %2$L
                        OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(coalesce(nm->''given'', ''[]'') || coalesce(nm->''prefix'', ''[]'')
                                                                           || coalesce(nm->''suffix'', ''[]'')) g
                                    WHERE lower(g) LIKE %2$L))', alias, lower(prefix) || '%') $$;
-- FHIR date=geD1&date=ltD2 (D1, D2 days) on a Period [start, end + 1 s), as the FHIR
-- prefixes define it: ge: hi > D1 + 1 day OR (lo >= D1 AND hi <= D1 + 1 day); lt: lo < D2
CREATE FUNCTION pg_temp.period_ge_lt(period text, d1 text, d2 text) RETURNS text LANGUAGE sql AS
  $$ SELECT format('(coalesce((%1$s->>''end'')::timestamptz + interval ''1 second'', ''infinity'') > %2$L::timestamptz + interval ''1 day''
                     OR (coalesce((%1$s->>''start'')::timestamptz, ''-infinity'') >= %2$L
                         AND coalesce((%1$s->>''end'')::timestamptz + interval ''1 second'', ''infinity'') <= %2$L::timestamptz + interval ''1 day''))
                    AND coalesce((%1$s->>''start'')::timestamptz, ''-infinity'') < %3$L', period, d1, d2) $$;

INSERT INTO bench_queries
WITH p AS (SELECT max(v) FILTER (WHERE k = 'patient') AS pat, max(v) FILTER (WHERE k = 'condition_code') AS ccode,
                  max(v) FILTER (WHERE k = 'family') AS fam, max(v) FILTER (WHERE k = 'given') AS given,
                  max(v) FILTER (WHERE k = 'rare_code') AS rare, max(v) FILTER (WHERE k = 'common_code') AS common,
                  max(v) FILTER (WHERE k = 'rxnorm') AS rx, max(v) FILTER (WHERE k = 'birth_year') AS year
             FROM bench_picks),
     c AS (SELECT pg_temp.coding('http://loinc.org', '8867-4') AS hr)
SELECT v.* FROM p, c, LATERAL (VALUES
  -- 1 token
  (1, 'Observation', 'code=http://loinc.org|8867-4',
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''code'', %s)', c.hr), 'o.id'),
  -- 2 token + reference
  (2, 'Observation', 'code=http://loinc.org|8867-4&subject=Patient/' || p.pat,
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''code'', %s, ''subject'', jsonb_build_object(''reference'', %L))',
          c.hr, 'Patient/' || p.pat), 'o.id'),
  -- 3 reference
  (3, 'Observation', 'subject=Patient/' || p.pat,
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''subject'', jsonb_build_object(''reference'', %L))',
          'Patient/' || p.pat), 'o.id'),
  -- 4 string prefix on name (family, given, ...)
  (4, 'Patient', 'name=' || lower(left(p.given, 4)),
   format('FROM bare o WHERE o.rtype = ''Patient'' AND %s', pg_temp.name_match('o', left(p.given, 4))), 'o.id'),
  -- 5 string prefix on family
  (5, 'Patient', 'family=' || lower(left(p.fam, 3)),
   format('FROM bare o WHERE o.rtype = ''Patient'' AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.content->''name'') nm WHERE lower(nm->>''family'') LIKE %L)',
          lower(left(p.fam, 3)) || '%'), 'o.id'),
  -- 6 date range
  (6, 'Observation', 'date=ge2020-01-01&date=lt2020-02-01',
   format('FROM bare o WHERE o.rtype = ''Observation'' AND ((o.content->>''effectiveDateTime'')::timestamptz >= %1$L AND (o.content->>''effectiveDateTime'')::timestamptz < %2$L
                                                          OR (o.content->>''effectiveInstant'')::timestamptz >= %1$L AND (o.content->>''effectiveInstant'')::timestamptz < %2$L
                                                          OR (o.content ? ''effectivePeriod'' AND %3$s))',
          '2020-01-01', '2020-02-01', pg_temp.period_ge_lt('(o.content->''effectivePeriod'')', '2020-01-01', '2020-02-01')), 'o.id'),
  -- 7 chain
  -- 7 chain: subject.reference in the matching patients (a per-patient containment join
  --   `o.content @> {code, subject: Patient/<pt.id>}` was 7.4 s at 1M: no GIN use in the join)
  (7, 'Observation', 'subject:Patient.name=' || lower(p.fam) || '&code=http://loinc.org|8867-4',
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''code'', %s)
             AND o.content->''subject''->>''reference'' IN (SELECT ''Patient/'' || pt.id FROM bare pt WHERE pt.rtype = ''Patient'' AND %s)',
          c.hr, pg_temp.name_match('pt', p.fam)), 'o.id'),
  -- 8 _has (reverse chain): patients in id order, each checked with one GIN containment lookup
  --   (faster here than `'Patient/' || id IN (SELECT subject.reference ...)`: 200-280 ms at 1M)
  (8, 'Patient', '_has:Observation:patient:code=' || p.rare,
   format('FROM bare o WHERE o.rtype = ''Patient'' AND EXISTS (SELECT 1 FROM bare ob WHERE ob.rtype = ''Observation''
             AND ob.content @> jsonb_build_object(''code'', %s, ''subject'', jsonb_build_object(''reference'', ''Patient/'' || o.id)))',
          pg_temp.coding(NULL, p.rare)), 'o.id'),
  -- 9 combination: Condition code + patient
  (9, 'Condition', 'code=http://snomed.info/sct|' || p.ccode || '&patient=Patient/' || p.pat,
   format('FROM bare o WHERE o.rtype = ''Condition'' AND o.content @> jsonb_build_object(''code'', %s, ''subject'', jsonb_build_object(''reference'', %L))',
          pg_temp.coding('http://snomed.info/sct', p.ccode), 'Patient/' || p.pat), 'o.id'),
  -- 10 sorted: newest first (max of the date range end, missing last; ties in insertion order)
  (10, 'Observation', 'code=http://loinc.org|8867-4&_sort=-date',
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''code'', %s)', c.hr),
   'coalesce((o.content->>''effectiveDateTime'')::timestamptz, (o.content->>''effectiveInstant'')::timestamptz,
             CASE WHEN o.content ? ''effectivePeriod'' THEN coalesce((o.content->''effectivePeriod''->>''end'')::timestamptz, ''infinity'') END) DESC NULLS LAST, o.id'),
  -- 11 count of the most common code
  (11, 'Observation', 'code=' || p.common || '&_summary=count',
   format('FROM bare o WHERE o.rtype = ''Observation'' AND o.content @> jsonb_build_object(''code'', %s)',
          pg_temp.coding(split_part(p.common, '|', 1), split_part(p.common, '|', 2))), NULL),
  -- 12 Encounter by date (a month)
  (12, 'Encounter', 'date=ge2019-06-01&date=lt2019-07-01',
   format('FROM bare o WHERE o.rtype = ''Encounter'' AND o.content ? ''period'' AND %s',
          pg_temp.period_ge_lt('(o.content->''period'')', '2019-06-01', '2019-07-01')), 'o.id'),
  -- 13 MedicationRequest by code
  (13, 'MedicationRequest', 'code=http://www.nlm.nih.gov/research/umls/rxnorm|' || p.rx,
   format('FROM bare o WHERE o.rtype = ''MedicationRequest'' AND o.content @> jsonb_build_object(''medicationCodeableConcept'', %s)',
          pg_temp.coding('http://www.nlm.nih.gov/research/umls/rxnorm', p.rx)), 'o.id'),
  -- 14 Patient by birth year (partial dates: YYYY, YYYY-MM, YYYY-MM-DD all within the year)
  (14, 'Patient', 'birthdate=' || p.year,
   format('FROM bare o WHERE o.rtype = ''Patient'' AND left(o.content->>''birthDate'', 4) = %L', p.year), 'o.id')
) v(n, rtype, query, bare_from, bare_order);

-- ---------------------------------------------------------------- timing
\ir lib/timing.sql

CREATE TABLE bench_results (n int PRIMARY KEY, rtype text, query text, total bigint, page int,
                            ours_med float8, ours_p95 float8, bare_med float8, bare_p95 float8,
                            floor_med float8, floor_p95 float8, check_result text);

-- SQL of the three variants of search n.
CREATE OR REPLACE FUNCTION bench_sql(qn int, cache_control text, OUT ours text, OUT bare text, OUT bare_count text)
LANGUAGE plpgsql AS $$
DECLARE q bench_queries;
BEGIN
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  ours := format('SELECT fhir.search(%L, %L%s)', q.rtype, q.query, CASE WHEN cache_control <> '' THEN format(', %L', cache_control) ELSE '' END);
  bare_count := 'SELECT to_jsonb(count(*)) ' || q.bare_from;
  bare := CASE WHEN q.bare_order IS NULL THEN bare_count
               ELSE format('SELECT coalesce(jsonb_agg(s.content), ''[]'') FROM (SELECT o.content %s ORDER BY %s LIMIT 20) s', q.bare_from, q.bare_order) END;
END $$;

CREATE OR REPLACE FUNCTION bench_one(qn int, runs int, warmup int, cache_control text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  q bench_queries;
  s record;
  ours_res jsonb;
  bare_res jsonb;
  ours_ids text[];
  bare_ids text[];
  total bigint;
  bare_total bigint;
  outcome text;
  check_result text;
  floor_sql text;
  o record; b record; f record;
BEGIN
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  SELECT * INTO s FROM bench_sql(qn, cache_control);
  EXECUTE s.ours INTO ours_res;
  SELECT array_agg(e->'resource'->>'id' ORDER BY i) FILTER (WHERE e->'search'->>'mode' = 'match'),
         string_agg(e->'resource'->'issue'->0->>'diagnostics', '; ') FILTER (WHERE e->'search'->>'mode' = 'outcome')
    INTO ours_ids, outcome
    FROM jsonb_array_elements(coalesce(ours_res->'entry', '[]')) WITH ORDINALITY x(e, i);
  ours_ids := coalesce(ours_ids, '{}');
  IF outcome IS NOT NULL THEN
    RAISE WARNING 'search % (% %): fhir.search reported: %', qn, q.rtype, q.query, outcome;
  END IF;
  EXECUTE s.bare_count INTO bare_res;
  bare_total := bare_res::text::bigint;
  IF q.bare_order IS NULL THEN
    total := (ours_res->>'total')::bigint;
    check_result := CASE WHEN total = bare_total THEN 'same count' ELSE 'COUNT DIFFERS' END;
  ELSE
    total := (fhir.search(q.rtype, q.query || '&_total=accurate&_count=1')->>'total')::bigint;
    EXECUTE s.bare INTO bare_res;
    SELECT coalesce(array_agg(e->>'id' ORDER BY i), '{}') INTO bare_ids FROM jsonb_array_elements(bare_res) WITH ORDINALITY x(e, i);
    check_result := CASE WHEN ours_ids = bare_ids THEN 'yes'
                         WHEN ours_ids @> bare_ids AND bare_ids @> ours_ids THEN 'same rows, ORDER DIFFERS'
                         ELSE 'PAGE DIFFERS' END;
    IF total IS DISTINCT FROM bare_total THEN
      check_result := check_result || format(', TOTAL DIFFERS (bare %s)', bare_total);
    END IF;
    floor_sql := format('SELECT coalesce(jsonb_agg(content), ''[]'') FROM fhir.%I WHERE rtype = %L AND id = ANY(%L::text[])',
                        fhir.partition_name(q.rtype), q.rtype, ours_ids);
  END IF;
  IF check_result NOT IN ('yes', 'same count') THEN
    RAISE WARNING 'search % (% %): %; ours % / bare %', qn, q.rtype, q.query, check_result, ours_ids, bare_ids;
  END IF;
  IF cardinality(ours_ids) = 0 AND q.bare_order IS NOT NULL THEN
    RAISE WARNING 'search % (% %) returned no rows', qn, q.rtype, q.query;
  END IF;

  EXECUTE format('PREPARE bench_ours_%s AS %s', qn, s.ours);
  EXECUTE format('PREPARE bench_bare_%s AS %s', qn, s.bare);
  SELECT * INTO o FROM bench_time(format('EXECUTE bench_ours_%s', qn), runs, warmup);
  SELECT * INTO b FROM bench_time(format('EXECUTE bench_bare_%s', qn), runs, warmup);
  IF floor_sql IS NOT NULL THEN
    EXECUTE format('PREPARE bench_floor_%s AS %s', qn, floor_sql);
    SELECT * INTO f FROM bench_time(format('EXECUTE bench_floor_%s', qn), runs, warmup);
  ELSE
    SELECT NULL::float8 AS med, NULL::float8 AS p95 INTO f;
  END IF;
  INSERT INTO bench_results VALUES (qn, q.rtype, q.query, total, cardinality(ours_ids), o.med, o.p95, b.med, b.p95, f.med, f.p95, check_result);
  RETURN format('%2s %-17s %-66s matches %8s page %2s | ms ours %7s / %7s | bare %7s / %7s | floor %6s / %6s | %s',
                qn, q.rtype, q.query, total, cardinality(ours_ids), round(o.med::numeric, 2), round(o.p95::numeric, 2),
                round(b.med::numeric, 2), round(b.p95::numeric, 2),
                coalesce(round(f.med::numeric, 2)::text, 'n/a'), coalesce(round(f.p95::numeric, 2)::text, 'n/a'), check_result);
END $$;

-- One transaction per search (median / p95 in ms).
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT bench_one(%s, %s, %s, %L)', n, :runs, :warmup, :'cache_control') FROM bench_queries ORDER BY n
\gexec
\pset tuples_only off

-- The plans, for bench/search_bench.sh to write to WORK/explain/qN.txt: fhir.explain
-- (SQL, parameters, indexes, EXPLAIN ANALYZE as JSON) and EXPLAIN ANALYZE of the bare statement.
CREATE OR REPLACE FUNCTION bench_explain(qn int) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  q bench_queries;
  s record;
  e jsonb;
  line text;
BEGIN
  SET LOCAL timezone = 'UTC';
  SELECT * INTO q FROM bench_queries WHERE n = qn;
  SELECT * INTO s FROM bench_sql(qn, '');
  e := fhir.explain(q.rtype, q.query);
  RETURN NEXT format('-- %s: %s %s', qn, q.rtype, q.query);
  RETURN NEXT '-- fhir.explain: the page statement (for _summary=count the count runs the same WHERE clause)';
  RETURN NEXT e->>'sql';
  RETURN NEXT 'parameters: ' || (e->'parameters')::text;
  RETURN NEXT 'indexes: ' || (e->'indexes')::text;
  RETURN NEXT jsonb_pretty(e->'plan');
  RETURN NEXT '-- bare: ' || s.bare;
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS) ' || s.bare LOOP
    RETURN NEXT line;
  END LOOP;
END $$;
