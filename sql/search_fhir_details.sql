-- FHIR details where other servers' published test expectations disagreed with us.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Observation', 'Patient');
CREATE FUNCTION pg_temp.ids(t text, q text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '-')
    FROM jsonb_array_elements(fhir.search(t, q)->'entry') e WHERE e->'search'->>'mode' = 'match' $$;

-- Date values with more than six fraction digits are compared at the precision sent:
-- an instant just past a stored one is after it, one just before is before it.
SELECT fhir.update('{"resourceType":"Observation","id":"fd-t1","status":"final","code":{"text":"t"},"effectiveInstant":"2020-05-05T10:00:15.500Z"}') IS NOT NULL AS stored;
SELECT fhir.update('{"resourceType":"Observation","id":"fd-t2","status":"final","code":{"text":"t"},"effectiveDateTime":"2020-05-05T10:00:15.500001Z"}') IS NOT NULL AS stored;
SELECT q, pg_temp.ids('Observation', 'date=' || q) AS ids FROM (VALUES
  ('lt2020-05-05T10:00:15.5000001Z'),   -- both start before it? t1 yes (15.500), t2 no (15.500001)
  ('le2020-05-05T10:00:15.5000001Z'),
  ('gt2020-05-05T10:00:15.4999999Z'),   -- both end after it
  ('lt2020-05-05T10:00:15.4999999Z'),   -- none starts before it
  ('ge2020-05-05T10:00:15.5000009Z'),   -- t1's range [15.500, 15.501) and t2's [.500001, .500002) end after it
  ('sa2020-05-05T10:00:15.5000009Z'),   -- t2 starts after it
  ('eb2020-05-05T10:00:15.5000009Z'),   -- none ends before it
  ('eq2020-05-05T10:00:15.5000010Z'),   -- t2's microsecond is not inside [.500001, .5000011)
  ('eq2020-05-05T10:00:15.500001Z'),
  ('lt2020-05-05T10:00:15.500000Z')) v(q);
SELECT q, pg_temp.ids('Observation', '_lastUpdated=' || q || '&_id=fd-t1,fd-t2') AS ids FROM (VALUES
  ('lt2000-01-01T00:00:00.0000001Z'), ('gt2000-01-01T00:00:00.0000001Z')) v(q);
