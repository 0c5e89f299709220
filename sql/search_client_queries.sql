-- Query strings as clients send them: a leading '?' (URL.search), '+' for spaces (Python's
-- urlencode, URLSearchParams), unescaped time-zone offsets, whole URLs (a next link passed
-- back as it came); links are built from the query alone and the cache key matches them.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
SELECT fhir.load(string_agg(format('{"resourceType":"Patient","id":"cq%s","name":[{"family":"%s"}],"birthDate":"%s"}',
                                   i, (ARRAY['van der Berg','Vandermeer','van Dijk'])[1 + i % 3], 1980 + i), E'\n')) AS loaded
  FROM generate_series(1, 9) i;
SELECT fhir.update('{"resourceType":"Observation","id":"cq-obs","status":"final","code":{"text":"x"},
                     "effectiveDateTime":"2021-06-01T12:00:00+05:00"}') IS NOT NULL AS stored;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY n), '') FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.url(b jsonb, rel text) RETURNS text LANGUAGE sql AS
  $$ SELECT l->>'url' FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
-- a link with its cursor (which holds rids) blanked
CREATE FUNCTION pg_temp.shown(url text) RETURNS text LANGUAGE sql AS
  $$ SELECT regexp_replace(url, '_cursor=[^&]*', '_cursor=*') $$;
SET fhir_search.base_url = 'http://localhost/fhir';

-- '+' is a space, as %20 is; %2B is a plus
SELECT pg_temp.ids(fhir.search('Patient', 'family=van+der&_sort=_id')) AS plus,
       pg_temp.ids(fhir.search('Patient', 'family=van%20der&_sort=_id')) AS percent_20,
       pg_temp.ids(fhir.search('Patient', 'family=van%2Bder&_sort=_id')) AS percent_2b;
-- an unescaped time-zone offset still means +05:00 (the stored instant is 07:00Z)
SELECT pg_temp.ids(fhir.search('Observation', 'date=2021-06-01T12:00:00+05:00')) AS unescaped,
       pg_temp.ids(fhir.search('Observation', 'date=2021-06-01T12:00:00%2B05:00')) AS escaped,
       pg_temp.ids(fhir.search('Observation', 'date=2021-06-01T12:00:00Z')) AS utc_noon;

-- a leading '?' changes nothing, and the links never double it
SELECT pg_temp.ids(b) AS ids, pg_temp.url(b, 'self') AS self, pg_temp.shown(pg_temp.url(b, 'next')) AS next
  FROM fhir.search('Patient', '?family=van&_count=2&_sort=_id') b;
-- a whole URL (absolute, relative, type-relative) is read as its query string
SELECT pg_temp.ids(fhir.search('Patient', 'http://localhost/fhir/Patient?family=van&_count=2&_sort=_id')) AS absolute,
       pg_temp.ids(fhir.search('Patient', '/fhir/Patient?family=van&_count=2&_sort=_id')) AS relative,
       pg_temp.ids(fhir.search('Patient', 'Patient?family=van&_count=2&_sort=_id')) AS type_relative,
       pg_temp.ids(fhir.search('Patient', 'http://localhost/fhir/Patient')) AS no_query;
-- following next links exactly as they come walks every page once
WITH RECURSIVE walk(n, b) AS (
  SELECT 1, fhir.search('Patient', '?family=van&_count=4&_sort=_id')
  UNION ALL
  SELECT n + 1, fhir.search('Patient', pg_temp.url(b, 'next')) FROM walk WHERE pg_temp.url(b, 'next') IS NOT NULL AND n < 10)
SELECT n, pg_temp.ids(b) AS ids FROM walk ORDER BY n;
-- a value that holds '?' keeps it (text before '?' with '=' is no URL)
SELECT fhir.search('Patient', 'family=a?b')->>'total' AS question_mark_in_value;

-- the cache: '?q', 'q' and the full URL are one entry, and each one's links are the same
SELECT fhir.cache_reset();
SELECT pg_temp.url(fhir.search('Patient', 'family=van+der&_count=1'), 'next') AS first_next \gset
SELECT pg_temp.shown(:'first_next') AS first_next, fhir.last_search()->>'cache' AS first;
SELECT pg_temp.url(fhir.search('Patient', '?family=van%20der&_count=1'), 'next') = :'first_next' AS same_next,
       fhir.last_search()->>'cache' AS second;
SELECT pg_temp.url(fhir.search('Patient', 'http://localhost/fhir/Patient?_count=1&family=van+der'), 'next') = :'first_next' AS same_next,
       fhir.last_search()->>'cache' AS third;
-- and the next link it gives returns page 2
SELECT pg_temp.ids(fhir.search('Patient', :'first_next')) AS page_2;
-- _sort keys in another order are another search, never the cached one
SELECT pg_temp.ids(fhir.search('Patient', 'family=van&_sort=family,birthdate&_count=4')) AS by_family_then_birthdate,
       pg_temp.ids(fhir.search('Patient', 'family=van&_sort=birthdate,family&_count=4')) AS by_birthdate_then_family,
       fhir.last_search()->>'cache' AS cache;
-- explain takes the same forms
SELECT e->>'query' AS explained FROM fhir.explain('Patient', 'http://localhost/fhir/Patient?family=van+der') e;
-- a backslash escapes only a backslash, comma, $ and |: anything else is an error when strict...
SET fhir_search.strict_handling = on;
SELECT fhir.search('Patient', 'family=van\der');
SELECT fhir.search('Patient', 'family=van%5C');
-- ...while the escapes FHIR defines search as before (no Patient is named "van,der")
SELECT fhir.search('Patient', 'family=van\,der')->>'total' AS escaped_comma;
RESET fhir_search.strict_handling;
-- ...and, when lenient, the parameter is ignored and the Bundle's OperationOutcome says why
SELECT e->'resource'->'issue'->0->>'diagnostics' AS lenient_outcome
  FROM jsonb_array_elements(fhir.search('Patient', 'family=van\der&_count=1')->'entry') e
 WHERE e->'search'->>'mode' = 'outcome';
-- _elements names that are no element of the type: an error when strict, a warning when lenient
SET fhir_search.strict_handling = on;
SELECT fhir.search('Patient', 'family=van+der&_elements=name,nmae');
SELECT fhir.search(NULL, '_type=Patient,Observation&_elements=nmae');
-- choice elements by their base name or a type; several types: an element of any of them
SELECT jsonb_array_length(fhir.search('Observation', '_elements=value,effectiveDateTime')->'entry') >= 0 AS choice_ok,
       jsonb_array_length(fhir.search(NULL, '_type=Patient,Observation&_elements=gender,status')->'entry') >= 0 AS any_type_ok;
RESET fhir_search.strict_handling;
SELECT e->'resource'->'issue'->0->>'diagnostics' AS lenient_outcome,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(b->'entry'->0->'resource') k) AS kept
  FROM fhir.search('Patient', 'family=van+der&_elements=name,nmae&_count=1') b,
       jsonb_array_elements(b->'entry') e
 WHERE e->'search'->>'mode' = 'outcome';
-- percent escapes that decode to invalid UTF-8 are refused (22023 with an OperationOutcome),
-- in names and values, in fhir.search and through fhir.request; valid multi-byte text searches
SELECT fhir.search('Patient', 'name=%C3%28');
SELECT fhir.search('Patient', 'fam%FFily=x');
SELECT status, body::jsonb->'issue'->0->>'code' AS code FROM fhir.request('GET', 'Patient?name=%ED%A0%80');
SELECT fhir.search('Patient', 'name=%C3%A9l%C3%A8ne')->>'type' AS valid_utf8;
RESET fhir_search.base_url;
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE id LIKE 'cq%';
