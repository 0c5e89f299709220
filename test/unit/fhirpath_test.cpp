// fhirpath_test.cpp: unit tests of the FHIRPath subset (src/core/fhirpath.cpp).
//
// Small resources written inline exercise each construct search parameter
// expressions use; the last tests compile and run every expression of the
// generated R4 registry, so a definition the subset cannot handle shows up here
// rather than as a missing index value in production.
#include "error.h"
#include "fhirpath.h"
#include "registry.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>

namespace {

using fhir::Json;
using fhir::fhirpath::Expression;
using fhir::fhirpath::Node;

// Evaluates `expr` on `resource` and returns the selected values.
std::vector<Json> values(const std::string &expr, const Json &resource) {
    std::vector<Json> out;
    for (const Node &node : Expression::compile(expr).evaluate(resource))
        out.push_back(*node.value);
    return out;
}

// The inferred types of the selected nodes, in order.
std::vector<std::string> types(const std::string &expr, const Json &resource) {
    std::vector<std::string> out;
    for (const Node &node : Expression::compile(expr).evaluate(resource))
        out.push_back(node.type);
    return out;
}

const Json kObservation = Json::parse(R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure"},
                      {"system": "http://snomed.info/sct", "code": "75367002"}],
           "text": "BP"},
  "subject": {"reference": "Patient/p1", "display": "Ann"},
  "performer": [{"reference": "Practitioner/d1"}, {"reference": "http://other/fhir/Patient/p2/_history/3"},
                {"reference": "urn:uuid:1234"}, {"reference": "#org1"}],
  "contained": [{"resourceType": "Organization", "id": "org1", "name": "Lab"}],
  "effectivePeriod": {"start": "2024-01-01", "end": "2024-01-02"},
  "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
     "valueQuantity": {"value": 120, "unit": "mmHg"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
     "valueQuantity": {"value": 80, "unit": "mmHg"}},
    {"code": {"coding": [{"code": "note"}]}, "valueString": "ok"}
  ]
})");

TEST(FhirPath, NavigatesFromTheResourceTypeAndFlattensArrays) {
    auto codes = values("Observation.code.coding.code", kObservation);
    ASSERT_EQ(codes.size(), 2u);
    EXPECT_EQ(codes[0], "85354-9");
    EXPECT_EQ(codes[1], "75367002");
    EXPECT_EQ(values("Observation.component.code.coding.code", kObservation).size(), 3u);
    EXPECT_EQ(values("Observation.status", kObservation)[0], "final");
}

TEST(FhirPath, TypeNameAtThePathHeadFiltersResources) {
    EXPECT_TRUE(values("Patient.code", kObservation).empty());
    EXPECT_EQ(values("Resource.id", kObservation).size(), 1u);
    EXPECT_EQ(values("DomainResource.id", kObservation).size(), 1u);
    EXPECT_TRUE(values("DomainResource.id", Json{{"resourceType", "Bundle"}, {"id", "b"}}).empty());
}

TEST(FhirPath, MissingPathsYieldNothing) {
    EXPECT_TRUE(values("Observation.nothing.here", kObservation).empty());
    EXPECT_TRUE(values("Observation.status.deeper", kObservation).empty());
    EXPECT_TRUE(values("Observation.code", Json::parse("[1,2]")).empty());
    EXPECT_TRUE(values("Observation.code", Json("text")).empty());
}

TEST(FhirPath, ChoiceElementsFindTheirTypedKeyAndSetTheType) {
    auto nodes = Expression::compile("Observation.value").evaluate(kObservation);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].type, "Quantity");
    EXPECT_EQ((*nodes[0].value)["value"], 120);
    EXPECT_EQ(types("Observation.effective", kObservation), std::vector<std::string>{"Period"});
    EXPECT_EQ(types("Observation.component.value", kObservation),
              (std::vector<std::string>{"Quantity", "Quantity", "string"}));

    Json condition = {{"resourceType", "Condition"}, {"onsetDateTime", "2020-02-03"}};
    EXPECT_EQ(types("Condition.onset", condition), std::vector<std::string>{"dateTime"});
    condition = {{"resourceType", "Condition"}, {"abatementBoolean", true}};
    EXPECT_EQ(types("Condition.abatement", condition), std::vector<std::string>{"boolean"});
}

TEST(FhirPath, ChoiceLookupIgnoresNonTypeSuffixes) {
    Json data = {{"resourceType", "Library"}, {"codeFilter", {{"path", "x"}}}};
    EXPECT_TRUE(values("Library.code", data).empty());
    Json timing = {{"resourceType", "Basic"}, {"periodMax", 3}, {"periodUnit", "d"}};
    EXPECT_TRUE(values("Basic.period", timing).empty());
}

TEST(FhirPath, AsFiltersByKnownTypeAndKeepsUnknown) {
    EXPECT_EQ(values("Observation.value as Quantity", kObservation).size(), 1u);
    EXPECT_TRUE(values("Observation.value as CodeableConcept", kObservation).empty());
    EXPECT_EQ(values("(Observation.value as Quantity)", kObservation).size(), 1u);
    EXPECT_EQ(values("Observation.value.as(Quantity)", kObservation).size(), 1u);
    EXPECT_TRUE(values("Observation.value.as(Range)", kObservation).empty());
    EXPECT_EQ(values("Observation.component.value.ofType(string)", kObservation), std::vector<Json>{"ok"});

    // status has no inferable type: `as code` keeps it and types it.
    auto nodes = Expression::compile("Observation.status as code").evaluate(kObservation);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].type, "code");
    // ...but a JSON string cannot be a complex type.
    EXPECT_TRUE(values("Observation.status as Quantity", kObservation).empty());
}

TEST(FhirPath, AsFollowsTheTypeHierarchy) {
    Json condition = {{"resourceType", "Condition"},
                      {"onsetAge", {{"value", 42}, {"unit", "a"}, {"system", "http://unitsofmeasure.org"}}}};
    EXPECT_EQ(types("Condition.onset.as(Age)", condition), std::vector<std::string>{"Age"});
    EXPECT_EQ(types("Condition.onset as Quantity", condition), std::vector<std::string>{"Age"});
    EXPECT_TRUE(values("Condition.onset.as(Range)", condition).empty());

    Json valueset = {{"resourceType", "ValueSet"}, {"url", "http://x"}};
    EXPECT_EQ(values("ValueSet.url as uri", valueset).size(), 1u);
    Json with_code = {{"resourceType", "Basic"}, {"valueCode", "abc"}};
    EXPECT_EQ(values("Basic.value as string", with_code).size(), 1u);
    EXPECT_TRUE(values("Basic.value as uri", with_code).empty());
}

TEST(FhirPath, CapitalizedPrimitiveNamesAreAccepted) {
    // R4's own component expressions write value.as(DateTime).
    Json obs = {{"resourceType", "Observation"}, {"valueDateTime", "2021-05-06T07:08:09Z"}};
    EXPECT_EQ(types("Observation.value.as(DateTime)", obs), std::vector<std::string>{"dateTime"});
    EXPECT_EQ(values("Observation.value.as(FHIR.dateTime)", obs).size(), 1u);
    EXPECT_EQ(values("Observation.value.as(System.DateTime)", obs).size(), 1u);
}

TEST(FhirPath, IsReturnsBoolean) {
    auto result = values("Observation.value is Quantity", kObservation);
    ASSERT_EQ(result.size(), 1u);
    EXPECT_EQ(result[0], true);
    EXPECT_EQ(values("Observation.value is Period", kObservation)[0], false);
    EXPECT_EQ(values("Observation.value.is(Quantity)", kObservation)[0], true);
    EXPECT_TRUE(values("Observation.missing is Quantity", kObservation).empty());
}

TEST(FhirPath, WhereResolveIsKeepsReferencesByTargetType) {
    Json obs = {{"resourceType", "Observation"}, {"subject", {{"reference", "Patient/p1"}}}};
    auto nodes = Expression::compile("Observation.subject.where(resolve() is Patient)").evaluate(obs);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].type, "Reference");
    EXPECT_EQ(nodes[0].value, &obs["subject"]); // the element itself, not a copy
    EXPECT_TRUE(values("Observation.subject.where(resolve() is Group)", obs).empty());
}

TEST(FhirPath, ResolveUnderstandsReferenceForms) {
    auto patients = values("Observation.performer.where(resolve() is Patient)", kObservation);
    ASSERT_EQ(patients.size(), 1u); // absolute URL with _history
    EXPECT_EQ(patients[0]["reference"], "http://other/fhir/Patient/p2/_history/3");
    EXPECT_EQ(values("Observation.performer.where(resolve() is Practitioner)", kObservation).size(), 1u);
    // "#org1" resolves to the contained resource.
    auto orgs = values("Observation.performer.resolve()", kObservation);
    ASSERT_EQ(orgs.size(), 3u);
    EXPECT_EQ(orgs[2]["name"], "Lab");
    EXPECT_EQ(values("Observation.performer.where(resolve() is Organization)", kObservation).size(), 1u);
    // urn:uuid names no type: resolve() yields nothing, so `is` is empty, and where drops it.
    EXPECT_EQ(values("Observation.performer.where(resolve().exists())", kObservation).size(), 3u);

    auto stub = values("Observation.subject.resolve()", kObservation);
    ASSERT_EQ(stub.size(), 1u);
    EXPECT_EQ(stub[0], (Json{{"resourceType", "Patient"}, {"id", "p1"}}));
}

TEST(FhirPath, ResolveFallsBackToReferenceType) {
    Json obs = {{"resourceType", "Observation"},
                {"subject", {{"type", "Group"}, {"identifier", {{"system", "s"}, {"value", "v"}}}}}};
    EXPECT_EQ(values("Observation.subject.where(resolve() is Group)", obs).size(), 1u);
    EXPECT_EQ(types("Observation.subject", obs), std::vector<std::string>{"Reference"});
}

TEST(FhirPath, ShapesGiveTypesWhenUnambiguous) {
    EXPECT_EQ(types("Observation.code", kObservation), std::vector<std::string>{"CodeableConcept"});
    EXPECT_EQ(types("Observation.code.coding", kObservation), (std::vector<std::string>{"Coding", "Coding"}));
    EXPECT_EQ(types("Observation.subject", kObservation), std::vector<std::string>{"Reference"});
    EXPECT_EQ(types("Observation.contained", kObservation), std::vector<std::string>{"Organization"});
    EXPECT_EQ(types("Observation.id", kObservation), std::vector<std::string>{""});

    Json patient = Json::parse(R"({"resourceType":"Patient",
        "identifier":[{"system":"urn:oid:1.2","value":"123"}],
        "telecom":[{"system":"phone","value":"555"}],
        "name":[{"family":"Doe","given":["J"]}],
        "address":[{"city":"Paris"}], "active": true})");
    EXPECT_EQ(types("Patient.identifier", patient), std::vector<std::string>{"Identifier"});
    EXPECT_EQ(types("Patient.telecom", patient), std::vector<std::string>{"ContactPoint"});
    EXPECT_EQ(types("Patient.name", patient), std::vector<std::string>{"HumanName"});
    EXPECT_EQ(types("Patient.address", patient), std::vector<std::string>{"Address"});
    EXPECT_EQ(types("Patient.active", patient), std::vector<std::string>{"boolean"});
}

TEST(FhirPath, GuessedQuantityAcceptsQuantityProfiles) {
    Json resource = {{"resourceType", "Basic"}, {"amount", {{"value", 3}, {"unit", "d"}}}};
    EXPECT_EQ(types("Basic.amount", resource), std::vector<std::string>{"Quantity"});
    EXPECT_EQ(types("Basic.amount as Duration", resource), std::vector<std::string>{"Duration"});
    EXPECT_TRUE(values("Basic.amount as Period", resource).empty());
}

TEST(FhirPath, UnionConcatenatesWithoutDuplicates) {
    auto result = values("Observation.code.coding.code | Observation.component.code.coding.code", kObservation);
    EXPECT_EQ(result.size(), 5u);
    EXPECT_EQ(values("Observation.status | Observation.status", kObservation).size(), 1u);
    EXPECT_EQ(values("'a' | 'b' | 'a'", kObservation), (std::vector<Json>{"a", "b"}));
    EXPECT_EQ(values("(Observation.value as Quantity) | (Observation.value as SampledData)", kObservation).size(), 1u);
}

TEST(FhirPath, WhereWithEqualityAndBooleanOperators) {
    Json patient = Json::parse(R"({"resourceType":"Patient",
        "telecom":[{"system":"phone","value":"555","use":"home"},{"system":"email","value":"a@b.c"},
                   {"system":"phone","value":"666","use":"work"}]})");
    EXPECT_EQ(values("Patient.telecom.where(system='email').value", patient), std::vector<Json>{"a@b.c"});
    EXPECT_EQ(values("Patient.telecom.where(system='phone' and use='work').value", patient), std::vector<Json>{"666"});
    EXPECT_EQ(values("Patient.telecom.where(system='email' or use='work').value", patient).size(), 2u);
    EXPECT_EQ(values("Patient.telecom.where(system!='phone').value", patient), std::vector<Json>{"a@b.c"});
    EXPECT_EQ(values("Patient.telecom.where(use.exists()).value", patient).size(), 2u);
    EXPECT_EQ(values("Patient.telecom.where(use.empty()).value", patient), std::vector<Json>{"a@b.c"});
    EXPECT_EQ(values("Patient.telecom.where(use.exists().not()).value", patient), std::vector<Json>{"a@b.c"});
    EXPECT_EQ(values("Patient.telecom.where($this.system = 'email').value", patient), std::vector<Json>{"a@b.c"});
    EXPECT_EQ(values("Patient.telecom.exists(system = 'email')", patient), std::vector<Json>{true});
    EXPECT_EQ(values("Patient.telecom.where(rank = 1)", patient).size(), 0u);
}

TEST(FhirPath, RelatedArtifactWhereTypeIsAString) {
    Json library = Json::parse(R"({"resourceType":"Library","relatedArtifact":[
        {"type":"depends-on","resource":"http://x/Library/a|1.0"},
        {"type":"composed-of","resource":"http://x/Library/b"}]})");
    EXPECT_EQ(values("Library.relatedArtifact.where(type='depends-on').resource", library),
              std::vector<Json>{"http://x/Library/a|1.0"});
}

TEST(FhirPath, DeceasedBooleanExpression) {
    const std::string expr = "Patient.deceased.exists() and Patient.deceased != false";
    EXPECT_EQ(values(expr, Json{{"resourceType", "Patient"}}), std::vector<Json>{false});
    EXPECT_EQ(values(expr, Json{{"resourceType", "Patient"}, {"deceasedBoolean", false}}), std::vector<Json>{false});
    EXPECT_EQ(values(expr, Json{{"resourceType", "Patient"}, {"deceasedBoolean", true}}), std::vector<Json>{true});
    EXPECT_EQ(values(expr, Json{{"resourceType", "Patient"}, {"deceasedDateTime", "2020"}}), std::vector<Json>{true});
    auto nodes = Expression::compile(expr).evaluate(Json{{"resourceType", "Patient"}});
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].type, "boolean");
    EXPECT_TRUE(nodes[0].owned);
}

TEST(FhirPath, ThreeValuedLogic) {
    Json r = {{"resourceType", "Basic"}};
    EXPECT_EQ(values("true and true", r), std::vector<Json>{true});
    EXPECT_EQ(values("true and {}", r), std::vector<Json>{});
    EXPECT_EQ(values("false and {}", r), std::vector<Json>{false});
    EXPECT_EQ(values("true or {}", r), std::vector<Json>{true});
    EXPECT_EQ(values("false or {}", r), std::vector<Json>{});
    EXPECT_EQ(values("true xor false", r), std::vector<Json>{true});
    EXPECT_EQ(values("false implies {}", r), std::vector<Json>{true});
    EXPECT_EQ(values("{}.not()", r), std::vector<Json>{});
    EXPECT_EQ(values("(1 = 1).not()", r), std::vector<Json>{false});
}

TEST(FhirPath, ComparisonsAndMembership) {
    Json r = {{"resourceType", "Basic"}};
    EXPECT_EQ(values("1 < 2", r), std::vector<Json>{true});
    EXPECT_EQ(values("2.5 >= 2.5", r), std::vector<Json>{true});
    EXPECT_EQ(values("'b' > 'a'", r), std::vector<Json>{true});
    EXPECT_EQ(values("1 = 1.0", r), std::vector<Json>{true});
    EXPECT_EQ(values("1 = '1'", r), std::vector<Json>{false});
    EXPECT_EQ(values("-1 < 0", r), std::vector<Json>{true});
    EXPECT_EQ(values("'A  b' ~ 'a b'", r), std::vector<Json>{true});
    EXPECT_EQ(values("'x' in ('x' | 'y')", r), std::vector<Json>{true});
    EXPECT_EQ(values("('x' | 'y') contains 'z'", r), std::vector<Json>{false});
    EXPECT_EQ(values("@2020-01-01 < @2021", r), std::vector<Json>{true});
    EXPECT_EQ(values("1 < 'a'", r), std::vector<Json>{});
}

TEST(FhirPath, ExtensionByUrl) {
    Json patient = Json::parse(R"({"resourceType":"Patient","extension":[
        {"url":"http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName","valueString":"Smith"},
        {"url":"http://example.org/other","valueCodeableConcept":{"text":"x"}}]})");
    auto nodes = Expression::compile(
                     "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value")
                     .evaluate(patient);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(*nodes[0].value, "Smith");
    EXPECT_EQ(nodes[0].type, "string");
    EXPECT_EQ(types("Patient.extension.where(url='http://example.org/other').value", patient),
              std::vector<std::string>{"CodeableConcept"});
    EXPECT_EQ(types("Patient.extension('http://example.org/other')", patient), std::vector<std::string>{"Extension"});
}

TEST(FhirPath, FirstLastTailCountIndex) {
    EXPECT_EQ(values("Observation.code.coding.first().code", kObservation), std::vector<Json>{"85354-9"});
    EXPECT_EQ(values("Observation.code.coding.last().code", kObservation), std::vector<Json>{"75367002"});
    EXPECT_EQ(values("Observation.component.tail().count()", kObservation), std::vector<Json>{2});
    EXPECT_EQ(values("Observation.component[1].value.value", kObservation), std::vector<Json>{80});
    EXPECT_TRUE(values("Observation.component[7]", kObservation).empty());
    EXPECT_EQ(values("Observation.component.select(code.coding.code)", kObservation).size(), 3u);
    EXPECT_EQ(values("Observation.component.all(code.exists())", kObservation), std::vector<Json>{true});
}

TEST(FhirPath, BundleEntryIndexer) {
    Json bundle = Json::parse(R"({"resourceType":"Bundle","type":"document","entry":[
        {"resource":{"resourceType":"Composition","id":"c1"}},{"resource":{"resourceType":"Patient","id":"p"}}]})");
    auto nodes = Expression::compile("Bundle.entry[0].resource").evaluate(bundle);
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].type, "Composition");
}

TEST(FhirPath, StringLiteralEscapes) {
    Json r = {{"resourceType", "Basic"}};
    EXPECT_EQ(values(R"('it\'s')", r), std::vector<Json>{"it's"});
    EXPECT_EQ(values(R"('a\\b\/c')", r), std::vector<Json>{"a\\b/c"});
    EXPECT_EQ(values(R"('tab\there')", r), std::vector<Json>{"tab\there"});
    EXPECT_EQ(values(R"('\u00e9')", r), std::vector<Json>{"\xc3\xa9"});
    EXPECT_EQ(values("'caf\xc3\xa9'", r), std::vector<Json>{"caf\xc3\xa9"});
}

TEST(FhirPath, BacktickIdentifiersAndComments) {
    Json r = {{"resourceType", "Basic"}, {"div", "x"}, {"as", "y"}};
    EXPECT_EQ(values("Basic.`div`", r), std::vector<Json>{"x"});
    EXPECT_EQ(values("Basic.`as` // trailing comment", r), std::vector<Json>{"y"});
    EXPECT_EQ(values("Basic /* inline */ .div", r), std::vector<Json>{"x"});
}

TEST(FhirPath, PercentResourceInRelativeExpressions) {
    Json sequence = Json::parse(R"({"resourceType":"MolecularSequence",
        "referenceSeq":{"chromosome":{"text":"1"}},
        "variant":[{"start":10,"end":20}]})");
    auto variants = Expression::compile("MolecularSequence.variant").evaluate(sequence);
    ASSERT_EQ(variants.size(), 1u);
    auto start = Expression::compile("start").evaluate_on(variants[0], sequence);
    EXPECT_EQ(start.size(), 1u);
    auto chromosome = Expression::compile("%resource.referenceSeq.chromosome").evaluate_on(variants[0], sequence);
    ASSERT_EQ(chromosome.size(), 1u);
    EXPECT_EQ((*chromosome[0].value)["text"], "1");
    // Without the resource, %resource is the context node.
    EXPECT_TRUE(Expression::compile("%resource.referenceSeq").evaluate_on(variants[0]).empty());
    EXPECT_EQ(values("%resource.id", Json{{"resourceType", "Basic"}, {"id", "b1"}}), std::vector<Json>{"b1"});
    EXPECT_EQ(values("%ucum", Json{{"resourceType", "Basic"}}), std::vector<Json>{"http://unitsofmeasure.org"});
}

TEST(FhirPath, RelativeExpressionsOnComponents) {
    auto components = Expression::compile("Observation.component").evaluate(kObservation);
    ASSERT_EQ(components.size(), 3u);
    auto code = Expression::compile("code").evaluate_on(components[1]);
    ASSERT_EQ(code.size(), 1u);
    EXPECT_EQ(code[0].type, "CodeableConcept");
    auto value = Expression::compile("value.as(Quantity) | value.as(Range)").evaluate_on(components[1]);
    ASSERT_EQ(value.size(), 1u);
    EXPECT_EQ((*value[0].value)["value"], 80);
    EXPECT_EQ(value[0].type, "Quantity");
}

TEST(FhirPath, ComputedNodesOutliveTheExpression) {
    std::vector<Node> nodes;
    {
        auto expr = Expression::compile("Observation.subject.resolve()");
        nodes = expr.evaluate(kObservation);
    }
    ASSERT_EQ(nodes.size(), 1u);
    ASSERT_TRUE(nodes[0].owned);
    EXPECT_EQ((*nodes[0].value)["resourceType"], "Patient");
    // Children of a computed node keep it alive too.
    auto ids = Expression::compile("Observation.subject.resolve().id").evaluate(kObservation);
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_TRUE(ids[0].owned);
    EXPECT_EQ(*ids[0].value, "p1");
}

TEST(FhirPath, ConformsToIsTrueAndTraceIsTransparent) {
    EXPECT_EQ(values("Observation.conformsTo('http://x')", kObservation), std::vector<Json>{true});
    EXPECT_EQ(values("Observation.status.trace('s')", kObservation), std::vector<Json>{"final"});
}

TEST(FhirPath, PrimitiveArraysWithNullPlaceholders) {
    Json patient = Json::parse(R"({"resourceType":"Patient","name":[{"given":[null,"B"],
        "_given":[{"extension":[]},null]}]})");
    EXPECT_EQ(values("Patient.name.given", patient), std::vector<Json>{"B"});
}

// Expects compile() to fail with InvalidSearch and a "fhirpath:" message.
void expect_compile_error(const std::string &expr) {
    try {
        Expression::compile(expr);
        ADD_FAILURE() << "compiled: " << expr;
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidSearch) << expr;
        EXPECT_EQ(std::string(e.what()).rfind("fhirpath: ", 0), 0u) << e.what();
    }
}

TEST(FhirPath, CompileErrors) {
    expect_compile_error("");
    expect_compile_error("   ");
    expect_compile_error("Observation.");
    expect_compile_error("Observation.code(");
    expect_compile_error("Observation.where(code");
    expect_compile_error("(Observation.code");
    expect_compile_error("Observation.code)");
    expect_compile_error("'unterminated");
    expect_compile_error("'bad \\q escape'");
    expect_compile_error("Observation.code.frobnicate()");
    expect_compile_error("Observation.code.memberOf('http://vs')");
    expect_compile_error("Observation.value + 1");
    expect_compile_error("Observation.value div 2");
    expect_compile_error("Observation.where()");
    expect_compile_error("Observation.first(1)");
    expect_compile_error("Observation.value as");
    expect_compile_error("%vs-foo");
    expect_compile_error("$index");
    expect_compile_error("Observation # code");
    expect_compile_error("Observation.code[0");
    expect_compile_error("/* open comment");
    expect_compile_error(std::string(100, '(') + "1" + std::string(100, ')'));
    std::string long_path = "Observation";
    for (int i = 0; i < 2000; ++i)
        long_path += ".a";
    expect_compile_error(long_path);
}

TEST(FhirPath, ModeratelyNestedExpressionsCompile) {
    EXPECT_EQ(values(std::string(30, '(') + "1" + std::string(30, ')'), Json{{"resourceType", "Basic"}}),
              std::vector<Json>{1});
}

TEST(FhirPath, TextIsKept) { EXPECT_EQ(Expression::compile("Observation.code").text(), "Observation.code"); }

TEST(FhirPath, DefaultExpressionEvaluatesToNothing) {
    Expression empty;
    EXPECT_TRUE(empty.evaluate(kObservation).empty());
}

// Every expression in the generated registry (and every composite component)
// must compile; the count is printed for docs/fhirpath.md.
TEST(FhirPath, CompilesEveryR4RegistryExpression) {
    const fhir::Registry registry = fhir::Registry::builtin();
    size_t compiled = 0, components = 0;
    std::map<std::string, std::string> failures;
    for (const fhir::SearchParamDef &def : registry.all()) {
        if (!def.expression.empty()) {
            try {
                Expression::compile(def.expression);
                ++compiled;
            } catch (const fhir::Error &e) {
                failures[def.resource_type + "." + def.code] = e.what();
            }
        }
        for (const fhir::CompositeComponent &component : def.components) {
            try {
                Expression::compile(component.expression);
                ++components;
            } catch (const fhir::Error &e) {
                failures[def.resource_type + "." + def.code + " component"] = e.what();
            }
        }
    }
    for (const auto &[name, message] : failures)
        ADD_FAILURE() << name << ": " << message;
    EXPECT_GT(compiled, 2500u);
    std::cout << "[ fhirpath ] compiled " << compiled << " registry expressions and " << components
              << " composite component expressions\n";
}

// Running every registry expression on a resource of its type must not throw,
// even on a resource whose elements have surprising shapes.
TEST(FhirPath, EvaluatesEveryR4RegistryExpressionWithoutThrowing) {
    const fhir::Registry registry = fhir::Registry::builtin();
    size_t evaluated = 0;
    for (const fhir::SearchParamDef &def : registry.all()) {
        if (def.expression.empty())
            continue;
        Json odd = Json::parse(R"({"id":"x","code":[1,"a",null,{"coding":5}],"subject":"Patient/1",
            "value":{"reference":7},"status":{"x":[]},"identifier":[{"value":null}],"name":"n",
            "extension":[{"url":5}],"relatedArtifact":[{"type":3}],"telecom":[{"system":["email"]}],
            "entry":"e"})");
        odd["resourceType"] = def.resource_type;
        Expression expr = Expression::compile(def.expression);
        EXPECT_NO_THROW(expr.evaluate(odd)) << def.expression;
        EXPECT_NO_THROW(expr.evaluate(Json{{"resourceType", def.resource_type}})) << def.expression;
        ++evaluated;
    }
    EXPECT_GT(evaluated, 2500u);
}

} // namespace
