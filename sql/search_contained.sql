-- _contained / _containedType: contained resources are indexed under their own
-- type with their container; _contained=false (default) searches top-level
-- resources only, true contained ones only, both both; _containedType=container
-- (default) returns each matching contained resource's container once,
-- contained returns the contained resource with fullUrl <container>#<local id>
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource
 WHERE rtype IN ('Medication', 'MedicationRequest', 'Practitioner', 'Observation', 'Patient');
SELECT fhir.update('{"resourceType":"Medication","id":"med-top","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049221"}]}}') IS NOT NULL AS top_medication,
       fhir.update('{"resourceType":"Practitioner","id":"prac-top","name":[{"family":"Inside"}]}') IS NOT NULL AS top_practitioner;
SELECT fhir.update('{"resourceType":"MedicationRequest","id":"mrc1","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049221","display":"Acetaminophen 325 MG"}]},"status":"active"},
               {"resourceType":"Practitioner","id":"prac1","name":[{"family":"Inside","given":["Ann"]}]}],
  "medicationReference":{"reference":"#med1"},"requester":{"reference":"#prac1"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS mrc1,
       fhir.update('{"resourceType":"MedicationRequest","id":"mrc2","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"197361"}]},"status":"active"}],
  "medicationReference":{"reference":"#med1"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS mrc2,
       fhir.update('{"resourceType":"Observation","id":"obsc1","status":"final","code":{"text":"weight"},
  "contained":[{"resourceType":"Patient","id":"pat","name":[{"family":"Inside"}],"birthDate":"1970-05-01"}],
  "subject":{"reference":"#pat"}}') IS NOT NULL AS obsc1;
-- contained entries that cannot be indexed are stored with the container, not searchable:
-- no id, an unknown type, a bad id, a second use of a local id, a non-object (invalid
-- R4 on purpose: stored with validation off)
SET fhir_search.validation = off;
SELECT fhir.update('{"resourceType":"MedicationRequest","id":"mrc3","status":"draft","intent":"order",
  "contained":[{"resourceType":"Medication","status":"active"},{"resourceType":"Pill","id":"x"},
               {"resourceType":"Medication","id":"bad id!","status":"active"},
               {"resourceType":"Medication","id":"a","status":"active"},{"resourceType":"Medication","id":"b","status":"inactive"},
               {"resourceType":"Medication","id":"a","status":"entered-in-error"}, 42],
  "subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS mrc3;
RESET fhir_search.validation;
SELECT container_type || '/' || container_id AS container, rtype, id, content->>'status' AS status, cardinality(tokens) > 0 AS has_tokens
  FROM fhir.contained_resource ORDER BY rid;
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg((e->>'fullUrl') || '=' || (e->'resource'->>'resourceType') || '/' || (e->'resource'->>'id'), ' ' ORDER BY n), '')
       FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS
  $$ SELECT substring(l->>'url' FROM '\?(.*)$') FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
-- false (the default) sees top-level resources only
SELECT pg_temp.entries(fhir.search('Medication', 'code=1049221')) AS default_false,
       pg_temp.entries(fhir.search('Medication', 'code=1049221&_contained=false')) AS explicit_false;
-- true: the container of the matching contained Medication, or the Medication itself
SELECT pg_temp.entries(fhir.search('Medication', 'code=1049221&_contained=true')) AS true_container,
       pg_temp.entries(fhir.search('Medication', 'code=1049221&_contained=true&_containedType=contained')) AS true_contained;
SELECT b->'entry'->0 AS contained_entry FROM fhir.search('Medication', 'code=1049221&_contained=true&_containedType=contained') b;
-- both: top-level and contained matches
SELECT pg_temp.entries(fhir.search('Medication', 'code=1049221&_contained=both')) AS both_container,
       pg_temp.entries(fhir.search('Medication', 'code=1049221&_contained=both&_containedType=contained')) AS both_contained;
-- a container holding several matches appears once; the contained ones each
SELECT pg_temp.entries(fhir.search('Medication', 'status=active,inactive&_contained=true')) AS containers,
       pg_temp.entries(fhir.search('Medication', 'status=active,inactive&_contained=true&_containedType=contained')) AS contained;
-- another resource type as container (Observation holding a Patient), string and date parameters, _id
-- top-level only (the default) with one side-table condition: the page starts from the
-- side rows' rids, which include contained resources' (they must not show)
SELECT pg_temp.entries(fhir.search('Practitioner', 'name=inside')) AS top_level_practitioners,
       pg_temp.entries(fhir.search('Patient', 'family=inside')) AS top_level_patients,
       fhir.search('Patient', 'birthdate=1970')->'total' AS top_level_born_1970;
SELECT pg_temp.entries(fhir.search('Patient', 'family=inside&birthdate=1970&_contained=true')) AS patient_container,
       pg_temp.entries(fhir.search('Patient', 'family=inside&_contained=both&_containedType=contained')) AS patients,
       pg_temp.entries(fhir.search('Practitioner', 'name=inside&_contained=both')) AS practitioners,
       pg_temp.entries(fhir.search('Medication', '_id=med1&_contained=true&_containedType=contained')) AS by_local_id;
-- a forward chain from contained resources to top-level ones
SELECT fhir.update('{"resourceType":"Patient","id":"pc1","name":[{"family":"Chained"}]}') IS NOT NULL AS patient,
       fhir.update('{"resourceType":"Observation","id":"obsc2","status":"final","code":{"text":"x"},
  "contained":[{"resourceType":"Observation","id":"inner","status":"final","code":{"text":"y"},"subject":{"reference":"Patient/pc1"}}]}') IS NOT NULL AS obsc2;
SELECT pg_temp.entries(fhir.search('Observation', 'subject:Patient.name=chained&_contained=true&_containedType=contained')) AS chained;
-- sorting: any key over contained resources; _id and _lastUpdated over containers
SELECT pg_temp.entries(fhir.search('Medication', '_contained=true&_containedType=contained&_sort=-code,_id')) AS by_code_desc,
       pg_temp.entries(fhir.search('Medication', '_contained=both&_containedType=contained&_sort=-_id')) AS by_local_id_desc,
       pg_temp.entries(fhir.search('Medication', '_contained=true&_sort=-_id')) AS containers_by_id_desc;
-- paging with next/previous links, _total and _summary=count
CREATE TEMP TABLE contained_pages (n int, query text, entries text, total text);
DO $$
DECLARE q text := 'status=active,inactive&_contained=both&_containedType=contained&_count=2&_total=accurate&_sort=_id'; b jsonb; i int := 0;
BEGIN
  PERFORM fhir.update('{"resourceType":"Medication","id":"med-top-2","status":"active"}');
  LOOP
    i := i + 1;
    b := fhir.search('Medication', q);
    INSERT INTO contained_pages VALUES (i, q, pg_temp.entries(b), b->>'total');
    q := pg_temp.link(b, 'next');
    EXIT WHEN q IS NULL OR i > 10;
  END LOOP;
END $$;
SELECT n, entries, total FROM contained_pages ORDER BY n;
SELECT pg_temp.entries(fhir.search('Medication', pg_temp.link(fhir.search('Medication', query), 'previous'))) AS previous_of_page_3
  FROM contained_pages WHERE n = 3;
SELECT b->>'total' AS count_only, b ? 'entry' AS has_entries
  FROM fhir.search('Medication', 'status=active&_contained=true&_summary=count') b;
SELECT (fhir.search('Medication', '_contained=true&_total=estimated')->>'total')::int >= 0 AS estimated;
-- _elements projects the contained resource
SELECT b->'entry'->0->'resource' AS projected
  FROM fhir.search('Medication', 'code=197361&_contained=true&_containedType=contained&_elements=code') b;
-- an update that drops a contained resource: it is no longer found, and nothing of it is left
SELECT fhir.update('{"resourceType":"MedicationRequest","id":"mrc1","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049221"}]}}],
  "medicationReference":{"reference":"#med1"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS updated;
SELECT pg_temp.entries(fhir.search('Practitioner', 'name=inside&_contained=both&_containedType=contained')) AS practitioners_after_update,
       pg_temp.entries(fhir.search('Medication', 'status=active&_contained=true')) AS active_after_update;
CREATE FUNCTION pg_temp.orphans() RETURNS bigint LANGUAGE sql AS $$
  WITH live AS (SELECT rid FROM fhir.resource UNION ALL SELECT rid FROM fhir.contained_resource)
  SELECT (SELECT count(*) FROM fhir.contained_resource c WHERE NOT EXISTS (SELECT 1 FROM fhir.resource r WHERE r.rid = c.container_rid))
       + (SELECT count(*) FROM fhir.search_string s WHERE s.rid NOT IN (SELECT rid FROM live))
       + (SELECT count(*) FROM fhir.search_date s WHERE s.rid NOT IN (SELECT rid FROM live))
       + (SELECT count(*) FROM fhir.search_number s WHERE s.rid NOT IN (SELECT rid FROM live))
       + (SELECT count(*) FROM fhir.search_quantity s WHERE s.rid NOT IN (SELECT rid FROM live))
       + (SELECT count(*) FROM fhir.search_reference s WHERE s.rid NOT IN (SELECT rid FROM live)) $$;
SELECT pg_temp.orphans() AS orphans_after_update,
       (SELECT count(*) FROM fhir.contained_resource WHERE container_id = 'mrc1') AS mrc1_contained;
-- deleting the container removes its contained resources and their search values
SELECT fhir.delete('MedicationRequest', 'mrc2') AS deleted;
SELECT pg_temp.entries(fhir.search('Medication', 'code=197361&_contained=true')) AS after_delete,
       pg_temp.orphans() AS orphans_after_delete,
       (SELECT count(*) FROM fhir.contained_resource WHERE container_id = 'mrc2') AS mrc2_contained;
-- bulk load and transactions index contained resources too; reindex keeps them
SELECT fhir.load(E'{"resourceType":"MedicationRequest","id":"mrc4","status":"active","intent":"order","contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"bulk-1"}]}}],"medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}\n'
                 '{"resourceType":"MedicationRequest","id":"mrc5","status":"active","intent":"order","medicationCodeableConcept":{"text":"none contained"},"subject":{"reference":"Patient/pc1"}}\n') AS loaded;
SELECT jsonb_path_query_array(fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"MedicationRequest/mrc6"},
  "resource":{"resourceType":"MedicationRequest","id":"mrc6","status":"active","intent":"order","contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"bulk-1"}]}}],"medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}}]}'),
  '$.entry[*].response.status') AS transaction;
SELECT pg_temp.entries(fhir.search('Medication', 'code=bulk-1&_contained=true&_containedType=contained')) AS loaded_contained;
SELECT fhir.reindex('Medication') AS reindexed_top_level,
       pg_temp.entries(fhir.search('Medication', 'code=bulk-1&_contained=true&_containedType=contained')) AS after_reindex,
       pg_temp.orphans() AS orphans_after_reindex;
-- chains follow local "#id" references into the contained resources of the same
-- container (R4 evaluates chains inside contained resources) and still reach
-- top-level targets, so one result mixes both. chn-mr2 also references "#med1",
-- but its own med1 has another code; chn-mr3 holds a matching Medication that it
-- does not reference as its medication
SELECT fhir.update('{"resourceType":"Medication","id":"chn-med","code":{"coding":[{"code":"chain-1"}]}}') IS NOT NULL AS chn_med,
       fhir.update('{"resourceType":"Practitioner","id":"chn-prac","name":[{"family":"Chainer"}]}') IS NOT NULL AS chn_prac,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mr1","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"code":"chain-1"}]}},
               {"resourceType":"Practitioner","id":"prac1","name":[{"family":"Chainer","given":["Local"]}]}],
  "medicationReference":{"reference":"#med1"},"requester":{"reference":"#prac1"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mr1,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mr2","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"code":"chain-2"}]}}],
  "medicationReference":{"reference":"#med1"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mr2,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mrt","status":"active","intent":"order",
  "medicationReference":{"reference":"Medication/chn-med"},"requester":{"reference":"Practitioner/chn-prac"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mrt,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mr3","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"m-a","code":{"coding":[{"code":"chain-1"}]}},
               {"resourceType":"Medication","id":"m-b","code":{"coding":[{"code":"chain-3"}]}}],
  "medicationReference":{"reference":"#m-b"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mr3;
SELECT pg_temp.entries(fhir.search('MedicationRequest', 'medication.code=chain-1')) AS contained_and_top_level,
       pg_temp.entries(fhir.search('MedicationRequest', 'medication.code=chain-2')) AS own_med1_only,
       pg_temp.entries(fhir.search('MedicationRequest', 'medication.code=chain-3')) AS referenced_one,
       pg_temp.entries(fhir.search('MedicationRequest', 'medication.code=chain-2,chain-3')) AS either;
SELECT pg_temp.entries(fhir.search('MedicationRequest', 'requester:Practitioner.name=chainer')) AS requesters,
       pg_temp.entries(fhir.search('MedicationRequest', 'requester:Practitioner.name=chainer&medication.code=chain-1&status=active')) AS both_chains,
       pg_temp.entries(fhir.search('Observation', 'subject:Patient.name=inside&status=final')) AS contained_subject,
       pg_temp.entries(fhir.search('Observation', 'patient.birthdate=1970')) AS contained_patient;
-- paging and counting a mixed result
SELECT pg_temp.entries(b) AS page_1, b->>'total' AS total,
       pg_temp.entries(fhir.search('MedicationRequest', pg_temp.link(b, 'next'))) AS page_2
  FROM fhir.search('MedicationRequest', 'medication.code=chain-1&_count=1&_total=accurate') b;
-- two levels: the Medication (contained or top-level) and its manufacturer (a
-- sibling contained in the same container, or a top-level Organization)
SELECT fhir.update('{"resourceType":"Organization","id":"org-acme","name":"Acme Top"}') IS NOT NULL AS org,
       fhir.update('{"resourceType":"Medication","id":"med-acme","manufacturer":{"reference":"Organization/org-acme"}}') IS NOT NULL AS med,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mr4","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"m","manufacturer":{"reference":"#org"}},
               {"resourceType":"Organization","id":"org","name":"Acme Local"}],
  "medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mr4,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mrt2","status":"active","intent":"order",
  "medicationReference":{"reference":"Medication/med-acme"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mrt2,
       fhir.update('{"resourceType":"MedicationRequest","id":"chn-mr5","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"m","manufacturer":{"reference":"Organization/org-acme"}},
               {"resourceType":"Organization","id":"org","name":"Other Local"}],
  "medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS chn_mr5;
SELECT pg_temp.entries(fhir.search('MedicationRequest', 'medication.manufacturer.name=acme')) AS two_levels,
       pg_temp.entries(fhir.search('MedicationRequest', 'medication.manufacturer.name=acme local')) AS sibling_only,
       pg_temp.entries(fhir.search('MedicationRequest', 'medication.manufacturer.name=other')) AS not_referenced;
-- from contained resources: "#id" names a sibling in the same container
SELECT pg_temp.entries(fhir.search('Medication', 'manufacturer.name=acme&_contained=both&_containedType=contained')) AS from_contained,
       pg_temp.entries(fhir.search('Medication', 'manufacturer.name=acme&_contained=true')) AS their_containers;
-- _include/_revinclude: with _containedType=container the matches are top-level
-- containers and the includes are theirs (a container's own "#id" references
-- are not included: those resources are inside it already)
CREATE FUNCTION pg_temp.included(b jsonb) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg((e->>'fullUrl') || '=' || (e->'resource'->>'resourceType') || '/' || (e->'resource'->>'id'), ' ' ORDER BY n), '')
       FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, n) WHERE e->'search'->>'mode' = 'include' $$;
SELECT pg_temp.entries(b) AS containers, pg_temp.included(b) AS included
  FROM fhir.search('Medication', 'code=chain-1&_contained=true&_include=MedicationRequest:subject&_include=MedicationRequest:requester') b;
SELECT pg_temp.entries(b) AS both_mode, pg_temp.included(b) AS included
  FROM fhir.search('MedicationRequest', 'medication.code=chain-1&_contained=both&_include=MedicationRequest:medication') b;
-- with _containedType=contained, the contained resources' own references: to
-- top-level resources, and "#id" to siblings in the same container
SELECT pg_temp.entries(b) AS contained, pg_temp.included(b) AS included
  FROM fhir.search('Medication', 'manufacturer.name=acme&_contained=true&_containedType=contained&_include=Medication:manufacturer') b;
-- _revinclude of a contained resource: only its container and its siblings can
-- reference it (as "#id"); chn-mr3 holds m-a but references m-b as its medication
SELECT pg_temp.entries(b) AS contained, pg_temp.included(b) AS referencing
  FROM fhir.search('Medication', 'code=chain-1&_contained=true&_containedType=contained&_revinclude=MedicationRequest:medication') b;
SELECT pg_temp.included(fhir.search('Medication', 'code=chain-3&_contained=true&_containedType=contained&_revinclude=MedicationRequest:medication')) AS referencing_m_b;
SELECT pg_temp.entries(b) AS contained, pg_temp.included(b) AS referencing
  FROM fhir.search('Organization', 'name=acme&_contained=both&_containedType=contained&_revinclude=Medication:manufacturer') b;
-- :iterate from what was included (containers, then their top-level subject)
SELECT pg_temp.included(fhir.search('Medication', 'code=chain-1&_contained=true&_containedType=contained'
         '&_revinclude=MedicationRequest:medication&_include:iterate=MedicationRequest:subject')) AS iterated;
-- paging: each page carries the includes of its own matches
SELECT pg_temp.entries(b) AS page_1, pg_temp.included(b) AS included_1,
       pg_temp.entries(fhir.search('Medication', pg_temp.link(b, 'next'))) AS page_2,
       pg_temp.included(fhir.search('Medication', pg_temp.link(b, 'next'))) AS included_2
  FROM fhir.search('Medication', 'manufacturer:missing=false&_contained=true&_containedType=contained&_include=Medication:manufacturer&_count=1') b;
-- _has on contained resources: they are referenced only from inside their
-- container (as "#id"), so the container or a sibling must match
SELECT pg_temp.entries(fhir.search('Practitioner', 'name=chainer&_contained=both&_containedType=contained&_has:MedicationRequest:requester:status=active')) AS referenced,
       pg_temp.entries(fhir.search('Practitioner', 'name=chainer&_contained=both&_containedType=contained&_has:MedicationRequest:requester:status=stopped')) AS none,
       pg_temp.entries(fhir.search('Practitioner', 'name=chainer&_contained=true&_has:MedicationRequest:requester:status=active')) AS containers;
-- by a sibling (chn-mr5 holds an Organization its Medication does not reference);
-- top-level resources are found by top-level sources only, as before
SELECT pg_temp.entries(fhir.search('Organization', '_contained=true&_containedType=contained&_has:Medication:manufacturer:_id=m')) AS by_sibling,
       pg_temp.entries(fhir.search('Organization', 'name=acme&_contained=both&_containedType=contained&_has:Medication:manufacturer:_id=med-acme,m')) AS both,
       pg_temp.entries(fhir.search('Organization', '_id=org-acme&_has:Medication:manufacturer:_id=m')) AS not_from_contained;
-- _has under a chain into a contained resource: obsc1's Patient is referenced by obsc1 itself
SELECT pg_temp.entries(fhir.search('Observation', 'subject:Patient._has:Observation:subject:status=final')) AS chain_then_has;
-- system-level search: each listed type (or every type) searched in contained resources
SELECT pg_temp.entries(fhir.search(NULL, '_type=Medication,Organization&_id=m,org&_contained=true&_containedType=contained')) AS contained,
       pg_temp.entries(fhir.search(NULL, '_type=Medication,Organization&_id=org&_contained=true')) AS containers;
SELECT pg_temp.entries(fhir.search(NULL, '_type=Medication,Organization&_id=m,org,med-acme,org-acme&_contained=both&_containedType=contained')) AS both,
       pg_temp.entries(fhir.search(NULL, '_id=org&_contained=true&_containedType=contained&_sort=-_lastUpdated,_id')) AS every_type;
SELECT pg_temp.entries(b) AS page_1, b->>'total' AS total, pg_temp.entries(fhir.search(NULL, pg_temp.link(b, 'next'))) AS page_2
  FROM fhir.search(NULL, '_type=Medication,Organization&_id=m,org&_contained=true&_containedType=contained&_count=3&_total=accurate') b;
-- _sort with _containedType=container: the containers (of any type) sort by
-- their own values of parameters every resource has (_tag here)
SELECT fhir.update('{"resourceType":"MedicationRequest","id":"srt-1","meta":{"tag":[{"system":"urn:t","code":"b"}]},"status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"sort-x"}]}}],"medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS srt_1,
       fhir.update('{"resourceType":"MedicationStatement","id":"srt-2","meta":{"tag":[{"system":"urn:t","code":"a"}]},"status":"active",
  "contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"sort-x"}]}}],"medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS srt_2,
       fhir.update('{"resourceType":"MedicationRequest","id":"srt-3","status":"active","intent":"order",
  "contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"sort-x"}]}}],"medicationReference":{"reference":"#m"},"subject":{"reference":"Patient/pc1"}}') IS NOT NULL AS srt_3;
SELECT pg_temp.entries(fhir.search('Medication', 'code=sort-x&_contained=true&_sort=_tag')) AS by_tag,
       pg_temp.entries(fhir.search('Medication', 'code=sort-x&_contained=true&_sort=-_tag')) AS by_tag_desc;
SELECT pg_temp.entries(b) AS page_1, pg_temp.entries(fhir.search('Medication', pg_temp.link(b, 'next'))) AS page_2
  FROM fhir.search('Medication', 'code=sort-x&_contained=true&_sort=-_tag&_count=2') b;
-- a container hidden by row-level security hides its contained resources
CREATE ROLE regress_contained_reader;
GRANT fhir_reader TO regress_contained_reader;
ALTER TABLE fhir.resource_observation ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_no_obsc1 ON fhir.resource_observation USING (id <> 'obsc1');
SET ROLE regress_contained_reader;
SELECT pg_temp.entries(fhir.search('Patient', 'family=inside&_contained=true&_containedType=contained')) AS hidden_contained,
       pg_temp.entries(fhir.search('Patient', 'family=inside&_contained=true')) AS hidden_container;
RESET ROLE;
SELECT pg_temp.entries(fhir.search('Patient', 'family=inside&_contained=true&_containedType=contained')) AS visible_to_owner;
DROP POLICY regress_no_obsc1 ON fhir.resource_observation;
ALTER TABLE fhir.resource_observation DISABLE ROW LEVEL SECURITY;
DROP ROLE regress_contained_reader;
-- errors
\set VERBOSITY terse
SELECT fhir.search('Medication', '_contained=yes');
SELECT fhir.search('Medication', '_containedType=inline');
SELECT fhir.search('Medication', '_contained=true&_contained=false');
SELECT fhir.search('Medication', '_contained=true&_sort=code');
SELECT fhir.search(NULL, '_contained=true&_containedType=contained&_sort=_tag');
SELECT fhir.search(NULL, '_contained=true&_include=Medication:manufacturer');
\set VERBOSITY default
-- the ignored-parameter outcome no longer lists them
SELECT count(*) AS outcome_entries FROM jsonb_array_elements(fhir.search('Medication', '_contained=false&_containedType=contained')->'entry') e
 WHERE e->'search'->>'mode' = 'outcome';
