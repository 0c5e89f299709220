-- ---------------------------------------------------------------------------
-- CapabilityStatement (0.3.0): what this database serves, from the registry.
-- ---------------------------------------------------------------------------
-- fhir._capabilities(): the interactions and operations the SQL API implements
-- (fhir.request routes them), one row each; the statement is built from it and
-- from the enabled search parameters, so it lists exactly what works.
CREATE FUNCTION fhir._capabilities(OUT level text, OUT code text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    VALUES ('type', 'read'), ('type', 'vread'), ('type', 'update'), ('type', 'patch'), ('type', 'delete'),
           ('type', 'history-instance'), ('type', 'history-type'), ('type', 'create'), ('type', 'search-type'),
           ('system', 'transaction'), ('system', 'batch'), ('system', 'search-system'), ('system', 'history-system')
$$;
COMMENT ON FUNCTION fhir._capabilities() IS 'the FHIR interactions the SQL API implements at type (resource) and system level, for fhir.capability_statement()';

CREATE FUNCTION fhir.capability_statement() RETURNS jsonb
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
WITH params AS (
    SELECT p.resource_type, p.code, p.type, p.targets
      FROM fhir._search_params() p WHERE p.enabled
), modifiers(type, list) AS (
    VALUES ('string', ':missing, :exact, :contains'),
           ('token', ':missing, :not, :text, :of-type, :in, :not-in, :above, :below'),
           ('reference', ':missing, :[type], :identifier'),
           ('uri', ':missing, :above, :below'),
           ('date', ':missing'), ('number', ':missing'), ('quantity', ':missing'),
           ('composite', ':missing'), ('special', ':missing')
), type_interactions AS (
    SELECT jsonb_agg(jsonb_build_object('code', c.code) ORDER BY c.code) AS list
      FROM fhir._capabilities() c WHERE c.level = 'type'
), resources AS (
    SELECT t.type, jsonb_build_object(
        'type', t.type,
        'interaction', (SELECT list FROM type_interactions),
        'versioning', 'versioned',
        'readHistory', true,
        'updateCreate', true,
        'conditionalCreate', true,
        'conditionalRead', 'not-supported',
        'conditionalUpdate', true,
        'conditionalDelete', 'single',
        'searchInclude', (SELECT coalesce(jsonb_agg(t.type || ':' || p.code ORDER BY p.code), '[]')
                            FROM params p WHERE p.resource_type = t.type AND p.type = 'reference'),
        'searchRevInclude', (SELECT coalesce(jsonb_agg(p.resource_type || ':' || p.code ORDER BY p.resource_type, p.code), '[]')
                               FROM params p WHERE p.type = 'reference' AND t.type = ANY (p.targets)),
        'searchParam', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                   'name', p.code, 'type', p.type,
                                   'documentation', 'modifiers ' || m.list) ORDER BY p.code), '[]')
                          FROM params p JOIN modifiers m ON m.type = p.type
                         WHERE p.resource_type = t.type))
        || CASE WHEN t.type IN ('Patient', 'Encounter') THEN jsonb_build_object('operation', jsonb_build_array(
               jsonb_build_object('name', 'everything',
                                  'definition', 'http://hl7.org/fhir/OperationDefinition/' || t.type || '-everything')))
           ELSE '{}' END AS entry
      FROM fhir.resource_types() AS t(type)
)
SELECT jsonb_build_object(
    'resourceType', 'CapabilityStatement',
    'status', 'active',
    'date', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'kind', 'instance',
    'software', jsonb_build_object('name', 'fhir_search',
                                   'version', (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'fhir_search')),
    'implementation', jsonb_strip_nulls(jsonb_build_object(
        'description', 'FHIR R4 storage and search in PostgreSQL (fhir_search)',
        'url', nullif(current_setting('fhir_search.base_url', true), ''))),
    'fhirVersion', '4.0.1',
    'format', jsonb_build_array('application/fhir+json', 'json'),
    'rest', jsonb_build_array(jsonb_build_object(
        'mode', 'server',
        'compartment', (SELECT jsonb_agg(DISTINCT c.url ORDER BY c.url) FROM fhir.compartments() c),
        'resource', (SELECT jsonb_agg(r.entry ORDER BY r.type) FROM resources r),
        'interaction', (SELECT jsonb_agg(jsonb_build_object('code', c.code) ORDER BY c.code)
                          FROM fhir._capabilities() c WHERE c.level = 'system'),
        'searchParam', jsonb_build_array(
            jsonb_build_object('name', '_type', 'type', 'token',
                               'documentation', 'the resource types of a system-level search')))))
$$;
COMMENT ON FUNCTION fhir.capability_statement() IS 'the CapabilityStatement (R4) of this database: every resource type with the interactions the SQL API implements, its enabled search parameters (type and supported modifiers), _include and _revinclude values, the compartments searched (rest.compartment); what GET [base]/metadata returns';
