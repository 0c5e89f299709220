-- _sort on token parameters: the key is (system, code) of the lowest code among a
-- resource's codes for the parameter (ascending) or the highest (descending);
-- resources without a code come last; ties go by insertion order (rid)
-- ts8 has no code on purpose (Observation.code is required in R4): stored with validation off
SET fhir_search.validation = off;
SELECT fhir.load(E'{"resourceType":"Observation","id":"ts1","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"effectiveDateTime":"2020-01-01"}\n'
                 '{"resourceType":"Observation","id":"ts2","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"123"},{"system":"http://loinc.org","code":"2339-0"}]},"effectiveDateTime":"2020-01-02"}\n'
                 '{"resourceType":"Observation","id":"ts3","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"code":"abc"}]},"effectiveDateTime":"2020-01-03"}\n'
                 '{"resourceType":"Observation","id":"ts4","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"effectiveDateTime":"2019-12-31"}\n'
                 '{"resourceType":"Observation","id":"ts5","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"text":"no coding"},"effectiveDateTime":"2020-01-05"}\n'
                 '{"resourceType":"Observation","id":"ts6","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"999"}]},"effectiveDateTime":"2020-01-01"}\n'
                 '{"resourceType":"Observation","id":"ts7","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"effectiveDateTime":"2020-02-01"}\n'
                 '{"resourceType":"Observation","id":"ts8","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final"}\n') AS loaded;
RESET fhir_search.validation;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY n), '') FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS
  $$ SELECT substring(l->>'url' FROM '\?(.*)$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
-- ascending: no system before any system, then system, then code; ts2 by its lowest code (loinc 2339-0)
SELECT pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=code')) AS ascending;
-- descending: ts2 by its highest code (snomed 123), below snomed 999; still missing last
SELECT pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=-code')) AS descending;
-- ties on the code broken by a second key (date descending); a token as the second key
SELECT pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=code,-date')) AS code_then_date,
       pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=date,-code')) AS date_then_code;
-- a parameter on which every resource ties (status), then the code
SELECT pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=status,code&_count=4')) AS status_then_code;
-- paging through with next links, then back with previous links
CREATE TEMP TABLE token_pages (n int, query text, ids text);
DO $$
DECLARE q text := '_tag=urn:ts|x&_sort=code,-date&_count=3'; b jsonb; i int := 0;
BEGIN
  LOOP
    i := i + 1;
    b := fhir.search('Observation', q);
    INSERT INTO token_pages VALUES (i, q, pg_temp.ids(b));
    q := pg_temp.link(b, 'next');
    EXIT WHEN q IS NULL OR i > 10;
  END LOOP;
END $$;
SELECT n, ids FROM token_pages ORDER BY n;
SELECT pg_temp.ids(fhir.search('Observation', pg_temp.link(fhir.search('Observation', query), 'previous'))) AS previous_of_page_3,
       pg_temp.ids(fhir.search('Observation', pg_temp.link(fhir.search('Observation', pg_temp.link(fhir.search('Observation', query), 'previous')), 'previous'))) AS previous_of_page_2
  FROM token_pages WHERE n = 3;
-- descending pages meet the same rows in reverse key order
SELECT pg_temp.ids(b) AS desc_page_1, pg_temp.ids(fhir.search('Observation', pg_temp.link(b, 'next'))) AS desc_page_2
  FROM fhir.search('Observation', '_tag=urn:ts|x&_sort=-code&_count=4') b;
-- identifiers sort as text by system then value; a plain code (gender) by its code
SELECT fhir.load(E'{"resourceType":"Patient","id":"tsp1","gender":"male","identifier":[{"system":"urn:b","value":"1"}],"meta":{"tag":[{"system":"urn:ts","code":"p"}]}}\n'
                 '{"resourceType":"Patient","id":"tsp2","gender":"female","identifier":[{"system":"urn:a","value":"9"},{"system":"urn:c","value":"0"}],"meta":{"tag":[{"system":"urn:ts","code":"p"}]}}\n'
                 '{"resourceType":"Patient","id":"tsp3","identifier":[{"system":"urn:a","value":"10"}],"meta":{"tag":[{"system":"urn:ts","code":"p"}]}}\n') AS loaded;
SELECT pg_temp.ids(fhir.search('Patient', '_tag=urn:ts|p&_sort=identifier')) AS by_identifier,
       pg_temp.ids(fhir.search('Patient', '_tag=urn:ts|p&_sort=-identifier')) AS by_identifier_desc,
       pg_temp.ids(fhir.search('Patient', '_tag=urn:ts|p&_sort=gender')) AS by_gender;
-- an update moves a resource, a delete takes it out
SELECT fhir.update('{"resourceType":"Observation","id":"ts3","meta":{"tag":[{"system":"urn:ts","code":"x"}]},"status":"final","code":{"coding":[{"system":"urn:zzz","code":"a"}]}}') IS NOT NULL AS updated;
SELECT fhir.delete('Observation', 'ts6') AS deleted;
SELECT pg_temp.ids(fhir.search('Observation', '_tag=urn:ts|x&_sort=code')) AS after_update;
-- the keys: system, chr(1), code; the lowest and the highest; NULL without a code or for another type's parameter
SELECT r.id, replace(fhir.token_sort_key(r.content, p.id), chr(1), '|') AS lowest,
       replace(fhir.token_sort_key(r.content, p.id, true), chr(1), '|') AS highest
  FROM fhir.resource_observation r, fhir.search_parameters p
 WHERE r.id IN ('ts1', 'ts2', 'ts5') AND p.resource_type = 'Observation' AND p.code = 'code' ORDER BY r.id;
SELECT fhir.token_sort_key(r.content, p.id) AS other_type
  FROM fhir.resource_observation r, fhir.search_parameters p
 WHERE r.id = 'ts1' AND p.resource_type = 'Patient' AND p.code = 'gender';
