-- fhir.everything: Patient/[id]/$everything and Encounter/[id]/$everything (R4
-- OperationDefinitions Patient-everything, Encounter-everything): the focal resource,
-- its compartment, the resources they reference; start/end, _since, _type, _count
-- with paging; fhir.request GET and POST; unknown, deleted and unsupported.
SET fhir_search.base_url = 'http://example.org/fhir';

-- Patient ev-p1 with its care record; written in this order (entries of a group
-- come in write order):
--   ev-d1, ev-d2 Practitioners, ev-org Organization, ev-loc Location, ev-med Medication
--   ev-p1 (generalPractitioner ev-d1, managingOrganization ev-org); ev-p2 another patient
--   ev-e1 Encounter 2020-03-01 (participant ev-d2, location ev-loc, serviceProvider ev-org)
--   ev-e2 Encounter 2022-01-05
--   ev-o1..ev-o5 Observations 2019-06-01, 2020-03-01 (ev-e1), 2020-07-15 (performer ev-d1),
--         2021-02-01, 2022-01-05 (ev-e2); ev-o6 without a date
--   ev-oy Observation of ev-p2 2023-03-01 performed by ev-p1 (in ev-p1's compartment by performer)
--   ev-c1 Condition onset 2018-05-01 (encounter ev-e1)
--   ev-mr1 MedicationRequest authored 2020-03-01 (ev-med, requester ev-d1)
--   ev-ox Observation of ev-p2 only: in nobody's record here
SELECT count(*) AS written FROM (
  SELECT fhir.update('{"resourceType":"Practitioner","id":"ev-d1"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Practitioner","id":"ev-d2"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Organization","id":"ev-org","name":"Ev Org"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Location","id":"ev-loc"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Medication","id":"ev-med"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"ev-p1","generalPractitioner":[{"reference":"Practitioner/ev-d1"}],"managingOrganization":{"reference":"Organization/ev-org"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Patient","id":"ev-p2"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Encounter","id":"ev-e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/ev-p1"},"period":{"start":"2020-03-01T09:00:00Z","end":"2020-03-01T10:00:00Z"},"participant":[{"individual":{"reference":"Practitioner/ev-d2"}}],"location":[{"location":{"reference":"Location/ev-loc"}}],"serviceProvider":{"reference":"Organization/ev-org"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Encounter","id":"ev-e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/ev-p1"},"period":{"start":"2022-01-05"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"},"effectiveDateTime":"2019-06-01"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"},"effectiveDateTime":"2020-03-01","encounter":{"reference":"Encounter/ev-e1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o3","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"},"effectiveDateTime":"2020-07-15","performer":[{"reference":"Practitioner/ev-d1"}]}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o4","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"},"effectiveDateTime":"2021-02-01"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o5","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"},"effectivePeriod":{"start":"2022-01-05"},"encounter":{"reference":"Encounter/ev-e2"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-o6","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-oy","status":"final","code":{"text":"y"},"subject":{"reference":"Patient/ev-p2"},"performer":[{"reference":"Patient/ev-p1"}],"effectiveDateTime":"2023-03-01"}')
  UNION ALL SELECT fhir.update('{"resourceType":"Condition","id":"ev-c1","subject":{"reference":"Patient/ev-p1"},"onsetDateTime":"2018-05-01","encounter":{"reference":"Encounter/ev-e1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"MedicationRequest","id":"ev-mr1","status":"active","intent":"order","subject":{"reference":"Patient/ev-p1"},"medicationReference":{"reference":"Medication/ev-med"},"authoredOn":"2020-03-01","requester":{"reference":"Practitioner/ev-d1"}}')
  UNION ALL SELECT fhir.update('{"resourceType":"Observation","id":"ev-ox","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ev-p2"}}')
  ) w;
-- lastUpdated: everything 2020-01-01, but ev-e2, ev-o5 and ev-d2 2024-06-01 (for _since).
UPDATE fhir.resource SET last_updated = CASE WHEN id IN ('ev-e2', 'ev-o5', 'ev-d2') THEN '2024-06-01T00:00:00Z'::timestamptz
                                             ELSE '2020-01-01T00:00:00Z' END
 WHERE id LIKE 'ev-%';

-- One line per entry: type/id and the mode; the links with cursors masked.
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(regexp_replace(e->>'fullUrl', '^http://example.org/fhir/', '')
                             || CASE WHEN e->'search'->>'mode' = 'include' THEN ' (include)' ELSE '' END, ', ' ORDER BY o), '-')
    FROM jsonb_array_elements(b->'entry') WITH ORDINALITY AS x(e, o) $$;
CREATE FUNCTION pg_temp.links(b jsonb) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT l->>'relation' || ' ' || regexp_replace(l->>'url', '_cursor=[A-Za-z0-9_-]+', '_cursor=...')
    FROM jsonb_array_elements(b->'link') l $$;
CREATE FUNCTION pg_temp.link(b jsonb, rel text) RETURNS text LANGUAGE sql AS $$
  SELECT l->>'url' FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = rel $$;

-- Everything: the Patient first, its compartment (match: ev-oy through performer, not
-- ev-ox), then what those reference (include: practitioners, organization, location,
-- medication, and ev-p2, whom ev-oy is about); total counts the matches.
SELECT b->>'type' AS type, b->'total' AS total, pg_temp.entries(b) FROM fhir.everything('Patient', 'ev-p1') b;
SELECT pg_temp.links(fhir.everything('Patient', 'ev-p1'));
-- The full resources are in the entries, as stored.
SELECT e->'resource'->>'managingOrganization' IS NOT NULL AS stored_content
  FROM jsonb_array_elements(fhir.everything('Patient', 'ev-p1', '_count=1')->'entry') e;

-- start/end: the care date range (dates: from start's first to end's last instant).
-- Resources with a clinical date outside it are left out (ev-o1 2019, ev-o4 2021, ev-e2,
-- ev-o5 2022, ev-oy 2023, ev-c1 onset 2018), those without one kept (ev-o6, the
-- Patient, the referenced Practitioners, Organization, Location, Medication); only
-- resources referenced by what is kept are included (ev-d2 and ev-loc through ev-e1).
SELECT b->'total' AS total, pg_temp.entries(b) FROM fhir.everything('Patient', 'ev-p1', 'start=2020-01-01&end=2020-12-31') b;
-- Only start (from then on), only end (up to then); the period of ev-e1 overlaps end's day.
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', 'start=2021-06&_type=Observation,Encounter,Condition'));
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', 'end=2020-03-01&_type=Observation,Encounter,Condition'));

-- _since: resources updated at or after the instant (the Patient is always returned).
SELECT b->'total' AS total, pg_temp.entries(b) FROM fhir.everything('Patient', 'ev-p1', '_since=2024-01-01T00:00:00Z') b;
-- _type: only those types (the referenced ones too): Practitioner ev-d1 through the
-- Patient and ev-o3; ev-d2 only through ev-e1, which _type leaves out. Repeated _type adds up.
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', '_type=Observation,Practitioner'));
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', '_type=Condition&_type=MedicationRequest,Medication'));
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', '_type=Organization'));

-- Paging: _count=5 over the 18 entries; each next link, passed back whole, gives the
-- next page; the last page has no next link.
CREATE TEMP TABLE pages (n int, b jsonb);
INSERT INTO pages SELECT 1, fhir.everything('Patient', 'ev-p1', '_count=5');
DO $$
DECLARE i int := 1; nxt text;
BEGIN
  LOOP
    SELECT pg_temp.link(b, 'next') INTO nxt FROM pages WHERE n = i;
    EXIT WHEN nxt IS NULL OR i > 10;
    i := i + 1;
    INSERT INTO pages SELECT i, fhir.everything('Patient', 'ev-p1', nxt);
  END LOOP;
END $$;
SELECT n, b->'total' AS total, pg_temp.entries(b) FROM pages ORDER BY n;
SELECT n, pg_temp.links(b) FROM pages WHERE n IN (1, 4) ORDER BY n;
-- Paging keeps the filters.
SELECT pg_temp.entries(fhir.everything('Patient', 'ev-p1', pg_temp.link(fhir.everything('Patient', 'ev-p1', 'start=2020-01-01&end=2020-12-31&_count=3'), 'next')));

-- Encounter: the Encounter, its compartment (ev-o2, ev-c1 by encounter), what they reference.
SELECT b->'total' AS total, pg_temp.entries(b) FROM fhir.everything('Encounter', 'ev-e1') b;
SELECT pg_temp.entries(fhir.everything('Encounter', 'ev-e1', '_type=Condition'));
SELECT pg_temp.links(fhir.everything('Encounter', 'ev-e1', '_count=2'));

-- Unknown or deleted: NULL (fhir.request: 404 / 410).
SELECT fhir.everything('Patient', 'ev-nobody') IS NULL AS unknown;
SELECT fhir.update('{"resourceType":"Patient","id":"ev-gone"}') IS NOT NULL AS written, fhir.delete('Patient', 'ev-gone') AS deleted;
SELECT fhir.everything('Patient', 'ev-gone') IS NULL AS deleted;

-- Errors: 22023 with an OperationOutcome in DETAIL (42704 for an unknown type).
\set VERBOSITY default
SELECT fhir.everything('Observation', 'ev-o1');
SELECT fhir.everything('Patient', 'ev-p1', 'code=x');
SELECT fhir.everything('Patient', 'ev-p1', 'start=2020-02-30');
SELECT fhir.everything('Patient', 'ev-p1', '_type=Nonsense');
SELECT fhir.everything('Encounter', 'ev-e1', 'start=2020');
SELECT fhir.everything('Patient', 'not valid');
\set VERBOSITY terse
SELECT fhir.everything('Nonsense', 'x');
SELECT fhir.everything('Patient', NULL);

-- fhir.request: GET and POST (a Parameters body) Patient/ev-p1/$everything, Encounter.
SELECT r.status, pg_temp.entries(r.body) FROM fhir.request('GET', 'Patient/ev-p1/$everything?_type=Condition,Encounter') r;
SELECT r.status, pg_temp.entries(r.body)
  FROM fhir.request('POST', 'Patient/ev-p1/$everything', '{"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"2020-01-01"},{"name":"end","valueDate":"2020-12-31"},{"name":"_type","valueCode":"Observation"}]}') r;
SELECT r.status, pg_temp.entries(r.body) FROM fhir.request('GET', 'http://example.org/fhir/Encounter/ev-e1/$everything') r;
SELECT r.status, r.body->'issue'->0->>'code' AS code, r.body->'issue'->0->>'diagnostics' AS diagnostics
  FROM fhir.request('GET', 'Patient/ev-nobody/$everything') r;
SELECT r.status, r.body->'issue'->0->>'code' AS code, r.body->'issue'->0->>'diagnostics' AS diagnostics
  FROM fhir.request('GET', 'Patient/ev-gone/$everything') r;
SELECT r.status, r.body->'issue'->0->>'diagnostics' AS diagnostics FROM fhir.request('GET', 'Observation/ev-o1/$everything') r;
SELECT r.status, r.body->'issue'->0->>'diagnostics' AS diagnostics FROM fhir.request('GET', 'Patient/ev-p1/$everything?bogus=1') r;
SELECT r.status, r.body->'issue'->0->>'diagnostics' AS diagnostics FROM fhir.request('GET', 'Patient/$everything') r;
-- The capability statement lists the operation on Patient and Encounter only.
SELECT r->>'type' AS type, r->'operation' AS operation
  FROM jsonb_array_elements(fhir.capability_statement()->'rest'->0->'resource') r WHERE r ? 'operation';
