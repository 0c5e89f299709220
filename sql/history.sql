-- fhir.history: instance, type and system level; _count paging, _since, _at; errors.
SET fhir_search.base_url = 'http://example.org/fhir';

-- Versions written through the API, then moved to known instants (the writer
-- stamps the clock) so _since and _at have fixed answers:
--   Patient/h-p1      v1 2021-01-01, v2 2021-06-01, v3 2022-01-01, v4 deleted 2022-06-01, v5 2023-01-01
--   Patient/h-p2      v1 2021-03-01, v2 2023-03-01
--   Observation/h-o1  v1 2021-02-01
--   Observation/h-o2  v1 2022-02-01, v2 deleted 2022-03-01
SELECT count(*) AS written FROM (
  SELECT fhir.update('{"resourceType":"Patient","id":"h-p1","active":true}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"h-p1","active":false}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"h-p1","gender":"other"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"h-p2","gender":"female"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"h-p2","gender":"male"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"h-o1","status":"final","code":{"text":"a"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"h-o2","status":"final","code":{"text":"b"}}')) w;
SELECT fhir.delete('Patient', 'h-p1') AS deleted, fhir.delete('Observation', 'h-o2') AS deleted;
SELECT fhir.update('{"resourceType":"Patient","id":"h-p1","gender":"unknown"}')->'meta'->>'versionId' AS recreated;
CREATE TEMP TABLE stamps (rtype text, id text, version_id int, at timestamptz);
INSERT INTO stamps VALUES
  ('Patient', 'h-p1', 1, '2021-01-01T00:00:00Z'), ('Patient', 'h-p1', 2, '2021-06-01T00:00:00Z'),
  ('Patient', 'h-p1', 3, '2022-01-01T00:00:00Z'), ('Patient', 'h-p1', 4, '2022-06-01T00:00:00Z'),
  ('Patient', 'h-p1', 5, '2023-01-01T00:00:00Z'), ('Patient', 'h-p2', 1, '2021-03-01T00:00:00Z'),
  ('Patient', 'h-p2', 2, '2023-03-01T00:00:00Z'), ('Observation', 'h-o1', 1, '2021-02-01T00:00:00Z'),
  ('Observation', 'h-o2', 1, '2022-02-01T00:00:00Z'), ('Observation', 'h-o2', 2, '2022-03-01T00:00:00Z');
UPDATE fhir.resource r SET last_updated = s.at FROM stamps s
 WHERE (r.rtype, r.id, r.version_id) = (s.rtype, s.id, s.version_id);
UPDATE fhir.resource_history r SET last_updated = s.at FROM stamps s
 WHERE (r.rtype, r.id, r.version_id) = (s.rtype, s.id, s.version_id);

-- One line per entry: method, url, version, lastModified's date; the links with
-- their cursors masked (they hold instants of this run).
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT concat_ws(' ', e->'request'->>'method', e->'request'->>'url', e->'response'->>'etag',
                   e->'response'->>'status', left(e->'response'->>'lastModified', 10),
                   CASE WHEN e ? 'resource' THEN 'v' || (e->'resource'->'meta'->>'versionId') ELSE 'no resource' END)
    FROM jsonb_array_elements(b->'entry') e $$;
CREATE FUNCTION pg_temp.links(b jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT l->>'relation' || ' ' || regexp_replace(l->>'url', '_cursor=[A-Za-z0-9_-]+', '_cursor=...')
    FROM jsonb_array_elements(b->'link') l $$;

-- instance level: every version newest first, with total; the two-argument call as before
SELECT b->>'resourceType' AS rt, b->>'type' AS type, b->>'total' AS total FROM fhir.history('Patient', 'h-p1') b;
SELECT pg_temp.entries(fhir.history('Patient', 'h-p1'));
SELECT pg_temp.links(fhir.history('Patient', 'h-p1'));
SELECT e->'fullUrl' AS full_url, e->'resource'->>'gender' AS gender
  FROM jsonb_array_elements(fhir.history('Patient', 'h-p1')->'entry') e LIMIT 1;
SELECT fhir.history('Patient', 'h-nobody') IS NULL AS never_existed;

-- type level: no total
SELECT b ? 'total' AS has_total FROM fhir.history('Patient') b;
SELECT pg_temp.entries(fhir.history('Observation'));
SELECT pg_temp.links(fhir.history('Observation', NULL, '_count=5'));

-- system level
SELECT pg_temp.entries(fhir.history());
SELECT pg_temp.links(fhir.history(NULL, NULL, '?_since=2022-01-01T00:00:00Z'));

-- _since: lastUpdated at or after the instant (the instant itself included); an
-- offset with its '+' unescaped (a space) or escaped; a partial date is its start
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_since=2022-06-01T00:00:00Z'));
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_since=2022-06-01T02:00:00+02:00'));
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_since=2022-06-01T02:00:00%2B02:00'));
SELECT pg_temp.entries(fhir.history('Patient', NULL, '_since=2023'));
SELECT b->>'total' AS total, jsonb_path_query_array(b, '$.entry[*].response.etag') AS etags
  FROM fhir.history('Patient', 'h-p1', '_since=2022-01-01') b;
-- a resource with no version in the period: an empty page, not NULL
SELECT b->>'total' AS total, b ? 'entry' AS has_entry FROM fhir.history('Observation', 'h-o1', '_since=2024') b;

-- _at: the versions current at some time in the period
--   an instant: h-p1 v3 (2022-01-01 .. 2022-06-01), h-p2 v1, h-o1 v1, h-o2's tombstone
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_at=2022-04-01T12:00:00Z'));
--   an instant on a version's lastUpdated: that version (h-o2 v1 begins, the deleted h-o2 v2 not yet)
SELECT pg_temp.entries(fhir.history('Observation', NULL, '_at=2022-02-01T00:00:00Z'));
--   a month: h-p1's tombstone (from 2022-06-01; v3 ended just then: not included), h-p2 v1,
--   h-o1 v1, h-o2's tombstone
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_at=2022-06'));
--   a year: every version live at some time in 2021
SELECT pg_temp.entries(fhir.history(NULL, NULL, '_at=2021'));
--   before anything: nothing
SELECT b ? 'entry' AS has_entry FROM fhir.history(NULL, NULL, '_at=2020') b;
--   instance level with _since and _at together
SELECT b->>'total' AS total, jsonb_path_query_array(b, '$.entry[*].response.etag') AS etags
  FROM fhir.history('Patient', 'h-p1', '_since=2021-02-01&_at=2021') b;

-- _count paging: follow next links to the end; every version exactly once, in order
CREATE TEMP TABLE pages (n int, entry text, links text[]);
DO $$
DECLARE
  b jsonb := fhir.history(NULL, NULL, '_count=3');
  n int := 1;
  next text;
BEGIN
  LOOP
    INSERT INTO pages SELECT n, e, (SELECT array_agg(l) FROM pg_temp.links(b) l) FROM pg_temp.entries(b) e;
    SELECT l->>'url' INTO next FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next';
    EXIT WHEN next IS NULL OR n > 10;
    b := fhir.history(NULL, NULL, next);  -- the whole link, as a client sends it back
    n := n + 1;
  END LOOP;
END
$$;
SELECT n, entry FROM pages;
SELECT DISTINCT n, links FROM pages ORDER BY n;

-- a write between pages: neither the new version nor the moved one shifts the pages
-- (system level, 2 a page: h-o1 v1, current, is on the last page until the
-- update after page 1 moves it to fhir.resource_history; v2 is newer than page 1)
TRUNCATE pages;
DO $$
DECLARE
  b jsonb := fhir.history(NULL, NULL, '_count=2');
  n int := 1;
  next text;
BEGIN
  LOOP
    INSERT INTO pages SELECT n, e FROM pg_temp.entries(b) e;
    IF n = 1 THEN
      PERFORM fhir.update('{"resourceType":"Observation","id":"h-o1","status":"amended","code":{"text":"a"}}');
    END IF;
    SELECT l->>'url' INTO next FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next';
    EXIT WHEN next IS NULL OR n > 10;
    b := fhir.history(NULL, NULL, next);
    n := n + 1;
  END LOOP;
END
$$;
SELECT n, entry FROM pages;
SELECT count(*) AS versions, count(DISTINCT entry) AS distinct_versions FROM pages;
-- a new first page shows the new version
SELECT e->'request'->>'url' AS url, e->'response'->>'etag' AS etag
  FROM jsonb_array_elements(fhir.history(NULL, NULL, '_count=1')->'entry') e;

-- previous links: back from the last page to the first
DO $$
DECLARE
  b jsonb := fhir.history('Patient', 'h-p1', '_count=2');
  next text;
  prev text;
BEGIN
  LOOP  -- to the last page
    SELECT l->>'url' INTO next FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next';
    EXIT WHEN next IS NULL;
    b := fhir.history('Patient', 'h-p1', next);
  END LOOP;
  RAISE NOTICE 'last page: %, links %', ARRAY(SELECT pg_temp.entries(b)), ARRAY(SELECT pg_temp.links(b));
  LOOP
    SELECT l->>'url' INTO prev FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'previous';
    EXIT WHEN prev IS NULL;
    b := fhir.history('Patient', 'h-p1', prev);
    RAISE NOTICE 'previous page: % (total %), links %', ARRAY(SELECT pg_temp.entries(b)), b->>'total',
      ARRAY(SELECT pg_temp.links(b));
  END LOOP;
END
$$;

-- _count is capped at fhir_search.max_count; the default page is fhir_search.default_count
SET fhir_search.max_count = 2;
SELECT jsonb_array_length(fhir.history(NULL, NULL, '_count=100')->'entry') AS capped;
RESET fhir_search.max_count;
SET fhir_search.default_count = 4;
SELECT jsonb_array_length(fhir.history()->'entry') AS default_page;
RESET fhir_search.default_count;

-- errors: 22023 for a bad query or an id without a type, 42704 for an unknown type
\set VERBOSITY sqlstate
SELECT fhir.history(NULL, NULL, '_sort=-_lastUpdated');
SELECT fhir.history('Patient', NULL, 'gender=male');
SELECT fhir.history(NULL, NULL, '_count=0');
SELECT fhir.history(NULL, NULL, '_count=2&_count=3');
SELECT fhir.history(NULL, NULL, '_since=yesterday');
SELECT fhir.history(NULL, NULL, '_at=2021-13');
SELECT fhir.history(NULL, NULL, '_cursor=bm90IG91cnM');
SELECT fhir.history(NULL, 'h-p1');
SELECT fhir.history('NotAType');
SELECT fhir.history('Patient', 'bad id!');
\set VERBOSITY default
SELECT fhir.history(NULL, NULL, '_list=x');
SELECT fhir.history(NULL, 'h-p1');

-- through fhir.request: the three levels and their parameters, errors as 400
CREATE FUNCTION pg_temp.rest(method text, url text) RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' | ', x.status,
    CASE WHEN x.body->>'resourceType' = 'OperationOutcome' THEN 'OO ' || (x.body->'issue'->0->>'diagnostics')
         ELSE 'Bundle ' || (x.body->>'type') || ' total=' || coalesce(x.body->>'total', '-') || ' entries=' ||
              coalesce(jsonb_array_length(x.body->'entry'), 0) || ' ' ||
              (SELECT string_agg(l, ', ') FROM pg_temp.links(x.body) l) END)
  FROM fhir.request(method, url) x $$;
SELECT pg_temp.rest('GET', 'Patient/h-p1/_history?_count=2');
SELECT pg_temp.rest('GET', 'http://example.org/fhir/Patient/_history?_since=2023');
SELECT pg_temp.rest('GET', '_history?_at=2022-04-01T12:00:00Z');
SELECT pg_temp.rest('GET', '_history?_sort=_id');
SELECT pg_temp.rest('GET', 'Patient/h-nobody/_history');
SELECT c.code FROM jsonb_array_elements(fhir.capability_statement()->'rest'->0->'interaction') i,
       LATERAL (SELECT i->>'code' AS code) c WHERE c.code LIKE 'history%';
SELECT c.code FROM jsonb_array_elements(fhir.capability_statement()->'rest'->0->'resource'->0->'interaction') i,
       LATERAL (SELECT i->>'code' AS code) c WHERE c.code LIKE 'history%';

-- leave nothing behind for the suites that follow
SELECT fhir.delete(rtype, id) FROM (VALUES ('Patient', 'h-p1'), ('Patient', 'h-p2'), ('Observation', 'h-o1')) v(rtype, id);
DELETE FROM fhir.resource_history WHERE id LIKE 'h-%';
SELECT count(*) AS left_behind FROM fhir.resource WHERE id LIKE 'h-%';
