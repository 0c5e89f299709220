-- The extension as a DBA meets it (0.2.0 on): the schema belongs to it, pg_dump writes
-- every table and sequence, and three roles carry every privilege.
SELECT extversion, extnamespace::regnamespace AS extension_schema
  FROM pg_extension WHERE extname = 'fhir_search';
SELECT pg_describe_object(classid, objid, 0) AS member_schema FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e' AND classid = 'pg_namespace'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'fhir_search');
-- every table and sequence is marked for pg_dump (a new one must be marked in its upgrade script)
SELECT c.oid::regclass AS not_dumped FROM pg_class c
 WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind IN ('r', 'S')
   AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'fhir_search')::oid[]);
SELECT count(*) AS dumped_relations,
       count(*) FILTER (WHERE c.relkind = 'S') AS dumped_sequences
  FROM unnest((SELECT extconfig FROM pg_extension WHERE extname = 'fhir_search')) x(oid)
  JOIN pg_class c ON c.oid = x.oid;
-- PUBLIC may run nothing; each function belongs to exactly one role
SELECT p.oid::regprocedure AS public_function FROM pg_proc p
 WHERE p.pronamespace = 'fhir'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')
   AND p.prorettype <> 'trigger'::regtype AND p.prorettype <> 'internal'::regtype;
SELECT r.rolname, string_agg(p.proname, ' ' ORDER BY p.proname) AS functions
  FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a JOIN pg_roles r ON r.oid = a.grantee
 WHERE p.pronamespace = 'fhir'::regnamespace AND r.rolname LIKE 'fhir\_%'
 GROUP BY r.rolname ORDER BY r.rolname;
SELECT p.oid::regprocedure AS security_definer, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'fhir'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT pg_has_role('fhir_admin', 'fhir_writer', 'MEMBER') AS admin_writes,
       pg_has_role('fhir_writer', 'fhir_reader', 'MEMBER') AS writer_reads,
       pg_has_role('fhir_reader', 'fhir_writer', 'MEMBER') AS reader_writes;

CREATE ROLE regress_reader;
GRANT fhir_reader TO regress_reader;
CREATE ROLE regress_writer;
GRANT fhir_writer TO regress_writer;
CREATE ROLE regress_admin;
GRANT fhir_admin TO regress_admin;
CREATE ROLE regress_nobody;
SELECT fhir.update('{"resourceType":"Patient","id":"role-p1","gender":"female","name":[{"family":"Rolle"}]}')->>'id' AS stored;
\set VERBOSITY terse

-- fhir_reader: search, read, vread, history, explain, the registry views; nothing else
SET ROLE regress_reader;
SELECT jsonb_array_length(fhir.search('Patient', 'family=rolle')->'entry') AS found,
       fhir.read('Patient', 'role-p1')->>'id' AS read, fhir.vread('Patient', 'role-p1', 1)->>'id' AS vread,
       fhir.history('Patient', 'role-p1')->>'total' AS history_total,
       fhir.explain('Patient', 'family=rolle') ? 'sql' AS explains,
       (SELECT count(*) > 0 FROM fhir.search_parameters WHERE resource_type = 'Patient') AS registry,
       (SELECT available IS NOT NULL FROM fhir.cache_statistics) AS cache_stats;
SELECT fhir.update('{"resourceType":"Patient","id":"role-p2"}');
SELECT fhir.create('{"resourceType":"Patient"}');
SELECT fhir.delete('Patient', 'role-p1');
SELECT fhir.transaction('{"resourceType":"Bundle","type":"batch","entry":[]}');
SELECT fhir.load('{"resourceType":"Patient","id":"role-p3"}');
UPDATE fhir.resource SET content = '{}' WHERE id = 'role-p1';
DELETE FROM fhir.resource_history;
SELECT fhir.create_index('Observation', 'value-quantity');
SELECT fhir.reindex('Patient');
RESET ROLE;

-- fhir_writer: writes too, but no index builders, registry changes or cache reset
SET ROLE regress_writer;
SELECT fhir.update('{"resourceType":"Patient","id":"role-p2","gender":"male"}')->'meta'->>'versionId' AS created;
SELECT fhir.update('{"resourceType":"Patient","id":"role-p2","gender":"other"}', 1)->'meta'->>'versionId' AS updated;
SELECT fhir.create('{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/role-p2"}}') ? 'id' AS created_with_id;
SELECT jsonb_path_query_array(fhir.transaction('{"resourceType":"Bundle","type":"transaction","entry":[
  {"fullUrl":"urn:uuid:a1","resource":{"resourceType":"Patient","name":[{"family":"Rolle"}]},"request":{"method":"POST","url":"Patient"}}]}'),
  '$.entry[*].response.status') AS transaction_status;
SELECT fhir.load(E'{"resourceType":"Patient","id":"role-p3","name":[{"family":"Rolle"}]}\n') AS loaded;
SELECT fhir.delete('Patient', 'role-p3') AS deleted;
SELECT fhir.search('Patient', 'family=rolle&_summary=count')->>'total' AS writer_sees;
SELECT fhir.create_index('Observation', 'value-quantity');
SELECT fhir.drop_index('Patient', 'family');
SELECT fhir.set_search_param_enabled('Patient', 'language', false);
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"nick","type":"string","base":["Patient"],"expression":"Patient.name.given"}');
SELECT fhir.drop_search_param('Patient', 'role-nick');
SELECT fhir.reindex('Patient');
SELECT fhir.cache_reset();
INSERT INTO fhir.search_param_override (id, resource_type, code, enabled) VALUES (1, 'Patient', 'x', false);
RESET ROLE;

-- fhir_admin: index builders (they own the tables through SECURITY DEFINER), registry, re-index, cache
SET ROLE regress_admin;
SELECT fhir.create_index('Observation', 'value-quantity') AS created_index;
SELECT fhir.drop_index('Observation', 'value-quantity') AS dropped_index;
SELECT fhir.index_ddl('Observation', 'value-quantity', false) AS ddl;
SELECT fhir.set_search_param_enabled('Patient', 'language', false) AS reindex_needed;
SELECT fhir.set_search_param_enabled('Patient', 'language', true) AS reindex_needed;
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"role-nick","type":"string","base":["Patient"],"expression":"Patient.name.family"}') AS added;
SELECT fhir.reindex('Patient') > 0 AS reindexed;
SELECT jsonb_array_length(fhir.search('Patient', 'role-nick=rol')->'entry') AS custom_found;
SELECT fhir.add_search_param('{"resourceType":"SearchParameter","code":"gender","type":"token","base":["Patient"],"expression":"Patient.gender"}') AS overridden;
SELECT fhir.drop_search_param('Patient', 'gender') AS restored;
SELECT fhir.cache_reset();
RESET ROLE;

-- without a grant nothing reads resources, through functions or tables
SET ROLE regress_nobody;
SELECT fhir.search('Patient', 'family=rolle');
SELECT fhir.read('Patient', 'role-p1');
SELECT fhir.history('Patient', 'role-p1');
SELECT count(*) FROM fhir.resource;
RESET ROLE;
GRANT USAGE ON SCHEMA fhir TO regress_nobody;
SET ROLE regress_nobody;
SELECT fhir.search('Patient', 'family=rolle');
SELECT fhir.read('Patient', 'role-p1');
SELECT fhir.vread('Patient', 'role-p1', 1);
SELECT fhir.history('Patient', 'role-p1');
SELECT fhir.explain('Patient', 'family=rolle');
SELECT count(*) FROM fhir.resource;
SELECT count(*) FROM fhir.search_parameters;
RESET ROLE;

-- DDL on fhir tables after installation is recorded for pg_dump (which skips indexes and
-- row-level security of an extension's tables); dropping it forgets it
RESET ROLE;
CREATE INDEX regress_dba_idx ON fhir.resource_patient ((content->>'gender'));
CREATE POLICY regress_policy ON fhir.resource_patient FOR SELECT TO regress_reader USING (content->>'gender' = 'female');
ALTER TABLE fhir.resource_patient ENABLE ROW LEVEL SECURITY;
SELECT kind, rel, name, definition FROM fhir.user_ddl WHERE kind <> 'index' OR name LIKE 'regress%' ORDER BY 1, 2, 3;
SET ROLE regress_reader;
SELECT fhir.search('Patient', 'family=rolle&_summary=count')->>'total' AS reader_under_policy;
RESET ROLE;
ALTER POLICY regress_policy ON fhir.resource_patient USING (content->>'gender' = 'male');
SELECT definition FROM fhir.user_ddl WHERE kind = 'policy';
DROP INDEX fhir.regress_dba_idx;
DROP POLICY regress_policy ON fhir.resource_patient;
ALTER TABLE fhir.resource_patient DISABLE ROW LEVEL SECURITY;
SELECT count(*) AS recorded_after_drop FROM fhir.user_ddl WHERE kind <> 'index' OR name LIKE 'regress%';
-- nobody can write the record; other DDL, by anyone, is untouched by the event triggers
SET ROLE regress_admin;
INSERT INTO fhir.user_ddl VALUES ('index', 'resource_patient', 'x', 'CREATE INDEX x ON fhir.resource_patient (id)');
RESET ROLE;
SET ROLE regress_nobody;
CREATE TEMP TABLE regress_own (x int);
CREATE INDEX ON regress_own (x);
ALTER TABLE regress_own ADD COLUMN y int;
DROP INDEX regress_own_x_idx;
DROP TABLE regress_own;
RESET ROLE;
INSERT INTO fhir.user_ddl VALUES ('index', 'resource_patient', 'x', 'DROP TABLE fhir.resource_patient');

-- clean up
DO $$ BEGIN
  PERFORM fhir.delete(rtype, id) FROM fhir.resource
    WHERE id LIKE 'role-%' OR content->'name'->0->>'family' = 'Rolle'
       OR content->'subject'->>'reference' = 'Patient/role-p2';
END $$;
DELETE FROM fhir.resource_history WHERE id LIKE 'role-%' OR content->'name'->0->>'family' = 'Rolle'
    OR content->'subject'->>'reference' = 'Patient/role-p2';
DELETE FROM fhir.search_param_override WHERE code = 'role-nick';
REVOKE USAGE ON SCHEMA fhir FROM regress_nobody;
SET client_min_messages = warning;
SELECT count(*) > 0 AS default_indexes_back FROM fhir.create_default_indexes();
RESET client_min_messages;
DROP ROLE regress_reader, regress_writer, regress_admin, regress_nobody;
