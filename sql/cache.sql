-- the shared-memory result cache (the regression instance preloads the library)
SELECT available, note IS NULL AS no_note FROM fhir.cache_statistics;
SELECT fhir.cache_reset();
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype = 'Patient';
SELECT fhir.load(string_agg(format('{"resourceType":"Patient","id":"c%s","gender":"%s"}', i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END), E'\n')) AS loaded
  FROM generate_series(1, 6) i;
CREATE TEMP TABLE r (n int, bundle jsonb, info jsonb);
-- a miss, then an identical search (other parameter order, other encoding, repeated OR value) hits
INSERT INTO r SELECT 1, fhir.search('Patient', 'gender=female&_count=2'), fhir.last_search();
INSERT INTO r SELECT 2, fhir.search('Patient', '_count=2&gender=female%2Cfemale'), fhir.last_search();
SELECT n, info->>'cache' AS cache, info->>'store' AS store FROM r ORDER BY n;
SELECT (SELECT bundle->>'id' FROM r WHERE n = 2) = (SELECT info->>'entry_id' FROM r WHERE n = 1) AS hit_id_is_entry_id,
       (SELECT bundle->'entry' FROM r WHERE n = 1) = (SELECT bundle->'entry' FROM r WHERE n = 2) AS same_entries,
       (SELECT bundle->'meta'->>'lastUpdated' FROM r WHERE n = 2) <= (SELECT bundle->'meta'->>'lastUpdated' FROM r WHERE n = 1) AS original_time;
-- paging goes through the cache too: the next link's page is stored and reused
SELECT fhir.search('Patient', substring((SELECT l->>'url' FROM r, jsonb_array_elements(bundle->'link') l WHERE n = 1 AND l->>'relation' = 'next') FROM '\?(.*)$')) IS NOT NULL AS page2,
       fhir.last_search()->>'cache' AS page2_first;
SELECT fhir.search('Patient', substring((SELECT l->>'url' FROM r, jsonb_array_elements(bundle->'link') l WHERE n = 1 AND l->>'relation' = 'next') FROM '\?(.*)$')) IS NOT NULL AS page2,
       fhir.last_search()->>'cache' AS page2_again;
-- Cache-Control: no-cache skips reuse but stores; no-store bypasses and returns everything without paging
SELECT fhir.search('Patient', 'gender=female&_count=2', 'no-cache') IS NOT NULL AS searched, fhir.last_search()->>'cache' AS cache, fhir.last_search()->>'store' AS store;
SELECT jsonb_array_length(b->'entry') AS entries, jsonb_path_query_array(b, '$.link[*].relation') AS links, fhir.last_search()->>'cache' AS cache
  FROM fhir.search('Patient', 'gender=female&_count=2', 'no-store') b;
SELECT jsonb_array_length(b->'entry') AS entries, jsonb_path_query_array(b, '$.link[*].relation') AS links
  FROM fhir.search('Patient', '_count=5', 'no-cache, no-store, max-results=4') b;
-- a committed write to Patient makes cached Patient searches stale; an Observation write does not
SELECT fhir.search('Patient', 'gender=male') IS NOT NULL AS s, fhir.last_search()->>'cache' AS first;
SELECT fhir.search('Patient', 'gender=male') IS NOT NULL AS s, fhir.last_search()->>'cache' AS second;
SELECT fhir.update('{"resourceType":"Observation","id":"c-obs","status":"final","code":{"text":"x"}}') IS NOT NULL AS other_type_written;
SELECT fhir.search('Patient', 'gender=male') IS NOT NULL AS s, fhir.last_search()->>'cache' AS after_other_type;
SELECT fhir.update('{"resourceType":"Patient","id":"c7","gender":"male"}') IS NOT NULL AS patient_written;
SELECT jsonb_array_length(fhir.search('Patient', 'gender=male')->'entry') AS males_now, fhir.last_search()->>'cache' AS after_patient_write;
-- a transaction that wrote neither reuses nor stores (its own writes are not shared)
BEGIN;
SELECT fhir.update('{"resourceType":"Patient","id":"c8","gender":"male"}') IS NOT NULL AS uncommitted;
SELECT jsonb_array_length(fhir.search('Patient', 'gender=male')->'entry') AS sees_own_write, fhir.last_search()->>'store' AS store;
ROLLBACK;
SELECT jsonb_array_length(fhir.search('Patient', 'gender=male')->'entry') AS after_rollback, fhir.last_search()->>'cache' AS cache;
-- another role never gets this role's entries
CREATE ROLE cache_reader;
GRANT USAGE ON SCHEMA fhir TO cache_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA fhir TO cache_reader;
SET ROLE cache_reader;
SELECT fhir.search('Patient', 'gender=male') IS NOT NULL AS s, fhir.last_search()->>'cache' AS other_role;
RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA fhir FROM cache_reader;
REVOKE USAGE ON SCHEMA fhir FROM cache_reader;
DROP ROLE cache_reader;
-- statistics
SELECT entries > 0 AS has_entries, bytes > 0 AS has_bytes, hits >= 3 AS hits, misses >= 3 AS misses,
       invalidations >= 1 AS invalidations, hit_rate > 0 AND hit_rate < 1 AS hit_rate FROM fhir.cache_statistics;
SELECT fhir.cache_reset();
SELECT entries, hits FROM fhir.cache_statistics;
\set VERBOSITY terse
SELECT fhir.search('Patient', '', 'max-results=none');
