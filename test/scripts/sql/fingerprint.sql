-- What a database's FHIR data answers, as text to compare across databases (dump/restore,
-- upgrade): for each search its total, its entries in order (type/id/version:mode) and
-- its second page; the rows of every table of the extension; the custom parameters and
-- the DDL recorded for pg_dump. Searches bypass the result cache.
\pset tuples_only on
\pset format unaligned
CREATE FUNCTION pg_temp.entries(b jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(b->>'total', '-') || ' | ' || coalesce((
    SELECT string_agg(concat_ws('/', e->'resource'->>'resourceType', e->'resource'->>'id',
                                e->'resource'->'meta'->>'versionId') || ':' || coalesce(e->'search'->>'mode', ''),
                      ' ' ORDER BY o)
      FROM jsonb_array_elements(b->'entry') WITH ORDINALITY x(e, o)), '')
$$;
CREATE FUNCTION pg_temp.next_query(b jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT substr(l->>'url', strpos(l->>'url', '?') + 1)
    FROM jsonb_array_elements(b->'link') l WHERE l->>'relation' = 'next'
$$;
CREATE FUNCTION pg_temp.fingerprint(t text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  b jsonb := fhir.search(t, q, 'no-cache');
  n text := pg_temp.next_query(b);
BEGIN
  RETURN coalesce(t, '(system)') || '?' || q || E'\n  ' || pg_temp.entries(b) || E'\n  next: ' ||
         CASE WHEN n IS NULL THEN '-' ELSE pg_temp.entries(fhir.search(t, n, 'no-cache')) END;
END
$$;
SELECT pg_temp.fingerprint(t, q) FROM (VALUES
  (1, 'Patient', 'gender=female&_sort=birthdate&_count=25&_total=accurate'),
  (2, 'Patient', 'name=a&_count=10'),
  (3, 'Observation', 'code=http://loinc.org|8867-4&_count=40&_total=accurate'),
  (4, 'Observation', 'code=http://loinc.org|8867-4&date=ge2015-01-01&_sort=-date&_count=20'),
  (5, 'Observation', 'subject:Patient.gender=male&code=http://loinc.org|8867-4&_summary=count'),
  (6, 'Patient', '_has:Observation:patient:code=http://loinc.org|4548-4&_include=Patient:general-practitioner&_count=20'),
  (7, 'Observation', 'code=http://loinc.org|29463-7&_include=Observation:subject&_count=15'),
  (8, 'Patient', 'gender=male&_revinclude=Encounter:subject&_count=5'),
  (9, 'Encounter', 'date=ge2018-01-01&_sort=date&_count=30'),
  (10, 'Observation', 'value-quantity=gt100&_count=30'),
  (11, 'Condition', '_count=20&_sort=-_lastUpdated'),
  (12, 'Patient', 'nickname=a&_count=10'),
  (13, NULL, '_type=Patient,Practitioner&_count=20&_sort=_id'),
  (14, 'Patient', 'given=a&_count=10&_sort=_id')
) s(n, t, q) ORDER BY n;
SELECT 'rows ' || c.relname || ' ' ||
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass), false, true, '')))[1]::text
  FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'r' ORDER BY c.relname;
SELECT 'override ' || resource_type || ' ' || code || ' ' || enabled || ' ' || coalesce(definition->>'expression', '')
  FROM fhir.search_param_override ORDER BY id;
SELECT to_regclass('fhir.user_ddl') IS NOT NULL AS has_user_ddl \gset
\if :has_user_ddl
SELECT 'user_ddl ' || kind || ' ' || rel || ' ' || name || ': ' || definition
  FROM fhir.user_ddl ORDER BY kind, rel, name;
\endif
