-- One-call responses: fhir.request (any REST request), fhir.search_response and
-- fhir.read_response return status, body, headers, cache status and timings.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
-- r(): the response without its volatile parts (ids, times), as text.
CREATE FUNCTION pg_temp.r(x fhir.response) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(concat_ws(' | ', x.status,
    CASE WHEN x.body IS NULL THEN 'no body'
         WHEN x.body->>'resourceType' = 'OperationOutcome'
           THEN 'OO ' || (x.body->'issue'->0->>'code') || ': ' || (x.body->'issue'->0->>'diagnostics')
         WHEN x.body->>'resourceType' = 'Bundle'
           THEN 'Bundle ' || (x.body->>'type') || ' total=' || coalesce(x.body->>'total', '-') || ' entries=' ||
                coalesce(jsonb_array_length(x.body->'entry'), 0)
         ELSE (x.body->>'resourceType') || '/' || coalesce(x.body->>'id', '?') || ' v' ||
              coalesce(x.body->'meta'->>'versionId', '?') END,
    'location=' || x.location,
    'etag=' || x.etag,
    CASE WHEN x.last_modified IS NOT NULL THEN 'last-modified' END,
    'cache=' || x.cache), '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g')
$$;
SET fhir_search.base_url = 'http://example.org/fhir';

-- create: 201 with Location, ETag and Last-Modified
SELECT pg_temp.r(fhir.request('POST', 'Patient', '{"resourceType":"Patient","id":"ignored","identifier":[{"system":"urn:s","value":"1"}],"name":[{"family":"Resp"}]}'));
SELECT (fhir.request('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"Resp"}]}')).location
       ~ '^http://example.org/fhir/Patient/[0-9a-f-]{36}/_history/1$' AS absolute_location;
-- conditional create: one match -> 200 with it, nothing created; two -> 412
SELECT pg_temp.r(fhir.request('POST', 'Patient', '{"resourceType":"Patient","name":[{"family":"Other"}]}',
                              '{"If-None-Exist": "identifier=urn:s|1"}'));
SELECT count(*) AS resp_patients FROM fhir.resource WHERE rtype = 'Patient';
SELECT pg_temp.r(fhir.request('POST', 'Patient', '{"resourceType":"Patient"}', '{"If-None-Exist": "family=resp"}'));
-- Prefer: return=minimal / OperationOutcome
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient","id":"r1","gender":"female"}',
                              '{"Prefer": "return=minimal"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient","id":"r1","gender":"male"}',
                              '{"prefer": "return=OperationOutcome"}'));
-- update with If-Match: the current version passes, another is 412 and writes nothing
SELECT pg_temp.r(fhir.request('PUT', '/Patient/r1', '{"resourceType":"Patient","id":"r1","gender":"other"}',
                              '{"If-Match": "W/\"2\""}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient","id":"r1","gender":"unknown"}',
                              '{"If-Match": "W/\"1\""}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient","id":"r1"}', '{"If-Match": "three"}'));
SELECT fhir.read('Patient', 'r1')->>'gender' AS still_other;
-- update: the body's id must be the URL's; the body must be JSON of the URL's type
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient","id":"r2"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Observation","id":"r1"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', '{"resourceType":"Patient",'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/r1', NULL));
-- conditional update: one match -> that resource; no match -> created (201); several -> 412
SELECT pg_temp.r(fhir.request('PUT', 'Patient?identifier=urn:s|1', '{"resourceType":"Patient","identifier":[{"system":"urn:s","value":"1"}],"name":[{"family":"Resp"}],"active":true}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient?identifier=urn:s|2', '{"resourceType":"Patient","id":"r2","identifier":[{"system":"urn:s","value":"2"}]}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient?family=resp', '{"resourceType":"Patient"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient?identifier=urn:s|1', '{"resourceType":"Patient","id":"r2"}'));

-- read and vread: 200 with ETag; If-None-Match / If-Modified-Since -> 304 without body
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1'));
SELECT pg_temp.r(fhir.request('HEAD', 'Patient/r1'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1', NULL, '{"If-None-Match": "W/\"3\""}'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1', NULL, '{"If-None-Match": "W/\"2\""}'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1', NULL, '{"If-Modified-Since": "Fri, 31 Dec 2100 23:59:59 GMT"}'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1', NULL, '{"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}'));
SELECT pg_temp.r(fhir.request('GET', 'http://example.org/fhir/Patient/r1/_history/1'));
SELECT pg_temp.r(fhir.read_response('Patient', 'r1', 2));
SELECT pg_temp.r(fhir.read_response('Patient', 'r1', 9));
SELECT pg_temp.r(fhir.read_response('Patient', 'never'));
SELECT pg_temp.r(fhir.read_response('Patientt', 'r1'));
SELECT pg_temp.r(fhir.read_response('Patient', 'bad id'));
-- delete: 204; then read is 410 with the deleting version's ETag, vread of it 410,
-- earlier versions still 200; deleting again is 204 again
SELECT pg_temp.r(fhir.request('DELETE', 'Patient/r1'));
SELECT pg_temp.r(fhir.read_response('Patient', 'r1'));
SELECT pg_temp.r(fhir.read_response('Patient', 'r1', 4));
SELECT pg_temp.r(fhir.read_response('Patient', 'r1', 3));
SELECT pg_temp.r(fhir.request('DELETE', 'Patient/r1', NULL, '{"Prefer": "return=OperationOutcome"}'));
-- conditional delete: one match deleted; none -> 204; several -> 412
SELECT pg_temp.r(fhir.request('DELETE', 'Patient?identifier=urn:s|2'));
SELECT pg_temp.r(fhir.read_response('Patient', 'r2'));
SELECT pg_temp.r(fhir.request('DELETE', 'Patient?identifier=urn:s|2'));
SELECT pg_temp.r(fhir.request('DELETE', 'Patient?family=resp'));

-- search: MISS then HIT, the entry id is the Bundle's id; the row needs no session state
SELECT fhir.cache_reset();
SELECT pg_temp.r(fhir.request('GET', 'Patient?family=resp&_count=1'));
SELECT pg_temp.r(x), x.cache_entry_id = x.body->>'id' AS entry_is_bundle,
       x.parse_ms >= 0 AND x.db_ms >= 0 AND x.cache_ms >= 0 AND x.total_ms >= 0 AS timed, x.cache_hit_rate > 0 AS rate
  FROM fhir.request('GET', 'Patient?family=resp&_count=1') x;
SELECT pg_temp.r(fhir.search_response('Patient', '?family=resp&_count=1', 'no-cache'));
SELECT pg_temp.r(fhir.search_response('Patient', 'family=resp', 'no-store'));
-- the next link of a response, passed back as the URL
SELECT pg_temp.r(fhir.request('GET', (SELECT l->>'url' FROM jsonb_array_elements(
           (fhir.request('GET', 'Patient?family=resp&_count=1')).body->'link') l WHERE l->>'relation' = 'next')));
-- POST _search: the form body is the query (with the URL's)
SELECT pg_temp.r(fhir.request('POST', 'Patient/_search', 'family=resp'));
SELECT pg_temp.r(fhir.request('POST', 'Patient/_search?_count=1', 'family=resp'));
SELECT pg_temp.r(fhir.request('GET', '?_type=Patient&family=resp'));
-- search errors: 400 with the OperationOutcome; Prefer: handling chooses strict or lenient
SELECT pg_temp.r(fhir.search_response('Patient', 'birthdate=notadate'));
SELECT pg_temp.r(fhir.request('GET', 'Patient?family=resp&nonsense=1', NULL, '{"Prefer": "handling=strict"}'));
SELECT pg_temp.r(fhir.request('GET', 'Patient?family=resp&nonsense=1', NULL, '{"Prefer": "handling=lenient"}'));
SHOW fhir_search.strict_handling;
SELECT pg_temp.r(fhir.search_response('Patientt', 'x=1'));

-- routing: unknown type 404, wrong method 405, operations not implemented 501
SELECT pg_temp.r(fhir.request('GET', 'Patientt/1'));
SELECT pg_temp.r(fhir.request('POST', 'Patient/r1'));
SELECT pg_temp.r(fhir.request('OPTIONS', 'Patient'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1/$validate'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1/foo/bar/baz'));
-- a malformed escape or invalid UTF-8 in the path: 400 in the row, not an error
SELECT pg_temp.r(fhir.request('GET', 'Patient/%zz'));
SELECT pg_temp.r(fhir.request('GET', '/fhir/Patient/%C3%28/_history'));
SELECT pg_temp.r(fhir.request('GET', 'Patient', NULL, '"not an object"'));
-- transaction and batch: POST to the base
SELECT pg_temp.r(fhir.request('POST', '', '{"resourceType":"Bundle","type":"transaction","entry":[
  {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient","name":[{"family":"Tx"}]},"request":{"method":"POST","url":"Patient"}},
  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},"request":{"method":"POST","url":"Observation"}}]}'));
SELECT pg_temp.r(fhir.request('POST', '', '{"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Patient","id":"tx2"},"request":{"method":"PUT","url":"Patient/tx2"}},
  {"resource":{"resourceType":"Patient","id":"tx3"},"request":{"method":"PUT","url":"Patient/tx3","ifMatch":"W/\"5\""}}]}'));
SELECT fhir.read('Patient', 'tx2') IS NULL AS tx_rolled_back;
-- history and capabilities
SELECT pg_temp.r(fhir.request('GET', 'Patient/r1/_history'));
SELECT pg_temp.r(fhir.request('GET', 'Patient/never/_history'));
SELECT x.status, x.body->>'resourceType' AS type, x.body->>'fhirVersion' AS version,
       jsonb_array_length(x.body->'rest'->0->'resource') = (SELECT count(*) FROM fhir.resource_types()) AS every_type
  FROM fhir.request('GET', 'metadata') x;
-- a failure inside fhir.request writes nothing and leaves the transaction usable
BEGIN;
SELECT pg_temp.r(fhir.request('PUT', 'Patient/in-tx', '{"resourceType":"Patient","id":"in-tx"}'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/in-tx', '{"resourceType":"Patient","id":"in-tx"}', '{"If-Match": "W/\"7\""}'));
SELECT fhir.read('Patient', 'in-tx')->'meta'->>'versionId' AS version_in_tx;
COMMIT;
-- a reader may search and read through fhir.request, but its writes are 403
CREATE ROLE resp_reader;
GRANT fhir_reader TO resp_reader;
SET ROLE resp_reader;
SELECT pg_temp.r(fhir.request('GET', 'Patient/in-tx'));
SELECT pg_temp.r(fhir.request('PUT', 'Patient/in-tx', '{"resourceType":"Patient","id":"in-tx","active":false}'));
SELECT pg_temp.r(fhir.request('POST', '', '{"resourceType":"Bundle","type":"batch"}'));
RESET ROLE;
DROP ROLE resp_reader;
RESET fhir_search.base_url;
