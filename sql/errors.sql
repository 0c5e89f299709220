-- Bad input gets a clear error with a SQLSTATE, and changes nothing.
-- err() shows SQLSTATE, message and detail of a failing statement.
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
SELECT count(*) AS before FROM fhir.resource;
-- not JSON (rejected by jsonb input itself)
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":'')');
-- not an object
SELECT pg_temp.err('SELECT fhir.update(''[1,2]'')');
SELECT pg_temp.err('SELECT fhir.create(''"Patient"'')');
-- missing / non-string / unknown resourceType
SELECT pg_temp.err('SELECT fhir.update(''{"id":"x"}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":42,"id":"x"}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patiant","id":"x"}'')');
-- invalid ids
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":"has space"}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":"x_y"}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":"12345678901234567890123456789012345678901234567890123456789012345"}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":7}'')');
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient"}'')');
SELECT pg_temp.err('SELECT fhir.read(''Patient'', ''bad id'')');
SELECT pg_temp.err('SELECT fhir.read(''Nope'', ''x'')');
-- meta must be an object
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":"m","meta":[]}'')');
-- version conflict (If-Match) on a missing resource
SELECT pg_temp.err('SELECT fhir.update(''{"resourceType":"Patient","id":"vc"}'', 1)');
-- nothing was written by any of the above
SELECT count(*) AS after FROM fhir.resource;
SELECT count(*) AS history FROM fhir.resource_history;
