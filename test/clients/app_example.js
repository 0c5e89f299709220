// The README's Node example (node-postgres): the same handler with `pg`.
// Usage: node app_example.js DSN
const { Client } = require('pg');

async function main() {
  const client = new Client({ connectionString: process.argv[2] });
  await client.connect();
  // --- README: Using it from an application (Node) ---
  const url = new URL('http://localhost/fhir/Patient?family=van+der&_count=10');
  const { rows: [res] } = await client.query(
    'SELECT status, body, etag, cache, total_ms FROM fhir.request($1, $2, $3, $4)',
    ['GET', url.pathname.replace('/fhir/', '') + url.search, null, { 'Cache-Control': 'no-cache' }]);
  // res.status -> HTTP status, res.body -> the Bundle (parsed jsonb), res.cache -> X-Cache
  const { rows } = await client.query(
    "SELECT id FROM fhir.search_rows('Patient', $1)", [url.search]);
  // --- end ---
  await client.end();
  if (res.status !== 200 || res.body.resourceType !== 'Bundle' || res.cache !== 'MISS' ||
      res.body.entry.length === 0 || rows.length !== res.body.entry.length) {
    console.error('unexpected', res.status, res.cache, rows.length);
    process.exit(1);
  }
  console.log(`node example: ${res.body.entry.length} matches, ${rows.length} rows, cache ${res.cache}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
