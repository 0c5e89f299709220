// everything_query_test.cpp: $everything's parameters, cursors, clinical date
// parameters and page SQL (everything_query.h).
#include "everything_query.h"

#include "error.h"

#include <gtest/gtest.h>

namespace {

const fhir::Registry &registry() {
    static const fhir::Registry r = fhir::Registry::builtin();
    return r;
}

void expect_invalid(const std::string &query, bool care_dates = true) {
    try {
        fhir::parse_everything_query(query, care_dates);
        ADD_FAILURE() << "accepted " << query;
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidSearch) << query;
    }
}

} // namespace

TEST(EverythingQueryTest, Parameters) {
    fhir::EverythingQuery q = fhir::parse_everything_query(
        "?start=2020-01-01&end=2020-12&_since=2021-05-01T10:00:00Z&_type=Observation,Condition&_type=Encounter&_count=7");
    EXPECT_TRUE(q.dated);
    EXPECT_EQ(fhir::format_instant(q.start), "2020-01-01T00:00:00Z");
    EXPECT_EQ(fhir::format_instant(q.end), "2021-01-01T00:00:00Z"); // end's last instant, exclusive
    EXPECT_EQ(fhir::format_instant(q.since), "2021-05-01T10:00:00Z");
    EXPECT_EQ(q.types, (std::vector<std::string>{"Observation", "Condition", "Encounter"}));
    EXPECT_EQ(q.count, 7);
    EXPECT_EQ(q.link_query,
              "start=2020-01-01&end=2020-12&_since=2021-05-01T10:00:00Z&_type=Observation,Condition&_type=Encounter&_count=7");
    fhir::EverythingQuery none = fhir::parse_everything_query("");
    EXPECT_FALSE(none.dated);
    EXPECT_EQ(none.start, fhir::kMinTime);
    EXPECT_EQ(none.end, fhir::kMaxTime);
    EXPECT_TRUE(none.types.empty());
    // A whole next link is accepted.
    fhir::EverythingQuery link = fhir::parse_everything_query(
        "http://x/fhir/Patient/1/$everything?_count=2&_cursor=" +
        fhir::encode_everything_cursor({1, 42}));
    ASSERT_TRUE(link.cursor.has_value());
    EXPECT_EQ(link.cursor->group, 1);
    EXPECT_EQ(link.cursor->rid, 42);
    EXPECT_EQ(link.link_query, "_count=2");
}

TEST(EverythingQueryTest, Errors) {
    expect_invalid("code=x");
    expect_invalid("_count=2&_count=3");
    expect_invalid("start=2020-13-01");
    expect_invalid("start=2021-01-01&end=2020-01-01");
    expect_invalid("_type=NotAType");
    expect_invalid("_type=");
    expect_invalid("_cursor=garbage");
    expect_invalid("start=2020", /*care_dates=*/false); // Encounter-everything has no start/end
    EXPECT_NO_THROW(fhir::parse_everything_query("_since=2020", false));
}

TEST(EverythingQueryTest, ClinicalDates) {
    auto code = [](const char *type) {
        const fhir::SearchParamDef *p = fhir::clinical_date_param(registry(), type);
        return p ? p->code : std::string("-");
    };
    EXPECT_EQ(code("Observation"), "date");
    EXPECT_EQ(code("Encounter"), "date");
    EXPECT_EQ(code("Procedure"), "date");
    EXPECT_EQ(code("Condition"), "onset-date");
    EXPECT_EQ(code("MedicationRequest"), "authoredon");
    EXPECT_EQ(code("MedicationDispense"), "whenhandedover");
    EXPECT_EQ(code("Specimen"), "collected");
    EXPECT_EQ(code("Patient"), "-");
    EXPECT_EQ(code("Practitioner"), "-");
    EXPECT_EQ(code("Organization"), "-");
    for (const char *t : {"MedicationAdministration", "MedicationStatement", "ServiceRequest", "DeviceRequest",
                          "ImagingStudy", "Claim", "ExplanationOfBenefit"})
        EXPECT_NE(code(t), "-") << t;
}

TEST(EverythingQueryTest, PageSql) {
    fhir::EverythingQuery plain = fhir::parse_everything_query("");
    std::string sql = fhir::everything_page_sql("Patient", plain, {{"Observation", false}, {"Condition", true}}, {"Observation", "Practitioner"});
    // One branch per member type over its partition, each with its own hashes.
    EXPECT_NE(sql.find("FROM fhir.resource_observation r WHERE r.tokens && $11::bigint[]"), std::string::npos);
    EXPECT_NE(sql.find("FROM fhir.resource_condition r WHERE fhir.tokens_overlap(r.tokens, $12::bigint[])"),
              std::string::npos);
    EXPECT_EQ(sql.find("$13"), std::string::npos);
    // References and content are looked up in the stored types' partitions only.
    EXPECT_NE(sql.find("FROM fhir.resource_practitioner t WHERE g.target_type = 'Practitioner' AND t.rtype = 'Practitioner' AND "
                       "t.id = g.target_id"),
              std::string::npos);
    EXPECT_NE(sql.find("FROM fhir.resource_observation c WHERE p.rtype = 'Observation' AND c.rtype = 'Observation' AND c.id = p.id"),
              std::string::npos);
    EXPECT_EQ(sql.find("FROM fhir.resource "), std::string::npos);
    EXPECT_EQ(sql.find("search_date"), std::string::npos); // no care range, no date probe
    EXPECT_EQ(sql.find("$8"), std::string::npos);          // no cursor
    EXPECT_EQ(sql.find("$7"), std::string::npos);          // no _type
    EXPECT_EQ(sql.find("$3"), std::string::npos);          // no _since
    fhir::EverythingQuery all = fhir::parse_everything_query(
        "start=2020&_since=2020&_type=Observation&_cursor=" + fhir::encode_everything_cursor({2, 5}));
    sql = fhir::everything_page_sql("Encounter", all, {}, {});
    EXPECT_NE(sql.find("FROM fhir.resource_encounter f WHERE f.id = $2"), std::string::npos);
    EXPECT_EQ(sql.find("UNION ALL SELECT r.rid"), std::string::npos); // the focal resource alone
    EXPECT_NE(sql.find("last_updated >= $3"), std::string::npos);
    EXPECT_NE(sql.find("bool_or(d.hi > $4 AND d.lo < $5)"), std::string::npos);
    EXPECT_NE(sql.find("(a.grp, a.rid) > ($8, $9)"), std::string::npos);
    EXPECT_NE(sql.find("s.target_type = ANY ($7::text[])"), std::string::npos);
}
