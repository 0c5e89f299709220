-- The extension installs, knows every R4 resource type, and made one partition per type.
CREATE EXTENSION fhir_search;
SELECT count(*) AS resource_types FROM fhir.resource_types();
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'fhir.resource'::regclass;
SELECT fhir.partition_name('MedicationRequest');
SELECT fhir.partition_name('NotAType');
-- every object of the extension is documented
SELECT c.oid::regclass AS undocumented_table FROM pg_class c
 WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind IN ('r', 'p', 'v')
   AND c.relispartition = false AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.oid::regprocedure AS undocumented_function FROM pg_proc p
 WHERE p.pronamespace = 'fhir'::regnamespace AND p.proname NOT LIKE '\_%'
   AND obj_description(p.oid, 'pg_proc') IS NULL;
