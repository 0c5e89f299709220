-- fhir.search_rows: every match as rows, the same matches in the same order as
-- fhir.search's pages, for joins with application tables.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
SELECT fhir.load(string_agg(format('{"resourceType":"Patient","id":"sr%s","name":[{"family":"%s"}],"birthDate":"%s","gender":"%s"}',
                                   i, (ARRAY['Berg','Adams','Cruz','Adams','Diaz'])[1 + i % 5], 1950 + i % 30,
                                   CASE WHEN i % 3 = 0 THEN 'male' ELSE 'female' END), E'\n')) AS patients
  FROM generate_series(1, 60) i;
SELECT fhir.load(string_agg(format('{"resourceType":"Observation","id":"so%s","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"subject":{"reference":"Patient/sr%s"},"valueQuantity":{"value":%s,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},"effectiveDateTime":"2020-01-%sT10:00:00Z"}',
                                   i, CASE WHEN i % 2 = 0 THEN '29463-7' ELSE '8867-4' END, 1 + i % 60, 40 + i % 50,
                                   lpad((1 + i % 28)::text, 2, '0')), E'\n')) AS observations
  FROM generate_series(1, 150) i;
-- every page of fhir.search, followed through next links: the ids in order
CREATE FUNCTION pg_temp.paged_ids(t text, q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE b jsonb; ids text[] := '{}'; next text := q; i int := 0;
BEGIN
  LOOP
    b := fhir.search(t, next);
    ids := ids || coalesce((SELECT array_agg(e->'resource'->>'id' ORDER BY n)
                              FROM jsonb_array_elements(b->'entry') WITH ORDINALITY x(e, n)
                             WHERE e->'search'->>'mode' = 'match'), '{}');
    next := (SELECT l->>'url' FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next');
    i := i + 1;
    EXIT WHEN next IS NULL OR i > 100;
  END LOOP;
  RETURN ids;
END $$;
CREATE TEMP TABLE queries (t text, q text);
INSERT INTO queries VALUES
  ('Patient', 'gender=female&_count=7'),
  ('Patient', 'family=adams&_sort=-birthdate&_count=4'),
  ('Patient', '_sort=family,birthdate&_count=9'),
  ('Patient', 'birthdate=ge1970&_sort=gender,-birthdate&_count=5'),
  ('Observation', 'code=http://loinc.org|8867-4&value-quantity=gt60&_sort=-date&_count=10'),
  ('Observation', 'subject:Patient.gender=male&_count=8'),
  ('Observation', 'subject=Patient/sr7'),
  ('Patient', '_has:Observation:subject:value-quantity=ge85&_count=3'),
  (NULL, '_type=Patient,Observation&_lastUpdated=gt2000-01-01&_count=50'),
  ('Patient', '?name=CRUZ&_count=2');
SELECT q, cardinality(pg_temp.paged_ids(t, q)) AS matches,
       pg_temp.paged_ids(t, q) = (SELECT coalesce(array_agg(id), '{}') FROM fhir.search_rows(t, q)) AS same_in_order
  FROM queries ORDER BY q;
-- columns: the stored version, lastUpdated and resource
SELECT resource_type, id, version_id, last_updated = (resource->'meta'->>'lastUpdated')::timestamptz AS stamp,
       resource->'name'->0->>'family' AS family
  FROM fhir.search_rows('Patient', 'family=berg&_sort=birthdate') LIMIT 3;
-- _summary / _elements shape the resource column like the Bundle's entries
SELECT id, resource - 'meta' AS resource, resource->'meta'->'tag'->0->>'code' AS tag
  FROM fhir.search_rows('Patient', '_id=sr1,sr2&_elements=gender&_sort=_id');
-- joins, aggregates and views over application tables
CREATE TEMP TABLE app_patient_flags (patient_id text PRIMARY KEY, flag text);
INSERT INTO app_patient_flags VALUES ('sr3', 'vip'), ('sr6', 'vip'), ('sr9', 'study');
SELECT f.flag, count(*) AS observations, round(avg((o.resource->'valueQuantity'->>'value')::numeric), 1) AS mean
  FROM fhir.search_rows('Observation', 'code=http://loinc.org|29463-7') o
  JOIN app_patient_flags f ON 'Patient/' || f.patient_id = o.resource->'subject'->>'reference'
 GROUP BY f.flag ORDER BY f.flag;
CREATE TEMP VIEW male_patients AS SELECT id, resource FROM fhir.search_rows('Patient', 'gender=male');
SELECT count(*) AS male_patients FROM male_patients;
-- in the caller's transaction: its own uncommitted writes are seen, a rollback undoes them
BEGIN;
SELECT fhir.update('{"resourceType":"Patient","id":"sr-new","gender":"male","name":[{"family":"Zed"}]}') IS NOT NULL AS written;
SELECT count(*) AS male_in_tx FROM fhir.search_rows('Patient', 'gender=male');
ROLLBACK;
SELECT count(*) AS male_after FROM fhir.search_rows('Patient', 'gender=male');
-- no matches; errors are the search's
SELECT count(*) AS none FROM fhir.search_rows('Patient', 'family=nobody');
\set VERBOSITY terse
SELECT * FROM fhir.search_rows('Patient', 'birthdate=notadate');
SELECT * FROM fhir.search_rows('Patientt', '');
SELECT * FROM fhir.search_rows('', '');
SELECT * FROM fhir.search_rows('Observation', '_include=Observation:subject');
SELECT * FROM fhir.search_rows('Patient', '_summary=count');
\set VERBOSITY default
