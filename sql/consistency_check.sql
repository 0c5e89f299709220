-- fhir.check(): stored search values against the content (other suites' resources are
-- left out: some store values on purpose that a registry change made stale)
SELECT fhir.load(E'{"resourceType":"Patient","id":"ck-p1","name":[{"family":"Check","given":["A"]}],"birthDate":"1970-01-01","gender":"female"}\n'
                 '{"resourceType":"Observation","id":"ck-o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/ck-p1"},"effectiveDateTime":"2021-01-01","valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}\n') AS loaded;
SELECT count(*) AS problems FROM fhir.check() WHERE id LIKE 'ck-%' OR id IS NULL;
SELECT count(*) AS problems FROM fhir.check(sample => 5) WHERE id LIKE 'ck-%';
-- break it the ways a crash or a careless script could
DELETE FROM fhir.search_string WHERE rid = (SELECT rid FROM fhir.resource_patient WHERE id = 'ck-p1')
   AND param = (SELECT id FROM fhir._search_params() WHERE resource_type = 'Patient' AND code = 'family');
UPDATE fhir.resource_observation SET tokens = tokens[2:] WHERE id = 'ck-o1';
INSERT INTO fhir.search_reference (rid, param, target_type, target_id) VALUES (-42, 1, 'Patient', 'nobody');
SELECT resource_type, id, problem FROM fhir.check() WHERE id LIKE 'ck-%' OR id IS NULL ORDER BY resource_type NULLS LAST, id, problem;
SELECT count(*) > 0 AS sample_sees_it FROM fhir.check(sample => 1000) WHERE id = 'ck-o1';
-- fhir.reindex repairs what the content says; the orphan row needs a DELETE
SELECT fhir.reindex('Patient') > 0 AS reindexed_patients, fhir.reindex('Observation') > 0 AS reindexed_observations;
DELETE FROM fhir.search_reference WHERE rid = -42;
SELECT count(*) AS problems FROM fhir.check() WHERE id LIKE 'ck-%' OR id IS NULL;
\set VERBOSITY terse
SELECT * FROM fhir.check(0);
