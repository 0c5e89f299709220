#!/usr/bin/env bash
# Tests for tools/gen_sample.py (deterministic FHIR R4 sample data generator).
# Usage: test/scripts/test_gen_sample.sh     (needs only bash + python3)
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GEN="$ROOT/tools/gen_sample.py"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/gen_sample_test.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

PASS=0
FAIL=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }

N=300

# 1. same seed -> byte-identical output
python3 "$GEN" --patients $N --seed 7 > "$TMP/a.ndjson" &&
python3 "$GEN" --patients $N --seed 7 > "$TMP/b.ndjson"
ha=$(sha256sum < "$TMP/a.ndjson" | cut -d' ' -f1)
hb=$(sha256sum < "$TMP/b.ndjson" | cut -d' ' -f1)
if [ -s "$TMP/a.ndjson" ] && [ "$ha" = "$hb" ]; then
    ok "same seed gives identical output ($ha)"
else
    fail "same seed gives identical output ($ha vs $hb)"
fi

# 2. different seed -> different output
python3 "$GEN" --patients $N --seed 8 > "$TMP/c.ndjson"
hc=$(sha256sum < "$TMP/c.ndjson" | cut -d' ' -f1)
if [ -s "$TMP/c.ndjson" ] && [ "$ha" != "$hc" ]; then
    ok "different seed gives different output"
else
    fail "different seed gives different output"
fi

# 3. every line is a JSON resource with resourceType and a valid FHIR id
if python3 - "$TMP/a.ndjson" <<'EOF'
import json, re, sys
ID = re.compile(r'^[A-Za-z0-9\-\.]{1,64}$')
TYPES = {'Organization', 'Practitioner', 'Patient', 'Encounter', 'Observation',
         'Condition', 'MedicationRequest'}
ids, n, bad = set(), 0, 0
with open(sys.argv[1], encoding='utf-8') as f:
    for ln, line in enumerate(f, 1):
        n += 1
        try:
            r = json.loads(line)
        except ValueError as e:
            print('line %d: invalid JSON: %s' % (ln, e)); bad += 1; continue
        t, i = r.get('resourceType'), r.get('id')
        if t not in TYPES or not isinstance(i, str) or not ID.match(i):
            print('line %d: bad resourceType/id %r/%r' % (ln, t, i)); bad += 1; continue
        if (t, i) in ids:
            print('line %d: duplicate %s/%s' % (ln, t, i)); bad += 1
        ids.add((t, i))
        if bad > 10:
            break
print('  %d resources checked' % n)
sys.exit(1 if bad or n == 0 else 0)
EOF
then ok "every ndjson line parses, has resourceType and valid unique id"
else fail "every ndjson line parses, has resourceType and valid unique id"; fi

# 4. every relative reference resolves to a resource earlier in the stream
if python3 - "$TMP/a.ndjson" <<'EOF'
import json, sys
seen, bad, nref = set(), 0, 0
def refs(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == 'reference' and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(x, list):
        for v in x:
            yield from refs(v)
with open(sys.argv[1], encoding='utf-8') as f:
    for ln, line in enumerate(f, 1):
        r = json.loads(line)
        for ref in refs(r):
            nref += 1
            if ref.count('/') != 1 or ref not in seen:
                print('line %d: unresolved or forward reference %r' % (ln, ref)); bad += 1
        seen.add('%s/%s' % (r['resourceType'], r['id']))
print('  %d references checked' % nref)
sys.exit(1 if bad or nref == 0 else 0)
EOF
then ok "all ndjson references resolve (dependency order)"
else fail "all ndjson references resolve (dependency order)"; fi

# 5. bundles: valid transaction bundles, urn:uuid refs resolve within the
#    bundle, conditional refs match 00-practitioners.json; deterministic.
python3 "$GEN" --format bundles --patients 60 --seed 3 --out "$TMP/b1" &&
python3 "$GEN" --format bundles --patients 60 --seed 3 --out "$TMP/b2"
if diff -r "$TMP/b1" "$TMP/b2" > /dev/null && python3 - "$TMP/b1" <<'EOF'
import json, os, re, sys
d = sys.argv[1]
UUID = re.compile(r'^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
ID = re.compile(r'^[A-Za-z0-9\-\.]{1,64}$')
bad = 0
def err(msg):
    global bad
    bad += 1
    if bad <= 10:
        print('  ' + msg)
def refs(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == 'reference' and isinstance(v, str):
                yield v
            else:
                yield from refs(v)
    elif isinstance(x, list):
        for v in x:
            yield from refs(v)
files = sorted(os.listdir(d))
if not files or files[0] != '00-practitioners.json':
    err('missing 00-practitioners.json'); sys.exit(1)
if len(files) != 61:
    err('expected 61 files, got %d' % len(files))
cond_targets = set()
all_full = set()
with open(os.path.join(d, files[0]), encoding='utf-8') as f:
    b = json.load(f)
if b.get('resourceType') != 'Bundle' or b.get('type') != 'transaction':
    err('00-practitioners.json is not a transaction bundle')
for e in b['entry']:
    r, req = e['resource'], e['request']
    if req['method'] != 'PUT' or req['url'] != '%s/%s' % (r['resourceType'], r['id']):
        err('bad PUT entry %r' % req)
    if not UUID.match(e['fullUrl']):
        err('bad fullUrl %r' % e['fullUrl'])
    for ident in r['identifier']:
        cond_targets.add('%s?identifier=%s|%s' % (r['resourceType'], ident['system'], ident['value']))
nref = ncond = 0
for fn in files[1:]:
    if not re.match(r'^patient-\d{5,}\.json$', fn):
        err('unexpected file %s' % fn); continue
    with open(os.path.join(d, fn), encoding='utf-8') as f:
        b = json.load(f)
    if b.get('resourceType') != 'Bundle' or b.get('type') != 'transaction':
        err('%s: not a transaction bundle' % fn); continue
    full = set()
    for e in b['entry']:
        r = e['resource']
        if not UUID.match(e.get('fullUrl', '')):
            err('%s: bad fullUrl %r' % (fn, e.get('fullUrl')))
        if e['request'] != {'method': 'POST', 'url': r['resourceType']}:
            err('%s: bad request %r' % (fn, e['request']))
        if not ID.match(r.get('id', '')):
            err('%s: bad id %r' % (fn, r.get('id')))
        if e['fullUrl'] in all_full:
            err('%s: duplicate fullUrl %s' % (fn, e['fullUrl']))
        full.add(e['fullUrl']); all_full.add(e['fullUrl'])
    if b['entry'][0]['resource']['resourceType'] != 'Patient':
        err('%s: first entry is not the Patient' % fn)
    for e in b['entry']:
        for ref in refs(e['resource']):
            nref += 1
            if ref.startswith('urn:uuid:'):
                if ref not in full:
                    err('%s: unresolved %s' % (fn, ref))
            elif '?identifier=' in ref:
                ncond += 1
                if ref not in cond_targets:
                    err('%s: conditional ref matches nothing: %s' % (fn, ref))
            else:
                err('%s: unexpected reference form %r' % (fn, ref))
print('  %d bundle references checked (%d conditional)' % (nref, ncond))
sys.exit(1 if bad or ncond == 0 else 0)
EOF
then ok "bundles: transaction bundles with resolvable urn:uuid/conditional refs, deterministic"
else fail "bundles: transaction bundles with resolvable urn:uuid/conditional refs, deterministic"; fi

# 6. --resources sizing and --stats (stats on stderr only, stdout stays data)
python3 "$GEN" --resources 5000 --seed 11 --stats > "$TMP/r.ndjson" 2> "$TMP/r.stats"
lines=$(wc -l < "$TMP/r.ndjson")
total=$(awk '$1 == "total" {print $2}' "$TMP/r.stats")
if [ "$lines" -ge 4850 ] && [ "$lines" -le 5150 ] && [ "$total" = "$lines" ] &&
   grep -q 'Observation' "$TMP/r.stats" && ! grep -qv '^{' "$TMP/r.ndjson"; then
    ok "--resources 5000 gives $lines resources; --stats total matches"
else
    fail "--resources 5000 gives $lines resources (stats total: ${total:-none})"
fi

echo "gen_sample: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
