-- The extension's schema as the catalog holds it, one line per fact, in a form that
-- does not depend on OIDs: to compare an updated install with a fresh one.
\pset tuples_only on
\pset format unaligned
WITH ext AS (SELECT * FROM pg_extension WHERE extname = 'fhir_search')
SELECT line FROM (
  SELECT 'extension ' || extversion || ' schema=' || extnamespace::regnamespace || ' relocatable=' || extrelocatable AS line
    FROM ext
  UNION ALL
  SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
    FROM pg_depend d, ext WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
  UNION ALL
  SELECT 'extension depends on ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' ' || d.deptype::text
    FROM pg_depend d, ext WHERE d.classid = 'pg_extension'::regclass AND d.objid = ext.oid
  UNION ALL
  SELECT 'dumped ' || c.oid::regclass || coalesce(' where ' || nullif(cond, ''), '')
    FROM ext, unnest(ext.extconfig, ext.extcondition) u(oid, cond) JOIN pg_class c ON c.oid = u.oid
  UNION ALL
  SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
         || ' acl=' || coalesce(c.relacl::text, '-') || ' rls=' || c.relrowsecurity
         || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
         || coalesce(' partition ' || pg_get_expr(c.relpartbound, c.oid), '')
    FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind <> 'i'
  UNION ALL
  SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
         || ' collation=' || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '-')
         || ' stats=' || a.attstattarget || ' comment=' || coalesce(col_description(c.oid, a.attnum), '-')
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
   WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S')
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'fhir'::regnamespace
  UNION ALL
  SELECT 'constraint ' || k.conrelid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
    FROM pg_constraint k WHERE k.connamespace = 'fhir'::regnamespace
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'fhir'::regnamespace AND NOT t.tgisinternal
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure || ' acl=' || coalesce(p.proacl::text, '-')
         || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '-') || E'\n' || pg_get_functiondef(p.oid)
    FROM pg_proc p WHERE p.pronamespace = 'fhir'::regnamespace
  UNION ALL
  SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
    FROM pg_class c WHERE c.relnamespace = 'fhir'::regnamespace AND c.relkind = 'v'
  UNION ALL
  SELECT 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '-') || ' comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
    FROM pg_namespace n WHERE n.nspname = 'fhir'
  UNION ALL
  SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regproc || ' ' || coalesce(e.evttags::text, '-') || ' ' || e.evtenabled::text
    FROM pg_event_trigger e
  UNION ALL
  SELECT 'init privs ' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid) || ' ' || ip.privtype::text || ' ' || ip.initprivs::text
    FROM pg_init_privs ip, ext
   WHERE EXISTS (SELECT FROM pg_depend d WHERE d.classid = ip.classoid AND d.objid = ip.objoid
                    AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
      OR ip.classoid = 'pg_class'::regclass AND ip.objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'fhir'::regnamespace)
  UNION ALL
  SELECT 'role ' || r.rolname || ' login=' || r.rolcanlogin || ' member of ' ||
         coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                    WHERE m.member = r.oid), '-')
    FROM pg_roles r WHERE r.rolname IN ('fhir_reader', 'fhir_writer', 'fhir_admin')
) facts ORDER BY line;
