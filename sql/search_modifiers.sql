-- modifiers and edge cases per parameter type
SELECT count(fhir.delete(rtype, id)) >= 0 AS cleared FROM fhir.resource WHERE rtype IN ('Patient', 'Observation', 'ValueSet', 'RiskAssessment', 'Encounter', 'DiagnosticReport');
CREATE FUNCTION pg_temp.ids(t text, q text) RETURNS text LANGUAGE sql AS
  $$ SELECT coalesce(string_agg(e->'resource'->>'id', ',' ORDER BY e->'resource'->>'id'), '')
       FROM jsonb_array_elements(fhir.search(t, q, 'no-store')->'entry') e WHERE e->'search'->>'mode' = 'match' $$;
SELECT fhir.load(E'{"resourceType":"Patient","id":"m1","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}],"text":"Medical record"},"system":"urn:mrn","value":"111"}],"name":[{"family":"Çelik","given":["Ayşe"]}],"telecom":[{"system":"email","value":"a@x.org"}],"address":[{"city":"İzmir","postalCode":"35000"}]}\n'
                 '{"resourceType":"Patient","id":"m2","identifier":[{"system":"urn:ssn","value":"111"}],"name":[{"text":"Bob Smith"}],"active":false}\n'
                 '{"resourceType":"Observation","id":"mo1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}],"text":"Systolic BP"},"subject":{"reference":"Patient/m1"},"effectivePeriod":{"start":"2021-01-01T08:00:00Z","end":"2021-01-01T09:00:00Z"},"valueQuantity":{"value":120.5,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}\n'
                 '{"resourceType":"Observation","id":"mo2","status":"preliminary","code":{"coding":[{"code":"local-1"}]},"subject":{"identifier":{"system":"urn:mrn","value":"111"}},"effectiveDateTime":"2021-06","valueQuantity":{"value":0.0053,"unit":"g"}}\n'
                 '{"resourceType":"Observation","id":"mo3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"http://other.example.org/fhir/Patient/m2"},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"code":"mm[Hg]","system":"http://unitsofmeasure.org"}}]}\n'
                 '{"resourceType":"ValueSet","id":"vs1","url":"http://example.org/fhir/ValueSet/colors","status":"active"}\n'
                 '{"resourceType":"ValueSet","id":"vs2","url":"http://example.org/fhir/ValueSet/colors/warm","status":"active"}\n'
                 '{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/m1"},"prediction":[{"probabilityDecimal":0.25}]}\n'
                 '{"resourceType":"Encounter","id":"me1","status":"finished","class":{"code":"AMB"},"period":{"start":"2021-03-01"}}\n'
                 '{"resourceType":"DiagnosticReport","id":"dr1","status":"final","code":{"text":"panel"},"result":[{"reference":"Observation/mo1"}]}\n') AS loaded;
-- string: accents and dotted capitals fold; text-only names; address parts
SELECT pg_temp.ids('Patient', 'family=celik') AS celik, pg_temp.ids('Patient', 'given=ayse') AS ayse,
       pg_temp.ids('Patient', 'name=bob') AS text_name, pg_temp.ids('Patient', 'address-city=izmir') AS city,
       pg_temp.ids('Patient', 'address-postalcode=350') AS postal_prefix;
-- token: :text on display/text, :of-type on identifiers, |code without system, boolean, :missing=false
SELECT pg_temp.ids('Observation', 'code:text=systolic') AS code_text, pg_temp.ids('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|111') AS of_type,
       pg_temp.ids('Patient', 'identifier=111') AS any_system, pg_temp.ids('Observation', 'code=|local-1') AS no_system,
       pg_temp.ids('Observation', 'code=http://loinc.org|') AS system_only, pg_temp.ids('Patient', 'active=false') AS inactive,
       pg_temp.ids('Patient', 'active:missing=false') AS has_active, pg_temp.ids('Patient', 'email=a@x.org') AS email;
-- date: Period overlap semantics, partial dates, prefixes against ranges
SELECT pg_temp.ids('Observation', 'date=2021-01-01') AS day_contains_period, pg_temp.ids('Observation', 'date=2021') AS year,
       pg_temp.ids('Observation', 'date=gt2021-03') AS after_march, pg_temp.ids('Observation', 'date=sa2021-01-01') AS starts_after,
       pg_temp.ids('Observation', 'date=eb2021-06') AS ends_before, pg_temp.ids('Observation', 'date:missing=true') AS no_date,
       pg_temp.ids('Encounter', 'date=ge2022-01-01') AS open_period_still_running;
-- number and quantity: implicit precision, exponent form, units
SELECT pg_temp.ids('RiskAssessment', 'probability=0.25') AS exact, pg_temp.ids('RiskAssessment', 'probability=0.3') AS rounded_range,
       pg_temp.ids('RiskAssessment', 'probability=gt0.2') AS gt, pg_temp.ids('Observation', 'value-quantity=5.3e-3') AS exponent,
       pg_temp.ids('Observation', 'value-quantity=120') AS precision_120, pg_temp.ids('Observation', 'value-quantity=le120.5|http://unitsofmeasure.org|mm[Hg]') AS le_with_unit,
       pg_temp.ids('Observation', 'value-quantity=0.0053||g') AS unit_code_without_system;
-- reference: :identifier, absolute URL, :Type, id only
SELECT pg_temp.ids('Observation', 'subject:identifier=urn:mrn|111') AS by_identifier,
       pg_temp.ids('Observation', 'subject=http://other.example.org/fhir/Patient/m2') AS absolute,
       pg_temp.ids('Observation', 'subject:Patient=m1') AS typed, pg_temp.ids('Observation', 'subject=m2') AS id_only_matches_absolute;
-- uri: exact, :below, :above
SELECT pg_temp.ids('ValueSet', 'url=http://example.org/fhir/ValueSet/colors') AS exact,
       pg_temp.ids('ValueSet', 'url:below=http://example.org/fhir/ValueSet/colors') AS below,
       pg_temp.ids('ValueSet', 'url:above=http://example.org/fhir/ValueSet/colors/warm/red') AS above;
-- composite (token$token) and the component-code search
SELECT pg_temp.ids('Observation', 'component-code=http://loinc.org|8480-6') AS component_code,
       pg_temp.ids('Observation', 'code-value-concept=http://loinc.org|85354-9$x') AS composite_no_match;
-- nested chain and nested _has
SELECT pg_temp.ids('RiskAssessment', 'subject:Patient.identifier=urn:mrn|111') AS chain,
       pg_temp.ids('Patient', '_has:Observation:subject:_has:DiagnosticReport:result:status=final') AS nested_has,
       pg_temp.ids('Patient', '_has:Observation:subject:_has:DiagnosticReport:result:status=cancelled') AS nested_has_none;
\set VERBOSITY terse
SELECT fhir.search('Observation', 'value-quantity=zz1');
SELECT fhir.search('Observation', 'date=2021-13');
SELECT fhir.search('Observation', 'date=xx2021');
SELECT fhir.search('Observation', 'code:in=http://x');
SELECT fhir.search('Observation', 'subject.nosuch=1');
SELECT fhir.search('Patient', 'active:missing=perhaps');
SELECT fhir.search('Patient', '_has:Observation:subject:_has:RiskAssessment:subject:status=final');
-- :text on a CodeableConcept that has only its text (no coding)
SELECT pg_temp.ids('DiagnosticReport', 'code:text=panel') AS text_only_concept;
