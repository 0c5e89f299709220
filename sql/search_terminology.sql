-- token :in / :not-in / :below / :above against stored ValueSets and CodeSystems, and _list
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource
 WHERE rtype IN ('Patient', 'Condition', 'ValueSet', 'CodeSystem', 'List');
CREATE FUNCTION pg_temp.ids(t text, q text) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '')
       FROM jsonb_array_elements(fhir.search(t, q, 'no-store')->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
-- A small code system (http://example.org/cs/conditions):
--   disorder > infection > viral > flu;  infection > bacterial;  disorder > cardiac (property parent)
--   injury > fracture (property child of injury)
SELECT fhir.load(E'{"resourceType":"CodeSystem","id":"t-cs","url":"http://example.org/cs/conditions","status":"active","content":"complete","concept":[{"code":"disorder","concept":[{"code":"infection","concept":[{"code":"viral","concept":[{"code":"flu"}]},{"code":"bacterial"}]}]},{"code":"cardiac","property":[{"code":"parent","valueCode":"disorder"}]},{"code":"injury","property":[{"code":"child","valueCode":"fracture"}]},{"code":"fracture"}]}\n'
                 '{"resourceType":"Patient","id":"t-p1","gender":"male"}\n'
                 '{"resourceType":"Patient","id":"t-p2","gender":"female"}\n'
                 '{"resourceType":"Patient","id":"t-p3"}\n'
                 '{"resourceType":"Condition","id":"t-c1","subject":{"reference":"Patient/t-p1"},"code":{"coding":[{"system":"http://example.org/cs/conditions","code":"flu"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c2","subject":{"reference":"Patient/t-p2"},"code":{"coding":[{"system":"http://example.org/cs/conditions","code":"bacterial"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c3","subject":{"reference":"Patient/t-p1"},"code":{"coding":[{"system":"http://example.org/cs/conditions","code":"fracture"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c4","subject":{"reference":"Patient/t-p2"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"123"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c5","subject":{"reference":"Patient/t-p3"}}\n'
                 '{"resourceType":"Condition","id":"t-c6","subject":{"reference":"Patient/t-p3"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"999"},{"system":"http://example.org/cs/conditions","code":"cardiac"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c7","subject":{"reference":"Patient/t-p1"},"code":{"coding":[{"system":"http://example.org/cs/conditions","code":"infection"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c8","subject":{"reference":"Patient/t-p2"},"code":{"coding":[{"system":"http://other.org/cs","code":"flu"}]}}\n') AS loaded;
SELECT fhir.load(E'{"resourceType":"ValueSet","id":"t-vs-list","url":"http://example.org/vs/list","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","concept":[{"code":"flu"}]},{"system":"http://snomed.info/sct","concept":[{"code":"123"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-system","url":"http://example.org/vs/system","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions"}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-isa","url":"http://example.org/vs/infections","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","filter":[{"property":"concept","op":"is-a","value":"infection"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-nested","url":"http://example.org/vs/nested","status":"active","compose":{"include":[{"valueSet":["http://example.org/vs/infections"]},{"system":"http://example.org/cs/conditions","concept":[{"code":"fracture"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-exclude","url":"http://example.org/vs/exclude","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions"}],"exclude":[{"system":"http://example.org/cs/conditions","filter":[{"property":"concept","op":"is-a","value":"viral"}]},{"valueSet":["http://example.org/vs/list"]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-expanded","url":"http://example.org/vs/expanded","status":"active","expansion":{"timestamp":"2024-01-01T00:00:00Z","total":3,"contains":[{"system":"http://example.org/cs/conditions","code":"disorder","abstract":true,"contains":[{"system":"http://example.org/cs/conditions","code":"bacterial"}]},{"system":"http://snomed.info/sct","code":"123"}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-gender","url":"http://example.org/vs/male","status":"active","compose":{"include":[{"system":"http://hl7.org/fhir/administrative-gender","concept":[{"code":"male"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-regex","url":"http://example.org/vs/regex","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","filter":[{"property":"concept","op":"regex","value":"f.*"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-no-cs","url":"http://example.org/vs/no-cs","status":"active","compose":{"include":[{"system":"http://loinc.org"}]}}\n'
                 '{"resourceType":"List","id":"t-l1","status":"current","mode":"working","entry":[{"item":{"reference":"Patient/t-p1"}},{"item":{"reference":"Patient/t-p3/_history/1"}},{"item":{"reference":"Condition/t-c2"}},{"item":{"reference":"Patient/t-p2"},"deleted":true}]}\n') AS loaded;
-- versioned ValueSets with one url: version 1 (flu), then version 2 (fracture), written later
SELECT fhir.update('{"resourceType":"ValueSet","id":"t-vs-v1","url":"http://example.org/vs/versioned","version":"1","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","concept":[{"code":"flu"}]}]}}') IS NOT NULL AS v1;
SELECT fhir.update('{"resourceType":"ValueSet","id":"t-vs-v2","url":"http://example.org/vs/versioned","version":"2","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","concept":[{"code":"fracture"}]}]}}') IS NOT NULL AS v2;
-- :in by concept list, whole system, is-a filter, nested include.valueSet, exclude, stored expansion, ValueSet/id
SELECT pg_temp.ids('Condition', 'code:in=http://example.org/vs/list') AS concept_list,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/system') AS whole_system,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/infections') AS is_a,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/nested') AS nested,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/exclude') AS exclude,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/expanded') AS expansion,
       pg_temp.ids('Condition', 'code:in=ValueSet/t-vs-isa') AS by_id;
-- versions: url|version picks one, a bare url the most recently updated
SELECT pg_temp.ids('Condition', 'code:in=http://example.org/vs/versioned|1') AS version_1,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/versioned|2') AS version_2,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/versioned') AS newest;
-- comma = OR of value sets; AND with other parameters; :in inside a chain
SELECT pg_temp.ids('Condition', 'code:in=http://example.org/vs/list,http://example.org/vs/expanded') AS either,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/system&subject=Patient/t-p1') AS with_subject,
       pg_temp.ids('Condition', 'code:in=http://example.org/vs/system&code:in=http://example.org/vs/nested') AS both_sets,
       pg_temp.ids('Patient', '_has:Condition:subject:code:in=http://example.org/vs/infections') AS has_chain;
-- :not-in is NOT of :in, like :not: a resource without a code (t-c5) matches, and so
-- does t-c6, whose cardiac coding is outside the set even though it has another coding
SELECT pg_temp.ids('Condition', 'code:not-in=http://example.org/vs/infections') AS not_in,
       pg_temp.ids('Condition', 'code:not=http://example.org/cs/conditions|flu') AS not_for_comparison,
       pg_temp.ids('Condition', 'code:not-in=http://example.org/vs/list,http://example.org/vs/expanded') AS not_in_either;
-- a primitive code (Patient.gender) has no system in the resource: it matches the value set's code
SELECT pg_temp.ids('Patient', 'gender:in=http://example.org/vs/male') AS male,
       pg_temp.ids('Patient', 'gender:not-in=http://example.org/vs/male') AS not_male_or_no_gender;
-- subsumption: :below = the code and its descendants, :above = the code and its ancestors
SELECT pg_temp.ids('Condition', 'code:below=http://example.org/cs/conditions|infection') AS below_infection,
       pg_temp.ids('Condition', 'code:below=http://example.org/cs/conditions|disorder') AS below_disorder,
       pg_temp.ids('Condition', 'code:below=http://example.org/cs/conditions|injury') AS below_injury,
       pg_temp.ids('Condition', 'code:above=http://example.org/cs/conditions|flu') AS above_flu,
       pg_temp.ids('Condition', 'code:below=http://example.org/cs/conditions|flu,http://example.org/cs/conditions|fracture') AS either_below;
-- the expansion is bound as one array of hashes (system|code and code-only forms) that the GIN index answers
SELECT e->>'sql' LIKE '%(r.tokens && $1::bigint[])%' AS gin_condition,
       jsonb_array_length((e->'parameters'->>0)::jsonb) AS hashes,
       (e->'parameters'->>0)::jsonb @> to_jsonb(ARRAY[fhir.token_hash(p.id, 2, 'http://example.org/cs/conditions|flu')]) AS has_flu_hash,
       (e->'parameters'->>0)::jsonb @> to_jsonb(ARRAY[fhir.token_hash(p.id, 2, 'http://example.org/cs/conditions|fracture')]) AS has_fracture_hash
  FROM fhir.explain('Condition', 'code:in=http://example.org/vs/infections') e,
       fhir.search_parameters p WHERE p.resource_type = 'Condition' AND p.code = 'code';
-- more than 64 hashes: fhir.tokens_overlap instead of && (same matches; the GIN index still answers it)
SELECT fhir.update(jsonb_build_object('resourceType', 'ValueSet', 'id', 't-vs-big', 'url', 'http://example.org/vs/big', 'status', 'active',
         'compose', jsonb_build_object('include', jsonb_build_array(jsonb_build_object('system', 'http://example.org/cs/conditions',
           'concept', (SELECT jsonb_agg(jsonb_build_object('code', c)) FROM unnest(ARRAY['flu', 'bacterial'] || ARRAY(SELECT 'filler-' || i FROM generate_series(1, 40) i)) c))))))
       IS NOT NULL AS big_value_set;
SELECT pg_temp.ids('Condition', 'code:in=http://example.org/vs/big') AS big_in, pg_temp.ids('Condition', 'code:not-in=http://example.org/vs/big') AS big_not_in;
SET enable_seqscan = off;
SET enable_indexscan = off;
SELECT e->>'sql' LIKE '%(fhir.tokens_overlap(r.tokens, $1::bigint[]))%' AS function_condition,
       jsonb_array_length((e->'parameters'->>0)::jsonb) AS hashes, e->'indexes' AS indexes
  FROM fhir.explain('Condition', 'code:in=http://example.org/vs/big') e;
RESET enable_seqscan;
RESET enable_indexscan;
SELECT a, b, fhir.tokens_overlap(a, b) AS overlap_fn, a && b AS overlap_op
  FROM (VALUES ('{1,2,3}'::bigint[], '{9,3}'::bigint[]), ('{1,2}', '{}'), ('{}', '{1}'), ('{1,NULL}', '{NULL,1}'),
               ('{NULL}', '{NULL}'), ('{5}', '{7,6,5}')) v(a, b);
-- _list: the searched type's resources on the List (deleted entries left out), List/id form,
-- unknown List = no matches, combined with other parameters, in a chain, system-level
SELECT pg_temp.ids('Patient', '_list=t-l1') AS patients, pg_temp.ids('Patient', '_list=List/t-l1') AS list_form,
       pg_temp.ids('Condition', '_list=t-l1') AS conditions, pg_temp.ids('Patient', '_list=no-such-list') AS unknown,
       pg_temp.ids('Patient', '_list=t-l1&gender=male') AS with_gender,
       pg_temp.ids('Condition', 'subject:Patient._list=t-l1') AS chained;
SELECT string_agg(e->'resource'->>'resourceType' || '/' || (e->'resource'->>'id'), ',' ORDER BY e->'resource'->>'id') AS system_level
  FROM jsonb_array_elements(fhir.search(NULL, '_type=Patient,Condition&_list=t-l1', 'no-store')->'entry') e;
-- conditional references resolve through the same path
SELECT fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Condition","id":"t-c9","subject":{"reference":"Patient?_list=t-l1&gender:in=http://example.org/vs/male"}},"request":{"method":"PUT","url":"Condition/t-c9"}}]}') IS NOT NULL AS transaction_done;
SELECT fhir.read('Condition', 't-c9')->'subject'->>'reference' AS resolved_subject;
-- the result cache depends on the ValueSets and Lists a search names: changing one makes the cached search stale
SELECT jsonb_path_query_array(fhir.search('Condition', 'code:in=http://example.org/vs/list'), '$.entry[*].resource.id') AS cached, fhir.last_search()->>'cache' AS first;
SELECT jsonb_path_query_array(fhir.search('Condition', 'code:in=http://example.org/vs/list'), '$.entry[*].resource.id') AS cached, fhir.last_search()->>'cache' AS second;
-- the value set now lists flu and fracture (no longer snomed 123)
SELECT fhir.update('{"resourceType":"ValueSet","id":"t-vs-list","url":"http://example.org/vs/list","status":"active","compose":{"include":[{"system":"http://example.org/cs/conditions","concept":[{"code":"flu"},{"code":"fracture"}]}]}}') IS NOT NULL AS value_set_changed;
SELECT jsonb_path_query_array(fhir.search('Condition', 'code:in=http://example.org/vs/list'), '$.entry[*].resource.id') AS after_change, fhir.last_search()->>'cache' AS cache;
SELECT fhir.search('Patient', '_list=t-l1') IS NOT NULL AS s, fhir.last_search()->>'cache' AS list_first;
SELECT fhir.update('{"resourceType":"List","id":"t-l1","status":"current","mode":"working","entry":[{"item":{"reference":"Patient/t-p2"}}]}') IS NOT NULL AS list_changed;
SELECT jsonb_path_query_array(fhir.search('Patient', '_list=t-l1'), '$.entry[*].resource.id') AS after_list_change, fhir.last_search()->>'cache' AS list_after_change;
-- errors name the url, filter or code
\set VERBOSITY terse
SELECT fhir.search('Condition', 'code:in=http://example.org/vs/unknown');
SELECT fhir.search('Condition', 'code:in=http://example.org/vs/versioned|3');
SELECT fhir.search('Condition', 'code:in=http://example.org/vs/regex');
SELECT fhir.search('Condition', 'code:not-in=http://example.org/vs/no-cs');
SELECT fhir.search('Condition', 'code:below=flu');
SELECT fhir.search('Condition', 'code:below=http://snomed.info/sct|123');
SELECT fhir.search('Condition', 'code:above=http://example.org/cs/conditions|unicorn');
SELECT fhir.search('Patient', '_list=$current-allergies');
SELECT fhir.search('Patient', '_list=Group/x');
DO $$ BEGIN PERFORM fhir.search('Condition', 'code:in=http://example.org/vs/unknown');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'unknown value set: %', SQLSTATE; END $$;
DO $$ BEGIN PERFORM fhir.search('Condition', 'code:in=http://example.org/vs/regex');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'unsupported filter: %', SQLSTATE; END $$;
DO $$ BEGIN PERFORM fhir.search('Patient', '_list=$current-allergies');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'functional list: %', SQLSTATE; END $$;
-- many searches and errors through the terminology path leave memory flat
CREATE FUNCTION pg_temp.churn(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE caught integer := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            IF i % 2 = 0 THEN PERFORM fhir.search('Condition', 'code:in=http://example.org/vs/exclude', 'no-store');
            ELSE PERFORM fhir.search('Condition', 'code:in=http://example.org/vs/regex', 'no-store'); END IF;
        EXCEPTION WHEN OTHERS THEN caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END $$;
SELECT pg_temp.churn(200) AS warmed_up;
CREATE TEMP TABLE mem_before AS SELECT * FROM fhir.memory_usage();
SELECT pg_temp.churn(2000) AS errors_caught;
SELECT (a.context_bytes - b.context_bytes) < 1024 * 1024 AS contexts_flat,
       (a.malloc_bytes - b.malloc_bytes) < 1024 * 1024 AS cpp_heap_flat
  FROM mem_before b, fhir.memory_usage() a;
-- filters on other properties than the concept: =, in, not-in and exists over the
-- concepts' property values (a boolean, an integer); not-in keeps codes without the property
SELECT fhir.load(E'{"resourceType":"CodeSystem","id":"t-cs-sev","url":"http://example.org/cs/severity","status":"active","content":"complete","property":[{"code":"acute","type":"boolean"},{"code":"grade","type":"integer"}],"concept":[{"code":"mild","display":"Mild","property":[{"code":"acute","valueBoolean":false},{"code":"grade","valueInteger":1}]},{"code":"severe","display":"Severe","property":[{"code":"acute","valueBoolean":true},{"code":"grade","valueInteger":3}]},{"code":"unknown"}]}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-acute","url":"http://example.org/vs/acute","status":"active","compose":{"include":[{"system":"http://example.org/cs/severity","filter":[{"property":"acute","op":"=","value":"true"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-graded","url":"http://example.org/vs/graded","status":"active","compose":{"include":[{"system":"http://example.org/cs/severity","filter":[{"property":"grade","op":"exists","value":"true"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-grade","url":"http://example.org/vs/not-grade-1-2","status":"active","compose":{"include":[{"system":"http://example.org/cs/severity","filter":[{"property":"grade","op":"not-in","value":"1,2"}]}]}}\n'
                 '{"resourceType":"ValueSet","id":"t-vs-display","url":"http://example.org/vs/display-mild","status":"active","compose":{"include":[{"system":"http://example.org/cs/severity","filter":[{"property":"display","op":"in","value":"Mild,Moderate"}]}]}}\n'
                 '{"resourceType":"Condition","id":"t-c9","subject":{"reference":"Patient/t-p1"},"severity":{"coding":[{"system":"http://example.org/cs/severity","code":"severe"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c10","subject":{"reference":"Patient/t-p2"},"severity":{"coding":[{"system":"http://example.org/cs/severity","code":"mild"}]}}\n'
                 '{"resourceType":"Condition","id":"t-c11","subject":{"reference":"Patient/t-p3"},"severity":{"coding":[{"system":"http://example.org/cs/severity","code":"unknown"}]}}\n') AS loaded;
SELECT pg_temp.ids('Condition', 'severity:in=http://example.org/vs/acute') AS acute,
       pg_temp.ids('Condition', 'severity:in=http://example.org/vs/graded') AS graded,
       pg_temp.ids('Condition', 'severity:in=http://example.org/vs/not-grade-1-2') AS not_grade_1_2,
       pg_temp.ids('Condition', 'severity:in=http://example.org/vs/display-mild') AS display_mild;
