-- composite parameters with a range component (quantity, number, date) or a string component: prefixes, precision, same repetition
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Observation', 'MolecularSequence');
CREATE FUNCTION pg_temp.ids(t text, q text) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '')
       FROM jsonb_array_elements(fhir.search(t, q, 'no-store')->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
SELECT fhir.load(E'{"resourceType":"Observation","id":"c1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}\n'
                 '{"resourceType":"Observation","id":"c2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":90,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":150,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}\n'
                 '{"resourceType":"Observation","id":"c3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"15074-8"},{"system":"urn:local","code":"glu"}]},"valueQuantity":{"value":6.3,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"}}\n'
                 '{"resourceType":"Observation","id":"c4","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"15074-8"}]},"valueQuantity":{"value":100,"unit":"mg/dL"}}\n'
                 '{"resourceType":"Observation","id":"c5","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8310-5"}]},"valueQuantity":{"value":37.5,"unit":"Cel"}}\n'
                 '{"resourceType":"Observation","id":"c6","status":"final","code":{"coding":[{"system":"http://example.org","code":"survey"}]},"valueDateTime":"2021-06-15"}\n'
                 '{"resourceType":"Observation","id":"c7","status":"final","code":{"coding":[{"system":"http://example.org","code":"survey"}]},"valuePeriod":{"start":"2021-01-01","end":"2021-12-31"}}\n'
                 '{"resourceType":"Observation","id":"c8","status":"registered","code":{"coding":[{"system":"http://loinc.org","code":"15074-8"}]}}\n'
                 '{"resourceType":"MolecularSequence","id":"ms1","coordinateSystem":0,"referenceSeq":{"chromosome":{"coding":[{"code":"1"}]}},"variant":[{"start":100,"end":101},{"start":200,"end":205}]}\n') AS loaded;
-- the range values of composites are stored only as (key, value) pairs
SELECT (SELECT count(*) FROM fhir.search_composite_number) AS number_pairs, (SELECT count(*) FROM fhir.search_composite_date) AS date_pairs,
       (SELECT count(*) FROM fhir.search_quantity q JOIN fhir.search_parameters p ON p.id = q.param WHERE p.type = 'composite') AS unpaired_rows;
-- same repetition: c2 has 8480-6 = 90 and 8462-4 = 150, so 8480-6 above 100 is c1 only
SELECT pg_temp.ids('Observation', 'component-code-value-quantity=http://loinc.org|8480-6$gt100') AS systolic_gt100,
       pg_temp.ids('Observation', 'component-code-value-quantity=8462-4$gt100') AS diastolic_gt100,
       pg_temp.ids('Observation', 'component-code-value-quantity=8480-6$lt100') AS systolic_lt100,
       pg_temp.ids('Observation', 'combo-code-value-quantity=8480-6$gt100') AS combo,
       pg_temp.ids('Observation', 'component-code-value-quantity=85354-9$gt0') AS panel_code_is_not_a_component;
-- every prefix on a quantity component (c3 = 6.3, c4 = 100), with the precision-range edges
SELECT pg_temp.ids('Observation', 'code-value-quantity=15074-8$6.3') AS eq, pg_temp.ids('Observation', 'code-value-quantity=15074-8$6') AS eq_range,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$6.30') AS eq_finer, pg_temp.ids('Observation', 'code-value-quantity=15074-8$6.2') AS eq_just_below,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$1e2') AS eq_exponent, pg_temp.ids('Observation', 'code-value-quantity=15074-8$ne100') AS ne,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$gt6.3') AS gt, pg_temp.ids('Observation', 'code-value-quantity=15074-8$ge6.3') AS ge,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$lt100') AS lt, pg_temp.ids('Observation', 'code-value-quantity=15074-8$le100') AS le;
SELECT pg_temp.ids('Observation', 'code-value-quantity=15074-8$sa6.3') AS sa, pg_temp.ids('Observation', 'code-value-quantity=15074-8$sa6.2') AS sa_edge,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$eb100') AS eb, pg_temp.ids('Observation', 'code-value-quantity=15074-8$eb6.4') AS eb_edge,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$ap100') AS ap, pg_temp.ids('Observation', 'code-value-quantity=15074-8$ap7') AS ap_ten_percent_edge,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$ap8') AS ap_too_far;
-- the composite agrees with code + value-quantity wherever an Observation has one code and one value
SELECT v AS disagreeing_value FROM unnest(ARRAY['6.3', '6', 'ne100', 'gt6.3', 'ge6.3', 'lt100', 'le100', 'sa6.2', 'eb6.4', 'ap7', 'ap100']) v
 WHERE pg_temp.ids('Observation', 'code-value-quantity=15074-8$' || v) <> pg_temp.ids('Observation', 'code=15074-8&value-quantity=' || v);
-- token forms and units: system|code, |code (any system), another coding, system|code of the unit, code or unit
SELECT pg_temp.ids('Observation', 'code-value-quantity=http://loinc.org|15074-8$gt0') AS with_system,
       pg_temp.ids('Observation', 'code-value-quantity=http://other|15074-8$gt0') AS wrong_system,
       pg_temp.ids('Observation', 'code-value-quantity=urn:local|glu$gt0') AS second_coding,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$6.3|http://unitsofmeasure.org|mmol/L') AS unit_system_code,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$100|http://unitsofmeasure.org|mmol/L') AS wrong_unit,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$100||mg/dL') AS unit_only;
-- comma = OR, repetition = AND, :missing
SELECT pg_temp.ids('Observation', 'code-value-quantity=15074-8$lt7,8310-5$gt37') AS comma_or,
       pg_temp.ids('Observation', 'code-value-quantity=15074-8$gt0&code-value-quantity=15074-8$lt7') AS repeated_and,
       pg_temp.ids('Observation', 'code-value-quantity:missing=true') AS missing,
       pg_temp.ids('Observation', 'code-value-quantity:missing=false') AS present;
-- date components: a dateTime (c6, one day) and a Period (c7, all of 2021)
SELECT pg_temp.ids('Observation', 'code-value-date=survey$2021-06-15') AS eq_day, pg_temp.ids('Observation', 'code-value-date=survey$2021') AS eq_year,
       pg_temp.ids('Observation', 'code-value-date=survey$gt2021-06') AS gt, pg_temp.ids('Observation', 'code-value-date=survey$lt2021-06-15') AS lt,
       pg_temp.ids('Observation', 'code-value-date=survey$sa2020') AS sa, pg_temp.ids('Observation', 'code-value-date=survey$eb2021-07') AS eb,
       pg_temp.ids('Observation', 'code-value-date=survey$ne2021-06-15') AS ne, pg_temp.ids('Observation', 'code-value-date=http://example.org|survey$ap2021-06-15') AS ap,
       pg_temp.ids('Observation', 'code-value-date=other$2021') AS other_code;
-- two number components must come from the same variant (start 100-101 and 200-205)
SELECT pg_temp.ids('MolecularSequence', 'chromosome-variant-coordinate=1$gt150$lt210') AS same_variant,
       pg_temp.ids('MolecularSequence', 'chromosome-variant-coordinate=1$gt150$lt190') AS across_variants,
       pg_temp.ids('MolecularSequence', 'chromosome-variant-coordinate=1$100$101') AS exact;
-- writes keep the pairs current: update, delete, re-index
SELECT fhir.update('{"resourceType":"Observation","id":"c3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"15074-8"}]},"valueQuantity":{"value":7.5,"unit":"mmol/l"}}') IS NOT NULL AS updated;
SELECT pg_temp.ids('Observation', 'code-value-quantity=15074-8$6.3') AS old_value, pg_temp.ids('Observation', 'code-value-quantity=15074-8$7.5') AS new_value,
       pg_temp.ids('Observation', 'code-value-quantity=urn:local|glu$gt0') AS old_coding;
SELECT fhir.delete('Observation', 'c1') AS deleted;
SELECT pg_temp.ids('Observation', 'component-code-value-quantity=8480-6$gt100') AS after_delete;
SELECT count(*) AS pairs_before FROM fhir.search_composite_number \gset
SELECT fhir.reindex('Observation') AS reindexed;
SELECT count(*) = :pairs_before AS same_pairs_after_reindex FROM fhir.search_composite_number;
SELECT pg_temp.ids('Observation', 'component-code-value-quantity=8462-4$gt100') AS after_reindex;
-- a string component (code-value-string): starts-with on the accent- and case-folded text,
-- paired with the code of the same resource; pairs removed with the resource
SELECT fhir.load(E'{"resourceType":"Observation","id":"s1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"5778-6"}]},"valueString":"Trübe, gelblich"}\n'
                 '{"resourceType":"Observation","id":"s2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"5778-6"}]},"valueString":"clear"}\n'
                 '{"resourceType":"Observation","id":"s3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"5767-9"}]},"valueString":"Turbid"}\n') AS loaded;
SELECT count(*) AS string_pairs FROM fhir.search_composite_string;
SELECT pg_temp.ids('Observation', 'code-value-string=5778-6$trube') AS prefix_folded,
       pg_temp.ids('Observation', 'code-value-string=http://loinc.org|5778-6$CL') AS with_system,
       pg_temp.ids('Observation', 'code-value-string=5778-6$turbid') AS other_code,
       pg_temp.ids('Observation', 'code-value-string=5767-9$turbid,5778-6$clear') AS either,
       pg_temp.ids('Observation', 'code-value-string=5778-6$gelb') AS not_a_prefix;
SELECT fhir.delete('Observation', 's2') AS deleted;
SELECT pg_temp.ids('Observation', 'code-value-string=5778-6$c') AS after_delete, count(*) AS string_pairs FROM fhir.search_composite_string;
-- malformed values are errors
\set VERBOSITY terse
SELECT fhir.search('Observation', 'code-value-quantity=15074-8$zz');
SELECT fhir.search('Observation', 'code-value-quantity=15074-8');
SELECT fhir.search('Observation', 'code-value-date=survey$2021-13');
SELECT fhir.search('Observation', 'code-value-string=a');
SELECT fhir.search('Observation', 'code-value-quantity:exact=a$1');
