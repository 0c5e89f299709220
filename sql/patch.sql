-- FHIR patch (R4 http.html#patch): fhir.patch(type, id, patch, if_match) with a JSON
-- Patch (RFC 6902) or a FHIRPath Patch (R4 fhirpatch.html), through fhir.request
-- (PATCH, conditional PATCH) and in transaction/batch Bundles. A patch is written like
-- an update: new version, history, search values, version check.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared
  FROM fhir.resource WHERE rtype IN ('Patient', 'Observation', 'Organization');
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
-- show(): a resource without meta.lastUpdated (the version stays)
CREATE FUNCTION pg_temp.show(r jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT r #- '{meta,lastUpdated}'
$$;
-- r(): a fhir.response row as text, without its volatile parts
CREATE FUNCTION pg_temp.r(x fhir.response) RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' | ', x.status,
    CASE WHEN x.body IS NULL THEN 'no body'
         WHEN x.body->>'resourceType' = 'OperationOutcome'
           THEN 'OO ' || (x.body->'issue'->0->>'code') || ': ' || (x.body->'issue'->0->>'diagnostics')
         ELSE (x.body->>'resourceType') || '/' || coalesce(x.body->>'id', '?') || ' v' ||
              coalesce(x.body->'meta'->>'versionId', '?') END,
    'location=' || x.location, 'etag=' || x.etag,
    CASE WHEN x.last_modified IS NOT NULL THEN 'last-modified' END)
$$;
CREATE FUNCTION pg_temp.ids(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '-')
       FROM jsonb_array_elements(b->'entry') e $$;

SELECT fhir.update('{"resourceType":"Patient","id":"pt1","active":true,
  "identifier":[{"system":"urn:mrn","value":"m-1"}],
  "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},{"use":"usual","given":["Jim"]}],
  "telecom":[{"system":"phone","value":"555-1"},{"system":"email","value":"pc@example.org"}],
  "gender":"male","birthDate":"1974-12-25"}')->'meta'->>'versionId' AS created;
SELECT fhir.update('{"resourceType":"Observation","id":"ob1","status":"final",
  "code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"subject":{"reference":"Patient/pt1"},
  "valueQuantity":{"value":1.50,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}')
  ->'meta'->>'versionId' AS created;
-- the search values before any patch
SELECT pg_temp.ids(fhir.search('Patient', 'family=chalmers')) AS chalmers,
       pg_temp.ids(fhir.search('Patient', 'gender=female')) AS female,
       pg_temp.ids(fhir.search('Patient', 'identifier=urn:mrn|m-2')) AS mrn_2;

-- ---- JSON Patch: every operation, in order, in one patch --------------------
SELECT pg_temp.show(fhir.patch('Patient', 'pt1', '[
  {"op": "test", "path": "/active", "value": true},
  {"op": "replace", "path": "/name/0/family", "value": "Chalmers-Smith"},
  {"op": "add", "path": "/name/0/given/-", "value": "Q"},
  {"op": "move", "from": "/name/0/given/0", "path": "/name/0/given/2"},
  {"op": "remove", "path": "/telecom/0"},
  {"op": "copy", "from": "/identifier/0", "path": "/identifier/-"},
  {"op": "replace", "path": "/identifier/1/value", "value": "m-2"},
  {"op": "add", "path": "/gender", "value": "female"},
  {"op": "test", "path": "/name/0/given", "value": ["James", "Q", "Peter"]}]'));
-- the side rows follow: the new family, gender and identifier are found, the old family is not
SELECT pg_temp.ids(fhir.search('Patient', 'family=chalmers-smith')) AS new_family,
       pg_temp.ids(fhir.search('Patient', 'family:exact=Chalmers')) AS old_family,
       pg_temp.ids(fhir.search('Patient', 'gender=female')) AS female,
       pg_temp.ids(fhir.search('Patient', 'identifier=urn:mrn|m-2')) AS mrn_2,
       pg_temp.ids(fhir.search('Patient', 'telecom=555-1')) AS old_phone;
-- history keeps the old version; vread reads it
SELECT jsonb_array_length(fhir.history('Patient', 'pt1')->'entry') AS versions,
       fhir.vread('Patient', 'pt1', 1)->'name'->0->>'family' AS v1_family,
       fhir.read('Patient', 'pt1')->'name'->0->>'family' AS current_family;
-- decimals keep their digits: a test compares 1.50 by value, a replace stores 2.50 as written
SELECT fhir.patch('Observation', 'ob1', '[{"op": "test", "path": "/valueQuantity/value", "value": 1.5},
  {"op": "replace", "path": "/valueQuantity/value", "value": 2.50}]')->'valueQuantity' AS quantity;
SELECT pg_temp.ids(fhir.search('Observation', 'value-quantity=2.5')) AS value_2_5,
       pg_temp.ids(fhir.search('Observation', 'value-quantity=1.5')) AS value_1_5;

-- ---- version check: if_match as fhir.update's -------------------------------
SELECT fhir.patch('Patient', 'pt1', '[{"op": "replace", "path": "/active", "value": false}]', 2)
       ->'meta'->>'versionId' AS with_right_version;
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "remove", "path": "/active"}]', 2)$$);
SELECT pg_temp.err($$SELECT fhir.update('{"resourceType":"Patient","id":"pt1"}', 2)$$);
SELECT fhir.read('Patient', 'pt1')->>'active' AS still_false;

-- ---- FHIRPath Patch: every operation type -----------------------------------
SELECT pg_temp.show(fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "replace"},
    {"name": "path", "valueString": "Patient.birthDate"}, {"name": "value", "valueDate": "1974-12-26"}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "add"},
    {"name": "path", "valueString": "Patient"}, {"name": "name", "valueString": "maritalStatus"},
    {"name": "value", "valueCodeableConcept": {"text": "married"}}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "insert"},
    {"name": "path", "valueString": "Patient.name.where(use = ''official'').given"},
    {"name": "index", "valueInteger": 0}, {"name": "value", "valueString": "Pete"}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "move"},
    {"name": "path", "valueString": "Patient.name"},
    {"name": "source", "valueInteger": 1}, {"name": "destination", "valueInteger": 0}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
    {"name": "path", "valueString": "Patient.identifier.where(value = ''m-1'')"}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
    {"name": "path", "valueString": "Patient.deceased"}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "add"},
    {"name": "path", "valueString": "Patient"}, {"name": "name", "valueString": "contact"},
    {"name": "value", "part": [{"name": "name", "valueHumanName": {"family": "Chalmers", "given": ["Ann"]}},
                               {"name": "relationship", "valueCodeableConcept": {"text": "spouse"}}]}]}]}'));
SELECT pg_temp.ids(fhir.search('Patient', 'birthdate=1974-12-26')) AS new_birthdate,
       pg_temp.ids(fhir.search('Patient', 'given=pete')) AS given_pete,
       pg_temp.ids(fhir.search('Patient', 'identifier=urn:mrn|m-1')) AS mrn_1;
-- a choice element takes the key of its new value's type
SELECT pg_temp.show(fhir.patch('Observation', 'ob1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "replace"},
    {"name": "path", "valueString": "Observation.value"}, {"name": "value", "valueString": "high"}]}]}')) AS observation;
SELECT pg_temp.ids(fhir.search('Observation', 'value-string=high')) AS value_high,
       pg_temp.ids(fhir.search('Observation', 'value-quantity=2.5')) AS value_2_5;

-- ---- bad patches: 22023 naming the operation, nothing written ---------------
SELECT fhir.read('Patient', 'pt1')->'meta'->>'versionId' AS version_before;
-- not a patch document at all
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"op": "add"}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Bundle"}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '"remove"')$$);
-- JSON Patch: unknown operation, bad pointer, missing path, failing test (after two good operations)
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "merge", "path": "/x", "value": 1}]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "remove", "path": "name/0"}]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "remove", "path": "/photo"}]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "remove", "path": "/active"},
  {"op": "add", "path": "/gender", "value": "other"}, {"op": "test", "path": "/gender", "value": "female"}]')$$);
-- FHIRPath Patch: unknown type, unsupported FHIRPath, no match, several matches, wrong value type
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "upsert"}, {"name": "path", "valueString": "Patient"}]}]}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
    {"name": "path", "valueString": "Patient.name.memberOf(''x'')"}]}]}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Patient.gender"}]},
  {"name": "operation", "part": [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.photo"},
    {"name": "value", "valueAttachment": {"url": "urn:x"}}]}]}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Patient.name.given"}]}]}')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.birthDate"},
    {"name": "value", "valueBoolean": true}]}]}')$$);
-- a patch may not change resourceType or id, nor yield an invalid resource
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "replace", "path": "/id", "value": "pt2"}]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "replace", "path": "/resourceType", "value": "Person"}]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'pt1', '[{"op": "replace", "path": "/meta", "value": "v1"}]')$$);
-- none of them wrote anything
SELECT fhir.read('Patient', 'pt1')->'meta'->>'versionId' AS version_after,
       fhir.read('Patient', 'pt1')->>'gender' AS gender;

-- ---- what there is to patch --------------------------------------------------
SELECT fhir.update('{"resourceType":"Patient","id":"gone"}')->'meta'->>'versionId' AS created;
SELECT fhir.delete('Patient', 'gone') AS deleted;
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'gone', '[]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'never', '[]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'never', '[]', 1)$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patiant', 'pt1', '[]')$$);
SELECT pg_temp.err($$SELECT fhir.patch('Patient', 'bad id', '[]')$$);
SELECT fhir.patch(NULL, 'pt1', '[]') IS NULL AS null_type, fhir.patch('Patient', 'pt1', NULL) IS NULL AS null_patch;
-- an empty patch still writes a version, as an update without changes does
SELECT fhir.patch('Patient', 'pt1', '[]')->'meta'->>'versionId' AS empty_patch;

-- ---- PATCH through fhir.request -----------------------------------------------
SET fhir_search.base_url = 'http://example.org/fhir';
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "replace", "path": "/gender", "value": "other"}]',
                              '{"Content-Type": "application/json-patch+json"}'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '{"resourceType": "Parameters", "parameter": [
  {"name": "operation", "part": [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.gender"},
    {"name": "value", "valueCode": "male"}]}]}', '{"Content-Type": "application/fhir+json; charset=utf-8"}'));
-- without Content-Type (or application/json) the body's shape decides
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "test", "path": "/gender", "value": "male"}]'));
-- If-Match: the current version passes, another is 412 and writes nothing; Prefer as for update
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "add", "path": "/active", "value": true}]',
                              '{"If-Match": "W/\"8\"", "Prefer": "return=minimal"}'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "add", "path": "/active", "value": false}]',
                              '{"If-Match": "W/\"8\""}'));
SELECT fhir.read('Patient', 'pt1')->>'active' AS still_true;
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "add", "path": "/active", "value": false}]',
                              '{"Prefer": "return=OperationOutcome"}'));
-- bad requests: a body of the other form, XML, no body, not JSON, a failing operation
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[]', '{"Content-Type": "application/fhir+json"}'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '<Parameters/>', '{"Content-Type": "application/fhir+xml"}'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', NULL));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": '));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/pt1', '[{"op": "remove", "path": "/photo"}]'));
-- missing and deleted resources: 404 and 410
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/never', '[]'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient/gone', '[]'));
-- conditional patch: no match 404, one match patched, several 412
SELECT fhir.update('{"resourceType":"Patient","id":"pt2","identifier":[{"system":"urn:mrn","value":"m-9"}],
  "name":[{"family":"Chalmers"}]}')->'meta'->>'versionId' AS created;
SELECT pg_temp.r(fhir.request('PATCH', 'Patient?identifier=urn:mrn|m-404', '[{"op": "add", "path": "/active", "value": true}]'));
SELECT pg_temp.r(fhir.request('PATCH', 'Patient?identifier=urn:mrn|m-9', '[{"op": "add", "path": "/active", "value": true}]'));
SELECT fhir.read('Patient', 'pt2')->>'active' AS pt2_active;
SELECT pg_temp.r(fhir.request('PATCH', 'Patient?family=chalmers', '[{"op": "add", "path": "/active", "value": false}]'));
SELECT fhir.read('Patient', 'pt1')->>'active' AS pt1_active, fhir.read('Patient', 'pt2')->>'active' AS pt2_active;
SELECT fhir.read('Patient', 'pt1')->'meta'->>'versionId' AS pt1_version;
-- the CapabilityStatement lists patch for every type
SELECT count(*) AS types_with_patch FROM jsonb_array_elements(fhir.capability_statement()->'rest'->0->'resource') r
 WHERE r->'interaction' @> '[{"code": "patch"}]';
RESET fhir_search.base_url;

-- ---- PATCH entries in Bundles -------------------------------------------------
-- transaction: a Binary JSON Patch, a FHIRPath Patch, a conditional patch, and a
-- reference to a resource the same Bundle creates
SELECT jsonb_path_query_array(fhir.transaction(jsonb_build_object('resourceType', 'Bundle', 'type', 'transaction',
  'entry', jsonb_build_array(
    jsonb_build_object('request', jsonb_build_object('method', 'PATCH', 'url', 'Patient/pt1', 'ifMatch', 'W/"10"'),
      'resource', jsonb_build_object('resourceType', 'Binary', 'contentType', 'application/json-patch+json',
        'data', encode(convert_to('[{"op": "replace", "path": "/birthDate", "value": "1975-01-01"},
                                    {"op": "add", "path": "/managingOrganization",
                                     "value": {"reference": "urn:uuid:6b1a3ee2-8a2b-4d0e-9e5e-3b1f2bd0c001"}}]', 'UTF8'), 'base64'))),
    jsonb_build_object('request', jsonb_build_object('method', 'PATCH', 'url', 'Patient?identifier=urn:mrn|m-9'),
      'resource', '{"resourceType": "Parameters", "parameter": [{"name": "operation", "part": [
        {"name": "type", "valueCode": "add"}, {"name": "path", "valueString": "Patient"},
        {"name": "name", "valueString": "birthDate"}, {"name": "value", "valueDate": "2001-02-03"}]}]}'::jsonb),
    jsonb_build_object('fullUrl', 'urn:uuid:6b1a3ee2-8a2b-4d0e-9e5e-3b1f2bd0c001',
      'request', jsonb_build_object('method', 'POST', 'url', 'Organization'),
      'resource', '{"resourceType": "Organization", "name": "Chalmers Clinic"}'::jsonb)))),
  '$.entry[*].response.status') AS statuses;
SELECT fhir.read('Patient', 'pt1')->>'birthDate' AS pt1_birthdate,
       fhir.read('Patient', 'pt1')->'managingOrganization'->>'reference' ~ '^Organization/[0-9a-f-]{36}$' AS org_ref,
       fhir.read('Patient', 'pt2')->>'birthDate' AS pt2_birthdate;
SELECT pg_temp.ids(fhir.search('Patient', 'organization.name=chalmers')) AS chained;
-- a failing patch fails the whole transaction
SELECT pg_temp.err($$SELECT fhir.transaction('{"resourceType": "Bundle", "type": "transaction", "entry": [
  {"request": {"method": "PUT", "url": "Patient/pt3"}, "resource": {"resourceType": "Patient", "id": "pt3"}},
  {"request": {"method": "PATCH", "url": "Patient/pt1"},
   "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json", "data": "W10="}},
  {"request": {"method": "PATCH", "url": "Patient/pt2"}, "resource": {"resourceType": "Parameters", "parameter": [
    {"name": "operation", "part": [{"name": "type", "valueCode": "delete"}, {"name": "path", "valueString": "Patient.name.given.first()"}]},
    {"name": "operation", "part": [{"name": "type", "valueCode": "replace"}, {"name": "path", "valueString": "Patient.photo"},
      {"name": "value", "valueAttachment": {"url": "urn:x"}}]}]}}]}')$$);
SELECT fhir.read('Patient', 'pt3') IS NULL AS pt3_not_written;
-- batch: each entry on its own (a patch that fails, one of nothing, one not found, one gone, one good)
SELECT jsonb_path_query_array(fhir.transaction('{"resourceType": "Bundle", "type": "batch", "entry": [
  {"request": {"method": "PATCH", "url": "Patient/pt2"},
   "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                "data": "W3sib3AiOiJ0ZXN0IiwicGF0aCI6Ii9hY3RpdmUiLCJ2YWx1ZSI6ZmFsc2V9XQ=="}},
  {"request": {"method": "PATCH", "url": "Patient/pt2"}, "resource": {"resourceType": "Patient"}},
  {"request": {"method": "PATCH", "url": "Patient?identifier=urn:mrn|m-404"}, "resource": {"resourceType": "Parameters"}},
  {"request": {"method": "PATCH", "url": "Patient/gone"}, "resource": {"resourceType": "Parameters"}},
  {"request": {"method": "PATCH", "url": "Patient/pt2"},
   "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                "data": "W3sib3AiOiJ0ZXN0IiwicGF0aCI6Ii9hY3RpdmUiLCJ2YWx1ZSI6dHJ1ZX1d"}}]}'),
  '$.entry[*].response.status') AS statuses;
-- ---- memory stays flat over many patches, failing and succeeding ------------
CREATE FUNCTION pg_temp.patch_many(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    caught integer := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            CASE i % 4
            WHEN 0 THEN PERFORM fhir.patch('Patient', 'pt2',
                ('[{"op": "replace", "path": "/active", "value": ' || (i % 8 = 0)::text || '}]')::jsonb);
            WHEN 1 THEN PERFORM fhir.patch('Patient', 'pt2', '[{"op": "test", "path": "/active", "value": "x"}]');
            WHEN 2 THEN PERFORM fhir.patch('Patient', 'pt2', '{"resourceType": "Parameters", "parameter": [
                {"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
                                               {"name": "path", "valueString": "Patient.name.where("}]}]}');
            ELSE PERFORM fhir.patch('Patient', 'pt2', ('{"resourceType": "Parameters", "parameter": [
                {"name": "operation", "part": [{"name": "type", "valueCode": "replace"},
                  {"name": "path", "valueString": "Patient.birthDate"},
                  {"name": "value", "valueDate": "2001-02-0' || (i % 9 + 1) || '"}]}]}')::jsonb);
            END CASE;
        EXCEPTION WHEN OTHERS THEN
            caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END
$$;
SELECT pg_temp.patch_many(100) AS warm_up_errors;
CREATE TEMP TABLE mem_before AS SELECT * FROM fhir.memory_usage();
SELECT pg_temp.patch_many(1000) AS errors_caught;
CREATE TEMP TABLE mem_after AS SELECT * FROM fhir.memory_usage();
SELECT (a.context_bytes - b.context_bytes) < 1024 * 1024 AS contexts_flat,
       (a.malloc_bytes - b.malloc_bytes) < 1024 * 1024 AS cpp_heap_flat
  FROM mem_before b, mem_after a;
SELECT fhir.read('Patient', 'pt2')->'meta'->>'versionId' AS pt2_version;
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared
  FROM fhir.resource WHERE rtype IN ('Patient', 'Observation', 'Organization');
