// resource_validation_test.cpp: validation on write (resource_validation.h):
// every rule with a good and a bad case, the locations and the OperationOutcome,
// the limits, the modes, and real Synthea resources that must pass.
#include "error.h"
#include "resource.h"
#include "resource_validation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

using fhir::Json;

namespace {

fhir::ValidationResult check(const std::string &text, fhir::ValidationSettings settings = {}) {
    return fhir::check_resource(Json::parse(text), settings);
}

// "expression: diagnostics" of every issue, in order.
std::vector<std::string> issues(const std::string &text, fhir::ValidationSettings settings = {}) {
    std::vector<std::string> out;
    for (const auto &issue : check(text, settings).issues)
        out.push_back(issue.expression + ": " + issue.diagnostics);
    return out;
}

// The locations of the issues only.
std::vector<std::string> locations(const std::string &text) {
    std::vector<std::string> out;
    for (const auto &issue : check(text).issues)
        out.push_back(issue.expression);
    return out;
}

using Strings = std::vector<std::string>;

// A resource with `member` (JSON text of key: value) added to a valid Patient.
std::string patient_with(const std::string &member) { return R"({"resourceType":"Patient","id":"p1",)" + member + "}"; }

// Restores the process-wide settings after a test changes them.
class SettingsGuard {
  public:
    SettingsGuard() : saved_(fhir::validation_settings), notice_(fhir::validation_notice) {}
    ~SettingsGuard() {
        fhir::validation_settings = saved_;
        fhir::validation_notice = notice_;
    }

  private:
    fhir::ValidationSettings saved_;
    fhir::ValidationNotice notice_;
};

} // namespace

TEST(Validation, ValidResourcesPass) {
    EXPECT_TRUE(check(R"({"resourceType":"Patient"})").ok());
    EXPECT_TRUE(check(R"({"resourceType":"Patient","id":"p1","active":true,"gender":"female",
        "birthDate":"1970-02-28","name":[{"family":"Smith","given":["Ann","B."]}],
        "telecom":[{"system":"phone","value":"555"}],"deceasedDateTime":"2020-01-01T10:00:00+01:00",
        "multipleBirthInteger":2,"meta":{"versionId":"1","lastUpdated":"2020-01-01T00:00:00.123Z"},
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}})")
                    .ok());
    EXPECT_TRUE(check(R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1-8"}]},
        "valueQuantity":{"value":1.5,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"},
        "component":[{"code":{"text":"a"},"valueInteger":-3},{"code":{"text":"b"},"valueString":"x"}]})")
                    .ok());
}

TEST(Validation, JsonRules) {
    // nested arrays, the issue-16 example
    EXPECT_EQ(issues(patient_with(R"("extension":[[{"url":"http://x","valueString":"a"}]])")),
              Strings({"Patient.extension[0]: nested array: an array item must not be an array"}));
    // null outside primitive arrays
    EXPECT_EQ(issues(patient_with(R"("gender":null)")),
              Strings({"Patient.gender: null value (omit the element instead)"}));
    EXPECT_EQ(issues(patient_with(R"("name":[null])")), Strings({"Patient.name[0]: null in an array of HumanName"}));
    // empty object, array, string
    EXPECT_EQ(issues(patient_with(R"("maritalStatus":{})")), Strings({"Patient.maritalStatus: empty object"}));
    EXPECT_EQ(issues(patient_with(R"("name":[])")), Strings({"Patient.name: empty array"}));
    EXPECT_EQ(issues(patient_with(R"("gender":"")")),
              Strings({"Patient.gender: empty string (omit the element instead)"}));
    EXPECT_TRUE(check(patient_with(R"("name":[{"text":"   "}])")).ok()); // R4's string pattern allows it
    // an object where a primitive goes and the reverse
    EXPECT_EQ(issues(patient_with(R"("gender":{"value":"male"})")),
              Strings({"Patient.gender: a code must be a JSON string, not an object"}));
    EXPECT_EQ(issues(patient_with(R"("maritalStatus":"M")")),
              Strings({"Patient.maritalStatus: a CodeableConcept must be a JSON object, not a string"}));
}

TEST(Validation, PrimitiveExtensions) {
    // a primitive with only an extension, and one with both
    EXPECT_TRUE(check(patient_with(R"("_birthDate":{"extension":[{"url":"http://x","valueString":"a"}]})")).ok());
    EXPECT_TRUE(check(patient_with(R"("birthDate":"1970","_birthDate":{"id":"b1"})")).ok());
    // aligned arrays: null where the other array has a value
    EXPECT_TRUE(check(patient_with(R"("name":[{"given":["a",null],"_given":[null,{"id":"g2"}]}])")).ok());
    EXPECT_EQ(issues(patient_with(R"("name":[{"given":["a",null]}])")),
              Strings({"Patient.name[0].given[1]: null without an extension at the same index of _given"}));
    EXPECT_EQ(issues(patient_with(R"("name":[{"given":["a","b"],"_given":[null]}])")),
              Strings({"Patient.name[0].given: arrays given and _given differ in length (2 and 1)"}));
    EXPECT_EQ(issues(patient_with(R"("name":[{"given":["a"],"_given":[null]}])")),
              Strings{}); // a null extension beside a value is the alignment filler
    // malformed extension parts
    EXPECT_EQ(issues(patient_with(R"("_birthDate":"x")")),
              Strings({"Patient.birthDate: a primitive's extension part must be a JSON object, not a string"}));
    EXPECT_EQ(issues(patient_with(R"("_birthDate":{"url":"x"})")),
              Strings({"Patient.birthDate.url: unknown element \"url\" in a primitive's extension part (only id and "
                       "extension)"}));
    EXPECT_EQ(issues(patient_with(R"("_birthDate":{"extension":[{"valueString":"a"}]})")),
              Strings({"Patient.birthDate.extension[0].url: missing required element url (min 1) in Extension"}));
    EXPECT_EQ(issues(patient_with(R"("_name":{"id":"x"})")),
              Strings({"Patient._name: unknown element \"_name\" in Patient (only primitives take _ extensions)"}));
}

TEST(Validation, ElementNamesAndChoices) {
    // the issue-16 example: an unknown element
    EXPECT_EQ(issues(patient_with(R"("nmae":[{"family":"x"}])")),
              Strings({"Patient.nmae: unknown element \"nmae\" in Patient"}));
    EXPECT_EQ(issues(patient_with(R"("name":[{"famly":"x"}])")),
              Strings({"Patient.name[0].famly: unknown element \"famly\" in HumanName"}));
    EXPECT_EQ(issues(patient_with(R"("contact":[{"nam":{"text":"x"}}])")),
              Strings({"Patient.contact[0].nam: unknown element \"nam\" in Patient.contact"}));
    // choices: known suffixes only, one value at most, the bare name is no key
    EXPECT_TRUE(check(patient_with(R"("deceasedBoolean":false)")).ok());
    EXPECT_EQ(issues(patient_with(R"("deceasedString":"x")")),
              Strings({"Patient.deceasedString: unknown element \"deceasedString\" in Patient"}));
    EXPECT_EQ(issues(patient_with(R"("deceased":true)")),
              Strings({"Patient.deceased: unknown element \"deceased\" in Patient"}));
    EXPECT_EQ(issues(patient_with(R"("deceasedBoolean":true,"deceasedDateTime":"2020")")),
              Strings({"Patient.deceasedDateTime: more than one value for deceased[x]"}));
    // the choice's type decides the value's checks
    EXPECT_EQ(issues(patient_with(R"("deceasedDateTime":true)")),
              Strings({"Patient.deceasedDateTime: a dateTime must be a JSON string, not a boolean"}));
    EXPECT_EQ(issues(R"({"resourceType":"Observation","status":"final","code":{"text":"c"},"valueQuantity":{"valu":1}})"),
              Strings({"Observation.valueQuantity.valu: unknown element \"valu\" in Quantity"}));
    // resourceType is a key of resources only
    EXPECT_EQ(issues(patient_with(R"("name":[{"resourceType":"HumanName"}])")),
              Strings({"Patient.name[0].resourceType: unknown element \"resourceType\" in HumanName"}));
}

TEST(Validation, PrimitiveFormats) {
    auto one = [](const std::string &member) {
        auto found = issues(patient_with(member));
        return found.size() == 1 ? found[0] : std::to_string(found.size()) + " issues";
    };
    EXPECT_EQ(one(R"("birthDate":"not-a-date")"), "Patient.birthDate: \"not-a-date\" is not a valid date");
    EXPECT_EQ(one(R"("birthDate":"2001-02-29")"), "Patient.birthDate: \"2001-02-29\" is not a valid date");
    EXPECT_EQ(one(R"("active":"true")"), "Patient.active: a boolean must be a JSON boolean, not a string");
    EXPECT_EQ(one(R"("multipleBirthInteger":"2")"),
              "Patient.multipleBirthInteger: an integer must be a whole JSON number, not a string");
    EXPECT_EQ(one(R"("multipleBirthInteger":2.5)"),
              "Patient.multipleBirthInteger: an integer must be a whole JSON number, not a fraction");
    EXPECT_EQ(one(R"("multipleBirthInteger":2147483648)"),
              "Patient.multipleBirthInteger: 2147483648 is out of range for integer (-2147483648 to 2147483647)");
    EXPECT_EQ(one(R"("gender":"fe male")"), "0 issues"); // code: single inner spaces are allowed
    EXPECT_EQ(one(R"("gender":" female")"), "Patient.gender: \" female\" is not a valid code");
    EXPECT_EQ(one(R"("implicitRules":"http://a b")"), "Patient.implicitRules: \"http://a b\" is not a valid uri");
    EXPECT_EQ(one(R"("photo":[{"data":"AAA*"}])"), "Patient.photo[0].data: \"AAA*\" is not a valid base64Binary");
    EXPECT_EQ(one(R"("photo":[{"data":"QUJD"}])"), "0 issues");
    EXPECT_EQ(one(R"("photo":[{"size":0}])"), "0 issues"); // unsignedInt 0
    EXPECT_EQ(one(R"("photo":[{"size":-1}])"),
              "Patient.photo[0].size: -1 is out of range for unsignedInt (0 to 2147483647)");
    EXPECT_EQ(one(R"("text":{"status":"generated","div":"plain"})"), "Patient.text.div: \"plain\" is not a valid xhtml");
    EXPECT_EQ(one(R"("meta":{"lastUpdated":"2020-01-01"})"),
              "Patient.meta.lastUpdated: \"2020-01-01\" is not a valid instant");
    EXPECT_EQ(one(R"("meta":{"versionId":"a b"})"), "Patient.meta.versionId: \"a b\" is not a valid id");
    EXPECT_EQ(one(R"("meta":{"source":"urn:oid:1.2"})"), "0 issues");
    EXPECT_EQ(one(R"("communication":[{"language":{"text":"x"},"preferred":1}])"),
              "Patient.communication[0].preferred: a boolean must be a JSON boolean, not a number");
    EXPECT_EQ(issues(R"({"resourceType":"Observation","status":"final","code":{"text":"c"},"valueQuantity":{"value":"1"}})"),
              Strings({"Observation.valueQuantity.value: a decimal must be a JSON number, not a string"}));
    EXPECT_EQ(issues(R"({"resourceType":"Observation","status":"final","code":{"text":"c"},"valueTime":"25:00:00"})"),
              Strings({"Observation.valueTime: \"25:00:00\" is not a valid time"}));
    EXPECT_EQ(issues(R"({"resourceType":"Appointment","status":"booked","participant":[{"status":"accepted"}],
        "minutesDuration":0})"),
              Strings({"Appointment.minutesDuration: 0 is out of range for positiveInt (1 to 2147483647)"}));
}

TEST(Validation, DateAndTimeForms) {
    for (const char *good : {"2020", "2020-02", "2020-02-29", "0001", "9999-12-31"})
        EXPECT_TRUE(fhir::is_fhir_date(good)) << good;
    for (const char *bad : {"0000", "20", "2020-13", "2020-1-01", "2020-02-30", "2021-02-29", "2020/01/01", "2020-01-01T00:00:00Z"})
        EXPECT_FALSE(fhir::is_fhir_date(bad)) << bad;
    for (const char *good : {"2020", "2020-01-01", "2020-01-01T10:00:00Z", "2020-01-01T23:59:60.123+14:00", "2020-01-01T00:00:00-05:30"})
        EXPECT_TRUE(fhir::is_fhir_date_time(good)) << good;
    for (const char *bad : {"2020-01-01T10:00Z", "2020-01-01T10:00:00", "2020-01-01T24:00:00Z", "2020-01-01T10:00:00+15:00",
                            "2020-01-01T10:00:00.Z", "2020-01-01 10:00:00Z", "2020-01T10:00:00Z"})
        EXPECT_FALSE(fhir::is_fhir_date_time(bad)) << bad;
    EXPECT_TRUE(fhir::is_fhir_instant("2015-02-07T13:28:17.239+02:00"));
    EXPECT_FALSE(fhir::is_fhir_instant("2015-02-07"));
    EXPECT_TRUE(fhir::is_fhir_time("13:28:17"));
    EXPECT_TRUE(fhir::is_fhir_time("13:28:17.5"));
    EXPECT_FALSE(fhir::is_fhir_time("13:28"));
    EXPECT_FALSE(fhir::is_fhir_time("13:28:17Z"));
}

TEST(Validation, Cardinality) {
    // max 1: no array; repeating: an array
    EXPECT_EQ(issues(patient_with(R"("gender":["male"])")),
              Strings({"Patient.gender: element gender does not repeat (max 1): its value must not be an array"}));
    EXPECT_EQ(issues(patient_with(R"("name":{"family":"x"})")),
              Strings({"Patient.name: element name repeats: its value must be an array, not an object"}));
    // min 1, in resources, backbones, data types, choices
    EXPECT_EQ(issues(R"({"resourceType":"Observation","code":{"text":"c"}})"),
              Strings({"Observation.status: missing required element status (min 1) in Observation"}));
    EXPECT_EQ(issues(patient_with(R"("link":[{"type":"seealso"}])")),
              Strings({"Patient.link[0].other: missing required element other (min 1) in Patient.link"}));
    EXPECT_EQ(issues(patient_with(R"("extension":[{"valueString":"x"}])")),
              Strings({"Patient.extension[0].url: missing required element url (min 1) in Extension"}));
    EXPECT_EQ(issues(R"({"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}})"),
              Strings({"MedicationRequest.medication[x]: missing required element medication[x] (min 1) in MedicationRequest"}));
    EXPECT_TRUE(check(R"({"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},
        "medicationCodeableConcept":{"text":"x"}})")
                    .ok());
    // a required primitive given only by its extension part is present
    EXPECT_TRUE(check(R"({"resourceType":"Observation","_status":{"extension":[{"url":"http://x","valueCode":"u"}]},"code":{"text":"c"}})").ok());
}

TEST(Validation, ContainedAndNestedResources) {
    EXPECT_TRUE(check(patient_with(R"("contained":[{"resourceType":"Organization","id":"o1","name":"x"}])")).ok());
    EXPECT_EQ(issues(patient_with(R"("contained":[{"resourceType":"Observation","id":"o1","code":{"text":"c"},"nmae":1}])")),
              Strings({"Patient.contained[0].nmae: unknown element \"nmae\" in Observation",
                       "Patient.contained[0].status: missing required element status (min 1) in Observation"}));
    EXPECT_EQ(issues(patient_with(R"("contained":[{"resourceType":"Organization","id":"bad id!"}])")),
              Strings({"Patient.contained[0].id: \"bad id!\" is not a valid id"}));
    EXPECT_EQ(issues(patient_with(R"("contained":[{"id":"o1"}])")),
              Strings({"Patient.contained[0]: resource has no resourceType"}));
    EXPECT_EQ(issues(patient_with(R"("contained":[{"resourceType":"Patiant"}])")),
              Strings({"Patient.contained[0]: unknown resourceType \"Patiant\""}));
    EXPECT_EQ(issues(R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","birthDate":"x"}}]})"),
              Strings({"Bundle.entry[0].resource.birthDate: \"x\" is not a valid date"}));
}

TEST(Validation, EveryIssueIsCollected) {
    auto found = locations(patient_with(R"("nmae":[1],"birthDate":"x","gender":"","name":[{"given":["a",null,""]}],
        "extension":[[1]],"active":"yes")"));
    EXPECT_EQ(found, Strings({"Patient.active", "Patient.birthDate", "Patient.extension[0]", "Patient.gender",
                              "Patient.name[0].given[1]", "Patient.name[0].given[2]", "Patient.nmae"}));
    // a flood of issues is capped, the rest counted
    std::string many = R"({"resourceType":"Patient","name":[{"given":[)";
    for (int i = 0; i < 250; i++)
        many += std::string(i ? "," : "") + "\"\"";
    many += "]}]}";
    auto result = check(many);
    EXPECT_EQ(result.issues.size(), fhir::kMaxValidationIssues);
    EXPECT_EQ(result.omitted, 250 - fhir::kMaxValidationIssues);
    EXPECT_NE(fhir::validation_outcome(result).find("150 more issues not listed"), std::string::npos);
}

TEST(Validation, OperationOutcome) {
    auto outcome = Json::parse(fhir::validation_outcome(check(patient_with(R"("birthDate":"not-a-date","nmae":1)"))));
    EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
    ASSERT_EQ(outcome["issue"].size(), 2u);
    EXPECT_EQ(outcome["issue"][0]["severity"], "error");
    EXPECT_EQ(outcome["issue"][0]["code"], "value");
    EXPECT_EQ(outcome["issue"][0]["expression"], Json::array({"Patient.birthDate"}));
    EXPECT_EQ(outcome["issue"][1]["code"], "structure");
    EXPECT_EQ(outcome["issue"][1]["expression"], Json::array({"Patient.nmae"}));
    auto ok = Json::parse(fhir::validation_outcome(check(R"({"resourceType":"Patient"})")));
    EXPECT_EQ(ok["issue"][0]["severity"], "information");
    // bad roots are issues, not exceptions
    EXPECT_EQ(issues("[1]"), Strings({"Resource: a resource must be a JSON object, not an array"}));
    EXPECT_EQ(issues(R"({"id":"x"})"), Strings({"Resource: resource has no resourceType"}));
}

TEST(Validation, Limits) {
    // the issue-16 example: 5000 levels of nested arrays are refused by depth before anything recurses
    std::string deep = R"({"resourceType":"Patient","extension":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
    auto result = check(deep);
    EXPECT_TRUE(result.limit_exceeded);
    ASSERT_EQ(result.issues.size(), 1u);
    EXPECT_STREQ(result.issues[0].code, "too-long");
    EXPECT_NE(result.issues[0].diagnostics.find("max_resource_depth (100"), std::string::npos);
    // depth counts objects and arrays: the root is level 1
    fhir::ValidationSettings shallow;
    shallow.max_depth = 3;
    EXPECT_TRUE(check(patient_with(R"("name":[{"family":"x"}])"), shallow).ok());              // 3 levels
    EXPECT_TRUE(check(patient_with(R"("name":[{"given":["x"]}])"), shallow).limit_exceeded); // 4 levels
    // size: compact JSON text
    fhir::ValidationSettings small;
    small.max_size_kb = 1;
    EXPECT_TRUE(check(patient_with(R"("name":[{"family":")" + std::string(2000, 'x') + "\"}]"), small).limit_exceeded);
    EXPECT_TRUE(check(patient_with(R"("name":[{"family":")" + std::string(900, 'x') + "\"}]"), small).ok());
    const std::string text = patient_with(R"("name":[{"family":"x","given":["a","b"]}],"active":true)");
    EXPECT_EQ(check(text).size, Json::parse(text).dump().size());
}

TEST(Validation, ModesThroughValidateResource) {
    SettingsGuard guard;
    static std::vector<std::string> notices;
    notices.clear();
    fhir::validation_notice = [](const std::string &message, const std::string &outcome) {
        notices.push_back(message + " | " + outcome);
    };
    const Json bad = Json::parse(patient_with(R"("birthDate":"not-a-date")"));
    // strict: refused, InvalidResource (22023) with the OperationOutcome as detail
    fhir::validation_settings.mode = fhir::kValidationStrict;
    try {
        fhir::validate_resource(bad);
        FAIL() << "strict validation accepted an invalid resource";
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidResource);
        EXPECT_STREQ(e.what(), "invalid resource: 1 issue: Patient.birthDate: \"not-a-date\" is not a valid date");
        EXPECT_EQ(Json::parse(e.detail())["issue"][0]["expression"][0], "Patient.birthDate");
    }
    EXPECT_TRUE(notices.empty());
    // lenient: stored, the issues reported
    fhir::validation_settings.mode = fhir::kValidationLenient;
    EXPECT_EQ(fhir::validate_resource(bad).id, "p1");
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("resource stored with 1 issue: Patient.birthDate"), std::string::npos);
    // off: not checked
    fhir::validation_settings.mode = fhir::kValidationOff;
    EXPECT_EQ(fhir::validate_resource(bad).id, "p1");
    EXPECT_EQ(notices.size(), 1u);
    // limits hold in every mode
    const Json deep = Json::parse(R"({"resourceType":"Patient","extension":)" + std::string(5000, '[') + std::string(5000, ']') + "}");
    for (int mode : {fhir::kValidationOff, fhir::kValidationLenient})
        try {
            fhir::validation_settings.mode = mode;
            fhir::validate_resource(deep);
            FAIL() << "mode " << mode << " accepted a 5000-level resource";
        } catch (const fhir::Error &e) {
            EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidResource);
        }
}

TEST(Validation, RealSyntheaResourcesPass) {
    std::ifstream in(FHIR_TEST_DATA_DIR "/synthea_samples.ndjson");
    ASSERT_TRUE(in.good());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        auto result = fhir::check_resource(Json::parse(line), {});
        EXPECT_TRUE(result.ok()) << fhir::validation_summary(result);
        n++;
    }
    EXPECT_GE(n, 20);
}
