-- ---------------------------------------------------------------------------
-- One-call responses (0.3.0): everything an HTTP layer sends, in one row.
-- ---------------------------------------------------------------------------
CREATE TYPE fhir.response AS (
    status         integer,
    body           jsonb,
    location       text,
    etag           text,
    last_modified  timestamptz,
    cache          text,
    cache_entry_id text,
    parse_ms       double precision,
    db_ms          double precision,
    cache_ms       double precision,
    total_ms       double precision,
    cache_hit_rate double precision
);
COMMENT ON TYPE fhir.response IS 'an HTTP response of the FHIR REST API: status, body (NULL for none), the Location, ETag and Last-Modified header values, and for searches the cache status (X-Cache: HIT, MISS, BYPASS, UNAVAILABLE), the cache entry id and the time spent parsing, in the database and in the cache; total_ms (X-Process-Time) and the cache''s hit rate (X-Cache-Hit-Rate) for every request';

CREATE FUNCTION fhir.request(method text, url text, body text DEFAULT NULL, headers jsonb DEFAULT NULL)
    RETURNS fhir.response
    AS 'MODULE_PATHNAME', 'fhir_request' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.request(text, text, text, jsonb) IS 'any FHIR REST request as an HTTP server receives it: method (GET, HEAD, POST, PUT, PATCH, DELETE), url (relative to the FHIR base, or absolute), body (JSON text, or the form of POST _search) and headers (a JSON object: If-Match, If-None-Exist, If-None-Match, If-Modified-Since, Prefer, Cache-Control); returns the response row. Failures come back as their HTTP status with an OperationOutcome body, nothing written; writes need the fhir_writer grants';

CREATE FUNCTION fhir.search_response(resource_type text, query text, cache_control text DEFAULT NULL,
                                     compartment text DEFAULT NULL)
    RETURNS fhir.response
    AS 'MODULE_PATHNAME', 'fhir_search_response' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION fhir.search_response(text, text, text, text) IS 'fhir.search as a response row (the same arguments, compartment included): the Bundle with status 200 and this search''s cache status, entry id and timings (correct behind a transaction-pooling pooler, unlike fhir.last_search()), or the error''s HTTP status and OperationOutcome';

CREATE FUNCTION fhir.read_response(resource_type text, id text, version_id integer DEFAULT NULL)
    RETURNS fhir.response
    AS 'MODULE_PATHNAME', 'fhir_read_response' LANGUAGE C STABLE;
COMMENT ON FUNCTION fhir.read_response(text, text, integer) IS 'read (or vread with version_id) as a response row: 200 with the resource, ETag and Last-Modified; 410 with the deleting version''s ETag for a deleted resource; 404 for one never stored';
