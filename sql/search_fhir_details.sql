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

-- Composites with a reference component (R4's DocumentReference?relationship=
-- DocumentReference/x$appends; the 4.0.1 definition swaps its component expressions,
-- the generator takes each component's own path) and token components given as
-- "system|" alone (any code of that system).
SELECT fhir.update('{"resourceType":"DocumentReference","id":"fd-d1","status":"current","content":[{"attachment":{"url":"http://x"}}],"relatesTo":[{"code":"appends","target":{"reference":"DocumentReference/fd-x"}},{"code":"replaces","target":{"reference":"DocumentReference/fd-y"}}]}') IS NOT NULL AS stored;
SELECT fhir.update('{"resourceType":"Observation","id":"fd-bp","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}],"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"271649006"}]}}') IS NOT NULL AS stored;
SELECT t, q, pg_temp.ids(t, q) AS ids FROM (VALUES
  ('DocumentReference', 'relationship=DocumentReference/fd-x$appends'),
  ('DocumentReference', 'relationship=DocumentReference/fd-y$replaces'),
  ('DocumentReference', 'relationship=DocumentReference/fd-x$replaces'),   -- each pair stays a pair
  ('Observation', 'component-code-value-quantity=http://loinc.org|$gt100'),
  ('Observation', 'component-code-value-quantity=http://loinc.org|$gt200'),
  ('Observation', 'component-code-value-quantity=http://snomed.info/sct|$gt100'),
  ('Observation', 'code-value-concept=http://loinc.org|$http://snomed.info/sct|'),
  ('Observation', 'code-value-concept=http://loinc.org|$http://loinc.org|')) v(t, q);
\set VERBOSITY terse
SELECT fhir.search('Observation', 'code-value-concept=|$x');
\set VERBOSITY default

-- Range values: a quantity or number parameter matches a Range as R4 compares
-- ranges (eq: the search value's precision range contains it; gt/ge: its high end
-- is above; lt/le: its low end is below; sa/eb: wholly above/below), point values
-- as before. Condition onset-age is "onset.as(Age) | onset.as(Range)".
SELECT fhir.update('{"resourceType":"Condition","id":"fd-r1","subject":{"reference":"Patient/fd-p"},"code":{"text":"r"},"onsetRange":{"low":{"value":5,"system":"http://unitsofmeasure.org","code":"a"},"high":{"value":10,"system":"http://unitsofmeasure.org","code":"a"}}}') IS NOT NULL AS stored;
SELECT fhir.update('{"resourceType":"Condition","id":"fd-r2","subject":{"reference":"Patient/fd-p"},"code":{"text":"r"},"onsetAge":{"value":7,"system":"http://unitsofmeasure.org","code":"a"}}') IS NOT NULL AS stored;
SELECT fhir.update('{"resourceType":"Condition","id":"fd-r3","subject":{"reference":"Patient/fd-p"},"code":{"text":"r"},"onsetRange":{"low":{"value":20,"system":"http://unitsofmeasure.org","code":"a"}}}') IS NOT NULL AS stored;
SELECT q, pg_temp.ids('Condition', 'onset-age=' || q) AS ids FROM (VALUES
  ('gt8'),     -- r1 reaches 10; r3 is open above
  ('lt6'),     -- r1 starts at 5
  ('eq7'),     -- only the point: [6.5, 7.5) does not contain 5-10
  ('eq1e1'),   -- [5, 15) contains 5-10 and 7, not 20-
  ('ge10'), ('gt10'), ('le5'), ('lt5'),
  ('sa4'),     -- above [3.5, 4.5): all three
  ('sa5'),     -- above [4.5, 5.5): the point 7 and 20-
  ('eb11'),    -- below [10.5, 11.5): 5-10 and 7
  ('ne7'),
  ('ap9'),     -- 9 +- 0.9 overlaps 5-10
  ('gt8|http://unitsofmeasure.org|a'),
  ('gt8|http://unitsofmeasure.org|mo'),
  ('lt100')) v(q);
-- RiskAssessment probability is "decimal | Range": a number parameter too.
SELECT fhir.update('{"resourceType":"RiskAssessment","id":"fd-ra","status":"final","subject":{"reference":"Patient/fd-p"},"prediction":[{"probabilityRange":{"low":{"value":0.2},"high":{"value":0.4}}}]}') IS NOT NULL AS stored;
SELECT q, pg_temp.ids('RiskAssessment', 'probability=' || q || '&_id=fd-ra') AS ids FROM (VALUES
  ('gt0.3'), ('lt0.3'), ('gt0.4'), ('lt0.2'), ('eq0.3')) v(q);
-- A custom quantity parameter on an untyped path and a composite over it: a Range
-- of 5-10 s satisfies gt and lt components and repeated clauses it lies across.
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","url":"http://example.org/SearchParameter/value-any","code":"value-any","type":"quantity","base":["Observation"],"expression":"Observation.value"}');
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","url":"http://example.org/SearchParameter/code-value-any","code":"code-value-any","type":"composite","base":["Observation"],"expression":"Observation",
  "component":[{"definition":"http://hl7.org/fhir/SearchParameter/clinical-code","expression":"code"},{"definition":"http://example.org/SearchParameter/value-any","expression":"value"}]}');
SELECT fhir.update('{"resourceType":"Observation","id":"fd-vr","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"fd-1"}]},"valueRange":{"low":{"value":5,"system":"http://unitsofmeasure.org","code":"s"},"high":{"value":10,"system":"http://unitsofmeasure.org","code":"s"}}}') IS NOT NULL AS stored;
SELECT fhir.update('{"resourceType":"Observation","id":"fd-vq","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"fd-1"}]},"valueQuantity":{"value":12,"system":"http://unitsofmeasure.org","code":"s"}}') IS NOT NULL AS stored;
SELECT q, pg_temp.ids('Observation', q) AS ids FROM (VALUES
  ('value-any=gt7&value-any=lt6'),
  ('value-any=gt11'),
  ('value-any=eq12'),
  ('value-any=lt6|http://unitsofmeasure.org|s'),
  ('code-value-any=http://loinc.org|fd-1$gt7'),
  ('code-value-any=http://loinc.org|fd-1$lt6'),
  ('code-value-any=http://loinc.org|fd-1$gt7&code-value-any=http://loinc.org|fd-1$lt6'),
  ('code-value-any=http://loinc.org|fd-1$gt10'),
  ('code-value-any=http://loinc.org|fd-1$lt5'),
  ('code-value-any=http://loinc.org|fd-1$eq1e1')) v(q);
-- a Range is one span row without a point value
SELECT count(*) FILTER (WHERE value IS NULL) AS span_rows, count(*) FILTER (WHERE value IS NOT NULL) AS point_rows
  FROM fhir.search_quantity q JOIN fhir.search_parameters p ON p.id = q.param WHERE p.code IN ('onset-age', 'value-any');
