-- paging (keyset cursors in links), _sort, _total, _summary=count
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
SELECT fhir.load(string_agg(format('{"resourceType":"Patient","id":"pg%s","name":[{"family":"%s"}],"birthDate":"%s"}',
                                   i, (ARRAY['Berg','Adams','Cruz','Adams','Diaz'])[1 + i % 5], 1950 + i), E'\n')) AS loaded
  FROM generate_series(1, 12) i;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY n), '') FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS
  $$ SELECT substring(l->>'url' FROM '\?(.*)$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
-- walk forward through all pages with the next links, then back with previous
CREATE TEMP TABLE pages (n int, query text, ids text, total text, has_prev bool);
DO $$
DECLARE q text := '_count=5&_sort=family,-birthdate'; b jsonb; i int := 0;
BEGIN
  LOOP
    i := i + 1;
    b := fhir.search('Patient', q);
    INSERT INTO pages VALUES (i, q, pg_temp.ids(b), b->>'total', pg_temp.link(b, 'previous') IS NOT NULL);
    q := pg_temp.link(b, 'next');
    EXIT WHEN q IS NULL OR i > 10;
  END LOOP;
END $$;
SELECT n, ids, total, has_prev FROM pages ORDER BY n;
-- the previous link of the last page returns the page before it
SELECT pg_temp.ids(fhir.search('Patient', pg_temp.link(fhir.search('Patient', (SELECT query FROM pages WHERE n = 3)), 'previous'))) AS back_to_page_2,
       (SELECT ids FROM pages WHERE n = 2) AS page_2;
-- default order is stable (insertion order) and pages do not overlap
SELECT pg_temp.ids(fhir.search('Patient', '_count=4')) AS p1,
       pg_temp.ids(fhir.search('Patient', pg_temp.link(fhir.search('Patient', '_count=4'), 'next'))) AS p2;
-- sort by _id descending and by a date
SELECT pg_temp.ids(fhir.search('Patient', '_sort=-_id&_count=3')) AS by_id_desc,
       pg_temp.ids(fhir.search('Patient', '_sort=birthdate&_count=3&family=adams')) AS adams_by_birthdate;
-- totals
SELECT b->>'total' AS accurate, jsonb_array_length(b->'entry') AS entries FROM fhir.search('Patient', 'family=adams&_total=accurate&_count=2') b;
SELECT b ? 'total' AS has_total_without_asking FROM fhir.search('Patient', 'family=adams&_count=2') b;
SELECT (b->>'total')::int > 0 AS estimated_positive FROM fhir.search('Patient', '_total=estimated') b;
SELECT b->>'total' AS count_only, b ? 'entry' AS has_entries FROM fhir.search('Patient', 'family=adams&_summary=count') b;
-- a bad cursor or _total is an error
\set VERBOSITY terse
SELECT fhir.search('Patient', '_cursor=garbage');
SELECT fhir.search('Patient', '_total=maybe');
\set VERBOSITY default
-- system-level search: type NULL, _type list, common parameters, paging across types
SELECT fhir.update('{"resourceType":"Observation","id":"sys-o","status":"final","code":{"text":"x"},"meta":{"tag":[{"system":"urn:t","code":"vip"}]}}') IS NOT NULL AS o,
       fhir.update('{"resourceType":"Patient","id":"sys-p","meta":{"tag":[{"system":"urn:t","code":"vip"}]}}') IS NOT NULL AS p;
SELECT jsonb_path_query_array(b, '$.entry[*].fullUrl') AS tagged, b->>'total' AS total
  FROM fhir.search(NULL, '_tag=urn:t|vip&_sort=_id') b;
SELECT jsonb_path_query_array(fhir.search(NULL, '_type=Observation&_tag=vip'), '$.entry[*].resource.id') AS only_observations;
SELECT pg_temp.ids(fhir.search(NULL, '_type=Patient,Observation&_id=sys-o,sys-p,pg1&_count=2')) AS page1,
       pg_temp.ids(fhir.search(NULL, pg_temp.link(fhir.search(NULL, '_type=Patient,Observation&_id=sys-o,sys-p,pg1&_count=2'), 'next'))) AS page2;
\set VERBOSITY terse
SELECT fhir.search(NULL, '_type=Nope');
SELECT fhir.search(NULL, '_type=Patient&_sort=family');
SELECT fhir.search('', '');
