-- 0.3.0: fhir.search_rows; the same objects as src/sql/api/20-search-rows.sql.
CREATE FUNCTION fhir.search_rows(type text, query text DEFAULT '')
    RETURNS TABLE (resource_type text, id text, version_id integer, last_updated timestamptz, resource jsonb)
    AS 'MODULE_PATHNAME', 'fhir_search_rows' LANGUAGE C STABLE ROWS 100;
COMMENT ON FUNCTION fhir.search_rows(text, text) IS 'every match of a FHIR search (type NULL: system-level) as rows, in the search''s order (_sort) and without pages, in the caller''s snapshot: the matches fhir.search pages through, for joins with application tables, views and aggregates. _summary and _elements shape the resource column; _include, _revinclude, _contained, _cursor and _summary=count are refused (0A000); _count is ignored (use LIMIT)';
REVOKE EXECUTE ON FUNCTION fhir.search_rows(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.search_rows(text, text) TO fhir_reader;
