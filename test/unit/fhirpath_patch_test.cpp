// fhirpath_patch_test.cpp: unit tests of FHIRPath Patch (fhirpath_patch.h), the
// element schema it relies on (element_schema.h), choosing a patch form
// (resource_patch.h) and base64 (base64.h).
//
// The examples of R4 fhirpatch.html (add birthDate, add a contact given as
// parts) and each operation's rules: what a path must match, lists that repeat
// per the R4 definitions, choice elements spelled by their value's type,
// primitive extensions that move with their values, atomicity, and the errors
// with the failing operation's index.
#include "fhirpath_patch.h"

#include "base64.h"
#include "element_schema.h"
#include "error.h"
#include "resource_patch.h"

#include <gtest/gtest.h>

#include <string>

using fhir::ErrorKind;
using fhir::Json;

namespace {

Json patient() {
    return Json::parse(R"({
      "resourceType": "Patient", "id": "p1",
      "meta": {"versionId": "2"},
      "identifier": [{"system": "urn:mrn", "value": "1"}, {"system": "urn:ssn", "value": "2"}],
      "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"],
                "_given": [null, {"extension": [{"url": "urn:x", "valueString": "j"}]}]},
               {"use": "usual", "given": ["Jim"]}],
      "telecom": [{"system": "phone", "value": "555-1"}, {"system": "email", "value": "p@example.org"}],
      "gender": "male",
      "birthDate": "1974-12-25",
      "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                    "valueDateTime": "1974-12-25T14:35:45-05:00"}]}
    })");
}

// One operation: type, path and further parts (a JSON array of parts).
Json operation(const char *type, const char *path, const char *parts = "[]") {
    Json list = Json::array({{{"name", "type"}, {"valueCode", type}}, {{"name", "path"}, {"valueString", path}}});
    for (const Json &part : Json::parse(parts))
        list.push_back(part);
    return {{"name", "operation"}, {"part", list}};
}

Json parameters(std::initializer_list<Json> operations) {
    Json list = Json::array();
    for (const Json &op : operations)
        list.push_back(op);
    return {{"resourceType", "Parameters"}, {"parameter", list}};
}

Json apply(const Json &resource, std::initializer_list<Json> operations) {
    return fhir::apply_fhirpath_patch(resource, parameters(operations));
}

fhir::Error failure(const Json &resource, std::initializer_list<Json> operations) {
    try {
        apply(resource, operations);
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidResource);
        return e;
    }
    ADD_FAILURE() << "the patch did not fail";
    return fhir::Error(ErrorKind::Internal, "no error");
}

std::string message(const Json &resource, std::initializer_list<Json> operations) {
    return failure(resource, operations).what();
}

} // namespace

TEST(ElementSchemaTest, KnowsCardinalityTypesAndChoices) {
    using namespace fhir::schema;
    const Structure *p = resource_structure("Patient");
    ASSERT_NE(p, nullptr);
    Element e;
    ASSERT_TRUE(find_element(*p, "identifier", &e));
    EXPECT_TRUE(e.repeats());
    EXPECT_EQ(e.type, "Identifier");
    ASSERT_TRUE(find_element(*p, "birthDate", &e));
    EXPECT_FALSE(e.repeats());
    EXPECT_EQ(e.type, "date");
    ASSERT_TRUE(find_element(*p, "deceasedDateTime", &e));
    EXPECT_TRUE(e.choice());
    EXPECT_EQ(e.name(), "deceased");
    EXPECT_EQ(e.type, "dateTime");
    EXPECT_FALSE(find_element(*p, "deceasedString", &e)); // not one of deceased[x]'s types
    EXPECT_FALSE(find_element(*p, "deceased", &e));
    ASSERT_TRUE(find_element_named(*p, "deceased", &e));
    EXPECT_EQ(e.types(), (std::vector<std::string_view>{"boolean", "dateTime"}));
    EXPECT_FALSE(find_element(*p, "nickname", &e));
    // the id of a resource: System.String in the snapshot, whose fhir-type extension says string
    ASSERT_TRUE(find_element(*p, "id", &e));
    EXPECT_EQ(e.type, "string");
    // backbones, data types, contained resources, content references
    ASSERT_TRUE(find_element(*p, "contact", &e));
    const Structure *contact = value_structure(e, Json::object());
    ASSERT_NE(contact, nullptr);
    EXPECT_STREQ(contact->name, "Patient.contact");
    ASSERT_TRUE(find_element(*contact, "name", &e));
    EXPECT_FALSE(e.repeats());
    EXPECT_STREQ(value_structure(e, Json::object())->name, "HumanName");
    ASSERT_TRUE(find_element(*p, "contained", &e));
    EXPECT_STREQ(value_structure(e, Json::parse(R"({"resourceType": "Medication"})"))->name, "Medication");
    EXPECT_EQ(value_structure(e, Json::parse(R"({"resourceType": "Nonsense"})")), nullptr);
    const Structure *item = resource_structure("Questionnaire");
    ASSERT_TRUE(find_element(*item, "item", &e));
    item = value_structure(e, Json::object());
    ASSERT_TRUE(find_element(*item, "item", &e));
    EXPECT_STREQ(value_structure(e, Json::object())->name, "Questionnaire.item");
    const Structure *observation = resource_structure("Observation");
    ASSERT_TRUE(find_element(*observation, "valueQuantity", &e));
    EXPECT_STREQ(value_structure(e, Json::object())->name, "Quantity");
    ASSERT_TRUE(find_element(*type_structure("Extension"), "url", &e));
    EXPECT_EQ(e.type, "uri");
    EXPECT_EQ(resource_structure("HumanName"), nullptr); // a data type, not a resource
    EXPECT_EQ(choice_key("value", "dateTime"), "valueDateTime");
    EXPECT_EQ(type_of_suffix("DateTime"), "dateTime");
    EXPECT_EQ(type_of_suffix("Quantity"), "Quantity");
    EXPECT_EQ(type_of_suffix("Nonsense"), "");
    EXPECT_EQ(type_of_suffix("string"), ""); // suffixes are capitalized
}

TEST(ElementSchemaTest, TypesFitTheirSpecializations) {
    using fhir::schema::type_fits;
    EXPECT_TRUE(type_fits("code", "code"));
    EXPECT_TRUE(type_fits("string", "code"));
    EXPECT_TRUE(type_fits("uri", "canonical"));
    EXPECT_TRUE(type_fits("positiveInt", "integer"));
    EXPECT_TRUE(type_fits("integer", "decimal"));
    EXPECT_TRUE(type_fits("Age", "Quantity"));
    EXPECT_TRUE(type_fits("Quantity", "SimpleQuantity"));
    EXPECT_TRUE(type_fits("date", "dateTime"));
    EXPECT_TRUE(type_fits("Patient", "Resource"));
    EXPECT_FALSE(type_fits("dateTime", "date"));
    EXPECT_FALSE(type_fits("string", "date"));
    EXPECT_FALSE(type_fits("decimal", "integer"));
    EXPECT_FALSE(type_fits("CodeableConcept", "Coding"));
    EXPECT_FALSE(type_fits("HumanName", "Resource"));
    using fhir::schema::json_kind_fits;
    EXPECT_TRUE(json_kind_fits(Json(true), "boolean"));
    EXPECT_FALSE(json_kind_fits(Json("true"), "boolean"));
    EXPECT_TRUE(json_kind_fits(Json(0), "unsignedInt"));
    EXPECT_FALSE(json_kind_fits(Json(0), "positiveInt"));
    EXPECT_FALSE(json_kind_fits(Json(1.5), "integer"));
    EXPECT_TRUE(json_kind_fits(Json::binary({'1', '.', '5'}), "decimal"));
    EXPECT_TRUE(json_kind_fits(Json("2020"), "date"));
    EXPECT_FALSE(json_kind_fits(Json::object(), "string"));
    EXPECT_TRUE(json_kind_fits(Json::object(), "HumanName"));
}

TEST(FhirPathPatchTest, SpecExamples) {
    // R4 fhirpatch.html: add birthDate; add a contact (a BackboneElement) given as parts
    Json p = {{"resourceType", "Patient"}, {"id", "p1"}};
    Json patched = apply(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "birthDate"},
                                                            {"name": "value", "valueDate": "1930-01-01"}])")});
    EXPECT_EQ(patched, Json::parse(R"({"resourceType": "Patient", "id": "p1", "birthDate": "1930-01-01"})"));
    patched = apply(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "contact"},
        {"name": "value", "part": [
            {"name": "name", "valueHumanName": {"text": "a name"}},
            {"name": "relationship", "valueCodeableConcept": {"text": "friend"}},
            {"name": "relationship", "valueCodeableConcept": {"text": "neighbour"}},
            {"name": "gender", "valueCode": "female"}]}])")});
    EXPECT_EQ(patched["contact"], Json::parse(R"([{"name": {"text": "a name"}, "gender": "female",
                                                    "relationship": [{"text": "friend"}, {"text": "neighbour"}]}])"));
}

TEST(FhirPathPatchTest, Add) {
    const Json p = patient();
    // to a list: appended; to an absent list: created as a list
    Json patched = apply(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "identifier"},
                                                            {"name": "value", "valueIdentifier": {"value": "3"}}])"),
                             operation("add", "Patient", R"([{"name": "name", "valueString": "photo"},
                                                            {"name": "value", "valueAttachment": {"url": "urn:a"}}])"),
                             operation("add", "Patient.name[1]", R"([{"name": "name", "valueString": "given"},
                                                                    {"name": "value", "valueString": "Jimmy"}])")});
    EXPECT_EQ(patched["identifier"].size(), 3u);
    EXPECT_EQ(patched["identifier"][2], Json::parse(R"({"value": "3"})"));
    EXPECT_EQ(patched["photo"], Json::parse(R"([{"url": "urn:a"}])"));
    EXPECT_EQ(patched["name"][1]["given"], Json::parse(R"(["Jim", "Jimmy"])"));
    // a choice element: by its base name (the key follows the value's type) or its full key
    Json obs = {{"resourceType", "Observation"}, {"status", "final"}};
    patched = apply(obs, {operation("add", "Observation", R"([{"name": "name", "valueString": "value"},
        {"name": "value", "valueQuantity": {"value": 5, "unit": "mg"}}])")});
    EXPECT_EQ(patched["valueQuantity"], Json::parse(R"({"value": 5, "unit": "mg"})"));
    patched = apply(obs, {operation("add", "Observation", R"([{"name": "name", "valueString": "effectiveDateTime"},
        {"name": "value", "valueDate": "2024-05"}])")});
    EXPECT_EQ(patched["effectiveDateTime"], "2024-05");
    EXPECT_EQ(message(patched, {operation("add", "Observation", R"([{"name": "name", "valueString": "effective"},
                                   {"name": "value", "valuePeriod": {"start": "2024"}}])")}),
              "FHIRPath Patch operation 0 (add): Observation.effective[x] already has a value (effectiveDateTime); "
              "use replace");
    // errors: an existing single value, an unknown element, a wrong type, a non-object target
    EXPECT_EQ(message(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "birthDate"},
                                                         {"name": "value", "valueDate": "1980"}])")}),
              "FHIRPath Patch operation 0 (add): Patient.birthDate already has a value; use replace");
    EXPECT_EQ(message(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "nickname"},
                                                         {"name": "value", "valueString": "x"}])")}),
              "FHIRPath Patch operation 0 (add): Patient has no element \"nickname\"");
    EXPECT_EQ(message(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "maritalStatus"},
                                                         {"name": "value", "valueCoding": {"code": "M"}}])")}),
              "FHIRPath Patch operation 0 (add): a Coding value cannot be Patient.maritalStatus (CodeableConcept)");
    EXPECT_EQ(message(obs, {operation("add", "Observation", R"([{"name": "name", "valueString": "valueQuantity"},
                                                               {"name": "value", "valueString": "5 mg"}])")}),
              "FHIRPath Patch operation 0 (add): a string value cannot be Observation.valueQuantity (Quantity)");
    EXPECT_EQ(message(obs, {operation("add", "Observation", R"([{"name": "name", "valueString": "value"},
                                                               {"name": "value", "valueAddress": {"city": "x"}}])")}),
              "FHIRPath Patch operation 0 (add): an Address value cannot be Observation.value (Quantity "
              "CodeableConcept string boolean integer Range Ratio SampledData time dateTime Period)");
    EXPECT_EQ(message(p, {operation("add", "Patient.gender", R"([{"name": "name", "valueString": "x"},
                                                                {"name": "value", "valueString": "x"}])")}),
              "FHIRPath Patch operation 0 (add): path \"Patient.gender\" is a string; add needs an element with "
              "children");
    EXPECT_EQ(message(p, {operation("add", "Patient.name", R"([{"name": "name", "valueString": "text"},
                                                              {"name": "value", "valueString": "x"}])")}),
              "FHIRPath Patch operation 0 (add): path \"Patient.name\" matches 2 elements; the operation needs "
              "exactly one");
    EXPECT_EQ(message(p, {operation("add", "Patient", R"([{"name": "name", "valueString": "contact"},
        {"name": "value", "part": [{"name": "name", "valueHumanName": {"text": "a"}},
                                   {"name": "name", "valueHumanName": {"text": "b"}}]}])")}),
              "FHIRPath Patch operation 0 (add): Patient.contact.name does not repeat, but Patient.contact has 2 "
              "parts for it");
}

TEST(FhirPathPatchTest, Insert) {
    const Json p = patient();
    Json patched = apply(p, {operation("insert", "Patient.identifier", R"([{"name": "index", "valueInteger": 0},
                                                  {"name": "value", "valueIdentifier": {"value": "0"}}])"),
                             operation("insert", "Patient.identifier", R"([{"name": "index", "valueInteger": 3},
                                                  {"name": "value", "valueIdentifier": {"value": "9"}}])")});
    std::vector<std::string> values;
    for (const Json &id : patched["identifier"])
        values.push_back(id["value"]);
    EXPECT_EQ(values, (std::vector<std::string>{"0", "1", "2", "9"}));
    // into a list the resource does not have yet
    patched = apply(p, {operation("insert", "Patient.address", R"([{"name": "index", "valueInteger": 0},
                                               {"name": "value", "valueAddress": {"city": "Ann Arbor"}}])")});
    EXPECT_EQ(patched["address"], Json::parse(R"([{"city": "Ann Arbor"}])"));
    // a primitive list keeps its extensions aligned
    patched = apply(p, {operation("insert", "Patient.name.where(use = 'official').given",
                                  R"([{"name": "index", "valueInteger": 1}, {"name": "value", "valueString": "J."}])")});
    EXPECT_EQ(patched["name"][0]["given"], Json::parse(R"(["Peter", "J.", "James"])"));
    EXPECT_EQ(patched["name"][0]["_given"][2], p["name"][0]["_given"][1]);
    EXPECT_TRUE(patched["name"][0]["_given"][1].is_null());

    EXPECT_EQ(message(p, {operation("insert", "Patient.identifier", R"([{"name": "index", "valueInteger": 3},
                                                   {"name": "value", "valueIdentifier": {"value": "x"}}])")}),
              "FHIRPath Patch operation 0 (insert): index 3 is outside the list \"Patient.identifier\" (2 elements: 0 "
              "to 2 insert)");
    EXPECT_EQ(message(p, {operation("insert", "Patient.birthDate", R"([{"name": "index", "valueInteger": 0},
                                                  {"name": "value", "valueDate": "1980"}])")}),
              "FHIRPath Patch operation 0 (insert): Patient.birthDate is not a list (it does not repeat)");
    EXPECT_EQ(message(p, {operation("insert", "Patient.identifier.first()", R"([{"name": "index", "valueInteger": 0},
                                                  {"name": "value", "valueIdentifier": {"value": "x"}}])")}),
              "FHIRPath Patch operation 0 (insert): path \"Patient.identifier.first()\" does not name a list: it must "
              "end in the list's element name");
}

TEST(FhirPathPatchTest, Delete) {
    const Json p = patient();
    // one element of a list, by where(), index and first()
    Json patched = apply(p, {operation("delete", "Patient.identifier.where(system = 'urn:ssn')"),
                             operation("delete", "Patient.telecom.first()")});
    EXPECT_EQ(patched["identifier"], Json::parse(R"([{"system": "urn:mrn", "value": "1"}])"));
    EXPECT_EQ(patched["telecom"], Json::parse(R"([{"system": "email", "value": "p@example.org"}])"));
    // the last element of a list takes the list; an emptied object goes too
    patched = apply(p, {operation("delete", "Patient.name[1].given")});
    EXPECT_EQ(patched["name"], Json::parse(R"([{"use": "official", "family": "Chalmers", "given": ["Peter", "James"],
                                               "_given": [null, {"extension": [{"url": "urn:x", "valueString": "j"}]}]},
                                              {"use": "usual"}])"));
    patched = apply(patched, {operation("delete", "Patient.name[1].use")});
    EXPECT_EQ(patched["name"].size(), 1u);
    // a primitive's extensions go with it
    patched = apply(p, {operation("delete", "Patient.birthDate"), operation("delete", "Patient.name[0].given[1]")});
    EXPECT_FALSE(patched.contains("birthDate"));
    EXPECT_FALSE(patched.contains("_birthDate"));
    EXPECT_EQ(patched["name"][0]["given"], Json::parse(R"(["Peter"])"));
    EXPECT_FALSE(patched["name"][0].contains("_given")); // only a null was left
    // nothing to delete is no change
    EXPECT_EQ(apply(p, {operation("delete", "Patient.deceased"), operation("delete", "Patient.contact.name")}), p);

    EXPECT_EQ(message(p, {operation("delete", "Patient.identifier")}),
              "FHIRPath Patch operation 0 (delete): path \"Patient.identifier\" matches 2 elements; delete removes "
              "exactly one");
    EXPECT_EQ(message(p, {operation("delete", "Patient")}),
              "FHIRPath Patch operation 0 (delete): path \"Patient\" is the resource itself, which a patch cannot "
              "delete");
}

TEST(FhirPathPatchTest, Replace) {
    const Json p = patient();
    Json patched = apply(p, {operation("replace", "Patient.birthDate", R"([{"name": "value", "valueDate": "1974-12-26"}])"),
                             operation("replace", "Patient.identifier[0]",
                                       R"([{"name": "value", "valueIdentifier": {"system": "urn:mrn", "value": "X"}}])"),
                             operation("replace", "Patient.telecom.where(system = 'email').value",
                                       R"([{"name": "value", "valueString": "q@example.org"}])"),
                             operation("replace", "Patient.name[0].given[1]", R"([{"name": "value", "valueString": "Jim"}])")});
    EXPECT_EQ(patched["birthDate"], "1974-12-26");
    EXPECT_FALSE(patched.contains("_birthDate")); // the old value's extensions do not describe the new one
    EXPECT_EQ(patched["identifier"][0], Json::parse(R"({"system": "urn:mrn", "value": "X"})"));
    EXPECT_EQ(patched["telecom"][1]["value"], "q@example.org");
    EXPECT_EQ(patched["name"][0]["given"], Json::parse(R"(["Peter", "Jim"])"));
    EXPECT_FALSE(patched["name"][0].contains("_given"));
    // a choice element takes its new value's key
    Json obs = Json::parse(R"({"resourceType": "Observation", "status": "final", "valueString": "5 mg"})");
    patched = apply(obs, {operation("replace", "Observation.value",
                                    R"([{"name": "value", "valueQuantity": {"value": 5, "unit": "mg"}}])")});
    EXPECT_EQ(patched, Json::parse(R"({"resourceType": "Observation", "status": "final",
                                      "valueQuantity": {"value": 5, "unit": "mg"}})"));
    // a code from a valueString (string and code are both strings)
    EXPECT_EQ(apply(p, {operation("replace", "Patient.gender", R"([{"name": "value", "valueString": "other"}])")})["gender"],
              "other");

    EXPECT_EQ(message(p, {operation("replace", "Patient.deceased", R"([{"name": "value", "valueBoolean": true}])")}),
              "FHIRPath Patch operation 0 (replace): path \"Patient.deceased\" matches no element");
    EXPECT_EQ(message(p, {operation("replace", "Patient.birthDate", R"([{"name": "value", "valueBoolean": true}])")}),
              "FHIRPath Patch operation 0 (replace): a boolean value cannot be Patient.birthDate (date)");
    EXPECT_EQ(message(p, {operation("replace", "Patient.birthDate", R"([{"name": "value", "valueDate": 1974}])")}),
              "FHIRPath Patch operation 0: part \"value\"'s valueDate is a JSON number, not a date");
    EXPECT_EQ(message(p, {operation("replace", "Patient.name.given", R"([{"name": "value", "valueString": "x"}])")}),
              "FHIRPath Patch operation 0 (replace): path \"Patient.name.given\" matches 3 elements; the operation "
              "needs exactly one");
    EXPECT_EQ(message(p, {operation("replace", "'Peter'", R"([{"name": "value", "valueString": "x"}])")}),
              "FHIRPath Patch operation 0 (replace): path \"'Peter'\" selects a value that is not an element of the "
              "resource");
}

TEST(FhirPathPatchTest, ToleratesShapesFhirDoesNotHave) {
    // lists in lists and unknown elements are not FHIR, but patching them must not fail
    Json odd = Json::parse(R"({"resourceType": "Basic", "id": "b", "contained": [{"resourceType": "Nonsense",
                               "x": [[1, 2]], "y": {"z": "a"}}]})");
    EXPECT_EQ(odd["contained"][0]["x"][0][1], 2);
    // FHIRPath flattens one level: x[0] is the inner list
    Json patched = apply(odd, {operation("replace", "Basic.contained.x[0]", R"([{"name": "value", "valueInteger": 3}])"),
                               operation("delete", "Basic.contained.y.z"),
                               operation("add", "Basic.contained", R"([{"name": "name", "valueString": "w"},
                                                                      {"name": "value", "valueString": "v"}])")});
    EXPECT_EQ(patched["contained"][0], Json::parse(R"({"resourceType": "Nonsense", "x": [3], "w": "v"})"));
}

TEST(FhirPathPatchTest, Move) {
    const Json p = patient();
    Json patched = apply(p, {operation("move", "Patient.identifier", R"([{"name": "source", "valueInteger": 0},
                                                                         {"name": "destination", "valueInteger": 1}])"),
                             operation("move", "Patient.name[0].given", R"([{"name": "source", "valueInteger": 1},
                                                                            {"name": "destination", "valueInteger": 0}])")});
    EXPECT_EQ(patched["identifier"][0]["value"], "2");
    EXPECT_EQ(patched["identifier"][1]["value"], "1");
    EXPECT_EQ(patched["name"][0]["given"], Json::parse(R"(["James", "Peter"])"));
    EXPECT_EQ(patched["name"][0]["_given"][0], p["name"][0]["_given"][1]);
    EXPECT_EQ(message(p, {operation("move", "Patient.identifier", R"([{"name": "source", "valueInteger": 2},
                                                                      {"name": "destination", "valueInteger": 0}])")}),
              "FHIRPath Patch operation 0 (move): source 2 is outside the list \"Patient.identifier\" (2 elements)");
    EXPECT_EQ(message(p, {operation("move", "Patient.address", R"([{"name": "source", "valueInteger": 0},
                                                                   {"name": "destination", "valueInteger": 0}])")}),
              "FHIRPath Patch operation 0 (move): source 0 is outside the list \"Patient.address\" (0 elements)");
}

TEST(FhirPathPatchTest, ReachesContainedResourcesThroughResolve) {
    Json obs = Json::parse(R"({"resourceType": "Observation", "status": "final",
                               "contained": [{"resourceType": "Patient", "id": "p", "gender": "male"}],
                               "subject": {"reference": "#p"}})");
    Json patched = apply(obs, {operation("replace", "Observation.subject.resolve().gender",
                                         R"([{"name": "value", "valueCode": "female"}])"),
                               operation("add", "Observation.subject.resolve()",
                                         R"([{"name": "name", "valueString": "birthDate"},
                                             {"name": "value", "valueDate": "2000"}])")});
    EXPECT_EQ(patched["contained"][0], Json::parse(R"({"resourceType": "Patient", "id": "p", "gender": "female",
                                                      "birthDate": "2000"})"));
    // a reference resolved outside the resource is not an element of it
    Json other = Json::parse(R"({"resourceType": "Observation", "subject": {"reference": "Patient/1"}})");
    EXPECT_EQ(message(other, {operation("delete", "Observation.subject.resolve()")}),
              "FHIRPath Patch operation 0 (delete): path \"Observation.subject.resolve()\" selects a value that is "
              "not an element of the resource");
}

TEST(FhirPathPatchTest, IsAtomicAndNamesTheFailingOperation) {
    const Json p = patient();
    const Json before = p;
    fhir::Error e = failure(p, {operation("delete", "Patient.birthDate"),
                                operation("replace", "Patient.birthDate", R"([{"name": "value", "valueDate": "1980"}])")});
    EXPECT_STREQ(e.what(), "FHIRPath Patch operation 1 (replace): path \"Patient.birthDate\" matches no element");
    Json outcome = Json::parse(e.detail());
    EXPECT_EQ(outcome["issue"][0]["code"], "processing");
    EXPECT_EQ(outcome["issue"][0]["expression"], Json::parse(R"(["Parameters.parameter[1]"])"));
    EXPECT_EQ(p, before);
}

TEST(FhirPathPatchTest, RefusesMalformedParameters) {
    const Json p = patient();
    auto invalid = [&](const Json &patch, const std::string &expected) {
        try {
            fhir::apply_fhirpath_patch(p, patch);
            ADD_FAILURE() << "accepted " << patch.dump();
        } catch (const fhir::Error &e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidResource);
            EXPECT_EQ(e.what(), expected);
            EXPECT_EQ(Json::parse(e.detail())["issue"][0]["code"], "invalid");
        }
    };
    invalid(Json::parse(R"({"resourceType": "Bundle"})"),
            "FHIRPath Patch: a FHIRPath Patch must be a Parameters resource");
    invalid(Json::parse(R"({"resourceType": "Parameters", "parameter": {}})"),
            "FHIRPath Patch: Parameters.parameter must be an array");
    invalid(parameters({Json::parse(R"({"name": "op", "part": []})")}),
            "FHIRPath Patch operation 0: every parameter of a FHIRPath Patch is named \"operation\"");
    invalid(parameters({Json::parse(R"({"name": "operation"})")}),
            "FHIRPath Patch operation 0: the operation has no parts (type, path, ...)");
    invalid(parameters({operation("upsert", "Patient")}),
            "FHIRPath Patch operation 0: unknown operation type \"upsert\" (add, insert, delete, replace or move)");
    invalid(parameters({operation("delete", "")}), "FHIRPath Patch operation 0: the operation has no path");
    invalid(parameters({operation("delete", "Patient", R"([{"name": "path", "valueString": "Patient"}])")}),
            "FHIRPath Patch operation 0: part \"path\" is given more than once");
    invalid(parameters({operation("delete", "Patient", R"([{"name": "where", "valueString": "x"}])")}),
            "FHIRPath Patch operation 0: unknown part \"where\" (an operation has type, path, name, value, index, "
            "source and destination)");
    invalid(parameters({operation("add", "Patient", R"([{"name": "value", "valueString": "x"}])")}),
            "FHIRPath Patch operation 0: an add operation needs a \"name\" part");
    invalid(parameters({operation("replace", "Patient.gender")}),
            "FHIRPath Patch operation 0: a replace operation needs a \"value\" part");
    invalid(parameters({operation("insert", "Patient.name", R"([{"name": "value", "valueString": "x"}])")}),
            "FHIRPath Patch operation 0: an insert operation needs a \"index\" part");
    invalid(parameters({operation("move", "Patient.name", R"([{"name": "source", "valueString": "0"}])")}),
            "FHIRPath Patch operation 0: part \"source\" needs a valueInteger");
    invalid(parameters({operation("replace", "Patient.gender", R"([{"name": "value", "valueGender": "x"}])")}),
            "FHIRPath Patch operation 0: part \"value\" has valueGender, which names no R4 data type");
    invalid(parameters({operation("replace", "Patient.gender", R"([{"name": "value"}])")}),
            "FHIRPath Patch operation 0: part \"value\" has no value: a value[x], a resource or parts");
    invalid(parameters({operation("delete", "Patient.name.where(")}),
            "FHIRPath Patch operation 0 (delete): path \"Patient.name.where(\" is not a supported FHIRPath "
            "expression: fhirpath: unexpected end of expression at position 19 in \"Patient.name.where(\"");
    invalid(parameters({operation("replace", "Observation.value", "[]")}),
            "FHIRPath Patch operation 0: a replace operation needs a \"value\" part");
    // no parameters: no change
    EXPECT_EQ(fhir::apply_fhirpath_patch(p, Json::parse(R"({"resourceType": "Parameters"})")), p);
}

TEST(FhirPathPatchTest, SplitsListPaths) {
    auto split = [](const char *path) {
        std::optional<fhir::ListPath> s = fhir::split_list_path(path);
        return s ? s->parent + " | " + s->name : std::string("-");
    };
    EXPECT_EQ(split("Patient.identifier"), "Patient | identifier");
    EXPECT_EQ(split("Patient.name[0].given"), "Patient.name[0] | given");
    EXPECT_EQ(split("Patient.name.where(use = 'a.b').given"), "Patient.name.where(use = 'a.b') | given");
    EXPECT_EQ(split("Patient.`name`"), "Patient | name");
    EXPECT_EQ(split("Patient.name.first()"), "-");
    EXPECT_EQ(split("Patient.name[0]"), "-");
    EXPECT_EQ(split("Patient"), "-");
    EXPECT_EQ(split("Patient.name.where(given.x)"), "-");
}

TEST(ResourcePatchTest, ChoosesTheFormAndKeepsTheIdentity) {
    const Json p = patient();
    EXPECT_EQ(fhir::patch_format(Json::array()), fhir::PatchFormat::JsonPatch);
    EXPECT_EQ(fhir::patch_format(Json::parse(R"({"resourceType": "Parameters"})")), fhir::PatchFormat::FhirPathPatch);
    EXPECT_THROW(fhir::patch_format(Json::parse(R"({"op": "add"})")), fhir::Error);
    EXPECT_THROW(fhir::patch_format(Json("x")), fhir::Error);
    using fhir::PatchMediaType;
    EXPECT_EQ(fhir::patch_media_type(""), PatchMediaType::Any);
    EXPECT_EQ(fhir::patch_media_type("application/json; charset=utf-8"), PatchMediaType::Any);
    EXPECT_EQ(fhir::patch_media_type("Application/JSON-Patch+JSON"), PatchMediaType::JsonPatch);
    EXPECT_EQ(fhir::patch_media_type("application/fhir+json;fhirVersion=4.0"), PatchMediaType::FhirPathPatch);
    EXPECT_EQ(fhir::patch_media_type("application/fhir+xml"), PatchMediaType::Unsupported);

    Json patched = fhir::patch_resource(p, Json::parse(R"([{"op": "replace", "path": "/gender", "value": "female"}])"),
                                        PatchMediaType::JsonPatch);
    EXPECT_EQ(patched["gender"], "female");
    auto failing = [&](const char *patch, PatchMediaType type = PatchMediaType::Any) {
        try {
            fhir::patch_resource(p, Json::parse(patch), type);
        } catch (const fhir::Error &e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidResource);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(failing(R"([{"op": "replace", "path": "/id", "value": "p2"}])"),
              "JSON Patch: the patch changes the id; Patient/p1 must keep it");
    EXPECT_EQ(failing(R"([{"op": "remove", "path": "/id"}])"),
              "JSON Patch: the patch changes the id; Patient/p1 must keep it");
    EXPECT_EQ(failing(R"([{"op": "replace", "path": "/resourceType", "value": "Person"}])"),
              "JSON Patch: the patch changes resourceType; a patched Patient must stay one");
    EXPECT_EQ(failing(R"([{"op": "replace", "path": "", "value": [1]}])"),
              "JSON Patch: the patch changes resourceType; a patched Patient must stay one");
    EXPECT_EQ(failing(R"([])", PatchMediaType::FhirPathPatch),
              "the body is a JSON Patch, but Content-Type says application/fhir+json (a Parameters resource)");
    EXPECT_EQ(failing(R"({"resourceType": "Parameters"})", PatchMediaType::JsonPatch),
              "the body is a FHIRPath Patch, but Content-Type says application/json-patch+json (a JSON array)");
}

TEST(Base64Test, DecodesStandardBase64) {
    EXPECT_EQ(fhir::base64_decode(""), "");
    EXPECT_EQ(fhir::base64_decode("Zg=="), "f");
    EXPECT_EQ(fhir::base64_decode("Zm8="), "fo");
    EXPECT_EQ(fhir::base64_decode("Zm9v"), "foo");
    EXPECT_EQ(fhir::base64_decode("Zm9vYg"), "foob"); // padding optional
    EXPECT_EQ(fhir::base64_decode("Zm9v\r\nYmFy"), "foobar");
    EXPECT_EQ(fhir::base64_decode("W3sib3AiOiJhZGQifV0="), R"([{"op":"add"}])");
    EXPECT_EQ(fhir::base64_decode("+/+/"), std::string("\xfb\xff\xbf", 3));
    EXPECT_FALSE(fhir::base64_decode("Zm9v!"));
    EXPECT_FALSE(fhir::base64_decode("Z"));
    EXPECT_FALSE(fhir::base64_decode("Zg==Zg=="));
    EXPECT_FALSE(fhir::base64_decode("Zg==="));
    EXPECT_EQ(fhir::base64_decode("Zm9="), "fo");
}
