-- A custom SearchParameter may override a built-in one (fhir.add_search_param),
-- fhir.drop_search_param (src/sql/api/40-search-param-overrides.sql, which the
-- upgrade runs first) goes back, and fhir.search_parameters says which are overridden.
REVOKE EXECUTE ON FUNCTION fhir.drop_search_param(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fhir.drop_search_param(text, text) TO fhir_admin;
ALTER FUNCTION fhir.drop_search_param(text, text) SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

COMMENT ON TABLE fhir.search_param_override IS 'changes to the built-in search parameter registry: enabled flags (fhir.set_search_param_enabled), custom SearchParameters (definition, ids from fhir.custom_param_id_seq) and overrides of built-in ones (definition under the built-in''s id); use fhir.add_search_param()/fhir.drop_search_param()';
COMMENT ON FUNCTION fhir.add_search_param(jsonb) IS 'adds or replaces a custom SearchParameter (code, type, base, expression) on each base; where its code is a built-in parameter of a base it overrides that one there under the built-in''s id (not _id, _lastUpdated, _text, _content; fhir.drop_search_param goes back); returns Type/code per base. Writes use the new definition at once; resources stored before keep their values until fhir.reindex(type), as its NOTICE says';

CREATE OR REPLACE VIEW fhir.search_parameters AS
SELECT p.id, p.resource_type, p.code, p.type, p.expression, p.targets, p.enabled, p.builtin, p.index_names,
       cardinality(p.search_index_names) > 0 AND NOT EXISTS (
           SELECT 1 FROM unnest(p.search_index_names) n
            WHERE to_regclass(format('fhir.%I', n)) IS NULL) AS indexed,
       p.builtin AND EXISTS (
           SELECT 1 FROM fhir.search_param_override o WHERE o.id = p.id AND o.definition IS NOT NULL) AS overridden
  FROM fhir._search_params() p;
COMMENT ON VIEW fhir.search_parameters IS 'every search parameter per resource type (R4 built-ins and custom ones) with its FHIRPath expression, whether it is enabled, the indexes that serve it (index_names, including a reference''s _sort btrees, made on demand), whether those its searches need exist (indexed), and whether a custom definition overrides the built-in one (overridden: type and expression are the override''s)';
