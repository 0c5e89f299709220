-- _include and _revinclude (with :iterate), included resources once per page
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation', 'Organization', 'Encounter');
SELECT fhir.load(E'{"resourceType":"Organization","id":"org1","name":"Clinic"}\n'
                 '{"resourceType":"Patient","id":"ip1","managingOrganization":{"reference":"Organization/org1"}}\n'
                 '{"resourceType":"Patient","id":"ip2"}\n'
                 '{"resourceType":"Encounter","id":"ie1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/ip1"}}\n'
                 '{"resourceType":"Observation","id":"io1","status":"final","code":{"text":"a"},"subject":{"reference":"Patient/ip1"},"encounter":{"reference":"Encounter/ie1"}}\n'
                 '{"resourceType":"Observation","id":"io2","status":"final","code":{"text":"b"},"subject":{"reference":"Patient/ip1"}}\n'
                 '{"resourceType":"Observation","id":"io3","status":"final","code":{"text":"c"},"subject":{"reference":"Patient/ip2"}}\n') AS loaded;
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT string_agg((e->'search'->>'mode') || ':' || (e->'resource'->>'resourceType') || '/' || (e->'resource'->>'id'), ' ' ORDER BY n)
       FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) $$;
-- forward include: each patient once although two observations point at ip1
SELECT pg_temp.entries(fhir.search('Observation', '_include=Observation:subject'));
-- with a target type, and a parameter with several targets
SELECT pg_temp.entries(fhir.search('Observation', '_id=io1&_include=Observation:subject:Patient&_include=Observation:encounter'));
-- reverse include
SELECT pg_temp.entries(fhir.search('Patient', '_id=ip1&_revinclude=Observation:subject'));
-- :iterate follows the included patients to their organization
SELECT pg_temp.entries(fhir.search('Observation', '_id=io2&_include=Observation:subject&_include:iterate=Patient:organization'));
-- wildcard: every reference parameter
SELECT pg_temp.entries(fhir.search('Observation', '_id=io1&_include=*'));
-- errors
\set VERBOSITY terse
SELECT fhir.search('Observation', '_include=Observation:code');
SELECT fhir.search('Observation', '_include=Patient:organization');
SELECT fhir.search('Observation', '_include=nonsense');
\set VERBOSITY default
-- _summary and _elements shape the returned resources and tag them SUBSETTED
SELECT fhir.update('{"resourceType":"Patient","id":"sum1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"name":[{"family":"Ek","given":["Li"]}],"gender":"female","maritalStatus":{"text":"M"},"contact":[{"name":{"family":"Ek"}}]}') IS NOT NULL AS stored;
SELECT jsonb_object_keys(e->'resource') AS summary_true_keys
  FROM jsonb_array_elements(fhir.search('Patient', '_id=sum1&_summary=true')->'entry') e ORDER BY 1;
SELECT e->'resource'->'meta'->'tag'->0->>'code' AS tag FROM jsonb_array_elements(fhir.search('Patient', '_id=sum1&_summary=true')->'entry') e;
SELECT jsonb_object_keys(e->'resource') AS summary_data_keys
  FROM jsonb_array_elements(fhir.search('Patient', '_id=sum1&_summary=data')->'entry') e ORDER BY 1;
SELECT e->'resource'->'name' AS name_family_only, e->'resource' ? 'gender' AS has_gender
  FROM jsonb_array_elements(fhir.search('Patient', '_id=sum1&_elements=name.family')->'entry') e;
SELECT e->'resource' ? 'meta' AND NOT (e->'resource'->'meta' ? 'tag') AS not_subsetted_when_complete
  FROM jsonb_array_elements(fhir.search('Patient', '_id=ip2&_summary=true')->'entry') e;
-- projected resources keep decimals as written (1.50 stays 1.50, not 1.5), and integers
SELECT fhir.update('{"resourceType":"Observation","id":"dec1","status":"final","code":{"text":"d"},"issued":"2020-01-01T00:00:00Z","valueQuantity":{"value":1.50,"unit":"mg"},"component":[{"code":{"text":"c"},"valueQuantity":{"value":100.000}},{"code":{"text":"i"},"valueInteger":7}],"extension":[{"url":"http://example.org/x","valueDecimal":0.10}]}') IS NOT NULL AS stored;
SELECT e->'resource'->'valueQuantity' AS quantity, e->'resource'->'component' AS components,
       e->'resource'->'extension'->0->'valueDecimal' AS decimal, e->'resource' ? 'issued' AS has_issued,
       e->'resource'->'meta'->'tag'->0->>'code' AS tag
  FROM jsonb_array_elements(fhir.search('Observation', '_id=dec1&_elements=valueQuantity,component,extension')->'entry') e;
SELECT fhir.delete('Observation', 'dec1') AS deleted;
\set VERBOSITY terse
SELECT fhir.search('Patient', '_summary=maybe');
SELECT fhir.search('Patient', '_elements=na me');
\set VERBOSITY default
-- combinations: _sort + paging + _include (includes belong to their page), _elements + _summary
CREATE FUNCTION pg_temp.next(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT substring(l->>'url' FROM '\?(.*)$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next' $$;
SELECT pg_temp.entries(fhir.search('Observation', '_sort=-_id&_count=2&_include=Observation:subject')) AS page1;
SELECT pg_temp.entries(fhir.search('Observation', pg_temp.next(fhir.search('Observation', '_sort=-_id&_count=2&_include=Observation:subject')))) AS page2;
SELECT jsonb_object_keys(e->'resource') AS elements_win_over_summary
  FROM jsonb_array_elements(fhir.search('Patient', '_id=sum1&_summary=true&_elements=gender')->'entry') e ORDER BY 1;
SELECT b->>'total' AS total, b ? 'entry' AS has_entries
  FROM fhir.search('Observation', 'subject=Patient/ip1&_summary=count&_include=Observation:subject') b;
