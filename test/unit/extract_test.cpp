// extract_test.cpp: unit tests of the index extractor (src/core/extract.cpp).
//
// Realistic resources go through the built-in R4 registry; the assertions look up
// the expected rows by parameter code, so they state what a search for that
// parameter will find, independent of generated parameter ids.
#include "extract.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace {

using fhir::DateRow;
using fhir::Extractor;
using fhir::IndexRows;
using fhir::Json;
using fhir::Registry;
using fhir::TokenForm;

// One registry and extractor for all tests: builtin() copies the tables each call.
const Registry &registry() {
    static const Registry r = Registry::builtin();
    return r;
}

int param(const std::string &type, const std::string &code) {
    const fhir::SearchParamDef *def = registry().find(type, code);
    EXPECT_NE(def, nullptr) << type << "." << code;
    return def ? def->id : -1;
}

IndexRows extract(const Json &resource) {
    static Extractor extractor(registry());
    return extractor.extract(resource);
}

bool has_token(const IndexRows &rows, const std::string &type, const std::string &code, TokenForm form,
               const std::string &value) {
    return std::binary_search(rows.tokens.begin(), rows.tokens.end(), fhir::token_hash(param(type, code), form, value));
}

std::vector<std::string> strings_of(const IndexRows &rows, int param_id, bool normalized = true) {
    std::vector<std::string> out;
    for (const auto &row : rows.strings) {
        if (row.param_id == param_id)
            out.push_back(normalized ? row.normalized : row.exact);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<DateRow> dates_of(const IndexRows &rows, int param_id) {
    std::vector<DateRow> out;
    for (const auto &row : rows.dates) {
        if (row.param_id == param_id)
            out.push_back(row);
    }
    return out;
}

std::vector<std::string> texts_of(const IndexRows &rows, int param_id) {
    std::vector<std::string> out;
    for (const auto &row : rows.token_texts) {
        if (row.param_id == param_id)
            out.push_back(row.normalized);
    }
    return out;
}

int64_t instant(const char *text) { return fhir::parse_date_range(text)->lo; }

const Json kPatient = Json::parse(R"({
  "resourceType": "Patient", "id": "p1",
  "meta": {"lastUpdated": "2024-03-01T10:00:00Z", "profile": ["http://example.org/fhir/StructureDefinition/p|2.0"],
           "tag": [{"system": "http://example.org/tags", "code": "vip"}]},
  "identifier": [
    {"use": "official", "system": "http://hospital.example/mrn", "value": "MRN-1",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}],
              "text": "Medical Record Number"}},
    {"value": "no-system"}
  ],
  "active": true,
  "name": [{"use": "official", "family": "Müller", "given": ["Zoë", "Anne-Marie"], "prefix": ["Dr."]},
           {"text": "Zoe Mueller"}],
  "telecom": [{"system": "phone", "value": "+33 1 23 45 67 89", "use": "home"},
              {"system": "email", "value": "zoe@example.org"}],
  "gender": "female",
  "birthDate": "1980-05",
  "address": [{"line": ["12 Rue de l'Église"], "city": "Paris", "postalCode": "75001", "country": "FR"}],
  "generalPractitioner": [{"reference": "Practitioner/dr1"}],
  "managingOrganization": {"reference": "http://other.example/fhir/Organization/org9/_history/4"}
})");

TEST(Extract, PatientStringsAreNormalizedAndKeepExactText) {
    IndexRows rows = extract(kPatient);
    EXPECT_EQ(strings_of(rows, param("Patient", "family")), std::vector<std::string>{"muller"});
    EXPECT_EQ(strings_of(rows, param("Patient", "family"), false), std::vector<std::string>{"Müller"});
    EXPECT_EQ(strings_of(rows, param("Patient", "given")), (std::vector<std::string>{"anne-marie", "zoe"}));
    EXPECT_EQ(strings_of(rows, param("Patient", "name")),
              (std::vector<std::string>{"anne-marie", "dr.", "muller", "zoe", "zoe mueller"}));
    EXPECT_EQ(strings_of(rows, param("Patient", "address")),
              (std::vector<std::string>{"12 rue de l'eglise", "75001", "fr", "paris"}));
    EXPECT_EQ(strings_of(rows, param("Patient", "address-city")), std::vector<std::string>{"paris"});
}

TEST(Extract, PatientIdentifierTokens) {
    IndexRows rows = extract(kPatient);
    EXPECT_TRUE(has_token(rows, "Patient", "identifier", TokenForm::Code, "MRN-1"));
    EXPECT_TRUE(has_token(rows, "Patient", "identifier", TokenForm::SystemCode, "http://hospital.example/mrn|MRN-1"));
    EXPECT_TRUE(has_token(rows, "Patient", "identifier", TokenForm::System, "http://hospital.example/mrn|"));
    EXPECT_FALSE(has_token(rows, "Patient", "identifier", TokenForm::NoSystemCode, "MRN-1"));
    EXPECT_TRUE(has_token(rows, "Patient", "identifier", TokenForm::OfType,
                          "http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-1"));
    EXPECT_TRUE(has_token(rows, "Patient", "identifier", TokenForm::NoSystemCode, "no-system"));
    EXPECT_EQ(texts_of(rows, param("Patient", "identifier")), std::vector<std::string>{"medical record number"});
}

TEST(Extract, PatientSimpleTokens) {
    IndexRows rows = extract(kPatient);
    EXPECT_TRUE(has_token(rows, "Patient", "_id", TokenForm::Code, "p1"));
    EXPECT_TRUE(has_token(rows, "Patient", "gender", TokenForm::Code, "female"));
    EXPECT_TRUE(has_token(rows, "Patient", "gender", TokenForm::NoSystemCode, "female"));
    EXPECT_TRUE(has_token(rows, "Patient", "active", TokenForm::Code, "true"));
    EXPECT_TRUE(has_token(rows, "Patient", "deceased", TokenForm::Code, "false"));
    EXPECT_TRUE(has_token(rows, "Patient", "_tag", TokenForm::SystemCode, "http://example.org/tags|vip"));
}

TEST(Extract, PatientTelecomMatchesValueOnly) {
    IndexRows rows = extract(kPatient);
    EXPECT_TRUE(has_token(rows, "Patient", "telecom", TokenForm::Code, "+33 1 23 45 67 89"));
    EXPECT_TRUE(has_token(rows, "Patient", "telecom", TokenForm::NoSystemCode, "zoe@example.org"));
    EXPECT_FALSE(has_token(rows, "Patient", "telecom", TokenForm::SystemCode, "phone|+33 1 23 45 67 89"));
    EXPECT_TRUE(has_token(rows, "Patient", "email", TokenForm::Code, "zoe@example.org"));
    EXPECT_FALSE(has_token(rows, "Patient", "email", TokenForm::Code, "+33 1 23 45 67 89"));
    EXPECT_TRUE(has_token(rows, "Patient", "phone", TokenForm::Code, "+33 1 23 45 67 89"));
}

TEST(Extract, PatientDates) {
    IndexRows rows = extract(kPatient);
    auto birth = dates_of(rows, param("Patient", "birthdate"));
    ASSERT_EQ(birth.size(), 1u);
    EXPECT_EQ(birth[0].lo, instant("1980-05-01T00:00:00Z"));
    EXPECT_EQ(birth[0].hi, instant("1980-06-01T00:00:00Z"));
    auto updated = dates_of(rows, param("Patient", "_lastUpdated"));
    ASSERT_EQ(updated.size(), 1u);
    EXPECT_EQ(updated[0].lo, instant("2024-03-01T10:00:00Z"));
    EXPECT_TRUE(dates_of(rows, param("Patient", "death-date")).empty());
}

TEST(Extract, PatientReferences) {
    IndexRows rows = extract(kPatient);
    EXPECT_TRUE(has_token(rows, "Patient", "general-practitioner", TokenForm::Reference, "Practitioner/dr1"));
    EXPECT_TRUE(has_token(rows, "Patient", "general-practitioner", TokenForm::ReferenceId, "dr1"));
    // An absolute URL stays absolute (the base is unknown) but still gives its id and target.
    const std::string url = "http://other.example/fhir/Organization/org9";
    EXPECT_TRUE(has_token(rows, "Patient", "organization", TokenForm::Reference, url + "/_history/4"));
    EXPECT_TRUE(has_token(rows, "Patient", "organization", TokenForm::Reference, url));
    EXPECT_FALSE(has_token(rows, "Patient", "organization", TokenForm::Reference, "Organization/org9"));
    EXPECT_TRUE(has_token(rows, "Patient", "organization", TokenForm::ReferenceId, "org9"));
    bool found = false;
    for (const auto &row : rows.references)
        found |= row.param_id == param("Patient", "organization") && row.target_type == "Organization" &&
                 row.target_id == "org9";
    EXPECT_TRUE(found);
}

TEST(Extract, UriAndCanonicalProfile) {
    IndexRows rows = extract(kPatient);
    // _profile is a uri parameter in R4: exact token plus a case-preserving string row.
    EXPECT_TRUE(
        has_token(rows, "Patient", "_profile", TokenForm::Uri, "http://example.org/fhir/StructureDefinition/p|2.0"));
    EXPECT_EQ(strings_of(rows, param("Patient", "_profile")),
              std::vector<std::string>{"http://example.org/fhir/StructureDefinition/p|2.0"});
}

TEST(Extract, PresentMarkersOnlyForParametersWithValues) {
    IndexRows rows = extract(kPatient);
    for (const char *code : {"family", "identifier", "birthdate", "organization", "_id", "telecom", "deceased"})
        EXPECT_TRUE(has_token(rows, "Patient", code, TokenForm::Present, "")) << code;
    for (const char *code : {"death-date", "link", "language", "address-state", "_security"})
        EXPECT_FALSE(has_token(rows, "Patient", code, TokenForm::Present, "")) << code;
}

TEST(Extract, TokensAreSortedAndUnique) {
    IndexRows rows = extract(kPatient);
    EXPECT_TRUE(std::is_sorted(rows.tokens.begin(), rows.tokens.end()));
    EXPECT_EQ(std::adjacent_find(rows.tokens.begin(), rows.tokens.end()), rows.tokens.end());
}

const Json kBloodPressure = Json::parse(R"({
  "resourceType": "Observation", "id": "bp1", "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs", "display": "Vital Signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}],
           "text": "Blood Pressure"},
  "subject": {"reference": "Patient/p1"},
  "effectivePeriod": {"start": "2024-01-01T10:00:00Z"},
  "component": [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
     "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
     "valueQuantity": {"value": 80.5, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
  ]
})");

TEST(Extract, ObservationCodeTokensAndTexts) {
    IndexRows rows = extract(kBloodPressure);
    EXPECT_TRUE(has_token(rows, "Observation", "code", TokenForm::Code, "85354-9"));
    EXPECT_TRUE(has_token(rows, "Observation", "code", TokenForm::SystemCode, "http://loinc.org|85354-9"));
    EXPECT_TRUE(has_token(rows, "Observation", "code", TokenForm::System, "http://loinc.org|"));
    EXPECT_FALSE(has_token(rows, "Observation", "code", TokenForm::NoSystemCode, "85354-9"));
    auto texts = texts_of(rows, param("Observation", "code"));
    std::sort(texts.begin(), texts.end());
    EXPECT_EQ(texts, (std::vector<std::string>{"blood pressure", "blood pressure panel"}));
    EXPECT_TRUE(has_token(rows, "Observation", "component-code", TokenForm::Code, "8462-4"));
    EXPECT_TRUE(has_token(rows, "Observation", "combo-code", TokenForm::Code, "85354-9"));
    EXPECT_TRUE(has_token(rows, "Observation", "combo-code", TokenForm::Code, "8480-6"));
    EXPECT_TRUE(has_token(rows, "Observation", "category", TokenForm::Code, "vital-signs"));
}

// The sort range of parameter `code` on `resource` (see Extractor::token_sort_range).
std::optional<fhir::TokenSortRange> sort_range(const Json &resource, const std::string &code) {
    static Extractor extractor(registry());
    return extractor.token_sort_range(resource, param(resource["resourceType"].get<std::string>(), code));
}

TEST(Extract, TokenSortRangeIsLowestAndHighestSystemThenCode) {
    Json observation = Json::parse(R"({"resourceType":"Observation","id":"o1","status":"final",
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"364075005","display":"HR"},
                          {"system":"http://loinc.org","code":"8867-4"},
                          {"system":"http://loinc.org","code":"10000-1"},
                          {"code":"zz-local"}],"text":"not a code"},
        "identifier":[{"system":"urn:a","value":"9"},{"system":"urn:a","value":"10"}],
        "subject":{"reference":"Patient/p1"}})");
    const std::string sep(1, fhir::kTokenSortSeparator);
    auto code = sort_range(observation, "code");
    ASSERT_TRUE(code);
    EXPECT_EQ(code->lo, sep + "zz-local"); // no system sorts first
    EXPECT_EQ(code->hi, "http://snomed.info/sct" + sep + "364075005");
    auto status = sort_range(observation, "status");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->lo, sep + "final");
    EXPECT_EQ(status->hi, status->lo);
    auto identifier = sort_range(observation, "identifier");
    ASSERT_TRUE(identifier);
    EXPECT_EQ(identifier->lo, "urn:a" + sep + "10"); // text order, not numeric
    EXPECT_EQ(identifier->hi, "urn:a" + sep + "9");
    EXPECT_FALSE(sort_range(observation, "category"));  // no value
    EXPECT_FALSE(sort_range(observation, "subject"));   // not a token parameter
    EXPECT_FALSE(sort_range(observation, "date"));      // nor this
    Extractor extractor(registry()); // a parameter of another type finds nothing
    EXPECT_FALSE(extractor.token_sort_range(Json{{"resourceType", "Patient"}, {"id", "p"}, {"gender", "male"}},
                                            param("Observation", "status")));
    EXPECT_TRUE(extractor.token_sort_range(Json{{"resourceType", "Patient"}, {"id", "p"}, {"gender", "male"}},
                                           param("Patient", "gender")));
    // collecting the range leaves extraction unchanged
    IndexRows rows = extract(observation);
    EXPECT_TRUE(has_token(rows, "Observation", "code", TokenForm::SystemCode, "http://loinc.org|8867-4"));
    EXPECT_EQ(texts_of(rows, param("Observation", "code")).size(), 2u); // "hr" and "not a code"
}

TEST(Extract, MembersReadByAnExpression) {
    fhir::MemberFilter code = fhir::members_read_by("Observation.code");
    EXPECT_FALSE(code.all);
    EXPECT_TRUE(code.keeps("code"));
    EXPECT_TRUE(code.keeps("resourceType"));
    EXPECT_TRUE(code.keeps("id"));
    EXPECT_FALSE(code.keeps("component"));
    EXPECT_FALSE(code.keeps("codes")); // not a choice: lowercase after the name
    fhir::MemberFilter value = fhir::members_read_by("(Observation.value as CodeableConcept)");
    EXPECT_TRUE(value.keeps("valueCodeableConcept"));
    EXPECT_TRUE(value.keeps("valueQuantity"));
    EXPECT_FALSE(value.keeps("status"));
    EXPECT_TRUE(fhir::members_read_by("Observation.subject.where(resolve() is Patient)").all); // reads contained
    EXPECT_TRUE(fhir::members_read_by("%resource.code").all);
    EXPECT_TRUE(fhir::members_read_by("Questionnaire.descendants().code").all);
    EXPECT_TRUE(fhir::members_read_by("").all);
    EXPECT_TRUE(fhir::members_read_by("Resource.meta.tag").keeps("meta"));
}

// Converting only the members token_sort_members keeps gives every token
// parameter of these resources the same sort range as the whole resource.
TEST(Extract, TokenSortMembersSufficeForEveryTokenParameter) {
    std::vector<Json> samples = {kPatient, kBloodPressure, Json::parse(R"({"resourceType":"Condition","id":"c1",
        "meta":{"tag":[{"system":"urn:t","code":"vip"}],"security":[{"code":"R"}]},
        "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
        "category":[{"coding":[{"code":"problem-list-item"}]}],"severity":{"coding":[{"code":"24484000"}]},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},"bodySite":[{"text":"arm"}],
        "evidence":[{"code":[{"coding":[{"code":"e1"}]}]}],"stage":[{"summary":{"coding":[{"code":"s1"}]}}],
        "identifier":[{"system":"urn:i","value":"1"}],"subject":{"reference":"Patient/p1"}})"),
        Json::parse(R"({"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
        "priority":"urgent","category":[{"coding":[{"code":"outpatient"}]}],
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049502"}]},
        "contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"code":"x"}]}}],
        "identifier":[{"value":"rx-1"}],"subject":{"reference":"Patient/p1"}})")};
    Extractor extractor(registry());
    int checked = 0, with_value = 0;
    for (const Json &resource : samples) {
        const std::string type = resource["resourceType"].get<std::string>();
        for (const fhir::SearchParamDef *def : registry().for_type(type)) {
            if (def->type != fhir::ParamType::Token)
                continue;
            const fhir::MemberFilter *filter = extractor.token_sort_members(def->id);
            ASSERT_NE(filter, nullptr) << type << "." << def->code;
            Json part = Json::object();
            for (auto it = resource.begin(); it != resource.end(); ++it)
                if (filter->keeps(it.key()))
                    part[it.key()] = it.value();
            auto whole = extractor.token_sort_range(resource, def->id);
            auto from_part = extractor.token_sort_range(part, def->id);
            EXPECT_EQ(whole.has_value(), from_part.has_value()) << type << "." << def->code;
            if (whole && from_part) {
                EXPECT_EQ(whole->lo, from_part->lo) << type << "." << def->code;
                EXPECT_EQ(whole->hi, from_part->hi) << type << "." << def->code;
            }
            checked++;
            with_value += whole.has_value();
        }
    }
    EXPECT_GE(checked, 50);
    EXPECT_GE(with_value, 20) << with_value;
    EXPECT_EQ(extractor.token_sort_members(-12345), nullptr);
}

TEST(Extract, ObservationSubjectAndPatient) {
    IndexRows rows = extract(kBloodPressure);
    EXPECT_TRUE(has_token(rows, "Observation", "subject", TokenForm::Reference, "Patient/p1"));
    EXPECT_TRUE(has_token(rows, "Observation", "patient", TokenForm::Reference, "Patient/p1"));
    EXPECT_TRUE(has_token(rows, "Observation", "patient", TokenForm::ReferenceId, "p1"));
    int refs = 0;
    for (const auto &row : rows.references)
        refs += row.target_type == "Patient" && row.target_id == "p1";
    EXPECT_EQ(refs, 2); // subject and patient
}

TEST(Extract, ObservationOpenPeriod) {
    IndexRows rows = extract(kBloodPressure);
    auto dates = dates_of(rows, param("Observation", "date"));
    ASSERT_EQ(dates.size(), 1u);
    EXPECT_EQ(dates[0].lo, instant("2024-01-01T10:00:00Z"));
    EXPECT_EQ(dates[0].hi, fhir::kMaxTime);
    EXPECT_EQ(dates[0].group, 0);
}

TEST(Extract, ObservationComponentQuantities) {
    IndexRows rows = extract(kBloodPressure);
    std::vector<std::string> values;
    for (const auto &row : rows.quantities) {
        if (row.param_id == param("Observation", "component-value-quantity")) {
            values.push_back(row.range.value);
            EXPECT_EQ(row.system, "http://unitsofmeasure.org");
            EXPECT_EQ(row.code, "mm[Hg]");
            EXPECT_EQ(row.unit, "mmHg");
        }
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(values, (std::vector<std::string>{"120", "80.5"}));
    EXPECT_FALSE(has_token(rows, "Observation", "value-quantity", TokenForm::Present, ""));
}

TEST(Extract, CompositeComponentCodeValueQuantityGroupsRows) {
    IndexRows rows = extract(kBloodPressure);
    const int id = param("Observation", "component-code-value-quantity");
    // Each component is one group: key rows for its code, a quantity row for its value.
    std::map<int, std::vector<int64_t>> keys;
    for (const auto &row : rows.composite_keys) {
        if (row.param_id == id) {
            EXPECT_EQ(row.component, 0);
            keys[row.group].push_back(row.hash);
        }
    }
    ASSERT_EQ(keys.size(), 2u);
    std::map<int, std::string> values;
    for (const auto &row : rows.quantities) {
        if (row.param_id == id) {
            EXPECT_EQ(row.component, 1);
            values[row.group] = row.range.value;
        }
    }
    ASSERT_EQ(values.size(), 2u);
    int systolic_group = 0;
    for (const auto &[group, hashes] : keys) {
        if (std::count(hashes.begin(), hashes.end(),
                       fhir::token_hash(id, TokenForm::SystemCode, "http://loinc.org|8480-6")))
            systolic_group = group;
        EXPECT_EQ(hashes.size(), 3u); // Code, SystemCode and System
    }
    ASSERT_NE(systolic_group, 0);
    EXPECT_EQ(values[systolic_group], "120");
    EXPECT_TRUE(has_token(rows, "Observation", "component-code-value-quantity", TokenForm::Present, ""));
    // The Observation itself has no value[x], so code-value-quantity has no value rows.
    for (const auto &row : rows.quantities)
        EXPECT_NE(row.param_id, param("Observation", "code-value-quantity"));
}

TEST(Extract, CompositeCodeValueQuantityOnTheObservation) {
    Json glucose = Json::parse(R"({"resourceType":"Observation","id":"g","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"15074-8"}]},
        "valueQuantity":{"value":6.3,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"}})");
    IndexRows rows = extract(glucose);
    const int id = param("Observation", "code-value-quantity");
    int keys = 0, quantities = 0;
    for (const auto &row : rows.composite_keys) {
        if (row.param_id == id) {
            ++keys;
            EXPECT_EQ(row.group, 1);
        }
    }
    for (const auto &row : rows.quantities) {
        if (row.param_id == id) {
            ++quantities;
            EXPECT_EQ(row.group, 1);
            EXPECT_EQ(row.range.value, "6.3");
            EXPECT_EQ(row.range.lo, "6.25");
            EXPECT_EQ(row.range.hi, "6.35");
        }
    }
    EXPECT_EQ(keys, 3); // Code, SystemCode, System
    EXPECT_EQ(quantities, 1);
    // value-quantity (plain) too.
    EXPECT_TRUE(has_token(rows, "Observation", "value-quantity", TokenForm::Present, ""));
}

TEST(Extract, CompositeTokenTokenIsHashed) {
    Json obs = Json::parse(R"({"resourceType":"Observation","id":"c","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"883-9"}]},
        "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"112144000"}]}})");
    IndexRows rows = extract(obs);
    for (const char *combination :
         {"883-9$112144000", "http://loinc.org|883-9$112144000", "883-9$http://snomed.info/sct|112144000",
          "http://loinc.org|883-9$http://snomed.info/sct|112144000"})
        EXPECT_TRUE(has_token(rows, "Observation", "code-value-concept", TokenForm::SystemCode, combination))
            << combination;
    // "system|" (any code of the system) combines too
    for (const char *combination : {"http://loinc.org|$112144000", "883-9$http://snomed.info/sct|",
                                    "http://loinc.org|$http://snomed.info/sct|"})
        EXPECT_TRUE(has_token(rows, "Observation", "code-value-concept", TokenForm::SystemCode, combination))
            << combination;
    EXPECT_FALSE(has_token(rows, "Observation", "code-value-concept", TokenForm::SystemCode, "112144000$883-9"));
    EXPECT_TRUE(has_token(rows, "Observation", "value-concept", TokenForm::Code, "112144000"));
}

TEST(Extract, CompositeNodeMissingAComponentLeavesNoRows) {
    Json obs = Json::parse(R"({"resourceType":"Observation","id":"c","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"883-9"}]},
        "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"112144000"}]}})");
    IndexRows rows = extract(obs);
    const int id = param("Observation", "code-value-quantity");
    for (const auto &row : rows.composite_keys)
        EXPECT_NE(row.param_id, id);
    EXPECT_FALSE(has_token(rows, "Observation", "code-value-quantity", TokenForm::Present, ""));
    EXPECT_FALSE(has_token(rows, "Observation", "code-value-date", TokenForm::Present, ""));
    EXPECT_TRUE(has_token(rows, "Observation", "code-value-concept", TokenForm::Present, ""));
}

TEST(Extract, CompositeCodeValueStringAndDate) {
    Json obs = Json::parse(R"({"resourceType":"Observation","id":"s","status":"final",
        "code":{"coding":[{"code":"note"}]},"valueString":"Élevé"})");
    IndexRows rows = extract(obs);
    const int id = param("Observation", "code-value-string");
    auto strings = strings_of(rows, id);
    EXPECT_EQ(strings, std::vector<std::string>{"eleve"});
    EXPECT_EQ(strings_of(rows, param("Observation", "value-string")), std::vector<std::string>{"eleve"});

    Json dated = Json::parse(R"({"resourceType":"Observation","id":"d","status":"final",
        "code":{"coding":[{"code":"x"}]},"valueDateTime":"2023-07-04"})");
    rows = extract(dated);
    auto dates = dates_of(rows, param("Observation", "code-value-date"));
    ASSERT_EQ(dates.size(), 1u);
    EXPECT_EQ(dates[0].group, 1);
    EXPECT_EQ(dates[0].component, 1);
    EXPECT_EQ(dates[0].lo, instant("2023-07-04T00:00:00Z"));
}

TEST(Extract, CompositeWithResourceRelativeComponent) {
    Json sequence = Json::parse(R"({"resourceType":"MolecularSequence","id":"m","coordinateSystem":0,
        "referenceSeq":{"chromosome":{"coding":[
            {"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"1"}]}},
        "variant":[{"start":100,"end":101},{"start":200,"end":205}]})");
    IndexRows rows = extract(sequence);
    const int id = param("MolecularSequence", "chromosome-variant-coordinate");
    int keys = 0;
    for (const auto &row : rows.composite_keys)
        keys += row.param_id == id;
    EXPECT_EQ(keys, 6); // two variants x (Code, SystemCode, System)
    std::map<std::pair<int, int>, std::string> numbers;
    for (const auto &row : rows.numbers) {
        if (row.param_id == id)
            numbers[{row.group, row.component}] = row.range.value;
    }
    EXPECT_EQ(numbers.size(), 4u);
    EXPECT_EQ((numbers[{2, 1}]), "200");
    EXPECT_EQ((numbers[{2, 2}]), "205");
}

TEST(Extract, ConditionCodeOnsetAndSubject) {
    Json condition = Json::parse(R"({"resourceType":"Condition","id":"c1",
        "clinicalStatus":{"coding":[
            {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}]},
        "subject":{"reference":"Patient/p1"},
        "onsetPeriod":{"start":"2019-01","end":"2019-02-15"},
        "abatementAge":{"value":50,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},
        "recordedDate":"2019-03-01T08:00:00+02:00",
        "note":[{"text":"Since 2019","time":"2019-03-01"}]})");
    IndexRows rows = extract(condition);
    EXPECT_TRUE(has_token(rows, "Condition", "code", TokenForm::SystemCode, "http://snomed.info/sct|44054006"));
    EXPECT_TRUE(has_token(rows, "Condition", "clinical-status", TokenForm::Code, "active"));
    EXPECT_EQ(texts_of(rows, param("Condition", "code")), std::vector<std::string>{"diabetes mellitus type 2"});
    EXPECT_TRUE(has_token(rows, "Condition", "patient", TokenForm::Reference, "Patient/p1"));
    auto onset = dates_of(rows, param("Condition", "onset-date"));
    ASSERT_EQ(onset.size(), 1u);
    EXPECT_EQ(onset[0].lo, instant("2019-01-01T00:00:00Z"));
    EXPECT_EQ(onset[0].hi, instant("2019-02-16T00:00:00Z"));
    auto recorded = dates_of(rows, param("Condition", "recorded-date"));
    ASSERT_EQ(recorded.size(), 1u);
    EXPECT_EQ(recorded[0].lo, instant("2019-03-01T06:00:00Z"));
    bool age = false;
    for (const auto &row : rows.quantities)
        age |= row.param_id == param("Condition", "abatement-age") && row.range.value == "50" && row.code == "a";
    EXPECT_TRUE(age);
}

TEST(Extract, MedicationRequestMedicationChoice) {
    Json request = Json::parse(R"({"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049502",
                                                "display":"Acetaminophen 325 MG"}]},
        "subject":{"reference":"Patient/p1"},"authoredOn":"2024-02-02"})");
    IndexRows rows = extract(request);
    EXPECT_TRUE(has_token(rows, "MedicationRequest", "code", TokenForm::Code, "1049502"));
    EXPECT_FALSE(has_token(rows, "MedicationRequest", "medication", TokenForm::Present, ""));
    EXPECT_TRUE(has_token(rows, "MedicationRequest", "status", TokenForm::Code, "active"));

    Json by_reference = request;
    by_reference.erase("medicationCodeableConcept");
    by_reference["medicationReference"] = {{"reference", "Medication/med1"}};
    rows = extract(by_reference);
    EXPECT_FALSE(has_token(rows, "MedicationRequest", "code", TokenForm::Present, ""));
    EXPECT_TRUE(has_token(rows, "MedicationRequest", "medication", TokenForm::Reference, "Medication/med1"));
}

TEST(Extract, ReferenceForms) {
    Json obs = Json::parse(R"({"resourceType":"Observation","id":"r","status":"final","code":{"text":"x"},
        "performer":[{"reference":"urn:uuid:0b2e7d2c-1111-2222-3333-444455556666"},
                     {"reference":"#c1"},
                     {"reference":"Practitioner/pr1/_history/2"},
                     {"identifier":{"system":"http://npi","value":"123"}},
                     {"reference":"Organization/o1","identifier":{"value":"o-1"}},
                     {"display":"nobody"}]})");
    IndexRows rows = extract(obs);
    auto ref = [&](TokenForm form, const std::string &value) {
        return has_token(rows, "Observation", "performer", form, value);
    };
    EXPECT_TRUE(ref(TokenForm::Reference, "urn:uuid:0b2e7d2c-1111-2222-3333-444455556666"));
    EXPECT_TRUE(ref(TokenForm::Reference, "#c1"));
    EXPECT_TRUE(ref(TokenForm::Reference, "Practitioner/pr1"));
    EXPECT_TRUE(ref(TokenForm::Reference, "Practitioner/pr1/_history/2"));
    EXPECT_TRUE(ref(TokenForm::ReferenceId, "pr1"));
    EXPECT_TRUE(ref(TokenForm::SystemCode, "identifier:http://npi|123"));
    EXPECT_TRUE(ref(TokenForm::Code, "identifier:123"));
    EXPECT_TRUE(ref(TokenForm::Reference, "Organization/o1"));
    EXPECT_TRUE(ref(TokenForm::NoSystemCode, "identifier:o-1"));
    const int id = param("Observation", "performer");
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto &row : rows.references) {
        if (row.param_id == id)
            targets.emplace_back(row.target_type, row.target_id);
    }
    std::sort(targets.begin(), targets.end());
    EXPECT_EQ(targets,
              (std::vector<std::pair<std::string, std::string>>{{"", "urn:uuid:0b2e7d2c-1111-2222-3333-444455556666"},
                                                                {"Organization", "o1"},
                                                                {"Practitioner", "pr1"}}));
}

TEST(Extract, CanonicalReferencesWithAndWithoutVersion) {
    Json plan = Json::parse(R"({"resourceType":"PlanDefinition","id":"pd","status":"active",
        "action":[{"definitionCanonical":"http://example.org/ActivityDefinition/a|1.2"}],
        "relatedArtifact":[{"type":"depends-on","resource":"http://example.org/Library/lib"}]})");
    IndexRows rows = extract(plan);
    EXPECT_TRUE(has_token(rows, "PlanDefinition", "definition", TokenForm::Reference,
                          "http://example.org/ActivityDefinition/a|1.2"));
    EXPECT_TRUE(has_token(rows, "PlanDefinition", "definition", TokenForm::Reference,
                          "http://example.org/ActivityDefinition/a"));
    EXPECT_TRUE(
        has_token(rows, "PlanDefinition", "depends-on", TokenForm::Reference, "http://example.org/Library/lib"));
}

TEST(Extract, DisabledParametersProduceNothing) {
    Registry custom = Registry::builtin();
    const int family = custom.find("Patient", "family")->id;
    const int identifier = custom.find("Patient", "identifier")->id;
    custom.set_enabled(family, false);
    custom.set_enabled(identifier, false);
    Extractor extractor(custom);
    IndexRows rows = extractor.extract(kPatient);
    for (const auto &row : rows.strings)
        EXPECT_NE(row.param_id, family);
    for (const auto &row : rows.token_texts)
        EXPECT_NE(row.param_id, identifier);
    EXPECT_FALSE(
        std::binary_search(rows.tokens.begin(), rows.tokens.end(), fhir::token_hash(family, TokenForm::Present, "")));
    EXPECT_FALSE(std::binary_search(rows.tokens.begin(), rows.tokens.end(),
                                    fhir::token_hash(identifier, TokenForm::Code, "MRN-1")));
    EXPECT_TRUE(std::binary_search(rows.tokens.begin(), rows.tokens.end(),
                                   fhir::token_hash(custom.find("Patient", "given")->id, TokenForm::Present, "")));
}

// The extractor plans each resource type once; changes to the registry after it
// was built (enabled flags, an entry replaced in place, a new entry) still count.
TEST(Extract, RegistryChangesAfterConstructionAreSeen) {
    Registry custom = Registry::builtin();
    Extractor extractor(custom);
    const int family = custom.find("Patient", "family")->id;
    EXPECT_EQ(strings_of(extractor.extract(kPatient), family), std::vector<std::string>{"muller"});

    custom.set_enabled(family, false);
    EXPECT_TRUE(strings_of(extractor.extract(kPatient), family).empty());
    custom.set_enabled(family, true);

    fhir::SearchParamDef replaced = *custom.find("Patient", "family");
    replaced.expression = "Patient.name.prefix";
    custom.override_builtin(replaced);
    EXPECT_EQ(strings_of(extractor.extract(kPatient), family), std::vector<std::string>{"dr."});

    fhir::SearchParamDef added;
    added.id = fhir::kFirstCustomParamId;
    added.resource_type = "Patient";
    added.code = "x-given";
    added.type = fhir::ParamType::String;
    added.expression = "Patient.name.given";
    added.url = "http://example.org/SearchParameter/x-given";
    custom.add(added);
    IndexRows rows = extractor.extract(kPatient);
    EXPECT_EQ(strings_of(rows, added.id), strings_of(rows, param("Patient", "given")));
    EXPECT_FALSE(strings_of(rows, added.id).empty());
}

// Parameters sharing an expression (name and phonetic are both Patient.name) are
// evaluated once per resource and still each get their rows.
TEST(Extract, ParametersSharingAnExpressionEachGetRows) {
    IndexRows rows = extract(kPatient);
    const std::vector<std::string> name = strings_of(rows, param("Patient", "name"));
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(strings_of(rows, param("Patient", "phonetic")), name);
}

TEST(Extract, CustomParameterWithUnsupportedExpressionIsSkipped) {
    Registry custom = Registry::builtin();
    fhir::SearchParamDef def;
    def.id = fhir::kFirstCustomParamId;
    def.resource_type = "Patient";
    def.code = "x-weird";
    def.type = fhir::ParamType::String;
    def.expression = "Patient.name.family + 'x'";
    def.url = "http://example.org/SearchParameter/x-weird";
    custom.add(def);
    fhir::SearchParamDef good = def;
    good.id = fhir::kFirstCustomParamId + 1;
    good.code = "x-mothers-maiden-name";
    good.expression = "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value";
    good.url = "http://example.org/SearchParameter/x-mmn";
    custom.add(good);
    Extractor extractor(custom);
    Json patient = kPatient;
    patient["extension"] = {
        {{"url", "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"}, {"valueString", "Durand"}}};
    IndexRows rows = extractor.extract(patient);
    EXPECT_EQ(strings_of(rows, good.id), std::vector<std::string>{"durand"});
    EXPECT_TRUE(strings_of(rows, def.id).empty());
}

TEST(Extract, NumbersAndMoney) {
    Json risk =
        Json::parse(R"({"resourceType":"RiskAssessment","id":"ra","status":"final","subject":{"reference":"Patient/p1"},
        "prediction":[{"probabilityDecimal":0.25},{"probabilityDecimal":100}]})");
    IndexRows rows = extract(risk);
    std::vector<std::string> values;
    for (const auto &row : rows.numbers) {
        if (row.param_id == param("RiskAssessment", "probability"))
            values.push_back(row.range.value);
    }
    std::sort(values.begin(), values.end());
    EXPECT_EQ(values, (std::vector<std::string>{"0.25", "100"}));

    Json item = Json::parse(R"({"resourceType":"ChargeItem","id":"ci","status":"billable","code":{"text":"x"},
        "subject":{"reference":"Patient/p1"},"priceOverride":{"value":12.5,"currency":"EUR"}})");
    rows = extract(item);
    bool money = false;
    for (const auto &row : rows.quantities)
        money |= row.param_id == param("ChargeItem", "price-override") && row.system == "urn:iso:std:iso:4217" &&
                 row.code == "EUR" && row.range.value == "12.5";
    EXPECT_TRUE(money);
}

TEST(Extract, TimingEventsAndBounds) {
    Json request = Json::parse(R"({"resourceType":"ServiceRequest","id":"sr","status":"active","intent":"order",
        "subject":{"reference":"Patient/p1"},
        "occurrenceTiming":{"event":["2024-05-01","not-a-date"],
                            "repeat":{"boundsPeriod":{"start":"2024-06-01","end":"2024-06-30"}}}})");
    IndexRows rows = extract(request);
    auto dates = dates_of(rows, param("ServiceRequest", "occurrence"));
    ASSERT_EQ(dates.size(), 2u);
    EXPECT_EQ(dates[0].lo, instant("2024-05-01T00:00:00Z"));
    EXPECT_EQ(dates[1].lo, instant("2024-06-01T00:00:00Z"));
    EXPECT_EQ(dates[1].hi, instant("2024-07-01T00:00:00Z"));
}

TEST(Extract, InvalidValuesAreSkippedNotFatal) {
    Json patient = Json::parse(R"({"resourceType":"Patient","id":"bad","birthDate":"1980-13-45",
        "name":[{"family":42,"given":[null,{"x":1}]}],"identifier":[{"value":7}],"gender":["female"],
        "generalPractitioner":[{"reference":""}],"telecom":"nope"})");
    IndexRows rows;
    ASSERT_NO_THROW(rows = extract(patient));
    EXPECT_TRUE(dates_of(rows, param("Patient", "birthdate")).empty());
    EXPECT_TRUE(strings_of(rows, param("Patient", "family")).empty());
    EXPECT_FALSE(has_token(rows, "Patient", "general-practitioner", TokenForm::Present, ""));
    EXPECT_TRUE(has_token(rows, "Patient", "_id", TokenForm::Code, "bad"));
}

TEST(Extract, UnknownResourceTypeGivesNoRows) {
    IndexRows rows = extract(Json{{"resourceType", "NotAType"}, {"id", "x"}});
    EXPECT_TRUE(rows.tokens.empty());
    rows = extract(Json::parse("[]"));
    EXPECT_TRUE(rows.tokens.empty());
}

// ---- composite pairs ------------------------------------------------------------

// The pair rows of one composite parameter.
std::vector<fhir::CompositeNumberRow> number_pairs(const IndexRows &rows, int param_id) {
    std::vector<fhir::CompositeNumberRow> out;
    for (const auto &row : rows.composite_numbers) {
        if (row.param_id == param_id)
            out.push_back(row);
    }
    return out;
}

TEST(Extract, CompositePairsKeepEachComponentsCodeWithItsOwnValue) {
    IndexRows rows = extract(kBloodPressure);
    const int id = param("Observation", "component-code-value-quantity");
    auto pairs = number_pairs(rows, id);
    ASSERT_EQ(pairs.size(), 6u); // 2 components x (Code, SystemCode, System)
    const int64_t systolic = fhir::token_hash(id, TokenForm::SystemCode, "http://loinc.org|8480-6");
    const int64_t systolic_code = fhir::token_hash(id, TokenForm::Code, "8480-6");
    const int64_t diastolic = fhir::token_hash(id, TokenForm::SystemCode, "http://loinc.org|8462-4");
    std::map<int64_t, std::vector<std::string>> values_by_key;
    for (const auto &row : pairs) {
        EXPECT_EQ(row.component, 1);
        EXPECT_EQ(row.system, "http://unitsofmeasure.org");
        EXPECT_EQ(row.code, "mm[Hg]");
        EXPECT_EQ(row.unit, "mmHg");
        values_by_key[row.key].push_back(row.range.value);
    }
    EXPECT_EQ(values_by_key[systolic], std::vector<std::string>{"120"});
    EXPECT_EQ(values_by_key[systolic_code], std::vector<std::string>{"120"});
    EXPECT_EQ(values_by_key[diastolic], std::vector<std::string>{"80.5"});
    // "http://loinc.org|" (any LOINC code) keys both components' values
    const int64_t any_loinc = fhir::token_hash(id, TokenForm::System, "http://loinc.org|");
    EXPECT_EQ(values_by_key[any_loinc], (std::vector<std::string>{"120", "80.5"}));
    // combo-code-value-quantity reaches the components too; code-value-quantity
    // (the Observation's own value) has nothing to pair.
    EXPECT_EQ(number_pairs(rows, param("Observation", "combo-code-value-quantity")).size(), 6u);
    EXPECT_TRUE(number_pairs(rows, param("Observation", "code-value-quantity")).empty());
    EXPECT_TRUE(rows.composite_dates.empty());
}

TEST(Extract, CompositePairsOfDateAndNumberComponents) {
    Json dated = Json::parse(R"({"resourceType":"Observation","id":"d","status":"final",
        "code":{"coding":[{"code":"x"}]},"valueDateTime":"2023-07-04"})");
    IndexRows rows = extract(dated);
    const int id = param("Observation", "code-value-date");
    ASSERT_EQ(rows.composite_dates.size(), 1u);
    const auto &row = rows.composite_dates[0];
    EXPECT_EQ(row.param_id, id);
    EXPECT_EQ(row.key, fhir::token_hash(id, TokenForm::Code, "x"));
    EXPECT_EQ(row.component, 1);
    EXPECT_EQ(row.lo, instant("2023-07-04T00:00:00Z"));
    EXPECT_EQ(row.hi, instant("2023-07-05T00:00:00Z"));
    // A string component is paired with the normalized text.
    Json text = Json::parse(R"({"resourceType":"Observation","id":"s","status":"final",
        "code":{"coding":[{"code":"note"}]},"valueString":"Trübe X"})");
    rows = extract(text);
    EXPECT_TRUE(rows.composite_numbers.empty());
    EXPECT_TRUE(rows.composite_dates.empty());
    const int string_id = param("Observation", "code-value-string");
    ASSERT_EQ(rows.composite_strings.size(), 1u);
    EXPECT_EQ(rows.composite_strings[0].param_id, string_id);
    EXPECT_EQ(rows.composite_strings[0].key, fhir::token_hash(string_id, TokenForm::Code, "note"));
    EXPECT_EQ(rows.composite_strings[0].component, 1);
    EXPECT_EQ(rows.composite_strings[0].normalized, "trube x");

    // Two number components of one variant share its group; variants differ.
    Json sequence = Json::parse(R"({"resourceType":"MolecularSequence","id":"m","coordinateSystem":0,
        "referenceSeq":{"chromosome":{"coding":[
            {"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"1"}]}},
        "variant":[{"start":100,"end":101},{"start":200,"end":205}]})");
    rows = extract(sequence);
    const int coordinate = param("MolecularSequence", "chromosome-variant-coordinate");
    const int64_t key = fhir::token_hash(coordinate, TokenForm::Code, "1");
    std::map<std::pair<int, int>, std::string> by_group_component;
    for (const auto &pair : number_pairs(rows, coordinate)) {
        if (pair.key == key)
            by_group_component[{pair.group, pair.component}] = pair.range.value;
    }
    EXPECT_EQ(number_pairs(rows, coordinate).size(), 12u); // 2 variants x 3 keys x 2 values
    ASSERT_EQ(by_group_component.size(), 4u);
    EXPECT_EQ((by_group_component[{1, 1}]), "100");
    EXPECT_EQ((by_group_component[{1, 2}]), "101");
    EXPECT_EQ((by_group_component[{2, 1}]), "200");
    EXPECT_EQ((by_group_component[{2, 2}]), "205");
}

// Several token components: every combination of their values is one key.
TEST(Extract, CompositePairsCombineSeveralTokenComponents) {
    Registry custom = Registry::builtin();
    fhir::SearchParamDef def;
    def.id = fhir::kFirstCustomParamId + 7;
    def.resource_type = "Observation";
    def.code = "code-status-value";
    def.type = fhir::ParamType::Composite;
    def.expression = "Observation";
    def.components = {{custom.find("Observation", "code")->url, "code"},
                      {custom.find("Observation", "status")->url, "status"},
                      {custom.find("Observation", "value-quantity")->url, "value.as(Quantity)"}};
    custom.add(def);
    Extractor extractor(custom);
    IndexRows rows = extractor.extract(Json::parse(R"({"resourceType":"Observation","id":"g","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"15074-8"}]},
        "valueQuantity":{"value":6.3,"unit":"mmol/l"}})"));
    auto pairs = number_pairs(rows, def.id);
    ASSERT_EQ(pairs.size(), 3u); // code (Code, SystemCode, System) x status (Code)
    const int64_t parts[] = {fhir::token_hash(def.id, TokenForm::SystemCode, "http://loinc.org|15074-8"),
                             fhir::token_hash(def.id, TokenForm::Code, "final")};
    const int64_t key = fhir::composite_key_hash(parts, 2);
    EXPECT_TRUE(std::any_of(pairs.begin(), pairs.end(), [&](const auto &p) { return p.key == key; }));
    for (const auto &pair : pairs) {
        EXPECT_EQ(pair.component, 2);
        EXPECT_EQ(pair.range.value, "6.3");
        EXPECT_EQ(pair.unit, "mmol/l");
    }
}

// ---- full text --------------------------------------------------------------------

TEST(Extract, FullTextOnlyWhenEnabled) {
    Json patient = Json::parse(R"({"resourceType":"Patient","id":"ft",
        "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Zoë &amp; co</p></div>"},
        "name":[{"family":"Müller"}]})");
    IndexRows rows = extract(patient); // the built-in registry: _text/_content disabled
    EXPECT_TRUE(rows.texts.empty());
    EXPECT_FALSE(has_token(rows, "Patient", "_text", TokenForm::Present, ""));

    static Registry enabled = [] {
        Registry r = Registry::builtin();
        r.set_enabled(r.find("Patient", "_text")->id, true);
        r.set_enabled(r.find("Patient", "_content")->id, true);
        return r;
    }();
    Extractor extractor(enabled);
    rows = extractor.extract(patient);
    ASSERT_EQ(rows.texts.size(), 2u);
    for (const auto &row : rows.texts) {
        if (row.param_id == param("Patient", "_text"))
            EXPECT_EQ(row.document, "zoe & co");
        else
            EXPECT_EQ(row.document, "ft muller zoe & co generated"); // id, name, text.div, text.status
    }
    EXPECT_TRUE(has_token(rows, "Patient", "_text", TokenForm::Present, ""));
    EXPECT_TRUE(has_token(rows, "Patient", "_content", TokenForm::Present, ""));
    // No narrative: no _text row and no Present token (so _text:missing=true finds it).
    rows = extractor.extract(Json::parse(R"({"resourceType":"Patient","id":"plain"})"));
    ASSERT_EQ(rows.texts.size(), 1u);
    EXPECT_EQ(rows.texts[0].param_id, param("Patient", "_content"));
    EXPECT_FALSE(has_token(rows, "Patient", "_text", TokenForm::Present, ""));
}

} // namespace

TEST(Extract, RangeIsOneSpanRowWithoutPointValue) {
    IndexRows rows = extract(Json::parse(R"({"resourceType":"Condition","id":"c1",
        "onsetRange":{"low":{"value":5,"system":"http://unitsofmeasure.org","code":"a"},"high":{"value":10.5}}})"));
    std::vector<const fhir::QuantityRow *> spans;
    for (const auto &row : rows.quantities) {
        if (row.param_id == param("Condition", "onset-age"))
            spans.push_back(&row);
    }
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0]->range.value, "");
    EXPECT_EQ(spans[0]->range.lo, "5");
    EXPECT_EQ(spans[0]->range.hi, "10.5");
    EXPECT_EQ(spans[0]->system, "http://unitsofmeasure.org");
    EXPECT_EQ(spans[0]->code, "a");
}

TEST(Extract, RangeWithOneBoundIsOpenOnTheOther) {
    IndexRows rows = extract(Json::parse(R"({"resourceType":"RiskAssessment","id":"r1","status":"final",
        "prediction":[{"probabilityRange":{"high":{"value":0.4}}}]})"));
    ASSERT_EQ(rows.numbers.size(), 1u);
    EXPECT_EQ(rows.numbers[0].range.value, "");
    EXPECT_EQ(rows.numbers[0].range.lo, "-Infinity");
    EXPECT_EQ(rows.numbers[0].range.hi, "0.4");
}

TEST(Extract, RangeWithoutBoundValuesGivesNothing) {
    IndexRows rows = extract(Json::parse(R"({"resourceType":"Condition","id":"c2","onsetRange":{"low":{"unit":"a"}}})"));
    for (const auto &row : rows.quantities)
        EXPECT_NE(row.param_id, param("Condition", "onset-age"));
}

TEST(Extract, CodeableConceptWithOnlyTextAnswersTextModifier) {
    IndexRows rows = extract(Json::parse(R"({"resourceType":"Observation","status":"final","code":{"text":"Pulse"},
        "category":[{"text":"Vital Signs"}]})"));
    EXPECT_EQ(texts_of(rows, param("Observation", "code")), std::vector<std::string>{"pulse"});
    EXPECT_EQ(texts_of(rows, param("Observation", "category")), std::vector<std::string>{"vital signs"});
    EXPECT_TRUE(has_token(rows, "Observation", "status", TokenForm::Code, "final"));
}
