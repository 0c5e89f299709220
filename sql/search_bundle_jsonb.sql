-- The searchset Bundle is encoded directly (src/core/jsonb_encoder.h): its frame is
-- written by the extension and every resource's stored jsonb is copied into it. The
-- result must be the jsonb PostgreSQL itself builds from the same JSON text: equal,
-- the same size (same layout), and usable by every jsonb operator.
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation', 'Organization');
-- 45 patients (more than 32 entries: every 32nd JEntry of a container holds an offset),
-- one with a large text (stored compressed, so it is detoasted before it is copied), one
-- with a 40-element array, numbers with fractions, booleans, nulls in extensions
SELECT fhir.load(string_agg(format('{"resourceType":"Patient","id":"bj%s","active":%s,"gender":"%s","name":[{"family":"Bj%s","given":["Ä%s"]}]%s}',
                                   i, (i % 2 = 0)::text, CASE WHEN i % 3 = 0 THEN 'female' ELSE 'male' END, i, i,
                                   CASE WHEN i = 7 THEN format(',"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">%s</div>"}', repeat('long narrative ', 400))
                                        WHEN i = 8 THEN format(',"identifier":[%s]', (SELECT string_agg(format('{"value":"v%s"}', k), ',') FROM generate_series(1, 40) k))
                                        ELSE '' END), E'\n')) AS loaded
  FROM generate_series(1, 45) i;
SELECT fhir.load(E'{"resourceType":"Organization","id":"bjorg","name":"Org"}\n'
                 '{"resourceType":"Observation","id":"bjo1","status":"final","code":{"text":"w"},"subject":{"reference":"Patient/bj1"},"performer":[{"reference":"Organization/bjorg"}],"valueQuantity":{"value":72.50,"unit":"kg"}}\n'
                 '{"resourceType":"Observation","id":"bjo2","status":"final","code":{"text":"w"},"subject":{"reference":"Patient/bj2"},"valueQuantity":{"value":-0.001,"unit":"kg"}}\n') AS loaded;
SELECT pg_column_size(content) < octet_length(content::text) AS bj7_stored_compressed FROM fhir.resource WHERE rtype = 'Patient' AND id = 'bj7';
CREATE TEMP TABLE searches (label text, rtype text, query text);
INSERT INTO searches VALUES
  ('first page', 'Patient', 'name=bj'),
  ('40 entries', 'Patient', 'name=bj&_count=40'),
  ('all, total', 'Patient', 'name=bj&_count=100&_total=accurate'),
  ('include', 'Observation', '_include=Observation:subject&_include=Observation:performer'),
  ('outcome', 'Patient', 'gender=female&unknown-param=1'),
  ('count', 'Patient', 'name=bj&_summary=count'),
  ('empty', 'Patient', 'name=nobody'),
  ('summary', 'Patient', 'name=bj&_summary=true&_count=10'),
  ('elements', 'Observation', '_elements=valueQuantity');
-- (sizes of values computed in the query: a stored value would be compressed or moved out of line)
CREATE VIEW bundles AS SELECT label, fhir.search(rtype, query, 'no-cache') AS b FROM searches;
SELECT label, b = b::text::jsonb AS same_value, pg_column_size(b) = pg_column_size(b::text::jsonb) AS same_size,
       b @> b::text::jsonb AND b::text::jsonb @> b AS contains_itself,
       jsonb_array_length(coalesce(b->'entry', '[]')) AS entries, b->'total' AS total
  FROM bundles ORDER BY label;
-- key lookups (binary search over sorted keys) and paths inside copied resources
SELECT b->>'resourceType' AS rtype, b->>'type' AS btype, b->'link'->0->>'relation' AS link0,
       b->'entry'->0->'resource'->>'id' AS first_id, b->'entry'->39->'resource'->'name'->0->'given'->>0 AS fortieth_given,
       b #>> '{entry,7,resource,identifier,39,value}' AS bj8_last_identifier,
       length(b #>> '{entry,6,resource,text,div}') AS bj7_div_length
  FROM bundles WHERE label = '40 entries';
SELECT jsonb_path_query_array(b, '$.entry[*].resource.valueQuantity.value') AS values_exact,
       jsonb_path_query_array(b, '$.entry[*].search.mode') AS modes
  FROM bundles WHERE label IN ('include', 'elements') ORDER BY label;
SELECT b->'entry'->-1->'resource'->'issue'->0->>'severity' AS outcome_severity,
       b->'entry'->-1->'search'->>'mode' AS outcome_mode, b->'entry'->-1 ? 'fullUrl' AS outcome_has_full_url
  FROM bundles WHERE label = 'outcome';
SELECT jsonb_object_keys(b) AS count_bundle_keys FROM bundles WHERE label = 'count' ORDER BY 1;
