-- A search statement repeated with the same values runs with a plan made for those
-- values and kept (fhir_search.plan_cache_size): results stay those of the data at
-- the time of the search, plans are revalidated after DDL, and 0 turns it off.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype = 'Observation';
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"pl%s","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"effectiveDateTime":"2024-01-%sT10:00:00Z"}',
                                   i, CASE WHEN i % 3 = 0 THEN '8867-4' ELSE '9279-1' END, lpad((i % 28 + 1)::text, 2, '0')), E'\n')) AS loaded
  FROM generate_series(1, 30) i;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT string_agg(e->'resource'->>'id', ' ' ORDER BY n) FROM jsonb_array_elements(b->'entry') WITH ORDINALITY x(e, n) $$;
-- first run: planned for its values; the repeat: the kept plan
SELECT pg_temp.ids(fhir.search('Observation', 'code=8867-4&_count=5', 'no-cache')) AS first, (fhir.last_search()->>'kept_plans')::int AS kept;
SELECT pg_temp.ids(fhir.search('Observation', 'code=8867-4&_count=5', 'no-cache')) AS again, (fhir.last_search()->>'kept_plans')::int AS kept;
-- other values: planned for them
SELECT pg_temp.ids(fhir.search('Observation', 'code=9279-1&_count=5', 'no-cache')) AS other_code, (fhir.last_search()->>'kept_plans')::int AS kept;
-- a kept plan reads the data as it is now: a new match and a deleted one show
SELECT fhir.create('{"resourceType":"Observation","id":"pl0","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]}}') IS NOT NULL AS created;
SELECT fhir.delete('Observation', 'pl3') AS deleted;
SELECT pg_temp.ids(fhir.search('Observation', 'code=8867-4&_count=5', 'no-cache')) AS after_writes, (fhir.last_search()->>'kept_plans')::int AS kept;
-- and after DDL (a new index on the partition) the plan is made again, same rows
CREATE INDEX plans_test_idx ON fhir.resource_observation (last_updated);
SELECT pg_temp.ids(fhir.search('Observation', 'code=8867-4&_count=5', 'no-cache')) AS after_ddl, (fhir.last_search()->>'kept_plans')::int AS kept;
DROP INDEX fhir.plans_test_idx;
-- dates, counts and later pages too (every statement of a search)
SELECT fhir.search('Observation', 'date=ge2024-01-10&date=lt2024-01-20&_summary=count', 'no-cache')->'total' AS dated;
SELECT fhir.search('Observation', 'date=ge2024-01-10&date=lt2024-01-20&_summary=count', 'no-cache')->'total' AS dated_again,
       (fhir.last_search()->>'kept_plans')::int AS kept;
-- paging with the links of a kept-plan page
CREATE TEMP TABLE pages AS SELECT fhir.search('Observation', 'code=9279-1&_count=4', 'no-cache') AS b;
SELECT pg_temp.ids(fhir.search('Observation', split_part(b->'link'->1->>'url', '?', 2), 'no-cache')) AS page2,
       b->'link'->1->>'relation' AS relation FROM pages;
SELECT pg_temp.ids(fhir.search('Observation', split_part(b->'link'->1->>'url', '?', 2), 'no-cache')) AS page2_again,
       (fhir.last_search()->>'kept_plans')::int AS kept FROM pages;
-- more distinct statements than the limit: the oldest are forgotten, nothing breaks
SET fhir_search.plan_cache_size = 4;
SELECT count(fhir.search('Observation', format('_id=pl%s', i), 'no-cache')) AS searched FROM generate_series(1, 10) i;
SELECT pg_temp.ids(fhir.search('Observation', 'code=8867-4&_count=5', 'no-cache')) AS forgotten, (fhir.last_search()->>'kept_plans')::int AS kept;
SELECT pg_temp.ids(fhir.search('Observation', '_id=pl10', 'no-cache')) AS recent, (fhir.last_search()->>'kept_plans')::int AS kept;
-- 0: every statement planned per execution
SET fhir_search.plan_cache_size = 0;
SELECT pg_temp.ids(fhir.search('Observation', '_id=pl10', 'no-cache')) AS off, (fhir.last_search()->>'kept_plans')::int AS kept;
RESET fhir_search.plan_cache_size;
