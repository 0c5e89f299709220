// rest_client.mjs: a real FHIR client library (fhir-kit-client, from the npm
// registry) drives every interaction of fhir-server (issue 13, item 2) and checks
// the answers: CRUD with ETag/If-Match (412), conditional create/update/delete,
// JSON Patch and FHIRPath Patch, deleted reads (410), search with GET and POST
// _search, paging through next links, compartment search, $everything, history
// at three levels, batch, transactions with urn:uuid references, Prefer
// (return= and handling=), gzip, the cache headers, metadata, Bulk Data $export
// (system, Patient and Group level with _type, _typeFilter, _since; status, files, DELETE).
//   node test/clients/rest_client.mjs http://127.0.0.1:8080/fhir [label]
// Prints one "ok"/"FAIL" line per check and "rest client: N passed, M failed";
// exits non-zero when a check failed. Every run uses fresh identifiers, so it can
// run again on the same database (directly and through pgbouncer).
import { Client, RESPONSE_KEY } from 'fhir-kit-client';

const base = process.argv[2];
const label = process.argv[3] || 'direct';
const client = new Client({ baseUrl: base });
const run = `${label}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
const SYS = 'urn:fhir-server-test';
let passed = 0;
let failed = 0;

function check(name, cond, detail = '') {
  if (cond) {
    passed++;
    console.log(`ok   - ${label}: ${name}`);
  } else {
    failed++;
    console.log(`FAIL - ${label}: ${name}${detail ? ': ' + detail : ''}`);
  }
}
const headers = (result) => result[RESPONSE_KEY].headers;
const status = (result) => result[RESPONSE_KEY].status;
// The HTTP status of a call the client reports as an error (fhir-kit-client throws on non-2xx).
async function failure(promise) {
  try {
    const r = await promise;
    return { status: status(r), data: r };
  } catch (e) {
    if (!e.response) throw e;
    return { status: e.response.status, data: e.response.data };
  }
}
const isOutcome = (b) => b && b.resourceType === 'OperationOutcome' && Array.isArray(b.issue) && b.issue.length > 0;

async function main() {
  // metadata: the CapabilityStatement from the database
  const cap = await client.capabilityStatement();
  check('metadata is a CapabilityStatement', cap.resourceType === 'CapabilityStatement' && cap.rest[0].resource.length > 100);

  // create, read, vread with ETag, Last-Modified, Location
  const created = await client.create({
    resourceType: 'Patient',
    body: { resourceType: 'Patient', identifier: [{ system: SYS, value: `p-${run}` }], name: [{ family: `Kit${run}`, given: ['Anna'] }] },
  });
  const id = created.id;
  check('create: 201 with Location, ETag W/"1"', status(created) === 201 && headers(created).get('location').includes(`/Patient/${id}/_history/1`) &&
    headers(created).get('etag') === 'W/"1"', `${status(created)} ${headers(created).get('location')}`);
  check('create: Location is under the base URL', headers(created).get('location').startsWith(base + '/'), headers(created).get('location'));
  const read = await client.read({ resourceType: 'Patient', id });
  check('read: the resource, ETag and Last-Modified', read.id === id && headers(read).get('etag') === 'W/"1"' &&
    !Number.isNaN(Date.parse(headers(read).get('last-modified'))));
  const notModified = await failure(client.read({ resourceType: 'Patient', id, options: { headers: { 'If-None-Match': 'W/"1"' } } }));
  check('read with If-None-Match of the current version: 304', notModified.status === 304, `${notModified.status}`);

  // update with If-Match; a stale If-Match is 412
  read.active = true;
  const updated = await client.update({ resourceType: 'Patient', id, body: read, options: { headers: { 'If-Match': 'W/"1"' } } });
  check('update with If-Match W/"1": version 2', status(updated) === 200 && updated.meta.versionId === '2' && headers(updated).get('etag') === 'W/"2"');
  const stale = await failure(client.update({ resourceType: 'Patient', id, body: read, options: { headers: { 'If-Match': 'W/"1"' } } }));
  check('update with a stale If-Match: 412 with an OperationOutcome', stale.status === 412 && isOutcome(stale.data), `${stale.status}`);
  const v1 = await client.vread({ resourceType: 'Patient', id, version: '1' });
  check('vread version 1', v1.meta.versionId === '1' && v1.active === undefined);

  // conditional update: creates on no match, updates the match after
  const condBody = { resourceType: 'Patient', identifier: [{ system: SYS, value: `cond-${run}` }], name: [{ family: `Cond${run}` }] };
  const c1 = await client.update({ resourceType: 'Patient', searchParams: { identifier: `${SYS}|cond-${run}` }, body: condBody });
  const c2 = await client.update({ resourceType: 'Patient', searchParams: { identifier: `${SYS}|cond-${run}` }, body: { ...condBody, gender: 'female' } });
  check('conditional update: 201 then 200 on the same resource', status(c1) === 201 && status(c2) === 200 && c1.id === c2.id && c2.gender === 'female');

  // conditional create (If-None-Exist)
  const ine = { 'If-None-Exist': `identifier=${SYS}|ine-${run}` };
  const ineBody = { resourceType: 'Patient', identifier: [{ system: SYS, value: `ine-${run}` }] };
  const i1 = await client.create({ resourceType: 'Patient', body: ineBody, options: { headers: ine } });
  const i2 = await client.create({ resourceType: 'Patient', body: ineBody, options: { headers: ine } });
  check('conditional create: 201, then 200 with the existing resource', status(i1) === 201 && status(i2) === 200 && i1.id === i2.id);

  // patch: JSON Patch and FHIRPath Patch
  const p1 = await client.patch({ resourceType: 'Patient', id, jsonPatch: [{ op: 'replace', path: '/active', value: false }] });
  check('JSON Patch: version 3, active false', p1.meta.versionId === '3' && p1.active === false);
  const fhirpathPatch = {
    resourceType: 'Parameters',
    parameter: [{ name: 'operation', part: [{ name: 'type', valueCode: 'replace' }, { name: 'path', valueString: 'Patient.active' }, { name: 'value', valueBoolean: true }] }],
  };
  const p2 = await client.request(`Patient/${id}`, { method: 'PATCH', body: fhirpathPatch, options: { headers: { 'content-type': 'application/fhir+json' } } });
  check('FHIRPath Patch: version 4, active true', p2.meta.versionId === '4' && p2.active === true);
  const badPatch = await failure(client.patch({ resourceType: 'Patient', id, jsonPatch: [{ op: 'remove', path: '/nothing/here' }] }));
  check('a patch that does not apply: 4xx with an OperationOutcome', badPatch.status >= 400 && badPatch.status < 500 && isOutcome(badPatch.data), `${badPatch.status}`);

  // transaction with urn:uuid references: a Patient and 25 Observations
  const entries = [{ fullUrl: 'urn:uuid:11111111-2222-3333-4444-555555555555', resource: { resourceType: 'Patient', name: [{ family: `Tx${run}` }] }, request: { method: 'POST', url: 'Patient' } }];
  for (let i = 0; i < 25; i++) {
    entries.push({
      resource: {
        resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: 'urn:uuid:11111111-2222-3333-4444-555555555555' }, valueQuantity: { value: 60 + i, unit: '/min' },
        identifier: [{ system: SYS, value: `obs-${run}-${i}` }],
      },
      request: { method: 'POST', url: 'Observation' },
    });
  }
  const tx = await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: entries } });
  const txPatient = tx.entry[0].response.location.match(/Patient\/([^/]+)/)[1];
  check('transaction: transaction-response with 26 entries, all 201', tx.type === 'transaction-response' && tx.entry.length === 26 &&
    tx.entry.every((e) => e.response.status.startsWith('201')));
  const obs0 = await client.read({ resourceType: 'Observation', id: tx.entry[1].response.location.match(/Observation\/([^/]+)/)[1] });
  check('transaction: urn:uuid reference resolved to the new Patient', obs0.subject.reference === `Patient/${txPatient}`, obs0.subject.reference);

  // search and paging through next links
  let page = await client.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${txPatient}`, _count: 10, _sort: 'value-quantity' } });
  const seen = [];
  let pages = 0;
  while (page) {
    pages++;
    for (const e of page.entry || []) seen.push(e.resource.valueQuantity.value);
    page = await client.nextPage({ bundle: page });
    if (pages > 10) break;
  }
  check('paging: 3 pages through next links, 25 distinct results in order', pages === 3 && seen.length === 25 && new Set(seen).size === 25 &&
    seen.every((v, i) => i === 0 || seen[i - 1] < v), `${pages} pages, ${seen.length} results`);
  const posted = await client.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${txPatient}`, _summary: 'count' }, options: { postSearch: true } });
  check('POST _search with a form body: total 25', posted.total === 25, `${posted.total}`);
  const system = await client.search({ searchParams: { _type: 'Patient', identifier: `${SYS}|p-${run}` } });
  check('system-level search (_type)', system.entry && system.entry.length === 1 && system.entry[0].resource.id === id);

  // compartment search and $everything
  const comp = await client.search({ resourceType: 'Observation', compartment: { resourceType: 'Patient', id: txPatient }, searchParams: { _count: 100 } });
  check('compartment search Patient/id/Observation: 25', comp.entry && comp.entry.length === 25, `${comp.entry && comp.entry.length}`);
  const everything = await client.operation({ name: '$everything', resourceType: 'Patient', id: txPatient, method: 'GET', input: { _count: 100 } });
  const types = new Set((everything.entry || []).map((e) => e.resource.resourceType));
  check('Patient/$everything: the patient and its observations', everything.entry && everything.entry.length === 26 && types.has('Patient') && types.has('Observation'),
    `${everything.entry && everything.entry.length}`);

  // history: instance, type, system
  const hi = await client.history({ resourceType: 'Patient', id });
  check('instance history: 4 versions, newest first', hi.type === 'history' && hi.entry.length === 4 && hi.entry[0].resource.meta.versionId === '4');
  const ht = await client.history({ resourceType: 'Patient', options: {} });
  check('type history', ht.type === 'history' && ht.entry.length > 0 && ht.entry.every((e) => !e.resource || e.resource.resourceType === 'Patient'));
  const hs = await client.history();
  check('system history', hs.type === 'history' && hs.entry.length > 0);

  // batch: entries succeed or fail one by one
  const batch = await client.batch({
    body: { resourceType: 'Bundle', type: 'batch', entry: [
      { request: { method: 'GET', url: `Patient/${id}` } },
      { request: { method: 'GET', url: `Patient/does-not-exist-${run}` } },
      { resource: { resourceType: 'Patient', name: [{ family: `Batch${run}` }] }, request: { method: 'POST', url: 'Patient' } },
    ] },
  });
  check('batch: 200, 404, 201 per entry', batch.type === 'batch-response' && batch.entry[0].response.status.startsWith('200') &&
    batch.entry[1].response.status.startsWith('404') && batch.entry[2].response.status.startsWith('201'),
    JSON.stringify(batch.entry.map((e) => e.response.status)));

  // Prefer: return=minimal|OperationOutcome|representation, handling=strict|lenient
  const minimal = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient' }, options: { headers: { Prefer: 'return=minimal' } } });
  check('Prefer: return=minimal: 201 with Location, no body', status(minimal) === 201 && Object.keys(minimal).length === 0 && headers(minimal).get('location'));
  const oo = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient' }, options: { headers: { Prefer: 'return=OperationOutcome' } } });
  check('Prefer: return=OperationOutcome', status(oo) === 201 && oo.resourceType === 'OperationOutcome');
  const rep = await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'male' }, options: { headers: { Prefer: 'return=representation' } } });
  check('Prefer: return=representation', status(rep) === 201 && rep.gender === 'male' && rep.id);
  const strict = await failure(client.search({ resourceType: 'Patient', searchParams: { 'no-such-param': 'x' }, options: { headers: { Prefer: 'handling=strict' } } }));
  check('Prefer: handling=strict, unknown parameter: 400 OperationOutcome', strict.status === 400 && isOutcome(strict.data), `${strict.status}`);
  const lenient = await client.search({ resourceType: 'Patient', searchParams: { 'no-such-param': 'x', _count: 1 }, options: { headers: { Prefer: 'handling=lenient' } } });
  check('Prefer: handling=lenient, unknown parameter: 200 with an outcome entry', status(lenient) === 200 &&
    (lenient.entry || []).some((e) => e.search && e.search.mode === 'outcome'));

  // cache headers: a repeat of the same search is a HIT from this base; no-cache a MISS
  const q = { family: `Kit${run}` };
  const first = await client.search({ resourceType: 'Patient', searchParams: q });
  const again = await client.search({ resourceType: 'Patient', searchParams: q });
  check('X-Cache: MISS, then HIT from the base URL', headers(first).get('x-cache') === 'MISS' && headers(again).get('x-cache') === `HIT from ${base}`,
    `${headers(first).get('x-cache')} / ${headers(again).get('x-cache')}`);
  const nocache = await client.search({ resourceType: 'Patient', searchParams: q, options: { headers: { 'Cache-Control': 'no-cache' } } });
  check('Cache-Control: no-cache passed through: MISS', headers(nocache).get('x-cache') === 'MISS', headers(nocache).get('x-cache'));
  const h = headers(again);
  check('X-Process-Time, X-DB-Time, X-Cache-Hit-Rate, Server-Timing', [h.get('x-process-time'), h.get('x-db-time'), h.get('x-cache-hit-rate')].every((v) => v && !Number.isNaN(Number(v))) &&
    /db;dur=/.test(h.get('server-timing')));

  // gzip when asked (fetch asks and decompresses; the header says it was compressed)
  const big = await client.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${txPatient}`, _count: 25 }, options: { headers: { 'Accept-Encoding': 'gzip' } } });
  check('gzip: Content-Encoding gzip on a large Bundle, decoded by the client', headers(big).get('content-encoding') === 'gzip' && big.entry.length === 25,
    headers(big).get('content-encoding'));

  // _format and Accept
  const fmt = await client.request(`Patient/${id}?_format=json`);
  check('_format=json', fmt.id === id);
  const xml = await failure(client.request(`Patient/${id}?_format=xml`));
  check('_format=xml: 406', xml.status === 406 && isOutcome(xml.data), `${xml.status}`);

  // Bulk Data $export: kick-off (Prefer: respond-async), status polling, NDJSON files
  const exportRun = async (path) => {
    const kick = await client.request(path, { options: { headers: { Prefer: 'respond-async' } } });
    const statusUrl = headers(kick).get('content-location');
    if (status(kick) !== 202 || !statusUrl) return { kick: status(kick) };
    let manifest;
    for (let i = 0; i < 600; i++) {
      const st = await client.request(statusUrl);
      if (status(st) === 200) { manifest = st; break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    const files = {};
    for (const out of manifest.output) {
      const text = await (await fetch(out.url)).text();
      const lines = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
      files[out.type] = { count: out.count, lines };
    }
    return { kick: 202, statusUrl, manifest, files };
  };
  const noAsync = await failure(client.request('$export'));
  check('$export without Prefer: respond-async: 400', noAsync.status === 400, `${noAsync.status}`);
  const filterUrl = `$export?_type=Observation,Patient&_typeFilter=${encodeURIComponent(`Observation?subject=Patient/${txPatient}&value-quantity=gt70`)},${encodeURIComponent(`Patient?_id=${txPatient}`)}`;
  const sys = await exportRun(filterUrl);
  check('system $export with _type and _typeFilter: 14 Observations, 1 Patient in NDJSON files', sys.manifest &&
    sys.files.Observation && sys.files.Observation.lines.length === 14 && sys.files.Observation.count === 14 &&
    sys.files.Observation.lines.every((o) => o.resourceType === 'Observation' && o.valueQuantity.value > 70) &&
    sys.files.Patient && sys.files.Patient.lines.length === 1 && sys.files.Patient.lines[0].id === txPatient &&
    sys.manifest.request.endsWith(filterUrl) && !Number.isNaN(Date.parse(sys.manifest.transactionTime)),
    JSON.stringify(sys.manifest && sys.manifest.output));
  const totalObs = (await client.search({ resourceType: 'Observation', searchParams: { _summary: 'count' } })).total;
  const pat = await exportRun('Patient/$export?_type=Observation');
  const patIds = pat.files && pat.files.Observation ? new Set(pat.files.Observation.lines.map((o) => o.id)) : new Set();
  check(`Patient-level $export: every Observation in a patient compartment once (${totalObs})`, pat.manifest &&
    patIds.size === totalObs && pat.files.Observation.lines.length === totalObs, `${patIds.size} vs ${totalObs}`);
  const group = await client.create({ resourceType: 'Group', body: { resourceType: 'Group', type: 'person', actual: true, member: [{ entity: { reference: `Patient/${txPatient}` } }] } });
  const grp = await exportRun(`Group/${group.id}/$export?_type=Patient,Observation`);
  check('Group-level $export: the member Patient and its 25 Observations', grp.manifest && grp.files.Patient && grp.files.Patient.lines.length === 1 &&
    grp.files.Observation && grp.files.Observation.lines.length === 25, JSON.stringify(grp.manifest && grp.manifest.output));
  const future = await exportRun('$export?_type=Patient&_since=2999-01-01T00:00:00Z');
  check('$export with _since in the future: no output', future.manifest && future.manifest.output.length === 0);
  const del = await failure(client.request(grp.statusUrl, { method: 'DELETE' }));
  const afterDel = await failure(client.request(grp.statusUrl));
  check('DELETE of an export: 202, then its status is 404', del.status === 202 && afterDel.status === 404, `${del.status} ${afterDel.status}`);

  // delete: 204; a deleted read is 410; older versions stay readable; conditional delete
  const deleted = await failure(client.delete({ resourceType: 'Patient', id }));
  check('delete: 204', deleted.status === 204, `${deleted.status}`);
  const gone = await failure(client.read({ resourceType: 'Patient', id }));
  check('read of a deleted resource: 410 Gone', gone.status === 410 && isOutcome(gone.data), `${gone.status}`);
  const old = await client.vread({ resourceType: 'Patient', id, version: '2' });
  check('vread of a deleted resource\'s version 2', old.meta.versionId === '2');
  const unknown = await failure(client.read({ resourceType: 'Patient', id: `never-${run}` }));
  check('read of an unknown id: 404', unknown.status === 404 && isOutcome(unknown.data), `${unknown.status}`);
  await failure(client.request(`Patient?identifier=${encodeURIComponent(`${SYS}|cond-${run}`)}`, { method: 'DELETE' }));
  const condGone = await failure(client.read({ resourceType: 'Patient', id: c1.id }));
  check('conditional delete: the match is gone (410)', condGone.status === 410, `${condGone.status}`);
  const badType = await failure(client.request('NoSuchType/1'));
  check('unknown resource type: 404', badType.status === 404, `${badType.status}`);
}

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL - ${label}: unexpected error: ${e.stack || e}${e.response ? ' ' + JSON.stringify(e.response).slice(0, 500) : ''}`);
  })
  .finally(() => {
    console.log(`rest client (${label}): ${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
