-- ---------------------------------------------------------------------------
-- Result cache (docs/cache.md): statistics, reset, explicit invalidation
-- ---------------------------------------------------------------------------
CREATE FUNCTION fhir.cache_stats(OUT available boolean, OUT entries bigint, OUT bytes bigint, OUT capacity bigint,
                                 OUT hits bigint, OUT misses bigint, OUT evictions bigint, OUT invalidations bigint,
                                 OUT stores bigint, OUT hit_rate double precision, OUT note text)
    AS 'MODULE_PATHNAME', 'fhir_cache_stats' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION fhir.cache_stats() IS 'the search result cache: whether it is available (shared_preload_libraries), entries, bytes in use of capacity, hits, misses, evictions, invalidations, stores, hit rate; note says why it is unavailable';

CREATE VIEW fhir.cache_statistics AS SELECT * FROM fhir.cache_stats();
COMMENT ON VIEW fhir.cache_statistics IS 'one row of search result cache statistics (see fhir.cache_stats())';

CREATE FUNCTION fhir.cache_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'fhir_cache_reset' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fhir.cache_reset() IS 'drops every cached search result and zeroes the cache statistics (cluster-wide); not executable by PUBLIC';
REVOKE EXECUTE ON FUNCTION fhir.cache_reset() FROM PUBLIC;

CREATE FUNCTION fhir.cache_invalidate(resource_type text DEFAULT NULL) RETURNS void
    AS 'MODULE_PATHNAME', 'fhir_cache_invalidate' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION fhir.cache_invalidate(text) IS 'when the current transaction commits, makes cached searches over resource_type (NULL: every type) stale; for writes that bypass fhir.create/update/delete';
