-- create / update / read / vread / delete / history
SET fhir_search.base_url = 'http://example.org/fhir';

-- update with a client id creates version 1; the server sets meta
SELECT r->>'id' AS id, r->'meta'->>'versionId' AS version, r->'meta' ? 'lastUpdated' AS has_last_updated,
       r->'name' AS name
  FROM fhir.update('{"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["Zoë"]}],"birthDate":"1970-05-02"}') r;

-- decimals keep their exact text
SELECT fhir.update('{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"}}')->'valueQuantity';

-- second update: version 2, history keeps version 1
SELECT r->'meta'->>'versionId' AS version, r->'name'->0->>'family' AS family
  FROM fhir.update('{"resourceType":"Patient","id":"p1","name":[{"family":"Meyer"}]}') r;
SELECT fhir.read('Patient', 'p1')->'name'->0->>'family' AS current_family;
SELECT fhir.vread('Patient', 'p1', 1)->'name'->0->>'family' AS v1_family;
SELECT fhir.vread('Patient', 'p1', 2)->'meta'->>'versionId' AS v2;
SELECT fhir.vread('Patient', 'p1', 3) IS NULL AS no_v3;

-- optimistic locking: if_match must equal the current version
SELECT fhir.update('{"resourceType":"Patient","id":"p1","active":true}', 2)->'meta'->>'versionId' AS version_after_match;
SELECT fhir.update('{"resourceType":"Patient","id":"p1","active":false}', 1);
SELECT fhir.read('Patient', 'p1')->>'active' AS still_true;

-- create assigns a UUID id and ignores the client's
SELECT (r->>'id') ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' AS uuid_id,
       r->>'id' <> 'mine' AS client_id_ignored, r->'meta'->>'versionId' AS version
  FROM fhir.create('{"resourceType":"Organization","id":"mine","name":"Acme"}') r;

-- read of unknown ids is NULL
SELECT fhir.read('Patient', 'nobody') IS NULL AS missing;

-- delete: gone from read, tombstone in history, version numbering continues
SELECT fhir.delete('Patient', 'p1') AS deleted;
SELECT fhir.delete('Patient', 'p1') AS deleted_again;
SELECT fhir.read('Patient', 'p1') IS NULL AS gone;
SELECT fhir.vread('Patient', 'p1', 3)->>'active' AS v3_still_readable;
SELECT h->>'type' AS type, h->>'total' AS total,
       jsonb_path_query_array(h, '$.entry[*].request.method') AS methods,
       jsonb_path_query_array(h, '$.entry[*].response.etag') AS etags,
       h->'entry'->0->>'fullUrl' AS full_url
  FROM fhir.history('Patient', 'p1') h;
SELECT r->'meta'->>'versionId' AS recreated_version
  FROM fhir.update('{"resourceType":"Patient","id":"p1","name":[{"family":"Back"}]}') r;
SELECT fhir.history('Patient', 'nobody') IS NULL AS no_history;

-- search values are maintained: rows exist for the current version only
SELECT count(*) > 0 AS has_tokens FROM fhir.resource_patient WHERE id = 'p1' AND cardinality(tokens) > 0;
SELECT s.norm FROM fhir.search_string s JOIN fhir.resource_patient p USING (rid)
 WHERE p.id = 'p1' AND s.norm = 'back';
SELECT count(*) AS stale_rows FROM fhir.search_string s
 WHERE NOT EXISTS (SELECT 1 FROM fhir.resource r WHERE r.rid = s.rid);
-- the write functions run inside the caller's transaction
BEGIN;
SELECT fhir.update('{"resourceType":"Patient","id":"rolled-back"}') IS NOT NULL AS written;
ROLLBACK;
SELECT fhir.read('Patient', 'rolled-back') IS NULL AS rolled_back;
