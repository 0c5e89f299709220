-- fhir.search: the first cut (matching; result shaping comes later)
-- start from a known set: remove what earlier tests stored
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
-- s3's birthDate carries a time on purpose (a dateTime where R4 wants a date, as some
-- clients send it): stored with validation off, searched by its date
SET fhir_search.validation = off;
SELECT fhir.load(E'{"resourceType":"Patient","id":"s1","name":[{"family":"Müller","given":["Zoë"]}],"birthDate":"1970-05-02","gender":"female","identifier":[{"system":"urn:mrn","value":"A1"}]}\n'
                 '{"resourceType":"Patient","id":"s2","name":[{"family":"Mullins","given":["Sam"]}],"birthDate":"1985","gender":"male"}\n'
                 '{"resourceType":"Patient","id":"s3","name":[{"family":"Smith"}],"birthDate":"2001-12-31T23:30:00-05:00"}\n'
                 '{"resourceType":"Observation","id":"so1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/s1"},"effectiveDateTime":"2020-03-01T10:00:00Z","valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}\n'
                 '{"resourceType":"Observation","id":"so2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8310-5"}]},"subject":{"reference":"Patient/s2"},"effectiveDateTime":"2021-07-04","valueQuantity":{"value":37.5,"unit":"Cel","system":"http://unitsofmeasure.org","code":"Cel"}}\n') AS loaded;
RESET fhir_search.validation;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '') FROM jsonb_array_elements(b->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
-- string: accent- and case-insensitive starts-with; :exact; :contains
SELECT pg_temp.ids(fhir.search('Patient', 'name=muller')) AS muller, pg_temp.ids(fhir.search('Patient', 'family=MUL')) AS mul,
       pg_temp.ids(fhir.search('Patient', 'name:exact=Müller')) AS exact, pg_temp.ids(fhir.search('Patient', 'name:exact=muller')) AS exact_case,
       pg_temp.ids(fhir.search('Patient', 'name:contains=ith')) AS contains;
-- token: code, system|code, OR, AND, :not, :missing
SELECT pg_temp.ids(fhir.search('Patient', 'gender=female')) AS female, pg_temp.ids(fhir.search('Patient', 'gender=female,male')) AS either,
       pg_temp.ids(fhir.search('Patient', 'gender:not=male')) AS not_male, pg_temp.ids(fhir.search('Patient', 'gender:missing=true')) AS no_gender,
       pg_temp.ids(fhir.search('Patient', 'identifier=urn:mrn%7CA1')) AS by_identifier,
       pg_temp.ids(fhir.search('Observation', 'code=http://loinc.org|8867-4&subject=Patient/s1')) AS and_token_ref;
-- date: partial dates are ranges; prefixes; time zones
SELECT pg_temp.ids(fhir.search('Patient', 'birthdate=1985')) AS y1985, pg_temp.ids(fhir.search('Patient', 'birthdate=lt1980')) AS before_1980,
       pg_temp.ids(fhir.search('Patient', 'birthdate=2002-01-01')) AS tz_next_day_utc, pg_temp.ids(fhir.search('Patient', 'birthdate=ge1985-06')) AS ge,
       pg_temp.ids(fhir.search('Observation', 'date=2020-03')) AS obs_march;
-- quantity and number
SELECT pg_temp.ids(fhir.search('Observation', 'value-quantity=72')) AS q72, pg_temp.ids(fhir.search('Observation', 'value-quantity=gt40')) AS gt40,
       pg_temp.ids(fhir.search('Observation', 'value-quantity=37.5|http://unitsofmeasure.org|Cel')) AS with_unit;
-- reference and chaining, _has, _id
SELECT pg_temp.ids(fhir.search('Observation', 'subject=Patient/s2')) AS by_ref, pg_temp.ids(fhir.search('Observation', 'patient=s1')) AS by_id,
       pg_temp.ids(fhir.search('Observation', 'subject:Patient.name=mullins')) AS chained,
       pg_temp.ids(fhir.search('Patient', '_has:Observation:patient:code=8310-5')) AS has,
       pg_temp.ids(fhir.search('Patient', '_id=s1,s3')) AS by_id_list;
-- Bundle shape, _count, unknown parameters: ignored with an OperationOutcome entry
SELECT b->>'type' AS type, jsonb_array_length(b->'entry') AS entries, b->'entry'->0->>'fullUrl' AS full_url
  FROM fhir.search('Patient', '_count=1') b;
SELECT e->'search'->>'mode' AS mode, e->'resource'->'issue'->0->>'diagnostics' AS diagnostics
  FROM jsonb_array_elements(fhir.search('Patient', 'nosuch=1&_id=s1')->'entry') e;
-- errors: bad values and modifiers, strict handling
\set VERBOSITY terse
SELECT fhir.search('Patient', 'birthdate=19x5');
SELECT fhir.search('Patient', 'gender:exact=male');
SELECT fhir.search('Observation', 'value-quantity=abc');
SELECT fhir.search('Nope', '');
SET fhir_search.strict_handling = on;
SELECT fhir.search('Patient', 'nosuch=1');
RESET fhir_search.strict_handling;
-- user text never reaches SQL text
SELECT pg_temp.ids(fhir.search('Patient', 'name=%27%3B%20drop%20table%20fhir.resource%3B--')) AS injection;
SELECT count(*) > 0 AS table_intact FROM fhir.resource;
