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
-- _sort by a date walks the dated matches in key order, then the ones without a value
-- (two statements); pages cross that boundary in both directions, ties by insertion order
SELECT fhir.load(string_agg(v, E'\n')) AS loaded FROM unnest(ARRAY[
  '{"resourceType":"Observation","id":"sd01","status":"final","code":{"text":"sd"},"effectiveDateTime":"2020-05-01"}',
  '{"resourceType":"Observation","id":"sd02","status":"final","code":{"text":"sd"},"effectiveDateTime":"2019-01-01"}',
  '{"resourceType":"Observation","id":"sd03","status":"final","code":{"text":"sd"},"effectiveDateTime":"2020-05-01"}',
  '{"resourceType":"Observation","id":"sd04","status":"final","code":{"text":"sd"}}',
  '{"resourceType":"Observation","id":"sd05","status":"final","code":{"text":"sd"},"effectiveDateTime":"2021-03-03"}',
  '{"resourceType":"Observation","id":"sd06","status":"final","code":{"text":"sd"}}',
  '{"resourceType":"Observation","id":"sd07","status":"final","code":{"text":"sd"},"effectivePeriod":{"start":"2020-01-01","end":"2021-01-01"}}',
  '{"resourceType":"Observation","id":"sd08","status":"final","code":{"text":"sd"},"effectiveDateTime":"2018-07-07"}',
  '{"resourceType":"Observation","id":"sd09","status":"final","code":{"text":"sd"}}',
  '{"resourceType":"Observation","id":"sd10","status":"final","code":{"text":"sd"},"effectiveDateTime":"2022-01-01T10:00:00Z"}']) v;
CREATE FUNCTION pg_temp.walk(q text, rel text) RETURNS TABLE (page int, ids text, link text) LANGUAGE plpgsql AS $$
DECLARE b jsonb; i int := 0;
BEGIN
  WHILE q IS NOT NULL AND i < 10 LOOP
    i := i + 1;
    b := fhir.search('Observation', q, 'no-cache');
    page := i; ids := pg_temp.ids(b); link := pg_temp.link(b, 'next'); q := pg_temp.link(b, rel);
    RETURN NEXT;
  END LOOP;
END $$;
SELECT page, ids FROM pg_temp.walk('status=final&_sort=-date&_count=3', 'next');
SELECT page, ids FROM pg_temp.walk('status=final&_sort=date&_count=3', 'next');
-- backwards from the last page (its previous links), and from the page that starts in the middle of the dated matches
SELECT page, ids FROM pg_temp.walk((SELECT link FROM pg_temp.walk('status=final&_sort=-date&_count=3', 'next') WHERE page = 3), 'previous');
SELECT page, ids FROM pg_temp.walk((SELECT link FROM pg_temp.walk('status=final&_sort=date&_count=4', 'next') WHERE page = 1), 'previous');
SELECT page, ids FROM pg_temp.walk((SELECT link FROM pg_temp.walk('status=final&_sort=-date&_count=4', 'next') WHERE page = 2), 'previous');
-- the same order as the key expression computed per row
SELECT (SELECT string_agg(ids, ',' ORDER BY page) FROM pg_temp.walk('status=final&_sort=-date&_count=2', 'next')) =
       (SELECT string_agg(id, ',' ORDER BY k DESC, rid) FROM (
          SELECT r.id, r.rid, coalesce((SELECT max(d.hi) FROM fhir.search_date d WHERE d.rid = r.rid AND d.param =
                   (SELECT id FROM fhir.search_parameters WHERE resource_type = 'Observation' AND code = 'date')), '-infinity') AS k
            FROM fhir.resource r WHERE r.rtype = 'Observation' AND r.id LIKE 'sd%') x) AS same_order;
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
