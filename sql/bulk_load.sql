-- fhir.load: NDJSON and Bundles in batches
SELECT fhir.load(E'{"resourceType":"Patient","id":"bl1","name":[{"family":"Åberg"}]}\n'
                 '{"resourceType":"Patient","id":"bl2","gender":"female"}\n'
                 '\n'
                 '{"resourceType":"Observation","id":"blo1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/bl1"},"valueQuantity":{"value":60.10}}\n'
                 '{"resourceType":"Patient","id":"bl1","name":[{"family":"Second"}]}\n', 2) AS loaded;
-- the repeated id became version 2
SELECT fhir.read('Patient', 'bl1')->'meta'->>'versionId' AS bl1_version, fhir.read('Patient', 'bl1')->'name'->0->>'family' AS family;
SELECT fhir.read('Observation', 'blo1')->'valueQuantity'->'value' AS exact_decimal;
-- loaded resources are searchable through their extracted values
SELECT DISTINCT q.value FROM fhir.search_quantity q JOIN fhir.resource_observation o USING (rid)
 WHERE o.id = 'blo1';
SELECT count(*) AS reference_rows FROM fhir.search_reference x JOIN fhir.resource_observation o USING (rid)
 WHERE o.id = 'blo1' AND x.target_type = 'Patient' AND x.target_id = 'bl1';
-- a collection Bundle loads its entries
SELECT fhir.load('{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Organization","id":"org-b"}},{"resource":{"resourceType":"Location","id":"loc-b"}}]}') AS from_bundle;
-- a transaction Bundle goes through fhir.transaction
SELECT fhir.load('{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:9","resource":{"resourceType":"Patient","name":[{"family":"Tx"}]},"request":{"method":"POST","url":"Patient"}}]}') AS from_transaction;
-- a bad line fails the whole load: nothing of it remains
\set VERBOSITY terse
SELECT fhir.load(E'{"resourceType":"Patient","id":"bad1"}\n{"resourceType":"Patient","id":"bad 2"}\n');
SELECT fhir.load(E'{"resourceType":"Patient","id":"bad3"}\nnot json\n');
SELECT fhir.load('{}', 0);
SELECT fhir.read('Patient', 'bad1') IS NULL AS bad1_absent, fhir.read('Patient', 'bad3') IS NULL AS bad3_absent;
-- load_file needs the right to read server files
CREATE ROLE fhir_loader_test;
GRANT fhir_writer TO fhir_loader_test;
SET ROLE fhir_loader_test;
SELECT fhir.load_file('/etc/hostname');
RESET ROLE;
DROP ROLE fhir_loader_test;
SELECT fhir.load_file('/nonexistent/file.ndjson');
-- mode => 'new_ids': the caller promises new ids; no read-before-write, and an id that
-- exists after all fails the load (nothing of it remains)
SELECT fhir.load(E'{"resourceType":"Patient","id":"new-1"}\n{"resourceType":"Patient","id":"new-2"}\n', 1000, 'new_ids') AS new_ids;
SELECT fhir.read('Patient', 'new-2')->'meta'->>'versionId' AS new_2_version;
SELECT fhir.load(E'{"resourceType":"Patient","id":"new-3"}\n{"resourceType":"Patient","id":"new-1"}\n', 1000, 'new_ids');
SELECT fhir.read('Patient', 'new-3') IS NULL AS new_3_rolled_back, fhir.read('Patient', 'new-1')->'meta'->>'versionId' AS new_1_version;
SET client_min_messages = warning; -- the mass mode's NOTICEs carry timings
SELECT fhir.load(E'{"resourceType":"Patient","id":"new-4"}\n', 1000, 'mass, new_ids') AS mass_and_new_ids;
RESET client_min_messages;
SELECT fhir.load('{"resourceType":"Patient"}', 1000, 'fast');
