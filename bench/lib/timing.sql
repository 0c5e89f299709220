-- timing.sql: the benchmarks' statement timer, included with \ir by the workload scripts.

-- Median, p95 and p99 (ms) of `runs` executions of stmt after `warmup` executions
-- (stmt returns one row of any shape).
DROP FUNCTION IF EXISTS bench_time(text, int, int);
CREATE FUNCTION bench_time(stmt text, runs int, warmup int, OUT med float8, OUT p95 float8, OUT p99 float8)
LANGUAGE plpgsql AS $$
DECLARE
  t timestamptz;
  r record;
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
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.95) WITHIN GROUP (ORDER BY x),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY x)
    INTO med, p95, p99 FROM unnest(ms) x;
END $$;
