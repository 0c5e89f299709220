-- Validation on write (issue 16, item 1) and limits (item 2): every write checks the
-- resource against the R4 StructureDefinitions as fhir_search.validation says
-- (strict: refuse with 22023 and an OperationOutcome in DETAIL; lenient: store and
-- NOTICE; off: limits only); fhir.validate and $validate report the same issues.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
-- err(): SQLSTATE, message and DETAIL (the OperationOutcome) of a failing statement
CREATE FUNCTION pg_temp.err(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || message || coalesce(nullif(' | ' || detail, ' | '), '');
END
$$;
-- issues(): "expression: code: diagnostics" of each issue of an OperationOutcome
CREATE FUNCTION pg_temp.issues(outcome jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT coalesce(i->'expression'->>0, '-') || ': ' || (i->>'code') || ': ' || (i->>'diagnostics')
    FROM jsonb_array_elements(outcome->'issue') i
$$;
-- the DETAIL of a failing write, as jsonb
CREATE FUNCTION pg_temp.detail(statement text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE statement;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN detail::jsonb;
END
$$;
SHOW fhir_search.validation;

-- the issue-16 examples, strict (the default): refused, nothing stored
SELECT pg_temp.err($$SELECT fhir.update('{"resourceType":"Patient","id":"v1","birthDate":"not-a-date"}')$$);
SELECT pg_temp.err($$SELECT fhir.update('{"resourceType":"Patient","id":"v1","nmae":[{"family":"Smith"}]}')$$);
SELECT pg_temp.err($$SELECT fhir.update('{"resourceType":"Patient","id":"v1","extension":[[{"url":"http://x","valueString":"a"}]]}')$$);
-- 5000 levels of nested arrays: refused by the depth limit, whatever the mode
SELECT pg_temp.err(format($$SELECT fhir.update('{"resourceType":"Patient","id":"v1","extension":%s%s}')$$,
                          repeat('[', 5000), repeat(']', 5000)));
SET fhir_search.validation = off;
SELECT pg_temp.err(format($$SELECT fhir.update('{"resourceType":"Patient","id":"v1","extension":%s%s}')$$,
                          repeat('[', 5000), repeat(']', 5000)));
RESET fhir_search.validation;
SELECT count(*) AS stored FROM fhir.resource WHERE rtype = 'Patient' AND id = 'v1';

-- every issue, with its FHIRPath location, in one OperationOutcome
SELECT pg_temp.issues(pg_temp.detail($$SELECT fhir.create('{"resourceType":"Patient","nmae":[1],"birthDate":"x",
  "gender":"","name":[{"given":["a",null,""]},{"family":["x"]}],"extension":[[1]],"active":"yes",
  "multipleBirthInteger":2.5,"_birthDate":{"url":"x"},"contained":[{"resourceType":"Observation","id":"o1","code":{}}]}')$$));

-- every write path goes through it: create, update, patch, transaction, load, fhir.request
SELECT pg_temp.err($$SELECT fhir.create('{"resourceType":"Observation","code":{"text":"c"}}')$$);
SELECT fhir.update('{"resourceType":"Patient","id":"v2","birthDate":"1970-01-01"}') IS NOT NULL AS stored_valid;
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'v2', '[{"op":"replace","path":"/birthDate","value":"1970-13-01"}]')$$);
SELECT pg_temp.err($$SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"v3","gender":"female"},"request":{"method":"PUT","url":"Patient/v3"}},
  {"resource":{"resourceType":"Patient","id":"v4","gender":["female"]},"request":{"method":"PUT","url":"Patient/v4"}}]}')$$);
SELECT e->'response'->>'status' AS status, e->'response'->'outcome'->'issue'->0->'expression' AS expression
  FROM jsonb_array_elements(fhir.transaction('{"resourceType":"Bundle","type":"batch","entry":[
  {"resource":{"resourceType":"Patient","id":"v3b","gender":"female"},"request":{"method":"PUT","url":"Patient/v3b"}},
  {"resource":{"resourceType":"Patient","id":"v4b","gender":["female"]},"request":{"method":"PUT","url":"Patient/v4b"}}]}')->'entry') e;
SELECT pg_temp.err($$SELECT fhir.load(E'{"resourceType":"Patient","id":"v5"}\n{"resourceType":"Patient","id":"v6","active":"true"}\n')$$);
SELECT x.status, x.body->'issue'->0->>'diagnostics' AS diagnostics, x.body->'issue'->0->'expression' AS expression
  FROM fhir.request('PUT', 'Patient/v7', '{"resourceType":"Patient","id":"v7","birthDate":"2020-02-30"}') x;
SELECT count(*) AS stored FROM fhir.resource WHERE rtype = 'Patient' AND id IN ('v3', 'v4', 'v5', 'v6', 'v7');
SELECT content->>'birthDate' AS unpatched FROM fhir.resource WHERE rtype = 'Patient' AND id = 'v2';

-- lenient: stored, the issues in a NOTICE (with the OperationOutcome as DETAIL)
SET fhir_search.validation = lenient;
SELECT fhir.update('{"resourceType":"Patient","id":"v8","birthDate":"not-a-date","nmae":1}')->>'id' AS stored_lenient;
-- off: stored without a word
SET fhir_search.validation = off;
SELECT fhir.update('{"resourceType":"Patient","id":"v9","birthDate":"not-a-date"}')->>'id' AS stored_off;
RESET fhir_search.validation;
-- a bad value cannot be set
SELECT pg_temp.err($$SET fhir_search.validation = sloppy$$);
-- and only a superuser (or ALTER ROLE ... SET) may change it: the DBA decides what is stored
SET ROLE fhir_writer;
SELECT pg_temp.err($$SET fhir_search.validation = off$$);
SELECT pg_temp.err($$SET fhir_search.max_resource_depth = 1000$$);
RESET ROLE;

-- fhir.validate: the same check on demand, whatever the mode
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patient","id":"ok","name":[{"family":"Smith"}]}'));
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patient","birthDate":"not-a-date","nmae":1,"deceasedBoolean":true,"deceasedDateTime":"2020"}'));
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Observation","status":"final","code":{"text":"c"},"valueQuantity":{"value":"1"},
  "component":[{"code":{"text":"a"},"valueInteger":2147483648}],"effectiveDateTime":"2020-01-01T10:00"}'));
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patiant"}'));
SELECT pg_temp.issues(fhir.validate('[1]'));
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":null}}]}'));
SET fhir_search.validation = off;
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patient","birthDate":"x"}'));
RESET fhir_search.validation;
-- $validate through fhir.request: 200 with the OperationOutcome, the resource or a
-- Parameters body; 400 when the resource is of another type
SELECT x.status, pg_temp.issues(x.body) FROM fhir.request('POST', 'Patient/$validate',
  '{"resourceType":"Patient","birthDate":"1970-02-30"}') x;
SELECT x.status, pg_temp.issues(x.body) FROM fhir.request('POST', 'Patient/$validate',
  '{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","active":true}}]}') x;
SELECT x.status, pg_temp.issues(x.body) FROM fhir.request('POST', 'Patient/$validate', '{"resourceType":"Observation"}') x;

-- size and depth limits (GUCs, checked on write in every mode)
SET fhir_search.max_resource_size = '1kB';
SELECT pg_temp.err(format($$SELECT fhir.update('{"resourceType":"Patient","id":"v10","name":[{"family":"%s"}]}')$$, repeat('x', 2000)));
SELECT fhir.update(format('{"resourceType":"Patient","id":"v10","name":[{"family":"%s"}]}', repeat('x', 500))::jsonb)->>'id' AS small_enough;
RESET fhir_search.max_resource_size;
SET fhir_search.max_resource_depth = 8;
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patient","extension":[{"url":"http://a","extension":[{"url":"http://b","extension":[{"url":"http://c","extension":[{"url":"http://d","valueString":"x"}]}]}]}]}'));
RESET fhir_search.max_resource_depth;
SELECT pg_temp.issues(fhir.validate('{"resourceType":"Patient","extension":[{"url":"http://a","extension":[{"url":"http://b","extension":[{"url":"http://c","extension":[{"url":"http://d","valueString":"x"}]}]}]}]}'));

-- search limits: query length, number of parameters, chain depth (22023 with an OperationOutcome)
SET fhir_search.max_query_length = 100;
SELECT pg_temp.err(format($$SELECT fhir.search('Patient', 'name=%s')$$, repeat('a', 200)));
RESET fhir_search.max_query_length;
SET fhir_search.max_query_parameters = 3;
SELECT pg_temp.err($$SELECT fhir.search('Patient', 'name=a&name=b&gender=male&birthdate=1970')$$);
SELECT (fhir.search('Patient', 'name=a&gender=male&birthdate=1970')->>'total')::int AS three_are_fine;
RESET fhir_search.max_query_parameters;
SET fhir_search.max_chain_depth = 1;
SELECT pg_temp.err($$SELECT fhir.search('Observation', 'subject:Patient.organization.name=x')$$);
SELECT (fhir.search('Observation', 'subject:Patient.name=x')->>'total')::int AS one_link_is_fine;
RESET fhir_search.max_chain_depth;

-- include limits: _include:iterate rounds and included resources per page, reported
-- in the Bundle's OperationOutcome when reached
SELECT count(fhir.update(format('{"resourceType":"Organization","id":"vo%s","name":"Org %s"%s}', n, n,
         CASE WHEN n < 6 THEN format(',"partOf":{"reference":"Organization/vo%s"}', n + 1) ELSE '' END)::jsonb)) AS orgs
  FROM generate_series(1, 6) n;
CREATE FUNCTION pg_temp.included(b jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id') FILTER (WHERE e->'search'->>'mode' = 'include'), '') || ' | ' ||
         coalesce(string_agg(i->>'diagnostics', '; ') FILTER (WHERE e->'search'->>'mode' = 'outcome'), 'no outcome')
    FROM jsonb_array_elements(b->'entry') e LEFT JOIN LATERAL jsonb_array_elements(e->'resource'->'issue') i ON e->'search'->>'mode' = 'outcome'
$$;
SELECT pg_temp.included(fhir.search('Organization', '_id=vo1&_include:iterate=Organization:partof')) AS default_rounds;
SET fhir_search.max_include_rounds = 10;
SELECT pg_temp.included(fhir.search('Organization', '_id=vo1&_include:iterate=Organization:partof')) AS ten_rounds;
SET fhir_search.max_include_rounds = 5;
SELECT pg_temp.included(fhir.search('Organization', '_id=vo1&_include:iterate=Organization:partof')) AS five_rounds_exactly;
RESET fhir_search.max_include_rounds;
SET fhir_search.max_included = 2;
SELECT pg_temp.included(fhir.search('Organization', '_id=vo1,vo3,vo5&_include=Organization:partof')) AS max_two;
RESET fhir_search.max_included;
SELECT pg_temp.included(fhir.search('Organization', '_id=vo1,vo3,vo5&_include=Organization:partof')) AS unlimited;
-- leave nothing behind for later suites
SELECT count(fhir.delete(rtype, id)) AS removed FROM fhir.resource
 WHERE (rtype = 'Patient' AND id LIKE 'v%') OR (rtype = 'Organization' AND id LIKE 'vo%');
