-- A custom SearchParameter with the code of a built-in one replaces that built-in on
-- its bases (as HAPI lets a SearchParameter resource do); fhir.drop_search_param goes
-- back. Writes use the definition in force at once; resources stored before keep the
-- values of the previous definition until fhir.reindex(type).
CREATE FUNCTION pg_temp.ids(type text, query text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT coalesce(jsonb_agg(e->'resource'->>'id' ORDER BY e->'resource'->>'id'), '[]')
    FROM jsonb_array_elements(fhir.search(type, query || '&_count=100')->'entry') e
   WHERE e->'search'->>'mode' = 'match'
$$;
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
SELECT id AS family_id FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'family' \gset

-- Patients with an official and a maiden family name; a Practitioner alike
SELECT count(fhir.update(r)) AS stored FROM (VALUES
  ('{"resourceType":"Patient","id":"ov-p1","name":[{"use":"official","family":"Quenby"},{"use":"maiden","family":"Vantongeren"}]}'::jsonb),
  ('{"resourceType":"Patient","id":"ov-p2","name":[{"use":"official","family":"Vantongeren"}]}'),
  ('{"resourceType":"Practitioner","id":"ov-dr1","name":[{"use":"official","family":"Quenby"},{"use":"maiden","family":"Vantongeren"}]}')
) v(r);
-- the built-in family: every name's family
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS builtin_vantongeren, pg_temp.ids('Patient', 'family=quenby') AS builtin_quenby;

-- override Patient family: the official name only. Same id, the override's expression.
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","url":"http://example.org/SearchParameter/official-family",
  "code":"family","type":"string","base":["Patient"],"expression":"Patient.name.where(use=''official'').family"}');
SELECT id = :family_id AS same_id, type, expression, builtin, overridden, enabled, indexed
  FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'family';
-- ...on Patient only: Practitioner's family (the same R4 SearchParameter) is the built-in
SELECT resource_type, expression, overridden FROM fhir.search_parameters
 WHERE code = 'family' ORDER BY resource_type;
SELECT definition->>'url' AS stored_url, enabled FROM fhir.search_param_override WHERE id = :family_id;
-- stored resources keep the built-in's values until re-indexed ...
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS before_reindex;
-- ... a write extracts with the override at once: ov-p3's maiden name is not its family
SELECT fhir.update('{"resourceType":"Patient","id":"ov-p3","name":[{"use":"official","family":"Quenby"},{"use":"maiden","family":"Vantongeren"}]}') IS NOT NULL AS stored;
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS after_write, pg_temp.ids('Patient', 'family=quenby') AS quenby_after_write;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS after_reindex, pg_temp.ids('Patient', 'family=quenby') AS quenby_after_reindex;
-- modifiers, sorting and chains use the override too; the Practitioner does not
SELECT pg_temp.ids('Patient', 'family:exact=Vantongeren') AS exact, pg_temp.ids('Patient', 'family:contains=tonge') AS contains;
SELECT jsonb_path_query_array(fhir.search('Patient', '_id=ov-p1,ov-p2,ov-p3&_sort=-family,_id'), '$.entry[*].resource.id') AS sorted_by_official_family;
SELECT pg_temp.ids('Practitioner', 'family=vantongeren') AS practitioner_builtin;
-- the install's family index (same id, same type) still serves it
SELECT e->'indexes' AS indexes FROM fhir.explain('Patient', 'family=vantongeren') e;
-- the CapabilityStatement lists family once, with the override's type
SELECT count(*) AS listed, min(p->>'type') AS type
  FROM jsonb_array_elements(fhir.capability_statement()->'rest'->0->'resource') r,
       jsonb_array_elements(r->'searchParam') p
 WHERE r->>'type' = 'Patient' AND p->>'name' = 'family';
-- a cached search does not outlive a registry change (below: MISS after the drop)
SELECT pg_temp.ids('Patient', 'family=quenby') IS NOT NULL AS searched, fhir.last_search()->>'cache' AS cache;

-- back to the built-in: its definition is in force at once, stored values follow at reindex
SELECT fhir.drop_search_param('Patient', 'family');
SELECT pg_temp.ids('Patient', 'family=quenby') IS NOT NULL AS searched, fhir.last_search()->>'cache' AS cache_after_drop;
SELECT id = :family_id AS same_id, expression, builtin, overridden FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'family';
SELECT definition IS NULL AS no_definition, enabled FROM fhir.search_param_override WHERE id = :family_id;
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS before_reindex;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS after_reindex;
SELECT to_regclass('fhir.search_string_p' || :family_id || '_asc_idx') IS NOT NULL AS family_index_kept;

-- in a transaction the override is in force from the next statement on, and a
-- rollback takes it back with the write
BEGIN;
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"family","type":"string","base":["Patient"],"expression":"Patient.name.given"}') IS NOT NULL AS added;
SELECT fhir.update('{"resourceType":"Patient","id":"ov-p5","name":[{"family":"Quenby","given":["Vantongeren"]}]}') IS NOT NULL AS stored;
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS in_transaction;
ROLLBACK;
SELECT overridden, expression FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'family';
SELECT pg_temp.ids('Patient', 'family=vantongeren') AS after_rollback, fhir.read('Patient', 'ov-p5') IS NULL AS not_stored;

-- one SearchParameter over two bases of a multi-base built-in (R4 clinical-code):
-- Observation and Condition take the LOINC codings only, Procedure keeps the built-in
SELECT count(fhir.update(r)) AS stored FROM (VALUES
  ('{"resourceType":"Observation","id":"ov-o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"ov-1"},{"system":"http://snomed.info/sct","code":"ov-9"}]},"valueQuantity":{"value":7,"unit":"s","system":"http://unitsofmeasure.org","code":"s"}}'::jsonb),
  ('{"resourceType":"Condition","id":"ov-c1","subject":{"reference":"Patient/ov-p1"},"code":{"coding":[{"system":"http://loinc.org","code":"ov-1"},{"system":"http://snomed.info/sct","code":"ov-9"}]}}'),
  ('{"resourceType":"Procedure","id":"ov-pr1","status":"completed","subject":{"reference":"Patient/ov-p1"},"code":{"coding":[{"system":"http://loinc.org","code":"ov-1"},{"system":"http://snomed.info/sct","code":"ov-9"}]}}')
) v(r);
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","url":"http://example.org/SearchParameter/loinc-code",
  "code":"code","type":"token","base":["Observation","Condition"],"expression":"code.coding.where(system=''http://loinc.org'')"}');
SELECT resource_type, overridden, expression FROM fhir.search_parameters
 WHERE code = 'code' AND resource_type IN ('Observation', 'Condition', 'Procedure') ORDER BY resource_type;
SELECT fhir.reindex('Observation') > 0 AND fhir.reindex('Condition') > 0 AS reindexed;
SELECT pg_temp.ids('Observation', 'code=ov-9') AS observation_snomed, pg_temp.ids('Observation', 'code=http://loinc.org|ov-1') AS observation_loinc,
       pg_temp.ids('Condition', 'code=ov-9') AS condition_snomed, pg_temp.ids('Procedure', 'code=ov-9') AS procedure_snomed;
-- a built-in composite naming clinical-code as a component keeps its own definition
SELECT pg_temp.ids('Observation', 'code-value-quantity=http://snomed.info/sct|ov-9$gt5') AS composite_snomed;
-- _has and chains through the overridden parameter
SELECT pg_temp.ids('Patient', '_has:Condition:subject:code=ov-9') AS has_snomed, pg_temp.ids('Patient', '_has:Condition:subject:code=ov-1') AS has_loinc;
SELECT fhir.drop_search_param('Observation', 'code'), fhir.drop_search_param('Condition', 'code');
SELECT fhir.reindex('Observation') > 0 AND fhir.reindex('Condition') > 0 AS reindexed;
SELECT pg_temp.ids('Observation', 'code=ov-9') AS observation_snomed, pg_temp.ids('Condition', 'code=ov-9') AS condition_snomed;

-- an override of another type: Patient gender as a string (prefix search); the
-- indexes of the new type are made on demand and go with the override
SELECT id AS gender_id FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'gender' \gset
SELECT fhir.update('{"resourceType":"Patient","id":"ov-p4","gender":"female","name":[{"family":"Overridda"}]}') IS NOT NULL AS stored;
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"gender","type":"string","base":["Patient"],"expression":"Patient.gender"}');
SELECT type, index_names, indexed FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'gender';
SELECT fhir.create_index('Patient', 'gender');
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT pg_temp.ids('Patient', 'gender=fem&family=overridda') AS string_prefix;
SELECT fhir.drop_search_param('Patient', 'gender');
SELECT to_regclass('fhir.search_string_p' || :gender_id || '_asc_idx') IS NULL AS string_index_dropped,
       to_regclass('fhir.resource_patient_tokens_idx') IS NOT NULL AS gin_kept;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT pg_temp.ids('Patient', 'gender=female&family=overridda') AS token_again, pg_temp.ids('Patient', 'gender=fem&family=overridda') AS no_prefix;

-- a custom parameter is removed with its own indexes; it is then unknown
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"ov-official","type":"string","base":["Patient"],
  "expression":"Patient.name.where(use=''official'').family"}');
SELECT id AS custom_id FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'ov-official' \gset
SELECT fhir.create_index('Patient', 'ov-official');
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT pg_temp.ids('Patient', 'ov-official=quenby') AS custom_found;
SELECT fhir.drop_search_param('Patient', 'ov-official');
SELECT count(*) AS rows_left FROM fhir.search_param_override WHERE id = :custom_id;
SELECT to_regclass('fhir.search_string_p' || :custom_id || '_asc_idx') IS NULL AS index_dropped;
SELECT e->'resource'->'issue'->0->>'diagnostics' AS now_unknown
  FROM jsonb_array_elements(fhir.search('Patient', 'ov-official=quenby')->'entry') e WHERE e->'search'->>'mode' = 'outcome';
-- a new custom parameter never reuses its id
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"ov-official","type":"string","base":["Patient"],"expression":"Patient.name.family"}');
SELECT id > :custom_id AS fresh_id FROM fhir.search_parameters WHERE resource_type = 'Patient' AND code = 'ov-official';
SELECT fhir.drop_search_param('Patient', 'ov-official');

-- bad input: 22023 (42704 for unknown types and codes) with an OperationOutcome; nothing changes
SELECT pg_temp.err($$SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"_id","type":"token","base":["Patient"],"expression":"Patient.id"}')$$);
SELECT pg_temp.err($$SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"_lastUpdated","type":"date","base":["Patient"],"expression":"Patient.meta.lastUpdated"}')$$);
SELECT pg_temp.err($$SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"_text","type":"string","base":["Patient"],"expression":"Patient.text.div"}')$$);
-- a bad base anywhere in the list: no base is changed
SELECT pg_temp.err($$SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"family","type":"string","base":["Patient","Practitioner","Doctor"],"expression":"name.given"}')$$);
SELECT resource_type, overridden FROM fhir.search_parameters WHERE code = 'family' ORDER BY resource_type;
SELECT pg_temp.err($$SELECT fhir.drop_search_param('Patient', 'birthdate')$$);
SELECT pg_temp.err($$SELECT fhir.drop_search_param('Patient', 'no-such-param')$$);
SELECT pg_temp.err($$SELECT fhir.drop_search_param('Doctor', 'family')$$);
-- nothing of this suite is left in the registry
SELECT count(*) AS definitions_left FROM fhir.search_param_override
 WHERE definition IS NOT NULL AND (code LIKE 'ov-%' OR code IN ('family', 'code', 'gender'));
