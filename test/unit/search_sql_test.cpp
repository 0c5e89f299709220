// search_sql_test.cpp: unit tests of the SQL generated for FHIR searches (search_sql.h).
//
// The generated text is compared exactly for the simple shapes, so a change in
// the SQL is a deliberate one, and the parameters are checked to carry the
// values: hashes recomputed here with token_hash and the forms extract.cpp
// writes, dates as microseconds, decimals as text. User text must only ever
// appear in parameters, never in the SQL.
#include "search_sql.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "error.h"
#include "values.h"

using fhir::Registry;
using fhir::SqlFragment;
using fhir::SqlParam;
using fhir::TokenForm;
using fhir::token_hash;

namespace {

constexpr int64_t kDay = 86400LL * 1000000LL;
constexpr int64_t kNow = 1700000000LL * 1000000LL; // 2023-11-14T22:13:20Z

// The built-in registry, built once for all tests.
const Registry &registry() {
    static const Registry r = Registry::builtin();
    return r;
}

// The id of a built-in parameter.
int id_of(const char *type, const char *code) {
    return registry().find(type, code)->id;
}

// Parses strictly and builds over alias r from $1 with a fixed "now".
SqlFragment sql(const std::string &type, const std::string &query, int first = 1, const char *alias = "r") {
    fhir::SqlOptions options;
    options.now_micros = kNow;
    return fhir::build_where(fhir::parse_search_query(registry(), type, query, true), alias, first, options);
}

// An Int8Array parameter's hashes, sorted like the builder sorts them.
std::vector<int64_t> sorted(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace

// No clauses: the condition is "true" and there are no parameters.
TEST(SearchSqlTest, Empty) {
    SqlFragment f = sql("Patient", "_count=5");
    EXPECT_EQ(f.where, "true");
    EXPECT_TRUE(f.params.empty());
}

// Token values become one array of hashes in the forms extract.cpp writes.
TEST(SearchSqlTest, Token) {
    int id = id_of("Observation", "code");
    SqlFragment f = sql("Observation", "code=a,http://loinc.org|1234,|b,http://loinc.org|");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    ASSERT_EQ(f.params.size(), 1u);
    EXPECT_EQ(f.params[0].kind, SqlParam::Int8Array);
    EXPECT_EQ(f.params[0].ints, sorted({token_hash(id, TokenForm::Code, "a"),
                                        token_hash(id, TokenForm::SystemCode, "http://loinc.org|1234"),
                                        token_hash(id, TokenForm::NoSystemCode, "b"),
                                        token_hash(id, TokenForm::System, "http://loinc.org|")}));
}

// :not negates the array match; :of-type uses the OfType form; :text searches display texts.
TEST(SearchSqlTest, TokenModifiers) {
    int id = id_of("Observation", "code");
    SqlFragment f = sql("Observation", "code:not=a,b");
    EXPECT_EQ(f.where, "(NOT (r.tokens && $1::bigint[]))");
    EXPECT_EQ(f.params[0].ints.size(), 2u);

    int ident = id_of("Patient", "identifier");
    f = sql("Patient", "identifier:of-type=http://t.org|MR|123");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(ident, TokenForm::OfType, "http://t.org|MR|123")});

    f = sql("Observation", "code:text=Glucose");
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_string fs_s1 WHERE fs_s1.rid = r.rid AND fs_s1.param = -" +
                           std::to_string(id) + " AND ((fs_s1.norm >= $1::text AND fs_s1.norm < $2::text))))");
    EXPECT_EQ(f.params[0].text, "glucose");
    EXPECT_EQ(f.params[1].text, "glucosf");
}

// :missing uses the Present hash for every type; _id/_lastUpdated are never missing.
TEST(SearchSqlTest, Missing) {
    int id = id_of("Patient", "birthdate");
    SqlFragment f = sql("Patient", "birthdate:missing=true");
    EXPECT_EQ(f.where, "(NOT (r.tokens @> $1::bigint[]))");
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(id, TokenForm::Present, "")});
    f = sql("Patient", "name:missing=false");
    EXPECT_EQ(f.where, "(r.tokens @> $1::bigint[])");
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(id_of("Patient", "name"), TokenForm::Present, "")});
    EXPECT_EQ(sql("Patient", "_id:missing=true").where, "(false)");
    EXPECT_EQ(sql("Patient", "_lastUpdated:missing=false").where, "(true)");
}

// String default is a starts-with range on the normalized text.
TEST(SearchSqlTest, StringStartsWith) {
    int id = id_of("Patient", "name");
    SqlFragment f = sql("Patient", "name=Élodie", 3);
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_string fs_s1 WHERE fs_s1.rid = r.rid AND fs_s1.param = " +
                           std::to_string(id) + " AND ((fs_s1.norm >= $3::text AND fs_s1.norm < $4::text))))");
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params[0].text, fhir::normalize_string("Élodie"));
    EXPECT_EQ(f.params[1].text, fhir::prefix_successor(fhir::normalize_string("Élodie")));
}

// :exact compares the text as written; :contains escapes LIKE metacharacters.
TEST(SearchSqlTest, StringExactContains) {
    SqlFragment f = sql("Patient", "name:exact=Eve,Adam");
    EXPECT_NE(f.where.find("((fs_s1.exact = $1::text) OR (fs_s1.exact = $2::text))"), std::string::npos);
    EXPECT_EQ(f.params[0].text, "Eve");
    EXPECT_EQ(f.params[1].text, "Adam");
    f = sql("Patient", "name:contains=50%25_a\\\\b");
    EXPECT_NE(f.where.find("fs_s1.norm LIKE $1::text"), std::string::npos);
    EXPECT_EQ(f.params[0].text, "%50\\%\\_a\\\\b%");
}

// Injection attempts only ever appear in parameters.
TEST(SearchSqlTest, InjectionStaysInParams) {
    const std::string evil = "';drop table x;--";
    for (const std::string &query :
         {"name=" + evil, "name:exact=" + evil, "name:contains=" + evil, "gender=" + evil, "gender=" + evil + "|" + evil,
          "_id=" + evil, "general-practitioner=" + evil, "general-practitioner:Practitioner=" + evil,
          "organization.name=" + evil, "_has:Observation:patient:code=" + evil}) {
        SqlFragment f = sql("Patient", query);
        EXPECT_EQ(f.where.find("drop"), std::string::npos) << query;
        std::string rest = f.where;
        // registry type names and the fixed local-reference prefix '#' (chains into contained resources)
        for (const std::string type : {"'Patient'", "'Organization'", "'Patient/'", "'Organization/'", "'#'"}) {
            for (size_t at; (at = rest.find(type)) != std::string::npos;)
                rest.erase(at, type.size());
        }
        EXPECT_EQ(rest.find('\''), std::string::npos) << query;
    }
    SqlFragment f = sql("Patient", "name:exact=" + evil);
    EXPECT_EQ(f.params[0].text, evil);
    // Only registry type names are quoted literals.
    f = sql("Observation", "subject:Patient.name=" + evil);
    EXPECT_NE(f.where.find("'Patient'"), std::string::npos);
    EXPECT_EQ(f.where.find("drop"), std::string::npos);
    // A bad alias is refused.
    EXPECT_THROW(sql("Patient", "name=x", 1, "r; drop"), fhir::Error);
    EXPECT_THROW(sql("Patient", "name=x", 1, "R"), fhir::Error);
}

// Date prefixes against stored ranges, per the R4 definitions.
TEST(SearchSqlTest, DatePrefixes) {
    const std::string head = "(EXISTS (SELECT 1 FROM fhir.search_date fs_d1 WHERE fs_d1.rid = r.rid AND fs_d1.param = " +
                             std::to_string(id_of("Patient", "birthdate")) + " AND ";
    auto cond = [&](const char *prefix) {
        SqlFragment f = sql("Patient", std::string("birthdate=") + prefix + "2000-01-01");
        EXPECT_EQ(f.where.substr(0, head.size()), head);
        // Strip the value's own parentheses too.
        return f.where.substr(head.size() + 1, f.where.size() - head.size() - 4);
    };
    // eq, le and eb also bound lo from above (stored rows have lo <= hi), for the lo index.
    EXPECT_EQ(cond("eq"), "fs_d1.lo >= $1::timestamptz AND fs_d1.hi <= $2::timestamptz AND fs_d1.lo <= $2::timestamptz");
    EXPECT_EQ(cond(""), "fs_d1.lo >= $1::timestamptz AND fs_d1.hi <= $2::timestamptz AND fs_d1.lo <= $2::timestamptz");
    EXPECT_EQ(cond("ne"), "NOT (fs_d1.lo >= $1::timestamptz AND fs_d1.hi <= $2::timestamptz)");
    EXPECT_EQ(cond("gt"), "fs_d1.hi > $1::timestamptz");
    EXPECT_EQ(cond("lt"), "fs_d1.lo < $1::timestamptz");
    EXPECT_EQ(cond("ge"), "fs_d1.hi > $2::timestamptz OR (fs_d1.lo >= $1::timestamptz AND fs_d1.hi <= $2::timestamptz)");
    EXPECT_EQ(cond("le"), "(fs_d1.lo < $1::timestamptz OR (fs_d1.lo >= $1::timestamptz AND fs_d1.hi <= $2::timestamptz)) "
                          "AND fs_d1.lo <= $2::timestamptz");
    EXPECT_EQ(cond("sa"), "fs_d1.lo >= $1::timestamptz");
    EXPECT_EQ(cond("eb"), "fs_d1.hi <= $1::timestamptz AND fs_d1.lo <= $1::timestamptz");
    EXPECT_EQ(cond("ap"), "fs_d1.lo < $1::timestamptz AND fs_d1.hi > $2::timestamptz");

    const int64_t lo = 946684800LL * 1000000, hi = lo + kDay;
    SqlFragment f = sql("Patient", "birthdate=gt2000-01-01");
    EXPECT_EQ(f.params[0].kind, SqlParam::TimestampTz);
    EXPECT_EQ(f.params[0].micros, hi);
    f = sql("Patient", "birthdate=2000-01-01");
    EXPECT_EQ(f.params[0].micros, lo);
    EXPECT_EQ(f.params[1].micros, hi);
    // ap widens by 10% of the distance to now (about 2.4 years here).
    f = sql("Patient", "birthdate=ap2000-01-01");
    const int64_t widen = (kNow - lo) / 10;
    EXPECT_EQ(f.params[0].micros, hi + widen);
    EXPECT_EQ(f.params[1].micros, lo - widen);
    // ...and by at least a day near now.
    f = sql("Patient", "birthdate=ap" + fhir::format_instant(kNow));
    EXPECT_EQ(f.params[1].micros, kNow - kDay);
}

// Several clauses of a date parameter: one EXISTS over one row when the caller
// says no resource has several values of it, one EXISTS per clause otherwise.
TEST(SearchSqlTest, DateClausesOnOneRow) {
    const int date = id_of("Observation", "date");
    const std::string q = "date=ge2020-01-01&code=x&date=lt2020-02-01,gt2021&subject:Patient.birthdate=lt1990";
    fhir::SqlOptions options;
    options.now_micros = kNow;
    options.contained_types = std::set<std::string>{}; // chains reach top-level targets only
    auto count = [](const std::string &text, const std::string &what) {
        size_t n = 0;
        for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
            n++;
        return n;
    };
    auto build = [&](const fhir::SqlOptions &o) {
        return fhir::build_where(fhir::parse_search_query(registry(), "Observation", q, true), "r", 1, o);
    };
    EXPECT_EQ(fhir::repeated_date_params(fhir::parse_search_query(registry(), "Observation", q, true)),
              std::vector<int>{date});
    SqlFragment per_clause = build(options);
    // two for date, three for the chained birthdate (forward_link repeats the target condition)
    EXPECT_EQ(count(per_clause.where, "FROM fhir.search_date"), 5u);
    options.single_valued_date_params = {date};
    SqlFragment one_row = build(options);
    EXPECT_EQ(count(one_row.where, "FROM fhir.search_date"), 4u);
    // the merged condition comes first (the place of the first date clause), ANDs
    // both clauses on the same row, and keeps the OR of the second clause's values
    const std::string head = "(EXISTS (SELECT 1 FROM fhir.search_date fs_d1 WHERE fs_d1.rid = r.rid AND fs_d1.param = " +
                             std::to_string(date) + " AND ((fs_d1.hi > $2::timestamptz OR (fs_d1.lo >= $1::timestamptz AND "
                             "fs_d1.hi <= $2::timestamptz))) AND (((fs_d1.lo < $3::timestamptz) OR (fs_d1.hi > $4::timestamptz)))))";
    EXPECT_EQ(one_row.where.substr(0, head.size()), head);
    EXPECT_EQ(per_clause.params.size(), one_row.params.size());
    // :missing and chained clauses are never merged
    EXPECT_TRUE(fhir::repeated_date_params(
                    fhir::parse_search_query(registry(), "Observation", "date:missing=false&date=lt2020", true))
                    .empty());
}

// OR-ed dates share one EXISTS.
TEST(SearchSqlTest, DateOr) {
    SqlFragment f = sql("Patient", "birthdate=lt1960,gt1970");
    EXPECT_NE(f.where.find("((fs_d1.lo < $1::timestamptz) OR (fs_d1.hi > $2::timestamptz))"), std::string::npos);
    EXPECT_EQ(f.params.size(), 2u);
}

// _lastUpdated compares the row's instant directly.
TEST(SearchSqlTest, LastUpdated) {
    EXPECT_EQ(sql("Patient", "_lastUpdated=2020").where,
              "((r.last_updated >= $1::timestamptz AND r.last_updated < $2::timestamptz))");
    EXPECT_EQ(sql("Patient", "_lastUpdated=gt2020").where, "((r.last_updated >= $1::timestamptz))");
    EXPECT_EQ(sql("Patient", "_lastUpdated=ge2020").where, "((r.last_updated >= $1::timestamptz))");
    EXPECT_EQ(sql("Patient", "_lastUpdated=lt2020").where, "((r.last_updated < $1::timestamptz))");
    EXPECT_EQ(sql("Patient", "_lastUpdated=le2020").where, "((r.last_updated < $1::timestamptz))");
    SqlFragment gt = sql("Patient", "_lastUpdated=gt2020");
    SqlFragment ge = sql("Patient", "_lastUpdated=ge2020");
    SqlFragment le = sql("Patient", "_lastUpdated=le2020");
    EXPECT_EQ(ge.params[0].micros, 1577836800LL * 1000000);        // start of 2020
    EXPECT_EQ(gt.params[0].micros, 1609459200LL * 1000000);        // start of 2021
    EXPECT_EQ(le.params[0].micros, 1609459200LL * 1000000);        // before the end of 2020
    EXPECT_EQ(sql("Patient", "_lastUpdated=ne2020").where,
              "((NOT (r.last_updated >= $1::timestamptz AND r.last_updated < $2::timestamptz)))");
}

// _id matches the id column.
TEST(SearchSqlTest, Id) {
    SqlFragment f = sql("Patient", "_id=a,b", 1, "p");
    EXPECT_EQ(f.where, "(p.id = ANY($1::text[]))");
    EXPECT_EQ(f.params[0].kind, SqlParam::TextArray);
    EXPECT_EQ(f.params[0].texts, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sql("Patient", "_id:not=a").where, "(NOT (r.id = ANY($1::text[])))");
}

// References: Type/id, bare ids (plus Type/id for single-target params), URLs, :Type, :identifier.
TEST(SearchSqlTest, References) {
    int subject = id_of("Observation", "subject");
    SqlFragment f = sql("Observation", "subject=Patient/1,2,http://x.org/fhir/Patient/3");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    EXPECT_EQ(f.params[0].ints, sorted({token_hash(subject, TokenForm::Reference, "Patient/1"),
                                        token_hash(subject, TokenForm::ReferenceId, "2"),
                                        token_hash(subject, TokenForm::Reference, "http://x.org/fhir/Patient/3")}));
    int org = id_of("Patient", "organization");
    f = sql("Patient", "organization=7");
    EXPECT_EQ(f.params[0].ints, sorted({token_hash(org, TokenForm::ReferenceId, "7"),
                                        token_hash(org, TokenForm::Reference, "Organization/7")}));
    f = sql("Observation", "subject:Patient=5");
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(subject, TokenForm::Reference, "Patient/5")});
    f = sql("Observation", "subject:identifier=http://h|M1,M2,|M3");
    EXPECT_EQ(f.params[0].ints, sorted({token_hash(subject, TokenForm::SystemCode, "identifier:http://h|M1"),
                                        token_hash(subject, TokenForm::Code, "identifier:M2"),
                                        token_hash(subject, TokenForm::NoSystemCode, "identifier:M3")}));
}

// Forward chains become token conditions on the target ids' hashes (top-level
// targets' ReferenceId, contained targets' local Reference("#id")), confirmed by
// the Reference("Type/id") hash, a search_reference probe or, for a local
// reference, the row's container holding the matching contained row.
TEST(SearchSqlTest, Chain) {
    SqlFragment f = sql("Observation", "subject:Patient.name=Eve");
    const std::string subject = std::to_string(id_of("Observation", "subject"));
    const std::string condition = "EXISTS (SELECT 1 FROM fhir.search_string fs_s3 "
                                  "WHERE fs_s3.rid = fs_t2.rid AND fs_s3.param = " +
                                  std::to_string(id_of("Patient", "name")) +
                                  " AND ((fs_s3.norm >= $1::text AND fs_s3.norm < $2::text)))";
    const std::string targets = " FROM fhir.resource_patient fs_t2 WHERE " + condition;
    const std::string contained =
        " FROM fhir.contained_resource fs_t2 WHERE fs_t2.rtype = 'Patient' AND " + condition;
    const std::string local_hash = "fhir.token_hash(" + subject + ", 7, '#' || fs_t2.id)";
    // The condition over row alias `row` whose "#id" references point into `container`.
    auto expected = [&](const std::string &row, const std::string &container) {
        return "(" + row + ".tokens && ARRAY(SELECT fhir.token_hash(" + subject + ", 8, fs_t2.id)" + targets +
               " UNION ALL SELECT DISTINCT " + local_hash + contained + ") AND (fhir.tokens_overlap(" + row +
               ".tokens, ARRAY(SELECT fhir.token_hash(" + subject + ", 7, 'Patient/' || fs_t2.id)" + targets +
               ")) OR EXISTS (SELECT 1 FROM fhir.search_reference fs_x1 WHERE fs_x1.rid = " + row +
               ".rid AND fs_x1.param = " + subject + " AND fs_x1.target_type = 'Patient' AND fs_x1.target_id IN "
               "(SELECT fs_t2.id" + targets + ")) OR (" + container + " IN (SELECT fs_t2.container_rid" + contained +
               ") AND EXISTS (SELECT 1" + contained + " AND fs_t2.container_rid = " + container + " AND " + row +
               ".tokens @> ARRAY[" + local_hash + "]))))";
    };
    EXPECT_EQ(f.where, expected("r", "r.rid"));
    EXPECT_EQ(f.params.size(), 2u); // the target condition's values once, used six times
    // The forms match what extraction stores (fhir.token_hash is fhir::token_hash):
    // a local reference "#id" is Reference("#id") (extract.cpp).
    EXPECT_EQ(static_cast<int>(TokenForm::Reference), 7);
    EXPECT_EQ(static_cast<int>(TokenForm::ReferenceId), 8);
    // Over contained rows ("#id" names a sibling): the probe goes by the row's
    // container; the values are the same (plan_contained numbers both alike).
    fhir::SqlOptions contained_rows;
    contained_rows.now_micros = kNow;
    contained_rows.contained_rows = true;
    SqlFragment c = fhir::build_where(fhir::parse_search_query(registry(), "Observation", "subject:Patient.name=Eve", true),
                                      "c", 1, contained_rows);
    EXPECT_EQ(c.where, expected("c", "c.container_rid"));
    ASSERT_EQ(c.params.size(), f.params.size());
    for (size_t i = 0; i < c.params.size(); i++)
        EXPECT_EQ(c.params[i].text, f.params[i].text);
    // When the caller knows that no contained resource of the target type exists,
    // the chain is the top-level one alone, as planned before contained targets.
    fhir::SqlOptions no_contained_patients;
    no_contained_patients.now_micros = kNow;
    no_contained_patients.contained_types = std::set<std::string>{"Medication"};
    SqlFragment plain = fhir::build_where(
        fhir::parse_search_query(registry(), "Observation", "subject:Patient.name=Eve", true), "r", 1, no_contained_patients);
    EXPECT_EQ(plain.where, "(r.tokens && ARRAY(SELECT fhir.token_hash(" + subject + ", 8, fs_t2.id)" + targets +
                               ") AND (fhir.tokens_overlap(r.tokens, ARRAY(SELECT fhir.token_hash(" + subject +
                               ", 7, 'Patient/' || fs_t2.id)" + targets +
                               ")) OR EXISTS (SELECT 1 FROM fhir.search_reference fs_x1 WHERE fs_x1.rid = r.rid AND "
                               "fs_x1.param = " + subject + " AND fs_x1.target_type = 'Patient' AND fs_x1.target_id IN "
                               "(SELECT fs_t2.id" + targets + "))))");
    EXPECT_EQ(plain.params.size(), 2u);
    no_contained_patients.contained_types->insert("Patient");
    EXPECT_EQ(fhir::build_where(fhir::parse_search_query(registry(), "Observation", "subject:Patient.name=Eve", true), "r", 1,
                                no_contained_patients)
                  .where,
              expected("r", "r.rid"));
    // Two levels nest; the middle level's rows carry container_rid (a top-level
    // row's own rid) so the next link finds their "#id" targets.
    f = sql("Observation", "subject:Patient.organization.name=Acme");
    EXPECT_NE(f.where.find("(SELECT fs_t2_p.rid, fs_t2_p.id, fs_t2_p.tokens, fs_t2_p.last_updated, fs_t2_p.rid AS "
                           "container_rid FROM fhir.resource_patient fs_t2_p) fs_t2"),
              std::string::npos);
    EXPECT_NE(f.where.find("FROM fhir.contained_resource fs_t2 WHERE fs_t2.rtype = 'Patient'"), std::string::npos);
    EXPECT_NE(f.where.find("fhir.resource_organization fs_t4"), std::string::npos);
    EXPECT_NE(f.where.find("fs_x3.target_type = 'Organization'"), std::string::npos);
    EXPECT_NE(f.where.find("fs_t4.container_rid = fs_t2.container_rid"), std::string::npos);
    EXPECT_EQ(f.params.size(), 2u);
}

// _has joins the source partition and matches back by target id; a contained
// row is matched by its container or a sibling referencing it as "#id".
TEST(SearchSqlTest, Has) {
    SqlFragment f = sql("Patient", "_has:Observation:patient:code=1234");
    const std::string patient = std::to_string(id_of("Observation", "patient"));
    std::string expected = "(r.id IN (SELECT fs_x1.target_id FROM fhir.search_reference fs_x1 JOIN "
                           "fhir.resource_observation fs_o2 ON fs_o2.rid = fs_x1.rid WHERE fs_x1.param = " +
                           patient + " AND fs_x1.target_type = 'Patient' AND fs_o2.tokens && $1::bigint[]))";
    EXPECT_EQ(f.where, expected);
    EXPECT_EQ(f.params[0].ints,
              std::vector<int64_t>{token_hash(id_of("Observation", "code"), TokenForm::Code, "1234")});
    fhir::SqlOptions contained_rows;
    contained_rows.contained_rows = true;
    SqlFragment c = fhir::build_where(
        fhir::parse_search_query(registry(), "Patient", "_has:Observation:patient:code=1234", true), "c", 1,
        contained_rows);
    const std::string local_ref = "fs_o2.tokens @> ARRAY[fhir.token_hash(" + patient + ", 7, '#' || c.id)]";
    EXPECT_EQ(c.where, "((EXISTS (SELECT 1 FROM (SELECT fs_o2_p.rid, fs_o2_p.id, fs_o2_p.tokens, fs_o2_p.last_updated, "
                       "fs_o2_p.rid AS container_rid FROM fhir.resource_observation fs_o2_p) fs_o2 WHERE fs_o2.rid = "
                       "c.container_rid AND " + local_ref + " AND fs_o2.tokens && $1::bigint[]) OR EXISTS (SELECT 1 "
                       "FROM fhir.contained_resource fs_o2 WHERE fs_o2.container_rid = c.container_rid AND "
                       "fs_o2.rtype = 'Observation' AND fs_o2.rid <> c.rid AND " + local_ref +
                       " AND fs_o2.tokens && $1::bigint[])))");
    ASSERT_EQ(c.params.size(), 1u);
    EXPECT_EQ(c.params[0].ints, f.params[0].ints);
    f = sql("Patient", "_has:Observation:patient:_has:AuditEvent:entity:agent=Practitioner/1");
    EXPECT_NE(f.where.find("fs_x3.target_type = 'Observation'"), std::string::npos);
    EXPECT_NE(f.where.find("fhir.resource_auditevent fs_o4"), std::string::npos);
    // _has on a chain's targets (top-level or contained): the branch that applies to the row.
    f = sql("Observation", "subject:Patient._has:Group:member:code=x");
    EXPECT_NE(f.where.find("((fs_t2.rid = fs_t2.container_rid AND fs_t2.id IN (SELECT fs_x3.target_id"), std::string::npos);
    EXPECT_NE(f.where.find("OR (fs_t2.rid <> fs_t2.container_rid AND (EXISTS"), std::string::npos);
    EXPECT_EQ(f.params.size(), 1u);
}

// Numbers: eq/ne on the precision range, gt..le on the value, sa/eb outside the range.
TEST(SearchSqlTest, Numbers) {
    auto cond = [](const char *value) {
        SqlFragment f = sql("MolecularSequence", std::string("variant-start=") + value);
        size_t at = f.where.find("fs_n1.param = ");
        at = f.where.find(" AND ", at) + 5;
        return std::make_pair(f.where.substr(at + 1, f.where.size() - at - 4), f.params);
    };
    auto [eq, eq_params] = cond("100");
    EXPECT_EQ(eq, "fs_n1.value >= $1::numeric AND fs_n1.value < $2::numeric");
    EXPECT_EQ(eq_params[0].kind, SqlParam::Numeric);
    EXPECT_EQ(eq_params[0].text, "99.5");
    EXPECT_EQ(eq_params[1].text, "100.5");
    EXPECT_EQ(cond("ne100").first, "NOT (fs_n1.value >= $1::numeric AND fs_n1.value < $2::numeric)");
    auto [gt, gt_params] = cond("gt100");
    EXPECT_EQ(gt, "fs_n1.value > $1::numeric");
    EXPECT_EQ(gt_params[0].text, "100");
    EXPECT_EQ(cond("le0.5").first, "fs_n1.value <= $1::numeric");
    auto [sa, sa_params] = cond("sa100");
    EXPECT_EQ(sa, "fs_n1.value >= $1::numeric");
    EXPECT_EQ(sa_params[0].text, "100.5");
    EXPECT_EQ(cond("ap100").first,
              "(fs_n1.value >= $2::numeric AND fs_n1.value < $3::numeric) OR (fs_n1.value >= $1::numeric - "
              "abs($1::numeric) * 0.1 AND fs_n1.value <= $1::numeric + abs($1::numeric) * 0.1)");
}

// A parameter that may hold Ranges (probability[x] is decimal | Range) also
// matches span rows (no point value) on their bounds, as R4 compares ranges.
TEST(SearchSqlTest, NumbersOfParametersWithRangesMatchSpans) {
    auto cond = [](const char *value) {
        SqlFragment f = sql("RiskAssessment", std::string("probability=") + value);
        size_t at = f.where.find("fs_n1.param = ");
        at = f.where.find(" AND ", at) + 5;
        return f.where.substr(at + 1, f.where.size() - at - 4);
    };
    EXPECT_EQ(cond("100"), "(fs_n1.value >= $1::numeric AND fs_n1.value < $2::numeric) OR (fs_n1.value IS NULL AND "
                           "(fs_n1.lo >= $3::numeric AND fs_n1.hi < $4::numeric))");
    EXPECT_EQ(cond("gt100"), "(fs_n1.value > $1::numeric) OR (fs_n1.value IS NULL AND (fs_n1.hi > $2::numeric))");
    EXPECT_EQ(cond("le100"), "(fs_n1.value <= $1::numeric) OR (fs_n1.value IS NULL AND (fs_n1.lo <= $2::numeric))");
    EXPECT_EQ(cond("sa100"), "(fs_n1.value >= $1::numeric) OR (fs_n1.value IS NULL AND (fs_n1.lo >= $2::numeric))");
    EXPECT_EQ(cond("eb100"), "(fs_n1.value < $1::numeric) OR (fs_n1.value IS NULL AND (fs_n1.hi < $2::numeric))");
}

// Quantities add system/code, or code-or-unit without a system.
TEST(SearchSqlTest, Quantities) {
    SqlFragment f = sql("Observation", "value-quantity=gt5.4|http://unitsofmeasure.org|mg");
    EXPECT_NE(f.where.find("fhir.search_quantity fs_q1"), std::string::npos);
    EXPECT_NE(f.where.find("(fs_q1.value > $1::numeric) AND fs_q1.system = $2::text AND fs_q1.code = $3::text"),
              std::string::npos);
    EXPECT_EQ(f.params[1].text, "http://unitsofmeasure.org");
    EXPECT_EQ(f.params[2].text, "mg");
    f = sql("Observation", "value-quantity=5||mg");
    EXPECT_NE(f.where.find("AND (fs_q1.code = $3::text OR fs_q1.unit = $3::text)"), std::string::npos);
    f = sql("Observation", "value-quantity=5");
    EXPECT_EQ(f.where.find("system"), std::string::npos);
}

// Uri exact match by hash, :below as a prefix range, :above as stored-prefix-of-value.
TEST(SearchSqlTest, Uris) {
    int id = id_of("ValueSet", "url");
    SqlFragment f = sql("ValueSet", "url=http://a.org/vs");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(id, TokenForm::Uri, "http://a.org/vs")});
    f = sql("ValueSet", "url:below=http://a.org/");
    EXPECT_NE(f.where.find("(fs_s1.norm >= $1::text AND fs_s1.norm < $2::text)"), std::string::npos);
    EXPECT_EQ(f.params[0].text, "http://a.org/");
    EXPECT_EQ(f.params[1].text, "http://a.org0");
    f = sql("ValueSet", "url:above=http://a.org/vs/1");
    EXPECT_NE(f.where.find("fs_s1.norm = left($1::text, length(fs_s1.norm))"), std::string::npos);
}

// Token composites hash the joined component values under the composite id.
TEST(SearchSqlTest, Composite) {
    int id = id_of("Observation", "code-value-concept");
    SqlFragment f = sql("Observation", "code-value-concept=http://loinc.org|1234$http://sct|99,a$|b");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    EXPECT_EQ(f.params[0].ints, sorted({token_hash(id, TokenForm::SystemCode, "http://loinc.org|1234$http://sct|99"),
                                        token_hash(id, TokenForm::SystemCode, "a$b")}));
}

// Range composites: an EXISTS over the pair rows, the key of the token
// components and the range component's own prefix semantics.
TEST(SearchSqlTest, RangeComposite) {
    int id = id_of("Observation", "code-value-quantity");
    SqlFragment f = sql("Observation", "code-value-quantity=http://loinc.org|8480-6$gt100");
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_composite_number fs_c1 WHERE fs_c1.rid = r.rid AND "
                       "fs_c1.param = " + std::to_string(id) + " AND fs_c1.key = ANY($1::bigint[]) AND "
                       "fs_c1.component = 1 AND (fs_c1.value > $2::numeric)))");
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(id, TokenForm::SystemCode, "http://loinc.org|8480-6")});
    EXPECT_EQ(f.params[1].kind, SqlParam::Numeric);
    EXPECT_EQ(f.params[1].text, "100");

    // Quantity units, the eq precision range, "|code" as any system, comma OR.
    f = sql("Observation", "component-code-value-quantity=|8480-6$120||mm[Hg],8462-4$le80");
    int cid = id_of("Observation", "component-code-value-quantity");
    EXPECT_NE(f.where.find(") OR EXISTS ("), std::string::npos) << f.where;
    EXPECT_NE(f.where.find("fs_c1.value >= $2::numeric AND fs_c1.value < $3::numeric"), std::string::npos) << f.where;
    EXPECT_NE(f.where.find("(fs_c1.code = $4::text OR fs_c1.unit = $4::text)"), std::string::npos) << f.where;
    EXPECT_NE(f.where.find("fs_c2.value <= $6::numeric"), std::string::npos) << f.where;
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(cid, TokenForm::Code, "8480-6")});
    EXPECT_EQ(f.params[1].text, "119.5");
    EXPECT_EQ(f.params[2].text, "120.5");
    EXPECT_EQ(f.params[3].text, "mm[Hg]");
    EXPECT_EQ(f.params[4].ints, std::vector<int64_t>{token_hash(cid, TokenForm::Code, "8462-4")});

    // Dates: the date prefix semantics on the pair's lo/hi.
    int did = id_of("Observation", "code-value-date");
    f = sql("Observation", "code-value-date=x$sa2020-01");
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_composite_date fs_c1 WHERE fs_c1.rid = r.rid AND "
                       "fs_c1.param = " + std::to_string(did) + " AND fs_c1.key = ANY($1::bigint[]) AND "
                       "fs_c1.component = 1 AND (fs_c1.lo >= $2::timestamptz)))");
    EXPECT_EQ(f.params[1].micros, fhir::parse_date_range("2020-01")->hi);

    // Two range components: the second must sit in the same composite node (grp).
    int mid = id_of("MolecularSequence", "chromosome-variant-coordinate");
    f = sql("MolecularSequence", "chromosome-variant-coordinate=1$gt100$lt200");
    EXPECT_NE(f.where.find("FROM fhir.search_composite_number fs_c1 JOIN fhir.search_composite_number fs_c2 ON "
                           "fs_c2.rid = fs_c1.rid AND fs_c2.param = " + std::to_string(mid) +
                           " AND fs_c2.grp = fs_c1.grp AND fs_c2.component = 2 AND (fs_c2.value < $3::numeric)"),
              std::string::npos)
        << f.where;
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{token_hash(mid, TokenForm::Code, "1")});

    // :missing stays the Present token.
    f = sql("Observation", "code-value-quantity:missing=true");
    EXPECT_EQ(f.where, "(NOT (r.tokens @> $1::bigint[]))");
}

// Several token components: the key the query computes is the one extraction stores.
TEST(SearchSqlTest, RangeCompositeWithSeveralTokenComponents) {
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
    SqlFragment f = fhir::build_where(
        fhir::parse_search_query(custom, "Observation", "code-status-value=http://loinc.org|15074-8$final$ge6", true));
    const int64_t parts[] = {token_hash(def.id, TokenForm::SystemCode, "http://loinc.org|15074-8"),
                             token_hash(def.id, TokenForm::Code, "final")};
    EXPECT_EQ(f.params[0].ints, std::vector<int64_t>{fhir::composite_key_hash(parts, 2)});
    EXPECT_NE(f.where.find("fs_c1.component = 2 AND (fs_c1.value >= $2::numeric)"), std::string::npos) << f.where;
}

// _text/_content: EXISTS over search_text with the folded value for websearch_to_tsquery.
TEST(SearchSqlTest, FullText) {
    Registry r = Registry::builtin();
    const int text_id = r.find("Patient", "_text")->id;
    r.set_enabled(text_id, true);
    r.set_enabled(r.find("Patient", "_content")->id, true);
    SqlFragment f = fhir::build_where(
        fhir::parse_search_query(r, "Patient", "_text=Zo%C3%AB%20M%C3%9CLLER,%22Blood%20Pressure%22%20OR%20x", true));
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_text fs_t1 WHERE fs_t1.rid = r.rid AND fs_t1.param = " +
                           std::to_string(text_id) +
                           " AND ((fs_t1.doc @@ websearch_to_tsquery('simple'::regconfig, $1::text)) OR "
                           "(fs_t1.doc @@ websearch_to_tsquery('simple'::regconfig, $2::text)))))");
    ASSERT_EQ(f.params.size(), 2u);
    EXPECT_EQ(f.params[0].text, "zoe muller");
    EXPECT_EQ(f.params[1].text, "\"blood pressure\" or x");
    // Repetition ANDs; :missing is the Present token; the value is never SQL text.
    f = fhir::build_where(
        fhir::parse_search_query(r, "Patient", "_content=a&_content=%27;drop&_text:missing=true", true));
    EXPECT_NE(f.where.find(") AND ("), std::string::npos);
    EXPECT_EQ(f.where.find("drop"), std::string::npos);
    EXPECT_EQ(f.params[1].text, "';drop");
    EXPECT_NE(f.where.find("NOT (r.tokens @> $3::bigint[])"), std::string::npos) << f.where;
}

// Several clauses AND together with consecutive placeholders.
TEST(SearchSqlTest, AndClauses) {
    SqlFragment f = sql("Patient", "name=a&gender=female&birthdate=lt2000", 5);
    EXPECT_NE(f.where.find(") AND ("), std::string::npos);
    EXPECT_NE(f.where.find("$5::text"), std::string::npos);
    EXPECT_NE(f.where.find("$7::bigint[]"), std::string::npos);
    EXPECT_NE(f.where.find("$8::timestamptz"), std::string::npos);
    EXPECT_EQ(f.params.size(), 4u);
}

// The successor bound stays valid UTF-8 and handles 0xFF and empty prefixes.
TEST(SearchSqlTest, PrefixSuccessor) {
    EXPECT_EQ(fhir::prefix_successor("abc"), "abd");
    EXPECT_EQ(fhir::prefix_successor(""), "");
    EXPECT_EQ(fhir::prefix_successor("a\x7f"), "a\xc2\x80");
    EXPECT_EQ(fhir::prefix_successor("\xc3\xbf"), "\xc4\x80");         // ÿ -> Ā
    EXPECT_EQ(fhir::prefix_successor("\xe4\xb8\xbf"), "\xe4\xb9\x80"); // U+4E3F -> U+4E40
    EXPECT_EQ(fhir::prefix_successor("\xed\x9f\xbf"), "\xee\x80\x80"); // skips surrogates
    EXPECT_EQ(fhir::prefix_successor("a\xf4\x8f\xbf\xbf"), "b");       // U+10FFFF drops
    EXPECT_EQ(fhir::prefix_successor("a\xff"), "b");                   // invalid byte
    EXPECT_EQ(fhir::escape_like("a%b_c\\d"), "a\\%b\\_c\\\\d");
}

// A query whose condition is one EXISTS over a side table also offers those side
// rows as a relation of rids (the page statement starts from them); anything else
// offers none.
TEST(SearchSqlTest, DriverOfASingleSideCondition) {
    const std::string family = std::to_string(id_of("Patient", "family"));
    SqlFragment f = sql("Patient", "family=kow");
    EXPECT_EQ(f.where, "(EXISTS (SELECT 1 FROM fhir.search_string fs_s1 WHERE fs_s1.rid = r.rid AND fs_s1.param = " +
                           family + " AND ((fs_s1.norm >= $1::text AND fs_s1.norm < $2::text))))");
    EXPECT_EQ(f.driver, "SELECT fs_s1.rid FROM fhir.search_string fs_s1 WHERE fs_s1.param = " + family +
                            " AND ((fs_s1.norm >= $1::text AND fs_s1.norm < $2::text))");
    EXPECT_FALSE(sql("Patient", "birthdate=1935").driver.empty());
    EXPECT_TRUE(sql("Patient", "family=kow&gender=female").driver.empty()); // two conditions
    EXPECT_TRUE(sql("Patient", "gender=female").driver.empty());            // a token: the row's own column
    EXPECT_TRUE(sql("Patient", "family:missing=true").driver.empty());      // NOT EXISTS
    EXPECT_TRUE(sql("Observation", "subject:Patient.family=kow").driver.empty()); // a chain
    EXPECT_TRUE(sql("Patient", "_count=5").driver.empty());
}

// An override's search conditions are its own type's, under the built-in's id; a
// built-in composite naming the overridden parameter as a component is unchanged.
TEST(SearchSqlTest, OverriddenBuiltin) {
    Registry overridden = Registry::builtin();
    fhir::SearchParamDef def;
    def.resource_type = "Observation";
    def.code = "code";
    def.type = fhir::ParamType::String;
    def.expression = "Observation.code.text";
    def.url = "http://example.org/SearchParameter/observation-code-text";
    overridden.override_builtin(def);
    const int id = id_of("Observation", "code");

    SqlFragment f = fhir::build_where(fhir::parse_search_query(overridden, "Observation", "code=blood", true));
    EXPECT_NE(f.where.find("fhir.search_string"), std::string::npos) << f.where;
    EXPECT_NE(f.where.find(".param = " + std::to_string(id) + " "), std::string::npos) << f.where;
    EXPECT_EQ(sql("Observation", "code=blood").where, "(r.tokens && $1::bigint[])");

    const std::string composite = "code-value-quantity=http://loinc.org|8480-6$gt100";
    SqlFragment with_override = fhir::build_where(fhir::parse_search_query(overridden, "Observation", composite, true));
    SqlFragment builtin = sql("Observation", composite);
    EXPECT_EQ(with_override.where, builtin.where);
    ASSERT_EQ(with_override.params.size(), builtin.params.size());
    EXPECT_EQ(with_override.params[0].ints, builtin.params[0].ints);
}
