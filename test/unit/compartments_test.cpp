// compartments_test.cpp: the generated R4 compartment tables and the tokens of a
// compartment search (compartments.h), checked against what the extractor
// stores for references in their written forms.
#include "compartments.h"

#include "error.h"
#include "extract.h"
#include "json.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using fhir::Compartment;
using fhir::Json;

const fhir::Registry &registry() {
    static const fhir::Registry r = fhir::Registry::builtin();
    return r;
}

bool contains(const std::vector<std::string> &list, const std::string &item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// Whether the extracted tokens of `resource` hold one of the condition's hashes.
bool in_compartment(const Json &resource, const Compartment &c, const std::string &base = "") {
    static const fhir::Extractor extractor(registry());
    fhir::IndexRows rows = extractor.extract(resource);
    fhir::CompartmentCondition cond =
        fhir::compartment_condition(registry(), c, resource["resourceType"].get<std::string>(), base);
    if (cond.focal && resource["id"] == c.id)
        return true;
    for (int64_t h : cond.hashes)
        if (std::binary_search(rows.tokens.begin(), rows.tokens.end(), h))
            return true;
    return false;
}

} // namespace

TEST(CompartmentsTest, FiveDefinitionsGenerated) {
    EXPECT_EQ(fhir::compartment_types(),
              (std::vector<std::string>{"Device", "Encounter", "Patient", "Practitioner", "RelatedPerson"}));
    EXPECT_EQ(fhir::compartment_url("Patient"), "http://hl7.org/fhir/CompartmentDefinition/patient");
    EXPECT_EQ(fhir::compartment_url("RelatedPerson"), "http://hl7.org/fhir/CompartmentDefinition/relatedPerson");
    EXPECT_EQ(fhir::compartment_url("Observation"), "");
    // Counts of member types (with parameters) per R4 4.0.1 definition, plus the
    // focal type where the definition does not list it (Device).
    EXPECT_EQ(fhir::compartment_member_types("Patient").size(), 66u);
    EXPECT_EQ(fhir::compartment_member_types("Encounter").size(), 25u);
    EXPECT_EQ(fhir::compartment_member_types("Practitioner").size(), 59u);
    EXPECT_EQ(fhir::compartment_member_types("RelatedPerson").size(), 32u);
    EXPECT_EQ(fhir::compartment_member_types("Device").size(), 33u);
    EXPECT_TRUE(fhir::compartment_member_types("Observation").empty());
}

TEST(CompartmentsTest, MemberParameters) {
    EXPECT_EQ(fhir::compartment_params("Patient", "Observation"),
              (std::vector<std::string>{"subject", "performer"}));
    EXPECT_EQ(fhir::compartment_params("Patient", "AllergyIntolerance"),
              (std::vector<std::string>{"patient", "recorder", "asserter"}));
    EXPECT_EQ(fhir::compartment_params("Patient", "Patient"), (std::vector<std::string>{"link"}));
    EXPECT_TRUE(fhir::compartment_params("Encounter", "Encounter").empty()); // {def} only
    EXPECT_TRUE(fhir::is_compartment_member("Encounter", "Encounter"));
    EXPECT_TRUE(fhir::is_compartment_member("Device", "Device"));
    EXPECT_TRUE(contains(fhir::compartment_params("Practitioner", "Observation"), "performer"));
    EXPECT_FALSE(fhir::is_compartment_member("Patient", "Organization"));
    EXPECT_FALSE(fhir::is_compartment_member("Encounter", "Patient"));
    EXPECT_FALSE(fhir::is_compartment_member("Observation", "Observation"));
    // Every listed parameter is a reference parameter of the registry.
    for (const std::string &ct : fhir::compartment_types())
        for (const std::string &rt : fhir::compartment_member_types(ct))
            for (const std::string &code : fhir::compartment_params(ct, rt)) {
                const fhir::SearchParamDef *p = registry().find(rt, code);
                ASSERT_NE(p, nullptr) << ct << " " << rt << "." << code;
                EXPECT_EQ(p->type, fhir::ParamType::Reference) << rt << "." << code;
            }
}

TEST(CompartmentsTest, ParsesTypeSlashId) {
    Compartment c = fhir::parse_compartment("Patient/p-1.2");
    EXPECT_EQ(c.type, "Patient");
    EXPECT_EQ(c.id, "p-1.2");
    for (const char *bad : {"Patient", "Patient/", "/1", "Patient/1/2", "Observation/1", "patient/1", "Patient/a b",
                            "Patient/a_b", ""}) {
        try {
            fhir::parse_compartment(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const fhir::Error &e) {
            EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidSearch) << bad;
        }
    }
}

TEST(CompartmentsTest, HashesMatchStoredReferenceForms) {
    const Compartment p{"Patient", "123"};
    auto obs = [](const Json &extra) {
        Json o = {{"resourceType", "Observation"}, {"id", "o1"}, {"status", "final"}, {"code", {{"text", "x"}}}};
        o.update(extra);
        return o;
    };
    EXPECT_TRUE(in_compartment(obs({{"subject", {{"reference", "Patient/123"}}}}), p));
    EXPECT_TRUE(in_compartment(obs({{"subject", {{"reference", "Patient/123/_history/4"}}}}), p));
    EXPECT_TRUE(in_compartment(obs({{"performer", {{{"reference", "Patient/123"}}}}}), p)); // second parameter
    EXPECT_FALSE(in_compartment(obs({{"subject", {{"reference", "Patient/1234"}}}}), p));
    EXPECT_FALSE(in_compartment(obs({{"subject", {{"reference", "Group/123"}}}}), p));
    EXPECT_FALSE(in_compartment(obs({{"focus", {{{"reference", "Patient/123"}}}}}), p)); // not a linking parameter
    // An absolute reference is this server's when it starts with the base URL.
    const Json absolute = obs({{"subject", {{"reference", "http://example.org/fhir/Patient/123"}}}});
    EXPECT_TRUE(in_compartment(absolute, p, "http://example.org/fhir/"));
    EXPECT_FALSE(in_compartment(absolute, p, "http://other.org/fhir/"));
    EXPECT_FALSE(in_compartment(absolute, p, ""));
    EXPECT_TRUE(in_compartment(obs({{"subject", {{"reference", "http://example.org/fhir/Patient/123/_history/2"}}}}), p,
                               "http://example.org/fhir/"));
    // The focal resource, and another Patient linked to it.
    EXPECT_TRUE(in_compartment({{"resourceType", "Patient"}, {"id", "123"}}, p));
    EXPECT_FALSE(in_compartment({{"resourceType", "Patient"}, {"id", "124"}}, p));
    EXPECT_TRUE(in_compartment({{"resourceType", "Patient"},
                                {"id", "9"},
                                {"link", {{{"other", {{"reference", "Patient/123"}}}, {"type", "seealso"}}}}},
                               p));
    // Practitioner compartment through Observation.performer.
    EXPECT_TRUE(in_compartment(obs({{"performer", {{{"reference", "Practitioner/d1"}}}}}), {"Practitioner", "d1"}));
    EXPECT_FALSE(in_compartment(obs({{"subject", {{"reference", "Patient/d1"}}}}), {"Practitioner", "d1"}));
    // A type outside the compartment has no condition at all.
    fhir::CompartmentCondition none = fhir::compartment_condition(registry(), p, "Organization", "");
    EXPECT_TRUE(none.hashes.empty());
    EXPECT_FALSE(none.focal);
}

TEST(CompartmentsTest, DisabledParametersAreNotUsed) {
    fhir::Registry r = fhir::Registry::builtin();
    r.set_enabled(r.find("Observation", "performer")->id, false);
    fhir::CompartmentCondition c = fhir::compartment_condition(r, {"Patient", "1"}, "Observation", "");
    EXPECT_EQ(c.hashes.size(), 1u); // subject only
    EXPECT_EQ(c.disabled, (std::vector<std::string>{"performer"}));
}

TEST(CompartmentsTest, WhereClause) {
    const Compartment p{"Patient", "123"};
    fhir::SqlFragment one = fhir::compartment_where(registry(), p, {"Observation"}, "", "r", 3);
    EXPECT_EQ(one.where, "r.tokens && $3::bigint[]");
    ASSERT_EQ(one.params.size(), 1u);
    EXPECT_EQ(one.params[0].ints.size(), 2u); // subject, performer
    fhir::SqlFragment focal = fhir::compartment_where(registry(), p, {"Patient"}, "", "r", 1);
    EXPECT_EQ(focal.where, "(r.tokens && $1::bigint[] OR r.id = $2::text)"); // link, and Patient/123 itself
    EXPECT_EQ(focal.params[1].text, "123");
    fhir::SqlFragment none = fhir::compartment_where(registry(), p, {"Organization"}, "", "r", 1);
    EXPECT_EQ(none.where, "false");
    EXPECT_TRUE(none.params.empty());
    fhir::SqlFragment all =
        fhir::compartment_where(registry(), p, fhir::compartment_member_types("Patient"), "http://x/fhir/", "r", 1);
    EXPECT_EQ(all.where, "(fhir.tokens_overlap(r.tokens, $1::bigint[]) OR (r.rtype = $3::text AND r.id = $2::text))");
    EXPECT_GT(all.params[0].ints.size(), 64u);
    EXPECT_TRUE(std::is_sorted(all.params[0].ints.begin(), all.params[0].ints.end()));
}
