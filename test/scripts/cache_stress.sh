#!/usr/bin/env bash
# Stress test of the shared-memory result cache under concurrent writes.
#   sudo test/scripts/cache_stress.sh      (env: DURATION=60 CLIENTS=8 PATIENTS=200 CACHE_MB=2
#                                           CACHE_MODE=invalidate NO_BUILD=0 KEEP=0)
#
# A throwaway cluster (port 5495, /tmp/fhir_search_stress, stopped on exit) with a small
# cache (CACHE_MB, so entries are evicted all the time) is loaded with generated data
# (tools/gen_sample.py), then pgbench runs CLIENTS clients for DURATION seconds mixing:
#
#   check        (weight 70) a search from stress.queries, checked against the oracle below,
#                            then the same for its next page
#   patient      (10) update a random Patient (gender, birthDate, family name)
#   observation  (10) update (code or subject), delete or re-create a random Observation
#   own_write    (5)  BEGIN; update a Patient; search it in the same transaction (must see
#                     its own new version and must not store); COMMIT; search it again in
#                     a new transaction (must see that version or a newer one)
#   rollback     (5)  the same, then ROLLBACK (the checks catch it if the rolled-back
#                     version ever reaches another session through the cache)
#
# The oracle for a search (stress.check_query). Every writer bumps, in the same
# transaction as its FHIR write, its own row of stress.wcount(rtype, client), so the sum
# over the types a search depends on changes exactly when such a write commits. In READ
# COMMITTED (every statement, and every fhir.search, takes a new snapshot):
#   c0 := sum(wcount of the dependencies)        snapshot S0
#   A  := fhir.search(t, q)                      possibly a cache HIT
#   B  := fhir.search(t, q, 'no-cache')          never reused: computed from the tables
#   C  := fhir.search(t, q, 'no-store')          only when A is complete (no next/previous)
#   c1 := sum(wcount of the dependencies)        snapshot S3
# If A = B (ignoring Bundle id and meta) and A = C (entries, total): pass. Otherwise, if
# c0 = c1, no write to a dependency committed between S0 and S3, so every snapshot in
# between sees the same data, and a correct cache must have returned exactly what the
# database holds: a MISMATCH (recorded in stress.mismatch with A, B, C). If c0 <> c1 the
# pair is not comparable: retry, up to 5 times, then count it as undecided (reported, not
# a failure). A HIT from an entry stored after S0 by another session that saw a newer
# commit also shows as c1 > c0 (that commit is visible at S3), so the oracle has no false
# alarms; and an entry that misses a commit visible at S0, or holds rows that never
# committed, is caught whenever the dependencies stay quiet for one check. Searches with
# REPEATABLE READ would compare trivially but never reuse entries, so they are not used.
#
# After pgbench, with no writers left, every query is checked twice more (the first time
# often answered by an entry stored during the run). Pass criteria: no mismatch, no
# failed own-write check, no pgbench error or aborted client, cache bytes <= capacity at
# every sample (once a second) and at the end, and some cache hits among the passes.
# Prints "cache_stress: N passed, M failed". "retried" counts comparisons that differed
# while a dependency changed (the oracle at work); CACHE_MODE=time (reuse regardless of
# writes) must fail within seconds, which shows the oracle catches stale results.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DURATION="${DURATION:-60}"
CLIENTS="${CLIENTS:-8}"
PATIENTS="${PATIENTS:-200}"
CACHE_MB="${CACHE_MB:-2}"
NO_BUILD="${NO_BUILD:-0}"
CACHE_MODE="${CACHE_MODE:-invalidate}"   # time: a self-test of the oracle (must report mismatches)
KEEP="${KEEP:-0}"   # 1: leave the cluster running at the end (debugging)
WORK="${WORK:-/tmp/fhir_search_stress}"
PORT="${PORT:-5495}"
source scripts/lib/cluster.sh

if [ "$NO_BUILD" != 1 ]; then
  make -s -j"$(nproc)" >/dev/null
  as_root make -s install >/dev/null
fi

cluster_stop
rm -rf "$WORK"
mkdir -p "$WORK"
python3 tools/gen_sample.py --patients "$PATIENTS" --seed 7 --out "$WORK/data.ndjson"
own_by_postgres "$WORK/data.ndjson"

cluster_init <<CONF
max_connections = $((CLIENTS + 20))
fsync = off
synchronous_commit = off
fhir_search.cache_size = '${CACHE_MB}MB'
fhir_search.cache_mode = '$CACHE_MODE'
CONF
MONITOR_PID=""
cleanup() { [ -n "$MONITOR_PID" ] && kill "$MONITOR_PID" 2>/dev/null; [ "$KEEP" = 1 ] || cluster_stop; }
trap cleanup EXIT
cluster_start

psql_t -c "CREATE EXTENSION fhir_search" -c "SET client_min_messages = warning; SELECT fhir.load_file('$WORK/data.ndjson')" -c "ANALYZE" >/dev/null
log "loaded $(psql_t -c "SELECT count(*) FROM fhir.resource") resources"

# ------------------------------------------------------------------ schema of the test
psql_t >/dev/null <<'SQL'
CREATE SCHEMA stress;
-- write counters: one row per (type, client), bumped in the writer's transaction
CREATE TABLE stress.wcount (rtype text, client int, n bigint NOT NULL DEFAULT 0, PRIMARY KEY (rtype, client));
-- outcomes per client (no contention): pass_hit, pass_miss, undecided, mismatch, own_ok, own_fail, ...
CREATE TABLE stress.tally (client int, outcome text, n bigint NOT NULL, PRIMARY KEY (client, outcome));
CREATE TABLE stress.mismatch (at timestamptz DEFAULT clock_timestamp(), client int, rtype text, query text,
                              cache text, a jsonb, b jsonb, c jsonb, note text);
CREATE TABLE stress.queries (n serial PRIMARY KEY, rtype text, query text, deps text[]);
CREATE TABLE stress.patients (n serial PRIMARY KEY, id text);
CREATE TABLE stress.observations (n serial PRIMARY KEY, id text, original jsonb);
CREATE TABLE stress.families (n serial PRIMARY KEY, family text);
CREATE TABLE stress.codes (n serial PRIMARY KEY, code text);

INSERT INTO stress.patients (id) SELECT id FROM fhir.resource_patient ORDER BY id;
INSERT INTO stress.observations (id, original) SELECT id, content FROM fhir.resource_observation ORDER BY id;
INSERT INTO stress.families (family)
  SELECT content->'name'->0->>'family' FROM fhir.resource_patient GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3;
INSERT INTO stress.codes (code)
  SELECT c->>'code' FROM fhir.resource_observation o, jsonb_array_elements(o.content->'code'->'coding') c
   WHERE c->>'system' = 'http://loinc.org' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 4;

-- the searches: Patient-only, Observation-only, and across both (chain, _has, _include)
INSERT INTO stress.queries (rtype, query, deps)
SELECT 'Patient', q, '{Patient}'::text[] FROM unnest(ARRAY[
    'gender=male&_count=10', 'gender=female&_count=10', 'gender=female&_total=accurate&_count=5',
    'birthdate=ge1970&_sort=birthdate&_count=10', 'birthdate=lt1960&gender=male&_sort=-birthdate,_id&_count=10',
    '_summary=count&gender=male', '_elements=gender,birthDate&gender=female&_count=10',
    '_id=pat-000001,pat-000002,pat-000003', '_sort=family,_id&_count=10']) q
UNION ALL
SELECT 'Patient', 'name=' || family || '&_count=10', '{Patient}' FROM stress.families
UNION ALL
SELECT 'Observation', 'code=http://loinc.org|' || code || '&_count=10', '{Observation}' FROM stress.codes
UNION ALL
SELECT 'Observation', 'subject=Patient/' || id, '{Observation}' FROM stress.patients WHERE n <= 5
UNION ALL
SELECT 'Observation', 'subject:Patient.gender=' || g || '&code=' || code || '&_count=10', '{Observation,Patient}'
  FROM unnest(ARRAY['male', 'female']) g, (SELECT code FROM stress.codes LIMIT 2) c
UNION ALL
SELECT 'Observation', 'subject:Patient.name=' || family || '&_count=10', '{Observation,Patient}' FROM stress.families
UNION ALL
SELECT 'Patient', '_has:Observation:patient:code=' || code || '&gender=female&_count=10', '{Observation,Patient}'
  FROM stress.codes
UNION ALL
SELECT 'Observation', 'code=' || code || '&_include=Observation:subject&_count=5', '{Observation,Patient}'
  FROM (SELECT code FROM stress.codes LIMIT 2) c
UNION ALL
SELECT 'Patient', '_revinclude=Observation:subject&_id=pat-000004,pat-000005', '{Observation,Patient}';

CREATE FUNCTION stress.tally(client int, outcome text, k bigint DEFAULT 1) RETURNS void LANGUAGE sql AS $$
  INSERT INTO stress.tally VALUES (client, outcome, k)
  ON CONFLICT (client, outcome) DO UPDATE SET n = stress.tally.n + excluded.n $$;

CREATE FUNCTION stress.wsum(deps text[]) RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT coalesce(sum(n), 0)::bigint FROM stress.wcount WHERE rtype = ANY (deps) $$;

CREATE FUNCTION stress.bump(client int, rtype text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO stress.wcount VALUES (rtype, client, 1)
  ON CONFLICT (rtype, client) DO UPDATE SET n = stress.wcount.n + 1 $$;

-- the query string of a Bundle's next link (NULL without one)
CREATE FUNCTION stress.next_query(b jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substring(l->>'url' FROM '[?](.*)$') FROM jsonb_array_elements(b->'link') l
   WHERE l->>'relation' = 'next' LIMIT 1 $$;

-- One search against the oracle (see the header). Returns the outcome; writes nothing
-- except a mismatch row (and only after its searches), so the searches of the same
-- statement still use the cache.
CREATE FUNCTION stress.check_query(client int, t text, q text, deps text[], OUT outcome text, OUT next text, OUT retries int)
LANGUAGE plpgsql AS $$
DECLARE
  c0 bigint; c1 bigint; a jsonb; b jsonb; c jsonb; a_cache text; attempt int := 0;
BEGIN
  LOOP
    attempt := attempt + 1;
    c0 := stress.wsum(deps);
    a := fhir.search(t, q);
    a_cache := fhir.last_search()->>'cache';
    b := fhir.search(t, q, 'no-cache');
    c := NULL;
    IF NOT jsonb_path_exists(a, '$.link[*] ? (@.relation != "self")') THEN
      c := fhir.search(t, q, 'no-store');
    END IF;
    c1 := stress.wsum(deps);
    retries := attempt - 1;
    IF (a - 'id' - 'meta') = (b - 'id' - 'meta')
       AND (c IS NULL OR (a->'entry' IS NOT DISTINCT FROM c->'entry' AND a->'total' IS NOT DISTINCT FROM c->'total')) THEN
      outcome := 'pass_' || lower(a_cache);
      next := stress.next_query(a);
      RETURN;
    ELSIF c0 = c1 THEN
      INSERT INTO stress.mismatch (client, rtype, query, cache, a, b, c, note)
      VALUES (client, t, q, a_cache, a, b, c, format('wcount %s, attempt %s', c0, attempt));
      outcome := 'mismatch';
      RETURN;
    ELSIF attempt >= 5 THEN
      outcome := 'undecided';
      RETURN;
    END IF;
  END LOOP;
END $$;

-- pgbench "check": query n and then its next page; tallies at the end
CREATE FUNCTION stress.check(client int, qn int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  t text; q text; deps text[]; r1 record; r2 record;
BEGIN
  SELECT rtype, query, queries.deps INTO t, q, deps FROM stress.queries WHERE n = qn;
  SELECT * INTO r1 FROM stress.check_query(client, t, q, deps);
  IF r1.outcome LIKE 'pass%' AND r1.next IS NOT NULL THEN
    SELECT * INTO r2 FROM stress.check_query(client, t, r1.next, deps);
    PERFORM stress.tally(client, r2.outcome);
    IF r2.retries > 0 THEN PERFORM stress.tally(client, 'retried', r2.retries); END IF;
  END IF;
  PERFORM stress.tally(client, r1.outcome);
  IF r1.retries > 0 THEN PERFORM stress.tally(client, 'retried', r1.retries); END IF;
END $$;

-- a new version of Patient n: gender flipped, another birth year and family name
CREATE FUNCTION stress.write_patient(client int, pn int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  pid text := (SELECT id FROM stress.patients WHERE n = pn);
  r jsonb;
BEGIN
  SELECT content INTO r FROM fhir.resource_patient WHERE id = pid;
  r := jsonb_set(r, '{gender}', to_jsonb(CASE WHEN r->>'gender' = 'male' THEN 'female' ELSE 'male' END));
  r := jsonb_set(r, '{birthDate}', to_jsonb(format('%s-06-15', 1935 + (random() * 60)::int)));
  r := jsonb_set(r, '{name,0,family}', to_jsonb((SELECT family FROM stress.families ORDER BY random() LIMIT 1)));
  PERFORM stress.bump(client, 'Patient');
  RETURN (fhir.update(r - 'meta')->'meta'->>'versionId')::int;
END $$;

-- Observation n: another code, another subject, deleted, or (when deleted) re-created
CREATE FUNCTION stress.write_observation(client int, obn int, pn int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  oid text; orig jsonb; r jsonb; dice float8 := random();
BEGIN
  SELECT id, original INTO oid, orig FROM stress.observations WHERE n = obn;
  SELECT content INTO r FROM fhir.resource_observation WHERE id = oid;
  IF r IS NULL THEN
    PERFORM fhir.update(orig);
  ELSIF dice < 0.2 THEN
    PERFORM fhir.delete('Observation', oid);
  ELSIF dice < 0.6 THEN
    PERFORM fhir.update(jsonb_set(r, '{code,coding,0,code}',
                                  to_jsonb((SELECT code FROM stress.codes ORDER BY random() LIMIT 1))) - 'meta');
  ELSE
    PERFORM fhir.update(jsonb_set(r, '{subject,reference}',
                                  to_jsonb('Patient/' || (SELECT id FROM stress.patients WHERE n = pn))) - 'meta');
  END IF;
  PERFORM stress.bump(client, 'Observation');
END $$;

-- In the writing transaction: the search sees version v of Patient n and does not store it.
CREATE FUNCTION stress.own_search(pn int, v int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  pid text := (SELECT id FROM stress.patients WHERE n = pn);
  b jsonb := fhir.search('Patient', '_id=' || pid);
  info jsonb := fhir.last_search();
BEGIN
  IF (b->'entry'->0->'resource'->'meta'->>'versionId')::int IS DISTINCT FROM v OR info->>'store' NOT LIKE 'not stored%' THEN
    RAISE WARNING 'own write not seen: % expected version %, got %, store %', pid, v,
      b->'entry'->0->'resource'->'meta'->>'versionId', info->>'store';
    RETURN 0;
  END IF;
  RETURN 1;
END $$;

-- After the commit, in a new transaction: version v of Patient n or a newer one.
CREATE FUNCTION stress.after_commit(client int, pn int, v int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  pid text := (SELECT id FROM stress.patients WHERE n = pn);
  b jsonb := fhir.search('Patient', '_id=' || pid);
  cache text := fhir.last_search()->>'cache';
BEGIN
  IF coalesce((b->'entry'->0->'resource'->'meta'->>'versionId')::int, 0) < v THEN
    INSERT INTO stress.mismatch (client, rtype, query, cache, a, note)
    VALUES (client, 'Patient', '_id=' || pid, cache, b, format('committed version %s not seen', v));
    PERFORM stress.tally(client, 'after_commit_fail');
  ELSE
    PERFORM stress.tally(client, 'after_commit_ok');
  END IF;
END $$;
SQL

NQ=$(psql_t -c "SELECT count(*) FROM stress.queries")
NP=$(psql_t -c "SELECT count(*) FROM stress.patients")
NO=$(psql_t -c "SELECT count(*) FROM stress.observations")
log "$NQ queries, $NP patients, $NO observations; $CLIENTS clients for ${DURATION}s, cache ${CACHE_MB}MB"

S="$WORK/scripts"; mkdir -p "$S"
cat > "$S/check.sql" <<'EOF'
\set q random(1, :nq)
SELECT stress.check(:client_id, :q);
EOF
cat > "$S/patient.sql" <<'EOF'
\set p random(1, :np)
SELECT stress.write_patient(:client_id, :p);
EOF
cat > "$S/observation.sql" <<'EOF'
\set o random(1, :no)
\set p random(1, :np)
SELECT stress.write_observation(:client_id, :o, :p);
EOF
cat > "$S/own_write.sql" <<'EOF'
\set p random(1, :np)
BEGIN;
SELECT stress.write_patient(:client_id, :p) AS v \gset
SELECT stress.own_search(:p, :v) AS ok \gset
COMMIT;
SELECT stress.tally(:client_id, CASE WHEN :ok = 1 THEN 'own_write_ok' ELSE 'own_write_fail' END);
SELECT stress.after_commit(:client_id, :p, :v);
EOF
cat > "$S/rollback.sql" <<'EOF'
\set p random(1, :np)
BEGIN;
SELECT stress.write_patient(:client_id, :p) AS v \gset
SELECT stress.own_search(:p, :v) AS ok \gset
ROLLBACK;
SELECT stress.tally(:client_id, CASE WHEN :ok = 1 THEN 'rollback_ok' ELSE 'rollback_fail' END);
EOF
own_by_postgres -R "$S"

# cache memory, sampled once a second while pgbench runs
(
  while sleep 1; do
    psql_t -c "SELECT bytes, capacity, entries FROM fhir.cache_statistics" 2>/dev/null | tr '|' ' ' >> "$WORK/memory.samples" || true
  done
) &
MONITOR_PID=$!

set +e
as_pg "$BIN/pgbench" -n -h "$WORK" -p "$PORT" -c "$CLIENTS" -j 2 -T "$DURATION" \
  -D nq="$NQ" -D np="$NP" -D no="$NO" \
  -f "$S/check.sql@70" -f "$S/patient.sql@10" -f "$S/observation.sql@10" \
  -f "$S/own_write.sql@5" -f "$S/rollback.sql@5" postgres > "$WORK/pgbench.out" 2> "$WORK/pgbench.err"
PGBENCH_RC=$?
set -e
kill "$MONITOR_PID" 2>/dev/null || true; wait "$MONITOR_PID" 2>/dev/null || true; MONITOR_PID=""
grep -E "^(number of|tps|latency average)" "$WORK/pgbench.out" || true
ABORTED=$(grep -c "aborted" "$WORK/pgbench.err" || true)
grep -E "aborted|ERROR" "$WORK/pgbench.err" | head -5 || true
PGB_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out"); PGB_FAILED=${PGB_FAILED:-0}

# quiescent sweep: every query twice (and its next page), no writers left
# (one statement per check: a check that tallied has written, and a transaction that
# wrote bypasses the cache)
psql_t >/dev/null <<'SQL'
SELECT format('SELECT stress.check(-1, %s)', n) FROM stress.queries, generate_series(1, 2) i ORDER BY i, n \gexec
SQL

echo "outcomes:"
psql_t -F ' ' -c "SELECT outcome, sum(n) FROM stress.tally GROUP BY 1 ORDER BY 1" | sed 's/^/  /'
echo "cache: $(psql_t -F ' ' -c "SELECT format('entries %s, bytes %s of %s, hits %s, misses %s, stores %s, evictions %s, invalidations %s, hit rate %s',
  entries, bytes, capacity, hits, misses, stores, evictions, invalidations, round(hit_rate::numeric, 3)) FROM fhir.cache_statistics")"

read -r PASSED HITS FAILED_CHECKS UNDECIDED < <(psql_t -F ' ' -c "
  SELECT coalesce(sum(n) FILTER (WHERE outcome LIKE 'pass%' OR outcome LIKE '%\_ok'), 0),
         coalesce(sum(n) FILTER (WHERE outcome = 'pass_hit'), 0),
         coalesce(sum(n) FILTER (WHERE outcome = 'mismatch' OR outcome LIKE '%\_fail'), 0),
         coalesce(sum(n) FILTER (WHERE outcome = 'undecided'), 0)
    FROM stress.tally")
MISMATCH=$(psql_t -c "SELECT count(*) FROM stress.mismatch")
OVER=$(awk '$1 > $2 { n++ } END { print n + 0 }' "$WORK/memory.samples" 2>/dev/null || echo 0)
SAMPLES=$(wc -l < "$WORK/memory.samples" 2>/dev/null || echo 0)
MAXB=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$WORK/memory.samples" 2>/dev/null || echo 0)
END_OVER=$(psql_t -c "SELECT (bytes > capacity)::int FROM fhir.cache_statistics")
echo "memory: $SAMPLES samples, max bytes $MAXB, over capacity $((OVER + END_OVER)) times"
echo "undecided (a concurrent commit in every one of 5 tries, not a failure): $UNDECIDED"

FAILED=$((FAILED_CHECKS + ABORTED + PGB_FAILED + OVER + END_OVER))
if [ "$PGBENCH_RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; then FAILED=1; echo "pgbench exited with $PGBENCH_RC"; fi
if [ "$HITS" -eq 0 ]; then FAILED=$((FAILED + 1)); echo "no cache hit among the passed checks: the cached path was not exercised"; fi
if [ "$MISMATCH" -gt 0 ]; then
  echo "mismatches (first 3):"
  psql_t -c "SELECT format('%s %s?%s cache=%s %s', rtype, '', query, cache, note) FROM stress.mismatch ORDER BY at LIMIT 3"
  psql_t -c "\\copy (SELECT * FROM stress.mismatch) TO '$WORK/mismatch.csv' CSV HEADER" || true
  cp "$WORK/mismatch.csv" /tmp/fhir_search_stress_mismatch.csv 2>/dev/null && echo "details: /tmp/fhir_search_stress_mismatch.csv"
fi
echo "cache_stress: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
