-- Compartment search: fhir.search(type, query, compartment => 'Patient/123') for the
-- five R4 compartments (Patient, Encounter, RelatedPerson, Practitioner, Device),
-- type NULL (every member type), paging, _sort, _include, _summary/_elements,
-- the result cache, errors, and fhir.request GET Patient/1/Observation.
SET fhir_search.base_url = 'http://example.org/fhir';

-- Data (ids cmp-*): which compartment each resource is in is stated per line.
SELECT count(*) AS written FROM (
  -- Patient cmp-p1 (focal); cmp-p2 links to cmp-p1 (in Patient/cmp-p1 through "link"); cmp-p3 unrelated;
  -- cmp-p4 has cmp-d2 as general practitioner (Practitioner/cmp-d2 through "general-practitioner")
  SELECT fhir.update('{"resourceType":"Patient","id":"cmp-p1","gender":"female"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"cmp-p2","link":[{"other":{"reference":"Patient/cmp-p1"},"type":"seealso"}]}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"cmp-p3"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"cmp-p4","generalPractitioner":[{"reference":"Practitioner/cmp-d2"}]}')
  UNION ALL SELECT fhir.update('{"resourceType":"Practitioner","id":"cmp-d1"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Practitioner","id":"cmp-d2"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Organization","id":"cmp-org","name":"Cmp Org"}')
  -- RelatedPerson cmp-rp1: in Patient/cmp-p1 (patient) and its own compartment
  UNION ALL SELECT fhir.update('{"resourceType":"RelatedPerson","id":"cmp-rp1","patient":{"reference":"Patient/cmp-p1"}}')
  -- Device cmp-dev1 (Device is no member of the patient compartment in R4)
  UNION ALL SELECT fhir.update('{"resourceType":"Device","id":"cmp-dev1","patient":{"reference":"Patient/cmp-p1"}}')
  -- Encounter cmp-e1: Patient/cmp-p1 (patient), Practitioner/cmp-d1 (participant); cmp-e2: Patient/cmp-p3
  UNION ALL SELECT fhir.update('{"resourceType":"Encounter","id":"cmp-e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/cmp-p1"},"participant":[{"individual":{"reference":"Practitioner/cmp-d1"}}],"serviceProvider":{"reference":"Organization/cmp-org"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Encounter","id":"cmp-e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/cmp-p3"}}')
  -- Condition cmp-c1: Patient/cmp-p1 (patient), Practitioner/cmp-d2 (asserter), Encounter/cmp-e1 (encounter)
  UNION ALL SELECT fhir.update('{"resourceType":"Condition","id":"cmp-c1","subject":{"reference":"Patient/cmp-p1"},"asserter":{"reference":"Practitioner/cmp-d2"},"encounter":{"reference":"Encounter/cmp-e1"}}')
  -- Condition cmp-c2: asserted by RelatedPerson/cmp-rp1 about Patient/cmp-p3
  UNION ALL SELECT fhir.update('{"resourceType":"Condition","id":"cmp-c2","subject":{"reference":"Patient/cmp-p3"},"asserter":{"reference":"RelatedPerson/cmp-rp1"}}')
  -- Observations of Patient/cmp-p1 in every reference form:
  --   cmp-o01..cmp-o12 relative (codes a, b alternating, values 1..12; the odd ones in Encounter/cmp-e1)
  UNION ALL SELECT fhir.update(jsonb_build_object('resourceType', 'Observation', 'id', format('cmp-o%s', lpad(i::text, 2, '0')),
      'status', 'final', 'code', jsonb_build_object('coding', jsonb_build_array(jsonb_build_object('system', 'http://example.org/cmp', 'code', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END))),
      'valueQuantity', jsonb_build_object('value', i),
      'subject', jsonb_build_object('reference', 'Patient/cmp-p1'))
      || CASE WHEN i % 2 = 1 THEN '{"encounter":{"reference":"Encounter/cmp-e1"}}'::jsonb ELSE '{}' END)
    FROM generate_series(1, 12) i
  --   versioned relative, absolute with this server's base (versioned too): in
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-ov","status":"final","code":{"text":"v"},"subject":{"reference":"Patient/cmp-p1/_history/1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-oabs","status":"final","code":{"text":"abs"},"subject":{"reference":"http://example.org/fhir/Patient/cmp-p1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-oabsv","status":"final","code":{"text":"absv"},"subject":{"reference":"http://example.org/fhir/Patient/cmp-p1/_history/1"}}')
  --   another server's Patient/cmp-p1, and a Group with the same id: not in
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-oother","status":"final","code":{"text":"other"},"subject":{"reference":"http://other.org/fhir/Patient/cmp-p1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-ogroup","status":"final","code":{"text":"group"},"subject":{"reference":"Group/cmp-p1"}}')
  --   focus is no linking parameter: not in
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-ofocus","status":"final","code":{"text":"focus"},"focus":[{"reference":"Patient/cmp-p1"}]}')
  -- cmp-operf: subject Patient/cmp-p3; performer Practitioner/cmp-d1 (second parameter, practitioner
  -- compartment), performer Patient/cmp-p1 (second parameter, patient compartment) and RelatedPerson/cmp-rp1
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-operf","status":"final","code":{"text":"perf"},"subject":{"reference":"Patient/cmp-p3"},"performer":[{"reference":"Practitioner/cmp-d1"},{"reference":"Patient/cmp-p1"},{"reference":"RelatedPerson/cmp-rp1"}]}')
  -- cmp-odev: measured by Device/cmp-dev1 (device), about Patient/cmp-p3
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"cmp-odev","status":"final","code":{"text":"dev"},"subject":{"reference":"Patient/cmp-p3"},"device":{"reference":"Device/cmp-dev1"}}')
  -- Encounter compartment through Condition.encounter too (cmp-c1 above)
  ) w;

-- One line per entry: mode and fullUrl; links with cursors masked.
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(regexp_replace(e->>'fullUrl', '^http://example.org/fhir/', '')
                             || CASE WHEN e->'search'->>'mode' = 'include' THEN ' (include)' ELSE '' END, ', ' ORDER BY o), '-')
    FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, o) WHERE e->'search'->>'mode' <> 'outcome' $$;
CREATE FUNCTION pg_temp.links(b jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT l->>'relation' || ' ' || regexp_replace(l->>'url', '_cursor=[A-Za-z0-9_-]+', '_cursor=...')
    FROM jsonb_array_elements(b->'link') l $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS $$
  SELECT l->>'url' FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;
CREATE FUNCTION pg_temp.outcome(b jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT i->>'severity' || ': ' || (i->>'diagnostics')
    FROM jsonb_array_elements(b->'entry') e, jsonb_array_elements(e->'resource'->'issue') i
   WHERE e->'search'->>'mode' = 'outcome' $$;

-- Patient compartment: every reference form to this server's Patient/cmp-p1 under
-- subject, and performer (the second parameter); not another server's, not a Group, not focus.
SELECT pg_temp.entries(fhir.search('Observation', '_count=50', compartment => 'Patient/cmp-p1'));
SELECT (fhir.search('Observation', '_total=accurate', compartment => 'Patient/cmp-p1'))->'total' AS total;
-- The same search without a compartment finds the others as well.
SELECT (fhir.search('Observation', '_id=cmp-oother,cmp-ogroup,cmp-ofocus,cmp-o01&_total=accurate'))->'total' AS without_compartment,
       (fhir.search('Observation', '_id=cmp-oother,cmp-ogroup,cmp-ofocus,cmp-o01&_total=accurate', compartment => 'Patient/cmp-p1'))->'total' AS within;
-- Combined with the search's own conditions (token, quantity).
SELECT pg_temp.entries(fhir.search('Observation', 'code=http://example.org/cmp|a&value-quantity=gt6', compartment => 'Patient/cmp-p1'));
-- The focal Patient is in its own compartment, and so is cmp-p2 through link; cmp-p3 is not.
SELECT pg_temp.entries(fhir.search('Patient', '', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(fhir.search('Patient', 'gender=female', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(fhir.search('RelatedPerson', '', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(fhir.search('Encounter', '', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(fhir.search('Condition', '', compartment => 'Patient/cmp-p1'));
-- A type that is no member of the compartment: an empty searchset with a note.
SELECT pg_temp.entries(b), b->'total' AS total, pg_temp.outcome(b)
  FROM fhir.search('Organization', '', compartment => 'Patient/cmp-p1') b;
SELECT pg_temp.entries(b), b->'total' AS total, pg_temp.outcome(b)
  FROM fhir.search('Device', '', compartment => 'Patient/cmp-p1') b;

-- Type NULL: every member type of the compartment (and _type narrows it).
SELECT pg_temp.entries(fhir.search(NULL, '_count=50&_sort=_id', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(b), pg_temp.outcome(b)
  FROM fhir.search(NULL, '_type=Condition,Organization,Patient&_sort=_id', compartment => 'Patient/cmp-p1') b;
SELECT pg_temp.entries(b), pg_temp.outcome(b) FROM fhir.search(NULL, '_type=Organization', compartment => 'Patient/cmp-p1') b;
SELECT pg_temp.links(fhir.search(NULL, '_count=2&_sort=_id', compartment => 'Patient/cmp-p1'));
-- Following the next links of a type NULL search: the same 21 entries, in pages of 8.
CREATE TEMP TABLE all_pages (n int, b jsonb);
INSERT INTO all_pages SELECT 1, fhir.search(NULL, '_count=8&_sort=_id', compartment => 'Patient/cmp-p1');
DO $$
DECLARE i int := 1; nxt text;
BEGIN
  LOOP
    SELECT pg_temp.link(b, 'next') INTO nxt FROM all_pages WHERE n = i;
    EXIT WHEN nxt IS NULL OR i > 10;
    i := i + 1;
    INSERT INTO all_pages SELECT i, fhir.search(NULL, nxt, compartment => 'Patient/cmp-p1');
  END LOOP;
END $$;
SELECT n, pg_temp.entries(b) FROM all_pages ORDER BY n;

-- Practitioner compartment: Observation through performer (its only parameter), Encounter
-- through participant, Condition through asserter, Patient through general-practitioner,
-- and the focal Practitioner.
SELECT pg_temp.entries(fhir.search('Observation', '', compartment => 'Practitioner/cmp-d1'));
SELECT pg_temp.entries(fhir.search('Encounter', '', compartment => 'Practitioner/cmp-d1'));
SELECT pg_temp.entries(fhir.search(NULL, '_sort=_id', compartment => 'Practitioner/cmp-d2'));
SELECT pg_temp.entries(fhir.search('Practitioner', '', compartment => 'Practitioner/cmp-d1'));
-- Encounter compartment: Observations and Conditions with encounter = cmp-e1, and cmp-e1 itself.
SELECT pg_temp.entries(fhir.search(NULL, '_sort=_id', compartment => 'Encounter/cmp-e1'));
SELECT pg_temp.entries(fhir.search('Encounter', '', compartment => 'Encounter/cmp-e2'));
-- RelatedPerson compartment: Observation performer, Condition asserter, the focal RelatedPerson.
SELECT pg_temp.entries(fhir.search(NULL, '_sort=_id', compartment => 'RelatedPerson/cmp-rp1'));
-- Device compartment: Observation device; the focal Device.
SELECT pg_temp.entries(fhir.search(NULL, '_sort=_id', compartment => 'Device/cmp-dev1'));
SELECT pg_temp.entries(fhir.search('Observation', '', compartment => 'Device/cmp-dev1'));
-- A compartment nobody references: empty.
SELECT pg_temp.entries(fhir.search('Observation', '', compartment => 'Patient/cmp-nobody'));

-- Paging: 16 matches in pages of 4 (the 4 without a value last, by _id), by value descending; links are compartment
-- URLs ([base]Patient/cmp-p1/Observation?...) and following them (the whole URL)
-- continues in the compartment.
CREATE TEMP TABLE pages (n int, b jsonb);
INSERT INTO pages SELECT 1, fhir.search('Observation', '_count=4&_sort=-value-quantity,_id', compartment => 'Patient/cmp-p1');
SELECT pg_temp.links(b) FROM pages WHERE n = 1;
DO $$
DECLARE i int := 1; nxt text;
BEGIN
  LOOP
    SELECT pg_temp.link(b, 'next') INTO nxt FROM pages WHERE n = i;
    EXIT WHEN nxt IS NULL OR i > 10;
    i := i + 1;
    INSERT INTO pages SELECT i, fhir.search('Observation', nxt, compartment => 'Patient/cmp-p1');
  END LOOP;
END $$;
SELECT n, pg_temp.entries(b) FROM pages ORDER BY n;
-- A previous link goes back within the compartment.
SELECT pg_temp.entries(fhir.search('Observation', pg_temp.link(b, 'previous'), compartment => 'Patient/cmp-p1'))
  FROM pages WHERE n = 3;

-- _include follows the matches' references (to resources outside the compartment
-- too); _revinclude; _summary=count; _elements.
SELECT pg_temp.entries(fhir.search('Encounter', '_include=Encounter:service-provider&_include=Encounter:participant', compartment => 'Patient/cmp-p1'));
SELECT pg_temp.entries(fhir.search('Encounter', '_revinclude=Condition:encounter', compartment => 'Patient/cmp-p1'));
SELECT fhir.search('Observation', '_summary=count', compartment => 'Patient/cmp-p1') - 'id' - 'meta' - 'link' AS counted;
SELECT (e->'resource') - 'meta' AS elements
  FROM jsonb_array_elements(fhir.search('Observation', '_elements=status&_id=cmp-o01', compartment => 'Patient/cmp-p1')->'entry') e;

-- The result cache: the compartment is part of the key. The same search without a
-- compartment, or in another compartment, is a different entry; the same search again is a HIT.
SELECT (fhir.search('Observation', '_count=3&_total=accurate&_sort=_id')->>'total')::int > 16 AS all_observations,
       fhir.last_search()->>'cache' AS cache;
SELECT fhir.search('Observation', '_count=3&_total=accurate&_sort=_id', compartment => 'Patient/cmp-p1')->'total' AS total,
       fhir.last_search()->>'cache' AS cache;
SELECT fhir.search('Observation', '_count=3&_total=accurate&_sort=_id', compartment => 'Patient/cmp-p1')->'total' AS total,
       fhir.last_search()->>'cache' AS cache;
SELECT fhir.search('Observation', '_count=3&_total=accurate&_sort=_id', compartment => 'Patient/cmp-p3')->'total' AS total,
       fhir.last_search()->>'cache' AS cache;
SELECT (fhir.search('Observation', '_count=3&_total=accurate&_sort=_id')->>'total')::int > 16 AS all_observations,
       fhir.last_search()->>'cache' AS cache;
-- A later page of the compartment search is cut from its cached result set.
SELECT pg_temp.entries(fhir.search('Observation', pg_temp.link(fhir.search('Observation', '_count=3&_total=accurate&_sort=_id', compartment => 'Patient/cmp-p1'), 'next'), compartment => 'Patient/cmp-p1')) AS page2,
       fhir.last_search()->>'page_source' AS page_source;
-- A write of the type invalidates it exactly: a new Observation of cmp-p1 shows up.
SELECT fhir.update('{"resourceType":"Observation","id":"cmp-onew","status":"final","code":{"text":"new"},"subject":{"reference":"Patient/cmp-p1"}}') IS NOT NULL AS written;
SELECT fhir.search('Observation', '_count=3&_total=accurate&_sort=_id', compartment => 'Patient/cmp-p1')->'total' AS total,
       fhir.last_search()->>'cache' AS cache;
SELECT fhir.delete('Observation', 'cmp-onew') AS deleted;

-- Disabled linking parameters are not used: without performer, cmp-operf leaves the compartment.
SELECT params, disabled_params FROM fhir.compartments() WHERE compartment = 'Patient' AND resource_type = 'Observation';
SELECT fhir.set_search_param_enabled('Observation', 'performer', false);
SELECT params, disabled_params FROM fhir.compartments() WHERE compartment = 'Patient' AND resource_type = 'Observation';
SELECT pg_temp.entries(fhir.search('Observation', '_id=cmp-operf,cmp-o01', compartment => 'Patient/cmp-p1'));
SELECT fhir.set_search_param_enabled('Observation', 'performer', true);
SELECT pg_temp.entries(fhir.search('Observation', '_id=cmp-operf,cmp-o01', compartment => 'Patient/cmp-p1'));
SELECT compartment, url, count(*) AS member_types FROM fhir.compartments() GROUP BY 1, 2 ORDER BY 1;

-- Errors: 22023 with an OperationOutcome; _contained is not supported (0A000).
\set VERBOSITY default
SELECT fhir.search('Observation', '', compartment => 'Patient');
SELECT fhir.search('Observation', '', compartment => 'Patient/1/2');
SELECT fhir.search('Observation', '', compartment => 'Observation/1');
SELECT fhir.search('Observation', '', compartment => 'Patient/not valid');
SELECT fhir.search('Observation', '', compartment => '');
SELECT fhir.search('Observation', '_contained=true', compartment => 'Patient/cmp-p1');
\set VERBOSITY terse

-- fhir.request: GET Patient/cmp-p1/Observation (and /* for every type), search_response.
SELECT r.status, pg_temp.entries(r.body), pg_temp.link(r.body, 'self') AS self
  FROM fhir.request('GET', 'Patient/cmp-p1/Observation?code=http://example.org/cmp|b&_sort=_id&_count=3') r;
SELECT r.status, pg_temp.entries(r.body)
  FROM fhir.request('GET', 'http://example.org/fhir/Encounter/cmp-e1/*?_sort=_id') r;
SELECT r.status, r.body->'issue'->0->>'diagnostics' AS diagnostics
  FROM fhir.request('GET', 'Observation/cmp-o01/Condition') r;
SELECT r.status, r.cache, pg_temp.entries(r.body)
  FROM fhir.search_response('Condition', '', compartment => 'Practitioner/cmp-d2') r;
SELECT r.status, r.body->'issue'->0->>'diagnostics' AS diagnostics
  FROM fhir.search_response('Condition', '', compartment => 'Condition/x') r;
-- The capability statement lists the compartments.
SELECT jsonb_array_elements_text(fhir.capability_statement()->'rest'->0->'compartment') AS compartment;
