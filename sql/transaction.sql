-- transaction and batch Bundles
-- A Synthea-style transaction: urn:uuid references, conditional references, ifNoneExist.
SELECT fhir.update('{"resourceType":"Practitioner","id":"dr1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"999"}]}') IS NOT NULL AS practitioner;
SELECT jsonb_path_query_array(fhir.transaction('{
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
     "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "42"}], "name": [{"family": "Ång"}]},
     "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn|42"}},
    {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
     "resource": {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                  "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                  "participant": [{"individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999"}}]},
     "request": {"method": "POST", "url": "Encounter"}},
    {"resource": {"resourceType": "Observation", "id": "obs-t1", "status": "final", "code": {"text": "hr"},
                  "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                  "encounter": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"},
                  "valueQuantity": {"value": 72.0}},
     "request": {"method": "PUT", "url": "Observation/obs-t1"}}
  ]}'), '$.entry[*].response.status') AS statuses;
-- references now point at the assigned ids
SELECT (SELECT content->'subject'->>'reference' FROM fhir.resource_encounter) = 'Patient/' || (SELECT id FROM fhir.resource_patient WHERE content->'identifier'->0->>'value' = '42') AS subject_resolved;
SELECT content->'participant'->0->'individual'->>'reference' AS participant FROM fhir.resource_encounter;
SELECT fhir.read('Observation', 'obs-t1')->'encounter'->>'reference' = 'Encounter/' || (SELECT id FROM fhir.resource_encounter) AS encounter_resolved;
SELECT fhir.read('Observation', 'obs-t1')->'valueQuantity'->'value' AS exact_decimal;

-- ifNoneExist matched: the Patient is not created twice
SELECT jsonb_path_query_array(fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]},
   "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|42"}}]}'), '$.entry[*].response.status') AS statuses;
SELECT count(*) AS patients FROM fhir.resource_patient;

-- All or nothing: a bad entry (conditional reference matching nothing) rolls back every entry
\set VERBOSITY terse
SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"tx-a"},"request":{"method":"PUT","url":"Patient/tx-a"}},
  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=urn:mrn|nope"}},
   "request":{"method":"POST","url":"Observation"}}]}');
SELECT fhir.read('Patient', 'tx-a') IS NULL AS tx_a_rolled_back;
-- invalid entries fail the whole transaction before anything is written
SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"tx-b"},"request":{"method":"PUT","url":"Patient/tx-b"}},
  {"resource":{"resourceType":"Patient","id":"bad id!"},"request":{"method":"PUT","url":"Patient/other"}}]}');
SELECT fhir.read('Patient', 'tx-b') IS NULL AS tx_b_not_written;
SELECT fhir.transaction('{"resourceType":"Bundle","type":"collection"}');
SELECT fhir.transaction('{"resourceType":"Patient"}');
SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PATCH","url":"Patient/x"}}]}');
-- version conflict inside a transaction
SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"tx-c"},"request":{"method":"PUT","url":"Patient/tx-c"}},
  {"resource":{"resourceType":"Observation","id":"obs-t1","status":"final","code":{"text":"hr"}},
   "request":{"method":"PUT","url":"Observation/obs-t1","ifMatch":"W/\"7\""}}]}');
SELECT fhir.read('Patient', 'tx-c') IS NULL AS tx_c_rolled_back;
\set VERBOSITY default

-- Batch: each entry on its own
SELECT jsonb_path_query_array(b, '$.entry[*].response.status') AS statuses,
       b->'entry'->1->'response'->'outcome'->'issue'->0->>'diagnostics' AS second_error,
       b->>'type' AS type
  FROM fhir.transaction('{"resourceType":"Bundle","type":"batch","entry":[
  {"resource":{"resourceType":"Patient","id":"b1"},"request":{"method":"PUT","url":"Patient/b1"}},
  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=urn:mrn|nope"}},
   "request":{"method":"POST","url":"Observation"}},
  {"resource":{"resourceType":"Patient","id":"b3"},"request":{"method":"PUT","url":"Patient/b3"}},
  {"request":{"method":"DELETE","url":"Patient/b1"}},
  {"request":{"method":"GET","url":"Patient/b3"}},
  {"request":{"method":"GET","url":"Patient/none"}}]}') b;
SELECT fhir.read('Patient', 'b3') IS NOT NULL AS b3_written, fhir.read('Patient', 'b1') IS NULL AS b1_deleted_first;

-- Set-based runs keep sequential semantics: a conditional reference sees a resource
-- POSTed earlier in the same Bundle, a second PUT of a resource makes version 2,
-- responses come back in request order with their own locations.
SELECT jsonb_path_query_array(b, '$.entry[*].response.status') AS statuses,
       jsonb_path_query_array(b, '$.entry[*].response.etag') AS etags,
       (SELECT count(*) FROM jsonb_array_elements(b->'entry') e
         WHERE e->'response'->>'location' ~ '^(Organization|Patient|Observation)/[^/]+/_history/[12]$') AS located
  FROM fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"run-p","name":[{"family":"One"}],
               "managingOrganization":{"reference":"Organization?identifier=urn:run|o1"}},
   "request":{"method":"PUT","url":"Patient/run-p"}},
  {"fullUrl":"urn:uuid:33333333-3333-4333-8333-333333333333",
   "resource":{"resourceType":"Organization","identifier":[{"system":"urn:run","value":"o1"}]},
   "request":{"method":"POST","url":"Organization"}},
  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"run"},
               "subject":{"reference":"Patient/run-p"},
               "performer":[{"reference":"urn:uuid:33333333-3333-4333-8333-333333333333"}]},
   "request":{"method":"POST","url":"Observation"}},
  {"resource":{"resourceType":"Patient","id":"run-p","name":[{"family":"Two"}],
               "managingOrganization":{"reference":"Organization?identifier=urn:run|o1"}},
   "request":{"method":"PUT","url":"Patient/run-p"}}]}') b;
SELECT content->'name'->0->>'family' AS family, version_id,
       content->'managingOrganization'->>'reference' =
         'Organization/' || (SELECT id FROM fhir.resource_organization WHERE content->'identifier'->0->>'value' = 'o1') AS org_resolved
  FROM fhir.resource_patient WHERE id = 'run-p';
SELECT fhir.search('Observation', 'subject=Patient/run-p&performer:Organization.identifier=urn:run|o1')->'total' AS found_through_chain;

-- Match-URL cache across transactions (fhir_search.match_url_cache_size > 0): a
-- repeated conditional reference is answered from the cache (DEBUG1 says so) until
-- a write of its type commits; a transaction that wrote the type searches again.
SET fhir_search.match_url_cache_size = 100;
SELECT fhir.update('{"resourceType":"Organization","id":"mu-org1","identifier":[{"system":"urn:mu","value":"m1"}]}') IS NOT NULL AS org1;
CREATE FUNCTION pg_temp.mu_bundle(ref text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('resourceType', 'Bundle', 'type', 'transaction', 'entry', jsonb_build_array(
    jsonb_build_object('resource', jsonb_build_object('resourceType', 'Patient', 'id', 'mu-p',
                                                      'managingOrganization', jsonb_build_object('reference', ref)),
                       'request', jsonb_build_object('method', 'PUT', 'url', 'Patient/mu-p'))))
$$;
CREATE FUNCTION pg_temp.mu_org() RETURNS text LANGUAGE sql AS $$
  SELECT fhir.read('Patient', 'mu-p')->'managingOrganization'->>'reference'
$$;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m1')) IS NOT NULL AS searched;
SET client_min_messages = debug1;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m1')) IS NOT NULL AS from_cache;
RESET client_min_messages;
SELECT pg_temp.mu_org();
-- another session's kind of change: the identifier moves to a new Organization
SELECT fhir.update('{"resourceType":"Organization","id":"mu-org1","identifier":[{"system":"urn:mu","value":"old"}]}') IS NOT NULL AS org1_changed;
SELECT fhir.update('{"resourceType":"Organization","id":"mu-org2","identifier":[{"system":"urn:mu","value":"m1"}]}') IS NOT NULL AS org2;
SET client_min_messages = debug1;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m1')) IS NOT NULL AS searched_again;
RESET client_min_messages;
SELECT pg_temp.mu_org();
SELECT fhir.delete('Organization', 'mu-org2') AS org2_deleted;
\set VERBOSITY terse
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m1'));
-- "no match" is remembered too, until this transaction writes an Organization
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m3'));
SET client_min_messages = debug1;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m3'));
RESET client_min_messages;
\set VERBOSITY default
BEGIN;
SELECT fhir.update('{"resourceType":"Organization","id":"mu-org3","identifier":[{"system":"urn:mu","value":"m3"}]}') IS NOT NULL AS org3;
SET LOCAL client_min_messages = debug1;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m3')) IS NOT NULL AS own_write_seen;
COMMIT;
SELECT pg_temp.mu_org();
-- queries that read other types are never cached
SET client_min_messages = debug1;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m3&_has:Patient:organization:_id=mu-p')) IS NOT NULL AS has_searched;
SELECT fhir.transaction(pg_temp.mu_bundle('Organization?identifier=urn:mu|m3&_has:Patient:organization:_id=mu-p')) IS NOT NULL AS has_searched_again;
RESET client_min_messages;
RESET fhir_search.match_url_cache_size;
