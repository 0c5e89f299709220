-- The last_updated index of each partition holds rid too, so that the rids of a
-- _lastUpdated window are read from the index alone (search_pages.cpp,
-- unsorted_start). Rebuilds one index per partition.
DO $$
DECLARE
    p text;
BEGIN
    FOR p IN SELECT fhir.partition_name(t) FROM fhir.resource_types() t LOOP
        EXECUTE format('DROP INDEX fhir.%I', p || '_last_updated_idx');
        EXECUTE format('CREATE INDEX %I ON fhir.%I (last_updated) INCLUDE (rid)', p || '_last_updated_idx', p);
    END LOOP;
END
$$;
