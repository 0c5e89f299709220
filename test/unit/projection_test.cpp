// projection_test.cpp: unit tests of _summary / _elements result shaping (projection.h).
//
// Uses realistic Patient and Observation resources and checks the kept and
// dropped elements against the isSummary / min flags of the R4 definitions
// (profiles-resources.json): e.g. Patient.contact, maritalStatus and
// communication are not summary, Observation.note, category, interpretation and
// referenceRange are not, Observation.status and code are mandatory. Also covers
// nested filtering (data types, backbones, choice types), the SUBSETTED tag and
// the parsing errors.
#include "projection.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "error.h"

using fhir::ErrorKind;
using fhir::Json;
using fhir::SummaryMode;

namespace {

// A Patient with summary and non-summary elements at several depths.
Json patient() {
    return Json::parse(R"({
      "resourceType": "Patient",
      "id": "pat-000001",
      "meta": {"versionId": "3", "lastUpdated": "2024-01-02T10:00:00Z",
               "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
      "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Eve Everywoman</div>"},
      "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex", "valueCode": "F"}],
      "identifier": [{"use": "usual",
                      "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                      "system": "http://hospital.example.org/mrn", "value": "MRN-0001"}],
      "active": true,
      "name": [{"use": "official", "family": "Everywoman", "given": ["Eve", "Marie"]},
               {"use": "nickname", "given": ["Evie"]}],
      "telecom": [{"system": "phone", "value": "555-0101", "use": "home"}],
      "gender": "female",
      "birthDate": "1975-03-14",
      "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                    "valueDateTime": "1975-03-14T08:30:00Z"}]},
      "deceasedBoolean": false,
      "address": [{"use": "home", "line": ["1 Main St"], "city": "Boston", "postalCode": "02101",
                   "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/geolocation"}]}],
      "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
      "multipleBirthBoolean": false,
      "contact": [{"relationship": [{"text": "sister"}], "name": {"family": "Everywoman", "given": ["Ann"]}}],
      "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US"}]},
                         "preferred": true}],
      "generalPractitioner": [{"reference": "Practitioner/prac-00001"}],
      "managingOrganization": {"reference": "Organization/org-0001", "display": "General Hospital"}
    })");
}

// A blood pressure Observation with components, notes and reference ranges.
Json observation() {
    return Json::parse(R"({
      "resourceType": "Observation",
      "id": "obs-000001-017",
      "meta": {"lastUpdated": "2024-01-02T10:00:00Z"},
      "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">BP 120/80</div>"},
      "status": "final",
      "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "vital-signs"}]}],
      "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}],
               "text": "Blood pressure"},
      "subject": {"reference": "Patient/pat-000001"},
      "effectivePeriod": {"start": "2024-01-02T09:00:00Z", "end": "2024-01-02T09:05:00Z", "id": "p1"},
      "issued": "2024-01-02T09:10:00.123Z",
      "performer": [{"reference": "Practitioner/prac-00001"}],
      "interpretation": [{"coding": [{"code": "N"}]}],
      "note": [{"text": "patient seated"}],
      "bodySite": {"text": "left arm"},
      "referenceRange": [{"low": {"value": 90, "unit": "mmHg"}, "high": {"value": 140, "unit": "mmHg"}}],
      "component": [
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
         "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
         "interpretation": [{"coding": [{"code": "N"}]}]},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
         "valueQuantity": {"value": 80, "unit": "mmHg"}}
      ]
    })");
}

// The sorted top-level keys of a resource.
std::vector<std::string> keys(const Json &resource) {
    std::vector<std::string> out;
    for (auto it = resource.begin(); it != resource.end(); ++it)
        out.push_back(it.key());
    return out;
}

// Projects with _summary only.
bool summary(Json &resource, SummaryMode mode) {
    return fhir::project_resource(resource, mode, {});
}

// Projects with _elements only, parsed as a client would send it.
bool elements(Json &resource, const std::string &value) {
    return fhir::project_resource(resource, SummaryMode::False, fhir::parse_elements(value));
}

// The kind of the fhir::Error a callable throws (Internal if it throws none).
template <typename F> ErrorKind error_kind(F &&f) {
    try {
        f();
    } catch (const fhir::Error &e) {
        return e.kind();
    }
    return ErrorKind::Internal;
}

} // namespace

TEST(SummaryParse, AcceptsTheFiveCodes) {
    EXPECT_EQ(fhir::parse_summary("true"), SummaryMode::True);
    EXPECT_EQ(fhir::parse_summary("text"), SummaryMode::Text);
    EXPECT_EQ(fhir::parse_summary("data"), SummaryMode::Data);
    EXPECT_EQ(fhir::parse_summary("count"), SummaryMode::Count);
    EXPECT_EQ(fhir::parse_summary("false"), SummaryMode::False);
}

TEST(SummaryParse, RejectsOtherValues) {
    for (const char *bad : {"", "TRUE", "yes", "true ", "counts", "1"})
        EXPECT_EQ(error_kind([&] { fhir::parse_summary(bad); }), ErrorKind::InvalidSearch) << bad;
}

TEST(ElementsParse, SplitsAndTrims) {
    EXPECT_EQ(fhir::parse_elements("name,gender"), (std::vector<std::string>{"name", "gender"}));
    EXPECT_EQ(fhir::parse_elements(" name.family , birthDate"),
              (std::vector<std::string>{"name.family", "birthDate"}));
    EXPECT_EQ(fhir::parse_elements("Patient.name,value[x],component.value[x]"),
              (std::vector<std::string>{"Patient.name", "value[x]", "component.value[x]"}));
}

TEST(ElementsParse, RejectsMalformedLists) {
    for (const char *bad : {"", " ", "name,,gender", "name,", ",name", "name.", ".name", "name..family", "na-me",
                            "name family", "name;gender", "Patient", "name.Family", "1name", "[x]", "value[y]",
                            "name%2Cgender"})
        EXPECT_EQ(error_kind([&] { fhir::parse_elements(bad); }), ErrorKind::InvalidSearch) << bad;
}

TEST(SummaryTrue, PatientKeepsOnlySummaryElements) {
    Json p = patient();
    EXPECT_TRUE(summary(p, SummaryMode::True));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"_birthDate", "active", "address", "birthDate", "deceasedBoolean",
                                                 "gender", "id", "identifier", "managingOrganization", "meta", "name",
                                                 "resourceType", "telecom"}));
    // Kept elements keep their summary content: all of HumanName, Identifier.type, Reference.display.
    EXPECT_EQ(p["name"], patient()["name"]);
    EXPECT_EQ(p["identifier"], patient()["identifier"]);
    EXPECT_EQ(p["managingOrganization"], patient()["managingOrganization"]);
    EXPECT_EQ(p["meta"], patient()["meta"]);
    // Element.extension is not a summary element of Address.
    EXPECT_FALSE(p["address"][0].contains("extension"));
    EXPECT_EQ(p["address"][0]["city"], "Boston");
}

TEST(SummaryTrue, ObservationKeepsSummaryAndMandatoryElements) {
    Json o = observation();
    EXPECT_TRUE(summary(o, SummaryMode::True));
    EXPECT_EQ(keys(o), (std::vector<std::string>{"code", "component", "effectivePeriod", "id", "issued", "meta",
                                                 "performer", "resourceType", "status", "subject"}));
    // Backbone filtering: component.interpretation is not summary, code and value[x] are.
    ASSERT_EQ(o["component"].size(), 2u);
    EXPECT_EQ(keys(o["component"][0]), (std::vector<std::string>{"code", "valueQuantity"}));
    EXPECT_EQ(o["component"][0]["valueQuantity"], observation()["component"][0]["valueQuantity"]);
    // Choice types filter with the suffix's data type: Period.id is not summary.
    EXPECT_EQ(o["effectivePeriod"], Json::parse(R"({"start": "2024-01-02T09:00:00Z", "end": "2024-01-02T09:05:00Z"})"));
}

TEST(SummaryTrue, ValueChoiceAndNothingRemoved) {
    Json o = Json::parse(R"({"resourceType": "Observation", "id": "o1", "status": "final",
                             "code": {"text": "HbA1c"}, "subject": {"reference": "Patient/p1"},
                             "effectiveDateTime": "2024-01-01", "valueQuantity": {"value": 7.1, "unit": "%"}})");
    Json before = o;
    EXPECT_FALSE(summary(o, SummaryMode::True));
    EXPECT_EQ(o, before);
    Json s = Json::parse(R"({"resourceType": "Observation", "status": "final", "code": {"text": "smoking"},
                             "valueString": "never", "_valueString": {"id": "v"}, "dataAbsentReason": {"text": "x"}})");
    EXPECT_TRUE(summary(s, SummaryMode::True));
    EXPECT_EQ(keys(s), (std::vector<std::string>{"_valueString", "code", "resourceType", "status", "valueString"}));
}

TEST(SummaryTrue, AttachmentDataIsDroppedInsideSummaryBackbones) {
    Json d = Json::parse(R"({"resourceType": "DocumentReference", "id": "d1", "status": "current",
        "content": [{"attachment": {"contentType": "text/plain", "data": "aGVsbG8=", "url": "Binary/b1"},
                     "format": {"code": "urn:ihe:iti:xds:2017:mimeTypeSufficient"}}]})");
    EXPECT_TRUE(summary(d, SummaryMode::True));
    EXPECT_EQ(d["content"][0]["attachment"], Json::parse(R"({"contentType": "text/plain", "url": "Binary/b1"})"));
    EXPECT_TRUE(d["content"][0].contains("format"));
}

TEST(SummaryTrue, EmptiedObjectsAreRemoved) {
    Json p = Json::parse(R"({"resourceType": "Patient", "id": "p",
        "identifier": [{"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
                       {"system": "urn:s", "value": "1"}],
        "managingOrganization": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}})");
    EXPECT_TRUE(summary(p, SummaryMode::True));
    EXPECT_EQ(p, Json::parse(R"({"resourceType": "Patient", "id": "p",
                                 "identifier": [{"system": "urn:s", "value": "1"}]})"));
}

TEST(SummaryTrue, UnknownTypeIsLeftAlone) {
    Json r = Json::parse(R"({"resourceType": "Nonsense", "id": "x", "foo": 1})");
    Json before = r;
    EXPECT_FALSE(summary(r, SummaryMode::True));
    EXPECT_FALSE(summary(r, SummaryMode::Text));
    EXPECT_EQ(r, before);
}

TEST(SummaryText, KeepsTextIdMetaAndMandatoryElements) {
    Json o = observation();
    EXPECT_TRUE(summary(o, SummaryMode::Text));
    EXPECT_EQ(keys(o), (std::vector<std::string>{"code", "id", "meta", "resourceType", "status", "text"}));
    EXPECT_EQ(o["code"], observation()["code"]);
    Json p = patient();
    EXPECT_TRUE(summary(p, SummaryMode::Text));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"id", "meta", "resourceType", "text"}));
}

TEST(SummaryData, RemovesOnlyText) {
    Json p = patient();
    EXPECT_TRUE(summary(p, SummaryMode::Data));
    Json expected = patient();
    expected.erase("text");
    EXPECT_EQ(p, expected);
    EXPECT_FALSE(summary(p, SummaryMode::Data));
}

TEST(SummaryFalse, FalseAndCountChangeNothing) {
    Json p = patient();
    EXPECT_FALSE(summary(p, SummaryMode::False));
    EXPECT_FALSE(summary(p, SummaryMode::Count));
    EXPECT_EQ(p, patient());
}

TEST(Elements, KeepsListedElementsWithIdAndMeta) {
    Json p = patient();
    EXPECT_TRUE(elements(p, "name,gender"));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"gender", "id", "meta", "name", "resourceType"}));
    EXPECT_EQ(p["name"], patient()["name"]);
}

TEST(Elements, PrimitiveExtensionsFollowTheirElement) {
    Json p = patient();
    EXPECT_TRUE(elements(p, "birthDate"));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"_birthDate", "birthDate", "id", "meta", "resourceType"}));
}

TEST(Elements, NestedPathsKeepOnlyTheirChildren) {
    Json p = patient();
    EXPECT_TRUE(elements(p, "name.family"));
    // The nickname has no family, so it is dropped rather than left as {}.
    EXPECT_EQ(p["name"], Json::parse(R"([{"family": "Everywoman"}])"));
    Json q = patient();
    EXPECT_TRUE(elements(q, "name.family,name.given,identifier.system"));
    EXPECT_EQ(q["name"], Json::parse(R"([{"family": "Everywoman", "given": ["Eve", "Marie"]}, {"given": ["Evie"]}])"));
    EXPECT_EQ(q["identifier"], Json::parse(R"([{"system": "http://hospital.example.org/mrn"}])"));
    Json w = patient();
    EXPECT_TRUE(elements(w, "name.family,name"));
    EXPECT_EQ(w["name"], patient()["name"]);
}

TEST(Elements, NestedPathIntoNonSummaryBackbone) {
    Json p = patient();
    EXPECT_TRUE(elements(p, "contact.name.given"));
    EXPECT_EQ(p["contact"], Json::parse(R"([{"name": {"given": ["Ann"]}}])"));
    Json q = patient();
    EXPECT_TRUE(elements(q, "name.nothing"));
    EXPECT_FALSE(q.contains("name"));
}

TEST(Elements, MandatoryElementsAreAlwaysKept) {
    Json o = observation();
    EXPECT_TRUE(elements(o, "subject"));
    EXPECT_EQ(keys(o), (std::vector<std::string>{"code", "id", "meta", "resourceType", "status", "subject"}));
    // component.code is mandatory inside a partially selected component.
    Json c = observation();
    EXPECT_TRUE(elements(c, "component.value"));
    EXPECT_EQ(keys(c["component"][0]), (std::vector<std::string>{"code", "valueQuantity"}));
}

TEST(Elements, ChoiceElementsByBaseNameBracketsOrFullName) {
    for (const char *list : {"value", "value[x]", "valueQuantity"}) {
        Json o = Json::parse(R"({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"},
                                 "valueQuantity": {"value": 1}, "note": [{"text": "n"}]})");
        EXPECT_TRUE(elements(o, list)) << list;
        EXPECT_EQ(keys(o), (std::vector<std::string>{"code", "id", "resourceType", "status", "valueQuantity"}))
            << list;
    }
    Json p = patient();
    EXPECT_TRUE(elements(p, "multipleBirth,deceased[x]"));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"deceasedBoolean", "id", "meta", "multipleBirthBoolean",
                                                 "resourceType"}));
}

TEST(Elements, ChoicePrefixDoesNotSwallowSibling) {
    // SubstanceReferenceInformation.target has amount[x] next to amountType.
    Json s = Json::parse(R"({"resourceType": "SubstanceReferenceInformation", "id": "s",
        "target": [{"amountQuantity": {"value": 3}, "amountType": {"text": "average"}, "type": {"text": "t"}}]})");
    EXPECT_TRUE(elements(s, "target.amount"));
    EXPECT_EQ(s["target"], Json::parse(R"([{"amountQuantity": {"value": 3}}])"));
}

TEST(Elements, TypeQualifiedPaths) {
    Json p = patient();
    EXPECT_TRUE(elements(p, "Patient.gender,Observation.code"));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"gender", "id", "meta", "resourceType"}));
    // No path applies to an Observation, which is then returned whole.
    Json o = observation();
    EXPECT_FALSE(elements(o, "Patient.gender"));
    EXPECT_EQ(o, observation());
}

TEST(Elements, WinsOverSummary) {
    Json p = patient();
    EXPECT_TRUE(fhir::project_resource(p, SummaryMode::True, fhir::parse_elements("maritalStatus")));
    EXPECT_EQ(keys(p), (std::vector<std::string>{"id", "maritalStatus", "meta", "resourceType"}));
    Json t = patient();
    EXPECT_TRUE(fhir::project_resource(t, SummaryMode::Text, fhir::parse_elements("gender")));
    EXPECT_FALSE(t.contains("text"));
}

TEST(Projection, MarkSubsettedAddsTheTagOnce) {
    Json p = patient();
    fhir::mark_subsetted(p);
    fhir::mark_subsetted(p);
    const Json expected_tag = {{"system", "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"},
                               {"code", "SUBSETTED"},
                               {"display", "Resource encoded in summary mode"}};
    ASSERT_EQ(p["meta"]["tag"].size(), 1u);
    EXPECT_EQ(p["meta"]["tag"][0], expected_tag);
    EXPECT_EQ(p["meta"]["versionId"], "3");

    Json bare = Json::parse(R"({"resourceType": "Patient", "meta": {"tag": [{"system": "http://example.org/tags",
                                                                             "code": "vip"}]}})");
    fhir::mark_subsetted(bare);
    ASSERT_EQ(bare["meta"]["tag"].size(), 2u);
    EXPECT_EQ(bare["meta"]["tag"][0]["code"], "vip");
    EXPECT_EQ(bare["meta"]["tag"][1], expected_tag);

    Json nometa = Json::parse(R"({"resourceType": "Patient"})");
    fhir::mark_subsetted(nometa);
    EXPECT_EQ(nometa["meta"]["tag"][0], expected_tag);
}

TEST(Projection, SummaryThenTagAsTheCallerDoes) {
    Json o = observation();
    if (fhir::project_resource(o, fhir::parse_summary("true"), {}))
        fhir::mark_subsetted(o);
    EXPECT_EQ(o["meta"]["tag"][0]["code"], "SUBSETTED");
    EXPECT_EQ(o["meta"]["lastUpdated"], "2024-01-02T10:00:00Z");
}

TEST(Projection, NonObjectsAreIgnored) {
    Json a = Json::array({1, 2});
    EXPECT_FALSE(fhir::project_resource(a, SummaryMode::True, {}));
    EXPECT_FALSE(fhir::project_resource(a, SummaryMode::False, {"name"}));
    fhir::mark_subsetted(a);
    EXPECT_EQ(a, Json::array({1, 2}));
}
