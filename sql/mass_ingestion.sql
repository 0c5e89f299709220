-- Mass ingestion: fhir.begin_mass_ingestion() drops every secondary index of the fhir
-- tables (recorded in fhir.mass_ingestion), loads write rows only, searches stay
-- correct (and warn), fhir.end_mass_ingestion() rebuilds them; fhir.load(..., mode =>
-- 'mass') does it all in one transaction. Interrupted states are detected and repaired.
\set VERBOSITY terse
-- A DBA's index (recorded in fhir.user_ddl) must come back like the install script's.
SELECT fhir.create_index('Patient', 'address-city');
CREATE INDEX regress_mass_dba_idx ON fhir.search_string (param, exact);
SELECT fhir.load(E'{"resourceType":"Patient","id":"mi-p1","name":[{"family":"Massey","given":["Ann"]}],"address":[{"city":"Springfield"}],"birthDate":"1970-01-02"}\n'
                 '{"resourceType":"Patient","id":"mi-p2","name":[{"family":"Masters","given":["Bob"]}],"birthDate":"1980-05-06"}\n'
                 '{"resourceType":"Observation","id":"mi-o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"mi-1"}]},"subject":{"reference":"Patient/mi-p1"},"effectiveDateTime":"2020-01-01","valueQuantity":{"value":5.5,"system":"http://unitsofmeasure.org","code":"mg"}}\n') AS loaded;

-- What must hold before, during and after: the indexes (with their definitions), the
-- recorded DDL, and the answers of searches over every kind of side table.
CREATE TABLE mi_indexes_before AS
SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def, x.indisunique AS uniq
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace;
CREATE TABLE mi_user_ddl_before AS SELECT * FROM fhir.user_ddl;
CREATE TABLE mi_queries (type text, query text);
INSERT INTO mi_queries VALUES   -- each one only finds this test's resources
    ('Patient', 'family=mas'), ('Patient', 'given=ann&family=mas'), ('Patient', 'address-city=spring&family=mas'),
    ('Patient', 'birthdate=lt1975&family=mas'),
    ('Observation', 'code=http://loinc.org|mi-1'), ('Observation', 'subject=Patient/mi-p1'),
    ('Observation', 'value-quantity=gt5|http://unitsofmeasure.org|mg&code=mi-1'), ('Observation', 'date=2020&code=mi-1'),
    ('Patient', '_has:Observation:subject:code=mi-1'), ('Observation', 'subject:Patient.family=massey'),
    ('Patient', 'family=mas&_lastUpdated=gt2000-01-01&_sort=-family');
CREATE FUNCTION mi_answers() RETURNS TABLE (type text, query text, ids text) LANGUAGE sql AS $$
    SELECT q.type, q.query, (SELECT string_agg(r.id, ',' ORDER BY r.id) FROM fhir.search_rows(q.type, q.query) r)
      FROM mi_queries q
$$;
CREATE TABLE mi_answers_before AS SELECT * FROM mi_answers();
SELECT type, query, ids FROM mi_answers_before ORDER BY type, query;

-- begin: every non-unique index is recorded and dropped; primary keys stay
SET client_min_messages = warning;
SELECT fhir.begin_mass_ingestion() = (SELECT count(*) FROM mi_indexes_before WHERE NOT uniq) AS dropped_every_secondary_index;
RESET client_min_messages;
SELECT count(*) = (SELECT count(*) FROM mi_indexes_before WHERE NOT uniq) AS all_recorded FROM fhir.mass_ingestion;
SELECT count(*) AS secondary_indexes_left
  FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace AND NOT x.indisunique
   AND t.relname NOT IN ('mass_ingestion', 'user_ddl', 'search_param_override');
SELECT count(*) = (SELECT count(*) FROM mi_indexes_before WHERE uniq) AS unique_indexes_kept
  FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace AND x.indisunique;
SELECT to_regclass('fhir.resource_patient_tokens_idx') AS tokens_gin, to_regclass('fhir.resource_patient_pkey') AS pkey;
SELECT index_name, table_name, in_user_ddl FROM fhir.mass_ingestion
 WHERE index_name IN ('regress_mass_dba_idx', 'resource_patient_tokens_idx', 'search_string_rid_idx') ORDER BY 1;
SELECT count(*) AS search_indexes_absent FROM fhir.search_indexes WHERE NOT present AND resource_type = 'Patient' AND code = 'address-city';
-- the DBA's index left fhir.user_ddl with its drop; a second begin finds nothing more
SELECT count(*) AS dba_ddl_rows FROM fhir.user_ddl WHERE name = 'regress_mass_dba_idx';
SET client_min_messages = warning;
SELECT fhir.begin_mass_ingestion() AS dropped_again;
RESET client_min_messages;

-- A new session sees the state: searches warn and give the same answers (no index
-- entries are missing, the indexes are).
\c
\set VERBOSITY terse
SELECT fhir.search('Patient', 'family=massey')->>'total' AS total_during;
SELECT count(*) AS differing_answers
  FROM (SELECT * FROM mi_answers() EXCEPT SELECT * FROM mi_answers_before) d;
-- loads run without index maintenance (an update too: its side rows are found by scans)
SELECT fhir.load(E'{"resourceType":"Patient","id":"mi-p3","name":[{"family":"Massive","given":["Cy"]}],"birthDate":"1960-01-01"}\n'
                 '{"resourceType":"Observation","id":"mi-o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"mi-1"}]},"subject":{"reference":"Patient/mi-p3"},"effectiveDateTime":"2021-03-04","valueQuantity":{"value":7,"system":"http://unitsofmeasure.org","code":"mg"}}\n'
                 '{"resourceType":"Patient","id":"mi-p2","name":[{"family":"Masters","given":["Bob","Robert"]}],"birthDate":"1980-05-06"}\n') AS loaded_during;
CREATE TABLE mi_answers_during AS SELECT * FROM mi_answers();
SELECT type, query, ids FROM mi_answers_during ORDER BY type, query;

-- An end that fails half-way (here a DBA's expression index that the loaded data
-- breaks) rolls back as a whole: the state stays, detectable, and end runs again.
SELECT fhir.end_mass_ingestion(maintenance_work_mem => 'lots');
SELECT count(*) > 0 AS still_in_progress FROM fhir.mass_ingestion;
INSERT INTO fhir.mass_ingestion (index_name, table_name, definition, in_user_ddl)
VALUES ('regress_mass_breaks_idx', 'search_string',
        'CREATE INDEX regress_mass_breaks_idx ON fhir.search_string USING btree (((1 / (CASE WHEN norm = ''massive'' THEN 0 ELSE 1 END))))', false);
SET client_min_messages = warning;
SELECT fhir.end_mass_ingestion();
RESET client_min_messages;
SELECT count(*) = (SELECT count(*) FROM mi_indexes_before WHERE NOT uniq) + 1 AS state_kept FROM fhir.mass_ingestion;
SELECT to_regclass('fhir.resource_patient_tokens_idx') AS tokens_gin_still_absent;
-- repair: the offending row goes, end finishes
SELECT fhir.delete('Patient', 'mi-p3') AS deleted;
SET client_min_messages = warning;
SELECT fhir.end_mass_ingestion(analyze_tables => true) = (SELECT count(*) FROM mi_indexes_before WHERE NOT uniq) + 1 AS rebuilt_all;
RESET client_min_messages;
SELECT count(*) AS in_progress FROM fhir.mass_ingestion;
DROP INDEX fhir.regress_mass_breaks_idx;
-- every index is back with its definition, fhir.user_ddl as before, no warning any more
SELECT name, def FROM (SELECT name, def FROM mi_indexes_before EXCEPT
                       SELECT i.relname, pg_get_indexdef(i.oid)
                         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                        WHERE t.relnamespace = 'fhir'::regnamespace) missing;
SELECT i.relname AS extra_index
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace AND i.relname NOT IN (SELECT name FROM mi_indexes_before);
SELECT kind, rel, name FROM (SELECT kind, rel, name, definition FROM fhir.user_ddl
                             EXCEPT SELECT kind, rel, name, definition FROM mi_user_ddl_before) added
UNION ALL
SELECT kind, rel, name FROM (SELECT kind, rel, name, definition FROM mi_user_ddl_before
                             EXCEPT SELECT kind, rel, name, definition FROM fhir.user_ddl) lost;
SELECT bool_and(present) AS address_city_indexed FROM fhir.search_indexes WHERE resource_type = 'Patient' AND code = 'address-city';
-- the answers with the indexes equal those without (mi-p3, deleted since, aside)
SELECT d.type, d.query, d.ids AS during, a.ids AS after
  FROM mi_answers_during d JOIN mi_answers() a USING (type, query)
 WHERE array_remove(string_to_array(d.ids, ','), 'mi-p3') IS DISTINCT FROM string_to_array(a.ids, ',');
-- analyze_tables => true: the statistics are fresh
SELECT last_analyze IS NOT NULL AS analyzed
  FROM pg_stat_user_tables WHERE relid = 'fhir.resource_patient'::regclass;

-- mode => 'mass': begin, load and end in the load's transaction
SET client_min_messages = warning;
SELECT fhir.load(E'{"resourceType":"Patient","id":"mi-p4","name":[{"family":"Massmode"}]}\n'
                 '{"resourceType":"Patient","id":"mi-p5","name":[{"family":"Massmode"}]}\n', 1, mode => 'mass') AS loaded_mass;
RESET client_min_messages;
SELECT count(*) AS in_progress FROM fhir.mass_ingestion;
SELECT to_regclass('fhir.resource_patient_tokens_idx') AS tokens_gin_back;
SELECT string_agg(id, ',' ORDER BY id) AS found FROM fhir.search_rows('Patient', 'family=massmode');
-- an interrupted mass-mode load (a bad line) leaves the old state: indexes, no rows
SET client_min_messages = warning;
SELECT fhir.load(E'{"resourceType":"Patient","id":"mi-p6"}\nnot json\n', 1, mode => 'mass');
RESET client_min_messages;
SELECT fhir.read('Patient', 'mi-p6') IS NULL AS p6_absent, count(*) AS in_progress FROM fhir.mass_ingestion;
SELECT count(*) = (SELECT count(*) FROM mi_indexes_before) AS every_index_present
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'fhir'::regnamespace AND i.relname IN (SELECT name FROM mi_indexes_before);
-- inside a mass ingestion begun before, mode => 'mass' only loads: the owner ends it
SET client_min_messages = warning;
SELECT fhir.begin_mass_ingestion() > 0 AS begun;
SELECT fhir.load('{"resourceType":"Patient","id":"mi-p7","name":[{"family":"Massmode"}]}', 10, 'mass') AS loaded_inside;
SELECT count(*) > 0 AS still_in_progress FROM fhir.mass_ingestion;
SELECT fhir.end_mass_ingestion(parallel_workers => 1) > 0 AS ended;
RESET client_min_messages;
SELECT fhir.end_mass_ingestion() AS nothing_to_end;
-- limited to the partitions of some types (history, side and contained tables always)
SET client_min_messages = warning;
SELECT fhir.begin_mass_ingestion(ARRAY['Patient', 'Observation']) > 0 AS begun_for_two_types;
RESET client_min_messages;
SELECT to_regclass('fhir.resource_patient_tokens_idx') AS patient_gin, to_regclass('fhir.resource_encounter_tokens_idx') AS encounter_gin,
       to_regclass('fhir.search_string_rid_idx') AS side_rid, to_regclass('fhir.resource_history_last_updated_idx') AS history;
SELECT count(*) AS partitions_touched FROM (SELECT DISTINCT table_name FROM fhir.mass_ingestion WHERE table_name LIKE 'resource\_%' AND table_name <> 'resource_history') p;
SET client_min_messages = warning;
SELECT fhir.end_mass_ingestion() > 0 AS ended;
RESET client_min_messages;
SELECT fhir.begin_mass_ingestion(ARRAY['Patient', 'NoSuchType']);
SELECT count(*) AS in_progress FROM fhir.mass_ingestion;
SELECT fhir.load('{"resourceType":"Patient","id":"mi-p8"}', 10, 'bulk');
-- writers may load but not drop indexes; fhir.mass_ingestion is the owner's
CREATE ROLE regress_mass_writer;
GRANT fhir_writer TO regress_mass_writer;
SET ROLE regress_mass_writer;
SELECT fhir.load('{"resourceType":"Patient","id":"mi-p9"}', 10, mode => 'mass');
SELECT fhir.begin_mass_ingestion();
INSERT INTO fhir.mass_ingestion VALUES ('x', 'resource_patient', 'CREATE INDEX x ON fhir.resource_patient (id)', false);
SELECT count(*) AS readable FROM fhir.mass_ingestion;
RESET ROLE;
DROP ROLE regress_mass_writer;
DROP INDEX fhir.regress_mass_dba_idx;
SELECT fhir.drop_index('Patient', 'address-city');
DROP TABLE mi_indexes_before, mi_user_ddl_before, mi_queries, mi_answers_before, mi_answers_during;
DROP FUNCTION mi_answers();
