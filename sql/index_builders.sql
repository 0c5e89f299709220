-- registry view, index builders, enable/disable, custom parameters, re-index, explain
SELECT count(*) AS parameters, count(DISTINCT resource_type) AS types FROM fhir.search_parameters;
SELECT resource_type, code, type, expression, enabled, builtin, index_names, indexed
  FROM fhir.search_parameters WHERE resource_type = 'Observation' AND code IN ('code', 'date', 'value-quantity', '_lastUpdated', '_id')
 ORDER BY code;
-- default indexes exist for the common string/date parameters
SELECT code, indexed FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code IN ('name', 'birthdate', 'address-city') ORDER BY code;
-- create, list, drop
SELECT fhir.create_index('Patient', 'address-city');
SELECT index_name, present, size_bytes > 0 AS has_size FROM fhir.search_indexes WHERE resource_type = 'Patient' AND code = 'address-city';
SELECT fhir.index_ddl('Patient', 'address-city');
-- a reference: the type's GIN index serves its conditions, two btrees on "Type/id" its _sort
SELECT fhir.index_ddl('Observation', 'subject', false);
-- ...so the reference counts as indexed without the sort btrees (made on demand)
SELECT indexed, (SELECT bool_or(present) FROM fhir.search_indexes i WHERE i.resource_type = 'Observation' AND i.code = 'subject'
                  AND i.index_name LIKE 'search_reference%') AS sort_btrees
  FROM fhir.search_parameters WHERE resource_type = 'Observation' AND code = 'subject';
SELECT fhir.drop_index('Patient', 'address-city');
SELECT fhir.drop_index('Patient', 'gender') AS shared_gin_kept;
SELECT indexed FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'address-city';
\set VERBOSITY terse
SELECT fhir.create_index('Patient', 'nosuch');
SELECT fhir.create_index('Nope', 'name');
\set VERBOSITY default
-- searching a parameter without its index is still correct
SELECT fhir.update('{"resourceType":"Patient","id":"ix1","address":[{"city":"Kraków"}]}') IS NOT NULL AS stored;
SELECT jsonb_path_query_array(fhir.search('Patient', 'address-city=krakow'), '$.entry[*].resource.id') AS found;
-- explain shows the SQL, parameters and the indexes used
SELECT e->'parameters' AS parameters, jsonb_typeof(e->'indexes') AS indexes, e->>'sql' LIKE '%search_string%' AS uses_side_table
  FROM fhir.explain('Patient', 'name=smi') e;
SELECT jsonb_typeof(e->'plan') AS plan, e->'sql' IS NOT NULL AS has_sql FROM fhir.explain('Observation', 'code=8867-4') e;
-- disabling a parameter: not extracted at write time, not searchable
SELECT fhir.set_search_param_enabled('Patient', 'address-city', false) AS needs_reindex;
SELECT e->'resource'->'issue'->0->>'diagnostics' AS ignored
  FROM jsonb_array_elements(fhir.search('Patient', 'address-city=krakow')->'entry') e WHERE e->'search'->>'mode' = 'outcome';
SELECT fhir.update('{"resourceType":"Patient","id":"ix2","address":[{"city":"Kraków"}]}') IS NOT NULL AS stored;
SELECT count(*) AS city_rows_for_ix2 FROM fhir.search_string s JOIN fhir.resource_patient p USING (rid)
 WHERE p.id = 'ix2' AND s.param = (SELECT id FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'address-city');
SELECT fhir.set_search_param_enabled('Patient', 'address-city', true) AS needs_reindex;
SELECT jsonb_path_query_array(fhir.search('Patient', 'address-city=krakow'), '$.entry[*].resource.id') AS before_reindex;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT jsonb_path_query_array(fhir.search('Patient', 'address-city=krakow&_sort=_id'), '$.entry[*].resource.id') AS after_reindex;
-- a custom SearchParameter, searchable after re-index
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"nickname","type":"string","base":["Patient"],
  "expression":"Patient.name.where(use=''nickname'').given"}');
SELECT fhir.update('{"resourceType":"Patient","id":"ix3","name":[{"use":"nickname","given":["Bobby"]},{"use":"official","given":["Robert"]}]}') IS NOT NULL AS stored;
SELECT jsonb_path_query_array(fhir.search('Patient', 'nickname=bob'), '$.entry[*].resource.id') AS by_nickname,
       jsonb_path_query_array(fhir.search('Patient', 'nickname=rob'), '$.entry[*].resource.id') AS not_official;
SELECT code, type, builtin, enabled FROM fhir.search_parameters WHERE code = 'nickname';
\set VERBOSITY terse
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"bad","type":"string","base":["Patient"],"expression":"Patient.name.("}');
