-- Loads the script tests' sample into the current database (psql variables: work, the
-- directory holding sample.ndjson and bundles/; bundles, true to load the transaction
-- Bundles too, whose server-assigned ids differ from one database to the next): NDJSON
-- through fhir.load_file, a custom search parameter, a disabled one, an index made by
-- fhir.create_index, a DBA's own index, a row-level security policy, updates and deletes (history).
SET client_min_messages = warning;
SELECT fhir.load_file(:'work' || '/sample.ndjson');
\if :bundles
SELECT fhir.transaction(pg_read_file(:'work' || '/bundles/00-practitioners.json')::jsonb);
SELECT fhir.transaction(pg_read_file(:'work' || '/bundles/' || f)::jsonb)
  FROM pg_ls_dir(:'work' || '/bundles') f WHERE f LIKE 'patient-%' ORDER BY f;
\endif
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"nickname","type":"string",
                               "base":["Patient"],"expression":"Patient.name.given"}');
SELECT fhir.reindex('Patient');
SELECT fhir.set_search_param_enabled('Patient', 'language', false);
SELECT fhir.create_index('Observation', 'value-quantity');
CREATE INDEX dba_observation_status ON fhir.resource_observation ((content->>'status'));
-- row-level security: roles other than superusers see some Conditions only
ALTER TABLE fhir.resource_condition ENABLE ROW LEVEL SECURITY;
CREATE POLICY sample_conditions ON fhir.resource_condition USING (id LIKE 'cond-00000%');
SELECT fhir.update(jsonb_set(content, '{active}', 'false')) FROM fhir.resource
 WHERE rtype = 'Patient' AND id IN (SELECT id FROM fhir.resource WHERE rtype = 'Patient' ORDER BY id LIMIT 5);
SELECT fhir.delete('Observation', id)
  FROM (SELECT id FROM fhir.resource WHERE rtype = 'Observation' ORDER BY id LIMIT 3) o;
RESET client_min_messages;
ANALYZE;
