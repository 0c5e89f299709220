-- _sort whose first key comes from a side table (string, uri, date, number, quantity,
-- reference): a page walks the matches that have a value in key order, then those
-- without one (src/core/sort_sql.h). Every walk below goes through all pages with the
-- next links and back from the last page with the previous links, and is compared
-- with the keys computed per row in SQL here: the least value ascending, the greatest
-- descending, no value last (U+10FFFF / '' for text, +-infinity otherwise), ties by
-- the next key, finally by rid (insertion order).
SELECT fhir.load(string_agg(v, E'\n')) AS loaded FROM unnest(ARRAY[
  '{"resourceType":"Patient","id":"sp01","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"male","birthDate":"1970-01-01","name":[{"family":"Berg"}]}',
  '{"resourceType":"Patient","id":"sp02","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"female","birthDate":"1980-05-05","name":[{"family":"Zorn"},{"family":"Adams"}]}',
  '{"resourceType":"Patient","id":"sp03","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"female","birthDate":"1960-01-01"}',
  '{"resourceType":"Patient","id":"sp04","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"male","name":[{"family":"Cruz"}]}',
  '{"resourceType":"Patient","id":"sp05","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"female","birthDate":"1990-01-01","name":[{"family":"Adams"}]}',
  '{"resourceType":"Patient","id":"sp06","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"male","birthDate":"1985-01-01","name":[{"family":" "}]}',
  '{"resourceType":"Patient","id":"sp07","meta":{"tag":[{"system":"urn:si","code":"p"}]}}',
  '{"resourceType":"Patient","id":"sp08","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"female","birthDate":"1975-01-01","name":[{"family":"Älvarez"}]}',
  '{"resourceType":"Patient","id":"sp09","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"female","birthDate":"1970-01-01","name":[{"family":"Berg"},{"family":"Berg","given":["B"]}]}',
  '{"resourceType":"Patient","id":"sp10","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"male","birthDate":"1999-12-31","name":[{"family":"Young"}]}',
  '{"resourceType":"Patient","id":"sp11","meta":{"tag":[{"system":"urn:si","code":"p"}]},"gender":"male","birthDate":"1990-01-01","name":[{"family":"adams"}]}',
  '{"resourceType":"Observation","id":"so01","meta":{"tag":[{"system":"urn:si","code":"o"}],"profile":["urn:p:b"]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp01"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":5,"unit":"mg"},"performer":[{"reference":"Practitioner/pr2"},{"reference":"Organization/o1"}],"component":[{"code":{"text":"c"},"valueQuantity":{"value":3}},{"code":{"text":"c"},"valueQuantity":{"value":9}}]}',
  '{"resourceType":"Observation","id":"so02","meta":{"tag":[{"system":"urn:si","code":"o"}],"profile":["urn:p:c","urn:p:a"]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp02"},"effectiveDateTime":"2021-01-01","valueQuantity":{"value":7.5,"unit":"mg"},"performer":[{"reference":"Practitioner/pr1"}],"component":[{"code":{"text":"c"},"valueQuantity":{"value":12}}]}',
  '{"resourceType":"Observation","id":"so03","meta":{"tag":[{"system":"urn:si","code":"o"}]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp01"},"effectiveDateTime":"2019-01-01"}',
  '{"resourceType":"Observation","id":"so04","meta":{"tag":[{"system":"urn:si","code":"o"}],"profile":["urn:p:b"]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp03"},"valueQuantity":{"value":5,"unit":"mg"},"performer":[{"reference":"Practitioner/pr3"},{"reference":"Practitioner/pr1"}],"component":[{"code":{"text":"c"},"valueQuantity":{"value":1}},{"code":{"text":"c"},"valueQuantity":{"value":20}}]}',
  '{"resourceType":"Observation","id":"so05","meta":{"tag":[{"system":"urn:si","code":"o"}],"profile":["urn:p:d"]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp02"},"effectivePeriod":{"start":"2020-06-01","end":"2020-07-01"},"valueQuantity":{"value":-2,"unit":"mg"},"performer":[{"reference":"Organization/o1"}]}',
  '{"resourceType":"Observation","id":"so06","meta":{"tag":[{"system":"urn:si","code":"o"}]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp10"},"effectiveDateTime":"2022-01-01","valueQuantity":{"value":100.25,"unit":"mg"},"component":[{"code":{"text":"c"},"valueQuantity":{"value":7}},{"code":{"text":"c"},"valueQuantity":{"value":7}}]}',
  '{"resourceType":"Observation","id":"so07","meta":{"tag":[{"system":"urn:si","code":"o"}]},"status":"final","code":{"text":"so"},"effectiveDateTime":"2020-01-01","component":[{"code":{"text":"c"},"valueQuantity":{"value":9}}]}',
  '{"resourceType":"Observation","id":"so08","meta":{"tag":[{"system":"urn:si","code":"o"}],"profile":["urn:p:a"]},"status":"final","code":{"text":"so"},"subject":{"reference":"Patient/sp01"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":7.50,"unit":"mg"},"performer":[{"reference":"Practitioner/pr1"}]}',
  '{"resourceType":"RiskAssessment","id":"sr1","status":"final","subject":{"reference":"Patient/sp01"},"prediction":[{"probabilityDecimal":0.2},{"probabilityDecimal":0.8}]}',
  '{"resourceType":"RiskAssessment","id":"sr2","status":"final","subject":{"reference":"Patient/sp01"},"prediction":[{"probabilityDecimal":0.5}]}',
  '{"resourceType":"RiskAssessment","id":"sr3","status":"final","subject":{"reference":"Patient/sp01"}}',
  '{"resourceType":"RiskAssessment","id":"sr4","status":"final","subject":{"reference":"Patient/sp01"},"prediction":[{"probabilityDecimal":0.8}]}',
  '{"resourceType":"RiskAssessment","id":"sr5","status":"final","subject":{"reference":"Patient/sp01"},"prediction":[{"probabilityDecimal":0.05},{"probabilityDecimal":0.5}]}']) v;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY n), '') FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS
  $$ SELECT substring(l->>'url' FROM '\?(.*)$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
-- every page through the next links, then back from the last page through the previous
-- links; both as the ids in display order
CREATE FUNCTION pg_temp.walk(t text, q text, cache_control text DEFAULT 'no-cache',
                             OUT pages int, OUT forward text, OUT backward text) LANGUAGE plpgsql AS $$
DECLARE b jsonb; last_q text; page text;
BEGIN
  pages := 0; forward := ''; backward := '';
  LOOP
    pages := pages + 1;
    b := fhir.search(t, q, cache_control);
    page := pg_temp.ids(b);
    forward := forward || CASE WHEN forward <> '' AND page <> '' THEN ',' ELSE '' END || page;
    last_q := q;
    q := pg_temp.link(b, 'next');
    EXIT WHEN q IS NULL OR pages >= 60;
  END LOOP;
  q := last_q;
  FOR i IN 1..60 LOOP
    b := fhir.search(t, q, cache_control);
    page := pg_temp.ids(b);
    backward := page || CASE WHEN backward <> '' AND page <> '' THEN ',' ELSE '' END || backward;
    q := pg_temp.link(b, 'previous');
    EXIT WHEN q IS NULL;
  END LOOP;
END $$;
CREATE TEMP TABLE si_params AS SELECT resource_type, code, id FROM fhir.search_parameters
 WHERE resource_type IN ('Patient', 'Observation');
CREATE FUNCTION pg_temp.pid(t text, c text) RETURNS int LANGUAGE sql STABLE AS
  $$ SELECT id FROM si_params WHERE resource_type = t AND code = c $$;
-- a resource's values for a parameter, least or greatest (NULL: none)
CREATE FUNCTION pg_temp.k_text(r bigint, p int, top bool) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN top THEN max(norm) ELSE min(norm) END FROM fhir.search_string WHERE rid = r AND param = p $$;
CREATE FUNCTION pg_temp.k_quantity(r bigint, p int, top bool) RETURNS numeric LANGUAGE sql AS
  $$ SELECT CASE WHEN top THEN max(value) ELSE min(value) END FROM fhir.search_quantity WHERE rid = r AND param = p $$;
CREATE FUNCTION pg_temp.k_number(r bigint, p int, top bool) RETURNS numeric LANGUAGE sql AS
  $$ SELECT CASE WHEN top THEN max(value) ELSE min(value) END FROM fhir.search_number WHERE rid = r AND param = p $$;
CREATE FUNCTION pg_temp.k_date(r bigint, p int, top bool) RETURNS timestamptz LANGUAGE sql AS
  $$ SELECT CASE WHEN top THEN max(hi) ELSE min(lo) END FROM fhir.search_date WHERE rid = r AND param = p $$;
CREATE FUNCTION pg_temp.k_ref(r bigint, p int, top bool) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN top THEN max(target_type || '/' || target_id) ELSE min(target_type || '/' || target_id) END
       FROM fhir.search_reference WHERE rid = r AND param = p $$;
CREATE TEMP VIEW si_patient AS
SELECT r.rid, r.id, r.content->>'gender' AS gender,
       coalesce(pg_temp.k_text(r.rid, pg_temp.pid('Patient', 'family'), false), U&'\+10FFFF') COLLATE "C" AS family_asc,
       coalesce(pg_temp.k_text(r.rid, pg_temp.pid('Patient', 'family'), true), '') COLLATE "C" AS family_desc,
       coalesce(pg_temp.k_date(r.rid, pg_temp.pid('Patient', 'birthdate'), false), 'infinity') AS birth_asc,
       coalesce(pg_temp.k_date(r.rid, pg_temp.pid('Patient', 'birthdate'), true), '-infinity') AS birth_desc
  FROM fhir.resource_patient r WHERE r.content->'meta'->'tag' @> '[{"code":"p"}]';
CREATE TEMP VIEW si_observation AS
SELECT r.rid, r.id,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'value-quantity'), false), 'Infinity') AS vq_asc,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'value-quantity'), true), '-Infinity') AS vq_desc,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'component-value-quantity'), false), 'Infinity') AS cvq_asc,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'component-value-quantity'), true), '-Infinity') AS cvq_desc,
       coalesce(pg_temp.k_text(r.rid, pg_temp.pid('Observation', '_profile'), false), U&'\+10FFFF') COLLATE "C" AS profile_asc,
       coalesce(pg_temp.k_text(r.rid, pg_temp.pid('Observation', '_profile'), true), '') COLLATE "C" AS profile_desc,
       coalesce(pg_temp.k_ref(r.rid, pg_temp.pid('Observation', 'performer'), false), U&'\+10FFFF') AS performer_asc,
       coalesce(pg_temp.k_ref(r.rid, pg_temp.pid('Observation', 'performer'), true), '') AS performer_desc,
       coalesce(pg_temp.k_ref(r.rid, pg_temp.pid('Observation', 'subject'), false), U&'\+10FFFF') AS subject_asc,
       coalesce(pg_temp.k_date(r.rid, pg_temp.pid('Observation', 'date'), true), '-infinity') AS date_desc
  FROM fhir.resource_observation r WHERE r.content->'meta'->'tag' @> '[{"code":"o"}]';
CREATE TEMP TABLE checks (n serial, rtype text, query text, expected text);
INSERT INTO checks (rtype, query, expected) VALUES
  ('Patient', 'family', (SELECT string_agg(id, ',' ORDER BY family_asc, rid) FROM si_patient)),
  ('Patient', '-family', (SELECT string_agg(id, ',' ORDER BY family_desc DESC, rid) FROM si_patient)),
  ('Patient', 'family,-birthdate', (SELECT string_agg(id, ',' ORDER BY family_asc, birth_desc DESC, rid) FROM si_patient)),
  ('Patient', '-family,birthdate', (SELECT string_agg(id, ',' ORDER BY family_desc DESC, birth_asc, rid) FROM si_patient)),
  ('Patient', 'family,-birthdate,gender', (SELECT string_agg(id, ',' ORDER BY family_asc, birth_desc DESC,
                                                             coalesce(gender, U&'\+10FFFF') COLLATE "C", rid) FROM si_patient)),
  ('Patient', '-birthdate,family', (SELECT string_agg(id, ',' ORDER BY birth_desc DESC, family_asc, rid) FROM si_patient)),
  ('Observation', 'value-quantity', (SELECT string_agg(id, ',' ORDER BY vq_asc, rid) FROM si_observation)),
  ('Observation', '-value-quantity', (SELECT string_agg(id, ',' ORDER BY vq_desc DESC, rid) FROM si_observation)),
  ('Observation', 'component-value-quantity', (SELECT string_agg(id, ',' ORDER BY cvq_asc, rid) FROM si_observation)),
  ('Observation', '-component-value-quantity', (SELECT string_agg(id, ',' ORDER BY cvq_desc DESC, rid) FROM si_observation)),
  ('Observation', '_profile', (SELECT string_agg(id, ',' ORDER BY profile_asc, rid) FROM si_observation)),
  ('Observation', '-_profile', (SELECT string_agg(id, ',' ORDER BY profile_desc DESC, rid) FROM si_observation)),
  ('Observation', 'performer', (SELECT string_agg(id, ',' ORDER BY performer_asc, rid) FROM si_observation)),
  ('Observation', '-performer', (SELECT string_agg(id, ',' ORDER BY performer_desc DESC, rid) FROM si_observation)),
  ('Observation', 'subject,-date', (SELECT string_agg(id, ',' ORDER BY subject_asc, date_desc DESC, rid) FROM si_observation)),
  ('Observation', '-value-quantity,performer,_profile',
   (SELECT string_agg(id, ',' ORDER BY vq_desc DESC, performer_asc, profile_asc, rid) FROM si_observation));
-- the orders (sp02 by its least family ascending, its greatest descending; sp06's family
-- normalizes to '' and so ties with the missing ones descending; so02 and so08 tie on 7.5)
SELECT n, rtype, query, expected FROM checks ORDER BY n;
-- each order walked forward and back with 3 or 4 rows a page, across the boundary
-- between the matches with a value and those without
SELECT c.n, w.pages, w.forward = c.expected AS forward_ok, w.backward = c.expected AS backward_ok, cnt.c AS page_size
  FROM checks c CROSS JOIN (VALUES (3), (4)) cnt(c),
       LATERAL pg_temp.walk(c.rtype, '_tag=urn:si|' || lower(left(c.rtype, 1)) || '&_count=' || cnt.c || '&_sort=' || c.query) w
 ORDER BY c.n, cnt.c;
-- a plan that walks the index even for these few rows (no sort allowed): the pages go
-- through the walk's window (add_valued_rows in search_exec.cpp), same orders (no JIT:
-- enable_sort = off puts the plans' costs where JIT would compile every statement)
SET enable_sort = off;
SET jit = off;
SELECT c.n, w.forward = c.expected AS forward_ok, w.backward = c.expected AS backward_ok
  FROM checks c, LATERAL pg_temp.walk(c.rtype, '_tag=urn:si|' || lower(left(c.rtype, 1)) || '&_count=3&_sort=' || c.query) w
 ORDER BY c.n;
RESET enable_sort;
RESET jit;
-- through the result cache's prefetched sets (page 2 prefetches the ids of the rest)
SELECT c.n, w.forward = c.expected AS forward_ok, w.backward = c.expected AS backward_ok
  FROM checks c, LATERAL pg_temp.walk(c.rtype, '_tag=urn:si|' || lower(left(c.rtype, 1)) || '&_count=2&_sort=' || c.query, NULL) w
 WHERE c.n IN (2, 5, 8, 16) ORDER BY c.n;
-- without conditions (only these RiskAssessments exist): the walk has no window
SELECT w.pages, w.forward, w.forward = w.backward AS same_backward FROM pg_temp.walk('RiskAssessment', '_count=2&_sort=probability') w;
SELECT w.pages, w.forward, w.forward = w.backward AS same_backward FROM pg_temp.walk('RiskAssessment', '_count=2&_sort=-probability') w;
-- with a condition on the matches; several keys
SELECT pg_temp.ids(fhir.search('Patient', '_tag=urn:si|p&gender=female&_sort=-family,birthdate')) AS women_by_family_desc,
       pg_temp.ids(fhir.search('Observation', '_tag=urn:si|o&subject=Patient/sp01&_sort=value-quantity,-date')) AS sp01_by_value;

-- A filtered walk that passes many side rows before its matches: the window holds the
-- first 1,000 or more side rows in key order; when it holds none of the page's matches
-- the rest of the page comes from the keys computed per match (the correlated case:
-- code B's values lie between code A's, 1,100 A values on each side of them).
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"sw%s","meta":{"tag":[{"system":"urn:si","code":"w"}]},"status":"final","code":{"coding":[{"system":"urn:c","code":"%s"}]}%s%s}',
         i, CASE WHEN i <= 2200 THEN 'A' ELSE 'B' END,
         CASE WHEN i > 2230 THEN '' WHEN i <= 1100 THEN format(',"valueQuantity":{"value":%s}', 1 + i / 2)
              WHEN i <= 2200 THEN format(',"valueQuantity":{"value":%s}', 2000 + i / 2) ELSE format(',"valueQuantity":{"value":%s}', 1500 + i % 7) END,
         format(',"effectiveDateTime":"2020-01-%s"', lpad((1 + i % 28)::text, 2, '0'))), E'\n')) AS loaded
  FROM generate_series(1, 2233) i;
CREATE TEMP VIEW si_window AS
SELECT r.id, r.rid, r.content->'code'->'coding'->0->>'code' AS code,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'value-quantity'), false), 'Infinity') AS vq_asc,
       coalesce(pg_temp.k_quantity(r.rid, pg_temp.pid('Observation', 'value-quantity'), true), '-Infinity') AS vq_desc,
       coalesce(pg_temp.k_date(r.rid, pg_temp.pid('Observation', 'date'), true), '-infinity') AS date_desc
  FROM fhir.resource_observation r WHERE r.content->'meta'->'tag' @> '[{"code":"w"}]';
SET enable_sort = off; -- the plan walks even where the planner would sort (this search is small)
SET jit = off;
SELECT w.pages, w.forward = e.ids AS forward_ok, w.backward = e.ids AS backward_ok, e.ids
  FROM pg_temp.walk('Observation', '_tag=urn:si|w&code=urn:c|B&_count=7&_sort=value-quantity') w,
       (SELECT string_agg(id, ',' ORDER BY vq_asc, rid) AS ids FROM si_window WHERE code = 'B') e;
SELECT w.pages, w.forward = e.ids AS forward_ok, w.backward = e.ids AS backward_ok
  FROM pg_temp.walk('Observation', '_tag=urn:si|w&code=urn:c|B&_count=7&_sort=-value-quantity,-date') w,
       (SELECT string_agg(id, ',' ORDER BY vq_desc DESC, date_desc DESC, rid) AS ids FROM si_window WHERE code = 'B') e;
RESET enable_sort;
RESET jit;
SELECT w.pages, w.forward = e.ids AS forward_ok, w.backward = e.ids AS backward_ok
  FROM pg_temp.walk('Observation', '_tag=urn:si|w&code=urn:c|B&_count=7&_sort=value-quantity') w,
       (SELECT string_agg(id, ',' ORDER BY vq_asc, rid) AS ids FROM si_window WHERE code = 'B') e;
-- the sort walks the parameter's index; a selective range search uses one too
ANALYZE fhir.search_quantity, fhir.resource_observation;
SELECT e->'indexes' ?| ARRAY['search_quantity_p1908_asc_idx', 'search_quantity_p1908_desc_idx'] AS sort_walks_index
  FROM fhir.explain('Observation', '_sort=-value-quantity&_count=5') e;
SELECT e->'indexes' ? 'search_quantity_p1908_asc_idx' OR e->'indexes' ? 'search_quantity_p1908_desc_idx' AS range_uses_index
  FROM fhir.explain('Observation', 'value-quantity=gt3090') e;
SELECT count(fhir.delete(rtype, id)) AS cleaned FROM fhir.resource
 WHERE (rtype IN ('Patient', 'Observation') AND content->'meta'->'tag' @> '[{"system":"urn:si"}]') OR rtype = 'RiskAssessment';
