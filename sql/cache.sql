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
-- max-results truncating says so: the total and a warning in an outcome entry
SELECT b->'total' AS total, jsonb_path_query_array(b, '$.entry[*].search.mode') AS modes,
       jsonb_path_query_first(b, '$.entry[*] ? (@.search.mode == "outcome").resource.issue[0]') AS issue
  FROM fhir.search('Patient', '_count=5', 'no-store, max-results=4') b;
SELECT b->'total' AS total, jsonb_array_length(b->'entry') AS entries
  FROM fhir.search('Patient', '_count=2', 'max-results=100') b;
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
GRANT fhir_reader TO cache_reader;
SET ROLE cache_reader;
SELECT fhir.search('Patient', 'gender=male') IS NOT NULL AS s, fhir.last_search()->>'cache' AS other_role;
RESET ROLE;
DROP ROLE cache_reader;
-- statistics
SELECT entries > 0 AS has_entries, bytes > 0 AS has_bytes, hits >= 3 AS hits, misses >= 3 AS misses,
       invalidations >= 1 AS invalidations, hit_rate > 0 AND hit_rate < 1 AS hit_rate FROM fhir.cache_statistics;
SELECT fhir.cache_reset();
SELECT entries, hits FROM fhir.cache_statistics;
\set VERBOSITY terse
SELECT fhir.search('Patient', '', 'max-results=none');
-- result sets and prefetching: a first page stores its rows as the start of the search's result set;
-- later pages come from that set (even with cache_reuse_ms = 0), extended to the next threshold
-- (the ids of more matches) when a page reaches past its rows
SELECT fhir.load(string_agg(format('{"resourceType":"Practitioner","id":"pf%s","active":true}', lpad(i::text, 2, '0')), E'\n')) AS loaded
  FROM generate_series(1, 11) i;
SET fhir_search.cache_reuse_ms = 0;
SET fhir_search.cache_prefetch_thresholds = '3,6';
CREATE FUNCTION pg_temp.walk(first_query text, relation text, max_pages int DEFAULT 20)
RETURNS TABLE (page int, ids text, cache text, source text, prefetched int, link text) LANGUAGE plpgsql AS $$
DECLARE
  q text := first_query;
  b jsonb;
  i int := 0;
BEGIN
  WHILE q IS NOT NULL AND i < max_pages LOOP
    i := i + 1;
    b := fhir.search('Practitioner', q);
    page := i;
    ids := (SELECT string_agg(e->'resource'->>'id', ',') FROM jsonb_array_elements(b->'entry') e);
    cache := fhir.last_search()->>'cache';
    source := fhir.last_search()->>'page_source';
    prefetched := (fhir.last_search()->>'prefetched')::int;
    q := substring((SELECT l->>'url' FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = relation) FROM '\?(.*)$');
    link := q;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT page, ids, cache, source, prefetched FROM pg_temp.walk('active=true&_count=2', 'next');
-- the pages of the walk are exactly the matches in search order, each once
SELECT (SELECT string_agg(ids, ',' ORDER BY page) FROM pg_temp.walk('active=true&_count=2', 'next')) =
       (SELECT string_agg(id, ',' ORDER BY rid) FROM fhir.resource WHERE rtype = 'Practitioner' AND content @> '{"active": true}') AS forward_walk_is_complete;
-- backwards from the last page through previous links, served from the (complete) set
-- (links are kept in psql variables: a transaction that creates a table has written, and a
-- transaction that wrote neither stores nor uses result sets, as the BEGIN block below shows)
SELECT link AS last_link FROM pg_temp.walk('active=true&_count=2', 'next') ORDER BY page DESC OFFSET 1 LIMIT 1 \gset
SELECT page, ids, cache, source FROM pg_temp.walk(:'last_link', 'previous');
-- with _sort: keys travel with the set
SELECT string_agg(ids, ',' ORDER BY page) AS sorted_desc, count(*) FILTER (WHERE source IS NOT NULL) AS from_set
  FROM pg_temp.walk('active=true&_count=4&_sort=-_id', 'next');
-- invalidate mode: a committed Practitioner write makes the set unusable; the next page is
-- computed from its keyset instead and shows the write
SELECT link AS p1 FROM pg_temp.walk('active=true&_count=2', 'next', 1) \gset
SELECT fhir.delete('Practitioner', 'pf03') IS NOT NULL AS deleted;
SELECT ids, cache, source FROM pg_temp.walk(:'p1', 'next', 1);
-- time mode (Smile CDR's behaviour): the set is used as it is; the deleted row is skipped
SET fhir_search.cache_mode = 'time';
-- (two pages first: the second extends the set past the third page)
SELECT link AS p2 FROM pg_temp.walk('active=true&_count=2', 'next', 2) ORDER BY page DESC LIMIT 1 \gset
SELECT fhir.delete('Practitioner', 'pf06') IS NOT NULL AS deleted;
SELECT ids, cache, source FROM pg_temp.walk(:'p2', 'next', 1);
RESET fhir_search.cache_mode;
-- a transaction that wrote pages from its keyset, so it sees its own writes
SELECT link AS p3 FROM pg_temp.walk('active=true&_count=2', 'next', 1) \gset
BEGIN;
SELECT ids, cache, source FROM pg_temp.walk(:'p3', 'next', 1);
SELECT fhir.delete('Practitioner', 'pf05') IS NOT NULL AS deleted;
SELECT ids, cache, source FROM pg_temp.walk(:'p3', 'next', 1);
ROLLBACK;
-- another role cannot page this role's set (the key includes the role)
SELECT link AS p4 FROM pg_temp.walk('active=true&_count=2', 'next', 1) \gset
CREATE ROLE set_reader;
GRANT fhir_reader TO set_reader;
SET ROLE set_reader;
SELECT ids, cache, source FROM pg_temp.walk(:'p4', 'next', 1);
RESET ROLE;
DROP ROLE set_reader;
-- no-cache on a page request computes the page from its keyset; the Bundle is the same
SELECT fhir.search('Practitioner', :'p4') - 'id' - 'meta' AS page_from_set \gset
SELECT fhir.last_search()->>'page_source' AS source;
SELECT (fhir.search('Practitioner', :'p4', 'no-cache') - 'id' - 'meta') = :'page_from_set'::jsonb AS same_bundle,
       fhir.last_search()->>'page_source' AS source;
-- -1: prefetch every match at once
SET fhir_search.cache_prefetch_thresholds = '-1';
SELECT page, cache, source, prefetched FROM pg_temp.walk('active=true&_count=4', 'next');
-- thresholds are checked
SET fhir_search.cache_prefetch_thresholds = '10,5';
SET fhir_search.cache_prefetch_thresholds = 'ten';
RESET fhir_search.cache_prefetch_thresholds;
RESET fhir_search.cache_reuse_ms;
