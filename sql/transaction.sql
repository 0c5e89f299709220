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
