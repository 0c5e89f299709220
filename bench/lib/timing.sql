-- timing.sql: the benchmarks' statement timer, included with \ir by the workload scripts.

-- Median and p95 (ms) of `runs` executions of stmt after `warmup` executions.
CREATE OR REPLACE FUNCTION bench_time(stmt text, runs int, warmup int, OUT med float8, OUT p95 float8)
LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  r jsonb;
  ms float8[] := '{}';
BEGIN
  FOR i IN 1..warmup LOOP
    EXECUTE stmt INTO r;
  END LOOP;
  FOR i IN 1..runs LOOP
    t := clock_timestamp();
    EXECUTE stmt INTO r;
    ms := ms || (extract(epoch FROM clock_timestamp() - t) * 1000)::float8;
  END LOOP;
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.95) WITHIN GROUP (ORDER BY x)
    INTO med, p95 FROM unnest(ms) x;
END $$;
