-- several date clauses on one parameter: tested on one stored row while no resource
-- has several values of the parameter, per clause otherwise; lo <= hi on every row
SET timezone = 'UTC';
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Observation', 'Encounter');
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '')
     FROM jsonb_array_elements(b->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
-- how many search_date EXISTS the search's WHERE clause has
CREATE FUNCTION pg_temp.date_tests(type text, q text) RETURNS int LANGUAGE sql AS
  $$ SELECT (length(e->>'sql') - length(replace(e->>'sql', 'FROM fhir.search_date', ''))) / length('FROM fhir.search_date')
     FROM fhir.explain(type, q) e $$;
-- 160 single-valued Observations: day, month and year precision, instants and periods
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"dr%s","status":"final","code":{"text":"dr"},%s}', i,
         CASE i % 5
           WHEN 0 THEN format('"effectiveDateTime":"%s"', to_char(date '2019-11-01' + i, 'YYYY-MM-DD'))
           WHEN 1 THEN format('"effectiveDateTime":"%s"', to_char(date '2019-06-01' + 3 * i, 'YYYY-MM'))
           WHEN 2 THEN format('"effectiveDateTime":"%s"', 2018 + i % 4)
           WHEN 3 THEN format('"effectiveInstant":"%sT10:%s:00+02:00"', to_char(date '2019-12-15' + i / 4, 'YYYY-MM-DD'), lpad((i % 60)::text, 2, '0'))
           ELSE format('"effectivePeriod":{"start":"%s","end":"%s"}', to_char(date '2019-12-01' + i / 2, 'YYYY-MM-DD'),
                       to_char(date '2019-12-01' + i / 2 + i % 40, 'YYYY-MM-DD'))
         END), E'\n')) AS loaded
  FROM generate_series(1, 160) i;
-- the reference: each clause on any row of the resource (R4), computed from the rows
-- (ge lo1 with day range [lo1, hi1), lt lo2)
CREATE FUNCTION pg_temp.expected(lo1 timestamptz, hi1 timestamptz, lo2 timestamptz) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(r.id, ',' ORDER BY r.id), '')
       FROM fhir.resource_observation r,
            (SELECT id FROM fhir.search_parameters WHERE resource_type = 'Observation' AND code = 'date') p
      WHERE r.id LIKE 'dr%'
        AND EXISTS (SELECT 1 FROM fhir.search_date d WHERE d.rid = r.rid AND d.param = p.id AND (d.hi > hi1 OR (d.lo >= lo1 AND d.hi <= hi1)))
        AND EXISTS (SELECT 1 FROM fhir.search_date d WHERE d.rid = r.rid AND d.param = p.id AND d.lo < lo2) $$;
SELECT count(*) AS rows, count(*) FILTER (WHERE multi) AS multi FROM fhir.search_date d
  JOIN fhir.resource_observation r USING (rid) WHERE r.id LIKE 'dr%';
-- one EXISTS for the two clauses, same matches as the per-clause reference
SELECT pg_temp.date_tests('Observation', 'date=ge2020-01-01&date=lt2020-02-01') AS date_tests;
SELECT pg_temp.ids(fhir.search('Observation', 'date=ge2020-01-01&date=lt2020-02-01&_count=200')) =
       pg_temp.expected('2020-01-01', '2020-01-02', '2020-02-01') AS same,
       (SELECT count(*) FROM regexp_split_to_table(pg_temp.expected('2020-01-01', '2020-01-02', '2020-02-01'), ',')) AS matches;
SELECT pg_temp.ids(fhir.search('Observation', 'date=ge2019-12-20&date=lt2019-12-21&_count=200')) =
       pg_temp.expected('2019-12-20', '2019-12-21', '2019-12-21') AS same_one_day;
-- a Timing with two events: the resource has two values, so each clause may match
-- another one (2019-06-01 is lt 2020-02-01, 2021-06-01 is ge 2020-01-01)
SELECT fhir.load('{"resourceType":"Observation","id":"drmulti","status":"final","code":{"text":"dr"},"effectiveTiming":{"event":["2019-06-01","2021-06-01"]}}') AS loaded;
SELECT count(*) FILTER (WHERE multi) AS multi_rows FROM fhir.search_date d JOIN fhir.resource_observation r USING (rid) WHERE r.id = 'drmulti';
SELECT pg_temp.date_tests('Observation', 'date=ge2020-01-01&date=lt2020-02-01') AS date_tests;
SELECT position('drmulti' IN pg_temp.ids(fhir.search('Observation', 'date=ge2020-01-01&date=lt2020-02-01&_count=200'))) > 0 AS multi_found,
       pg_temp.ids(fhir.search('Observation', 'date=ge2020-01-01&date=lt2020-02-01&_count=200')) =
       pg_temp.expected('2020-01-01', '2020-01-02', '2020-02-01') AS same;
-- an update to one value makes the parameter single-valued again
SELECT (fhir.update('{"resourceType":"Observation","id":"drmulti","status":"final","code":{"text":"dr"},"effectiveTiming":{"event":["2021-06-01"]}}'))->>'id' AS updated;
SELECT pg_temp.date_tests('Observation', 'date=ge2020-01-01&date=lt2020-02-01') AS date_tests,
       position('drmulti' IN pg_temp.ids(fhir.search('Observation', 'date=ge2020-01-01&date=lt2020-02-01&_count=200'))) > 0 AS multi_found;
-- eq, le and eb carry the bound lo <= x (rows have lo <= hi); results as before
SELECT pg_temp.ids(fhir.search('Observation', 'date=2020-01&_count=200')) =
       (SELECT coalesce(string_agg(r.id, ',' ORDER BY r.id), '') FROM fhir.resource_observation r
         WHERE r.id LIKE 'dr%' AND EXISTS (SELECT 1 FROM fhir.search_date d JOIN fhir.search_parameters p ON p.id = d.param
               AND p.resource_type = 'Observation' AND p.code = 'date'
         WHERE d.rid = r.rid AND d.lo >= '2020-01-01' AND d.hi <= '2020-02-01')) AS eq_same,
       pg_temp.ids(fhir.search('Observation', 'date=eb2019-12-20&_count=200')) =
       (SELECT coalesce(string_agg(r.id, ',' ORDER BY r.id), '') FROM fhir.resource_observation r
         WHERE r.id LIKE 'dr%' AND EXISTS (SELECT 1 FROM fhir.search_date d JOIN fhir.search_parameters p ON p.id = d.param
               AND p.resource_type = 'Observation' AND p.code = 'date'
         WHERE d.rid = r.rid AND d.hi <= '2019-12-20')) AS eb_same,
       pg_temp.ids(fhir.search('Observation', 'date=le2019-12-20&_count=200')) =
       (SELECT coalesce(string_agg(r.id, ',' ORDER BY r.id), '') FROM fhir.resource_observation r
         WHERE r.id LIKE 'dr%' AND EXISTS (SELECT 1 FROM fhir.search_date d JOIN fhir.search_parameters p ON p.id = d.param
               AND p.resource_type = 'Observation' AND p.code = 'date'
         WHERE d.rid = r.rid AND (d.lo < '2019-12-20' OR (d.lo >= '2019-12-20' AND d.hi <= '2019-12-21')))) AS le_same;
-- an inverted Period (start after end) is stored from its end to its start
SELECT fhir.load('{"resourceType":"Encounter","id":"drinv","status":"finished","class":{"code":"AMB"},"period":{"start":"2020-05-10","end":"2020-03-01"}}') AS loaded;
SELECT d.lo, d.hi FROM fhir.search_date d JOIN fhir.resource_encounter r USING (rid)
  JOIN fhir.search_parameters p ON p.id = d.param AND p.resource_type = 'Encounter' AND p.code = 'date' WHERE r.id = 'drinv';
SELECT pg_temp.ids(fhir.search('Encounter', 'date=ge2020-04-01&date=le2020-04-30')) AS inside,
       pg_temp.ids(fhir.search('Encounter', 'date=2020-04')) AS eq_month,
       pg_temp.ids(fhir.search('Encounter', 'date=sa2020-05-11')) AS after_it;
-- the table refuses a row with lo > hi
INSERT INTO fhir.search_date (rid, param, lo, hi) VALUES (-1, 1, '2020-02-01', '2020-01-01');
RESET timezone;
