-- fhir_search.default_timezone: the zone R4 dates and search values without an
-- offset are read in, at write and at search time; server-wide (reload), and a
-- change needs fhir.reindex() for rows stored before it.
SET TimeZone = 'UTC';
SELECT fhir.update('{"resourceType":"Patient","id":"tz-p1","birthDate":"1980-01-01"}') IS NOT NULL AS stored;
CREATE FUNCTION pg_temp.ids(q text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '-')
    FROM jsonb_array_elements(fhir.search('Patient', q || '&_id=tz-p1,tz-p2')->'entry') e $$;
CREATE FUNCTION pg_temp.rows(rid_of text) RETURNS TABLE (lo timestamptz, hi timestamptz) LANGUAGE sql AS $$
  SELECT d.lo, d.hi FROM fhir.search_date d JOIN fhir.search_parameters p ON p.id = d.param
   WHERE p.resource_type = 'Patient' AND p.code = 'birthdate'
     AND d.rid = (SELECT rid FROM fhir.resource WHERE rtype = 'Patient' AND id = rid_of) $$;
SHOW fhir_search.default_timezone;
SELECT * FROM pg_temp.rows('tz-p1');
SELECT pg_temp.ids('birthdate=1980-01-01') AS utc_day, pg_temp.ids('birthdate=lt1980-01-01T00:30') AS before_half_past;
SELECT (fhir.search_response('Patient', 'birthdate=1980-01-01&_id=tz-p1,tz-p2')).cache AS first,
       (fhir.search_response('Patient', 'birthdate=1980-01-01&_id=tz-p1,tz-p2')).cache AS again;
-- not per session: a session reading in another zone than the rows were written in would be wrong
SET fhir_search.default_timezone = 'Europe/Berlin';
-- only zones PostgreSQL knows
ALTER SYSTEM SET fhir_search.default_timezone = 'Mars/Olympus_Mons';
ALTER SYSTEM SET fhir_search.default_timezone = 'Europe/Berlin';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW fhir_search.default_timezone;
-- rows stored before the change keep UTC: the Berlin day 1980-01-01 does not contain them
-- (and the cached UTC answer is not served: the zone is part of the cache key)
SELECT (fhir.search_response('Patient', 'birthdate=1980-01-01&_id=tz-p1,tz-p2')).cache AS in_berlin;
SELECT pg_temp.ids('birthdate=1980-01-01') AS berlin_day_before_reindex;
-- a new write reads its date in Berlin: [1979-12-31T23:00Z, 1980-01-01T23:00Z)
SELECT fhir.update('{"resourceType":"Patient","id":"tz-p2","birthDate":"1980-01-01"}') IS NOT NULL AS stored;
SELECT * FROM pg_temp.rows('tz-p2');
SELECT pg_temp.ids('birthdate=1980-01-01') AS berlin_day;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT * FROM pg_temp.rows('tz-p1');
SELECT pg_temp.ids('birthdate=1980-01-01') AS berlin_day, pg_temp.ids('birthdate=lt1980-01-01T00:30') AS before_half_past,
       pg_temp.ids('birthdate=lt1979-12-31T23:30:00Z') AS zoned_value_is_not_moved;
-- back to UTC
ALTER SYSTEM RESET fhir_search.default_timezone;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SHOW fhir_search.default_timezone;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT * FROM pg_temp.rows('tz-p2');
SELECT pg_temp.ids('birthdate=1980-01-01') AS utc_day;
SELECT count(fhir.delete('Patient', id)) AS deleted FROM (VALUES ('tz-p1'), ('tz-p2')) v(id);
