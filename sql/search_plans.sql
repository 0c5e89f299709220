-- A search statement repeated with the same values runs with a plan made for those
-- values and kept (fhir_search.plan_cache_size): results stay those of the data at
-- the time of the search, plans are revalidated after DDL, and 0 turns it off.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype = 'Observation';
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"pl%s","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"effectiveDateTime":"2024-01-%sT10:00:00Z"}',
                                   i, CASE WHEN i % 3 = 0 THEN '8867-4' ELSE '9279-1' END, lpad((i % 28 + 1)::text, 2, '0')), E'\n')) AS loaded
  FROM generate_series(1, 30) i;
-- (statistics of the 30 rows: the page statements are then the planner's own, see the end of this file)
VACUUM ANALYZE fhir.resource_observation;
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
-- A lone value condition that matches many rows walks the partition in rid order,
-- probing each row, instead of reading and sorting every match; a rare one starts
-- from its matches. Both give the same pages (insertion order). So do conditions
-- on the row (tokens) whose matches cluster past the walk's budget of rows.
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"vq%s","status":"final","code":{"text":"x"},"valueQuantity":{"value":%s,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}',
                                   i, (i * 7919) % 3000), E'\n')) AS loaded
  FROM generate_series(1, 3000) i;
ANALYZE fhir.resource_observation; -- what autovacuum does after a load (the row estimate decides too)
CREATE FUNCTION pg_temp.expected_ids(v int, n int, skip int DEFAULT 0) RETURNS text LANGUAGE sql AS
  $$ SELECT string_agg(id, ' ' ORDER BY rid) FROM (SELECT id, rid FROM fhir.resource_observation
                                                     WHERE (content->'valueQuantity'->>'value')::numeric > v ORDER BY rid OFFSET skip LIMIT n) x $$;
SELECT position('SELECT DISTINCT' IN fhir.explain('Observation', 'value-quantity=gt500')->>'sql') = 0 AS dense_walks,
       position('SELECT DISTINCT' IN fhir.explain('Observation', 'value-quantity=gt2990')->>'sql') > 0 AS rare_starts_from_matches;
SELECT pg_temp.ids(fhir.search('Observation', 'value-quantity=gt500&_count=7', 'no-cache')) = pg_temp.expected_ids(500, 7) AS dense_page,
       pg_temp.ids(fhir.search('Observation', 'value-quantity=gt2990&_count=7', 'no-cache')) = pg_temp.expected_ids(2990, 7) AS rare_page;
-- 1,500 Observations with a code after 3,000 without (the walk's budget: 1,000 rows for 7): the page
-- ends with the first matches past it, read from the token index
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"vc%s","status":"final","code":{"coding":[{"system":"http://example.org","code":"%s"}]}}',
                                   i, CASE WHEN i > 3000 THEN 'late' ELSE 'early' END), E'\n')) AS loaded
  FROM generate_series(1, 4500) i;
ANALYZE fhir.resource_observation;
SELECT pg_temp.ids(fhir.search('Observation', 'code=http://example.org|late&_count=7', 'no-cache')) AS clustered_page,
       pg_temp.ids(fhir.search('Observation', 'code=http://example.org|early&_count=3', 'no-cache')) AS spread_page;
SELECT count(fhir.delete('Observation', id)) AS removed FROM fhir.resource_observation WHERE id LIKE 'vc%';
CREATE TEMP TABLE vq_first AS SELECT fhir.search('Observation', 'value-quantity=gt500&_count=7&_total=accurate', 'no-cache') AS b;
SELECT (b->>'total')::int AS dense_total,
       pg_temp.ids(fhir.search('Observation', split_part(b->'link'->1->>'url', '?', 2), 'no-cache')) = pg_temp.expected_ids(500, 7, 7) AS dense_page2
  FROM vq_first;
SELECT count(fhir.delete('Observation', id)) AS removed FROM fhir.resource_observation WHERE id LIKE 'vq%';
