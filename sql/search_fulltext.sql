-- _text (narrative) and _content (all text): disabled by default, enabled per resource type, then re-index
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation');
CREATE FUNCTION pg_temp.ids(t text, q text) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '')
       FROM jsonb_array_elements(fhir.search(t, q, 'no-store')->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
CREATE FUNCTION pg_temp.outcome(t text, q text) RETURNS text LANGUAGE sql AS
  $$ SELECT e->'resource'->'issue'->0->>'diagnostics'
       FROM jsonb_array_elements(fhir.search(t, q, 'no-store')->'entry') e WHERE e->'search'->>'mode' = 'outcome' $$;
-- disabled by default, for every type
SELECT code, count(*) AS types, bool_or(enabled) AS any_enabled FROM fhir.search_parameters
 WHERE code IN ('_text', '_content') GROUP BY code ORDER BY code;
-- written while disabled: nothing extracted
SELECT fhir.load(E'{"resourceType":"Patient","id":"ft1","text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\"><p>Patient <b>Zo&#235;</b> M&uuml;ller, seen for <i>chron</i>ic cough &amp; fever.</p><p>Lives in Krak\\u00f3w</p></div>"},"name":[{"family":"Müller","given":["Zoë"]}]}\n'
                 '{"resourceType":"Patient","id":"ft2","text":{"status":"generated","div":"<div xmlns=\\"http://www.w3.org/1999/xhtml\\"><table><tr><td>Blood</td><td>pressure</td></tr></table><p>Hyper&shy;tension &#8212; treated in МОСКВА</p><!-- smith --></div>"},"name":[{"family":"Smith"}],"contact":[{"name":{"family":"Okonkwo"},"address":{"city":"Lagos"}}]}\n'
                 '{"resourceType":"Patient","id":"ft3","name":[{"text":"Pressure Blood"}]}\n'
                 '{"resourceType":"Observation","id":"fto1","status":"final","code":{"text":"cough"},"subject":{"reference":"Patient/ft2"}}\n') AS loaded;
SELECT count(*) AS text_rows FROM fhir.search_text;
-- searching a disabled one: ignored (lenient) with the way to enable it, an error when strict
SELECT pg_temp.outcome('Patient', '_text=cough') AS disabled;
\set VERBOSITY terse
SET fhir_search.strict_handling = on;
SELECT fhir.search('Patient', '_content=cough');
RESET fhir_search.strict_handling;
\set VERBOSITY default
-- enable for Patient only: existing resources need a re-index
SELECT fhir.set_search_param_enabled('Patient', '_text', true) AS text_needs_reindex,
       fhir.set_search_param_enabled('Patient', '_content', true) AS content_needs_reindex;
SELECT code, enabled, index_names, indexed FROM fhir.search_parameters
 WHERE resource_type = 'Patient' AND code IN ('_text', '_content') ORDER BY code;
SELECT pg_temp.ids('Patient', '_text=cough') AS before_reindex;
SELECT fhir.reindex('Patient') AS reindexed;
SELECT count(*) AS text_rows FROM fhir.search_text;
-- narrative: markup stripped (inline tags join, cells separate), entities decoded, accents and case folded
SELECT pg_temp.ids('Patient', '_text=muller') AS entity, pg_temp.ids('Patient', '_text=M%C3%9CLLER') AS upper_accented,
       pg_temp.ids('Patient', '_text=zoe') AS numeric_ref, pg_temp.ids('Patient', '_text=chronic') AS inline_joined,
       pg_temp.ids('Patient', '_text=krakow') AS escaped_json, pg_temp.ids('Patient', '_text=hypertension') AS soft_hyphen,
       pg_temp.ids('Patient', '_text=blood') AS cell, pg_temp.ids('Patient', '_text=bloodpressure') AS cells_not_joined,
       pg_temp.ids('Patient', '_text=%D0%BC%D0%BE%D1%81%D0%BA%D0%B2%D0%B0') AS cyrillic;
-- markup, comments and other elements are not narrative text
SELECT pg_temp.ids('Patient', '_text=xhtml') AS no_markup, pg_temp.ids('Patient', '_text=smith') AS no_comment_no_name,
       pg_temp.ids('Patient', '_text=okonkwo') AS not_in_narrative;
-- _content: every string value at any depth, narratives as text, no keys and no resourceType
SELECT pg_temp.ids('Patient', '_content=smith') AS name, pg_temp.ids('Patient', '_content=okonkwo') AS nested,
       pg_temp.ids('Patient', '_content=lagos') AS nested_address, pg_temp.ids('Patient', '_content=hypertension') AS narrative,
       pg_temp.ids('Patient', '_content=xhtml') AS no_markup, pg_temp.ids('Patient', '_content=family') AS no_keys,
       pg_temp.ids('Patient', '_content=patient') AS narrative_word_only;
-- words AND, "phrases" in order, OR, -negation, comma = OR, repetition = AND
SELECT pg_temp.ids('Patient', '_content=blood%20pressure') AS both_words,
       pg_temp.ids('Patient', '_content=%22blood%20pressure%22') AS phrase,
       pg_temp.ids('Patient', '_content=%22pressure%20blood%22') AS reversed_phrase,
       pg_temp.ids('Patient', '_text=cough%20or%20hypertension') AS word_or,
       pg_temp.ids('Patient', '_content=blood%20-smith') AS negation,
       pg_temp.ids('Patient', '_text=cough,hypertension') AS comma_or,
       pg_temp.ids('Patient', '_text=cough&_text=fever') AS and_same,
       pg_temp.ids('Patient', '_text=cough&_text=hypertension') AS and_none;
-- :missing, chains, and the folded value as a bound parameter
SELECT pg_temp.ids('Patient', '_text:missing=true') AS no_narrative, pg_temp.ids('Patient', '_text:missing=false') AS narrative,
       pg_temp.ids('Observation', 'subject:Patient._content=lagos') AS chained;
SELECT e->'parameters' AS parameters, e->>'sql' LIKE '%websearch_to_tsquery(''simple''::regconfig, $1::text)%' AS websearch
  FROM fhir.explain('Patient', '_text=Zo%C3%AB%20M%C3%9CLLER') e;
-- other modifiers and values without words are errors; Observation is still disabled
\set VERBOSITY terse
SELECT fhir.search('Patient', '_text:exact=cough');
SELECT fhir.search('Patient', '_content:contains=cou');
SELECT fhir.search('Patient', '_text=%21%21%21');
\set VERBOSITY default
SELECT pg_temp.outcome('Patient', '_sort=_content') AS sort_ignored;
SELECT pg_temp.outcome('Observation', '_content=cough') AS observation_disabled;
-- writes keep the documents current: update, create, bulk load, delete
SELECT fhir.update('{"resourceType":"Patient","id":"ft3","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Now with asthma</div>"}}') IS NOT NULL AS updated;
SELECT pg_temp.ids('Patient', '_text=asthma') AS updated_narrative, pg_temp.ids('Patient', '_content=pressure') AS old_content_gone;
SELECT fhir.load('{"resourceType":"Patient","id":"ft4","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Asthma, mild</div>"}}') AS bulk;
SELECT pg_temp.ids('Patient', '_text=asthma') AS with_bulk;
SELECT fhir.delete('Patient', 'ft1') AS deleted;
SELECT pg_temp.ids('Patient', '_text=cough') AS after_delete,
       (SELECT count(*) FROM fhir.search_text t WHERE NOT EXISTS (SELECT 1 FROM fhir.resource r WHERE r.rid = t.rid)) AS orphans;
-- disabling again stops extraction at once
SELECT fhir.set_search_param_enabled('Patient', '_content', false) AS needs_reindex;
SELECT fhir.update('{"resourceType":"Patient","id":"ft5","name":[{"family":"Latecomer"}]}') IS NOT NULL AS stored;
SELECT count(*) AS content_rows_for_ft5 FROM fhir.search_text t JOIN fhir.resource_patient p USING (rid) WHERE p.id = 'ft5';
SELECT fhir.set_search_param_enabled('Patient', '_text', false) AS needs_reindex;
