-- The C++/PostgreSQL boundary under fire: thousands of errors of every kind in one
-- backend. The backend survives and its memory (PostgreSQL contexts and the C++
-- heap) stays flat.
CREATE FUNCTION pg_temp.provoke(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    caught integer := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            CASE i % 6
            WHEN 0 THEN PERFORM fhir.update('{"resourceType":"Patient","id":"bad id"}');           -- C++ validation error
            WHEN 1 THEN PERFORM fhir.update('{"resourceType":"Nope","id":"x"}');                   -- unknown type
            WHEN 2 THEN PERFORM fhir.update('{"resourceType":"Patient","id":"eb"}', 99);           -- error after SPI work
            WHEN 3 THEN PERFORM fhir.load(E'{"resourceType":"Patient","id":"eb2"}\nnot json');     -- error mid-load
            WHEN 4 THEN PERFORM fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","id":"eb3"},"request":{"method":"PUT","url":"Patient/eb3"}},{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=a|b"}},"request":{"method":"POST","url":"Observation"}}]}');
            ELSE PERFORM fhir.load_file('/nonexistent/' || i);                                    -- PostgreSQL error inside C++
            END CASE;
        EXCEPTION WHEN OTHERS THEN
            caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END
$$;
-- warm up caches (plans, registry), then measure
SELECT pg_temp.provoke(600);
CREATE TEMP TABLE mem_before AS SELECT * FROM fhir.memory_usage();
SELECT pg_temp.provoke(6000) AS errors_caught;
CREATE TEMP TABLE mem_after AS SELECT * FROM fhir.memory_usage();
SELECT (a.context_bytes - b.context_bytes) < 1024 * 1024 AS contexts_flat,
       (a.malloc_bytes - b.malloc_bytes) < 1024 * 1024 AS cpp_heap_flat
  FROM mem_before b, mem_after a;
-- the backend is alive and nothing was written
SELECT fhir.read('Patient', 'eb') IS NULL AND fhir.read('Patient', 'eb2') IS NULL AND fhir.read('Patient', 'eb3') IS NULL AS nothing_written;
SELECT 1 AS backend_alive;
