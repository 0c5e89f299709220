// sort_sql_test.cpp: unit tests of _sort keys as SQL and of the zones of an
// index-ordered page (sort_sql.h), and of the index forms those pages walk
// (index_plan.h). The per-row key expressions are compared exactly: pages must
// not change when the zone statements replace them, so their semantics (least
// value ascending, greatest descending, the missing value) are pinned here.
#include "sort_sql.h"

#include <gtest/gtest.h>

#include <string>

#include "error.h"
#include "index_plan.h"

using fhir::Registry;
using fhir::SortKeySql;

namespace {

const Registry &registry() {
    static const Registry r = Registry::builtin();
    return r;
}

// The SQL of `type`'s parameter `code` as a sort key.
SortKeySql key(const char *type, const char *code, bool descending = false) {
    const fhir::SearchParamDef *p = registry().find(type, code);
    EXPECT_NE(p, nullptr) << type << "/" << code;
    return fhir::sort_key_sql({p, descending});
}

std::string id_of(const char *type, const char *code) { return std::to_string(registry().find(type, code)->id); }

// The definitions of a parameter's indexes.
std::vector<std::string> index_definitions(const char *type, const char *code) {
    std::vector<std::string> out;
    for (const fhir::IndexSpec &s : fhir::index_specs(*registry().find(type, code)))
        out.push_back(s.name + " " + s.definition);
    return out;
}

} // namespace

// A string key: least norm ascending, greatest descending; U+10FFFF and '' for none.
TEST(SortSqlTest, StringKeyPerRow) {
    const std::string p = id_of("Patient", "family");
    SortKeySql asc = key("Patient", "family");
    EXPECT_EQ(asc.expr, "coalesce((SELECT min(ks.norm) FROM fhir.search_string ks WHERE ks.rid = r.rid AND ks.param = " +
                            p + "), U&'\\+10FFFF')");
    EXPECT_EQ(asc.type, "text");
    ASSERT_TRUE(asc.side.has_value());
    EXPECT_EQ(asc.side->table, "fhir.search_string");
    EXPECT_EQ(asc.missing_text, "\xF4\x8F\xBF\xBF");
    SortKeySql desc = key("Patient", "family", true);
    EXPECT_EQ(desc.expr, "coalesce((SELECT max(ks.norm) FROM fhir.search_string ks WHERE ks.rid = r.rid AND ks.param = " +
                             p + "), '')");
    EXPECT_TRUE(desc.descending);
    EXPECT_EQ(desc.missing_text, "");
}

// Dates: the least lo ascending, the greatest hi descending.
TEST(SortSqlTest, DateKeyUsesLoOrHi) {
    SortKeySql asc = key("Observation", "date");
    SortKeySql desc = key("Observation", "date", true);
    EXPECT_NE(asc.expr.find("min(ks.lo)"), std::string::npos) << asc.expr;
    EXPECT_NE(asc.expr.find("'infinity'::timestamptz)"), std::string::npos) << asc.expr;
    EXPECT_NE(desc.expr.find("max(ks.hi)"), std::string::npos) << desc.expr;
    EXPECT_NE(desc.expr.find("'-infinity'::timestamptz)"), std::string::npos) << desc.expr;
    EXPECT_EQ(asc.side->value("sk"), "sk.lo");
    EXPECT_EQ(desc.side->value("sk"), "sk.hi");
    EXPECT_EQ(asc.missing_text, "infinity");
    EXPECT_EQ(desc.missing_text, "-infinity");
    EXPECT_EQ(asc.type, "timestamptz");
}

// Numbers and quantities read their own tables; the missing value is an infinite numeric.
TEST(SortSqlTest, NumberAndQuantityKeys) {
    SortKeySql q = key("Observation", "value-quantity", true);
    EXPECT_EQ(q.side->table, "fhir.search_quantity");
    EXPECT_EQ(q.side->value("sk"), "sk.value");
    EXPECT_NE(q.expr.find("max(ks.value)"), std::string::npos) << q.expr;
    EXPECT_EQ(q.side->missing, "'-Infinity'::numeric");
    EXPECT_EQ(q.missing_text, "-Infinity");
    EXPECT_EQ(q.type, "numeric");
    SortKeySql n = key("RiskAssessment", "probability");
    EXPECT_EQ(n.side->table, "fhir.search_number");
    EXPECT_EQ(n.missing_text, "Infinity");
}

// A reference's key is "Type/id", the expression its sort indexes are built on.
TEST(SortSqlTest, ReferenceKeyIsTypeSlashId) {
    SortKeySql s = key("Observation", "subject");
    EXPECT_EQ(s.side->table, "fhir.search_reference");
    EXPECT_EQ(s.side->value("sk"), "(sk.target_type || '/' || sk.target_id)");
    EXPECT_NE(s.expr.find("min((ks.target_type || '/' || ks.target_id))"), std::string::npos) << s.expr;
    bool indexed_asc = false, indexed_desc = false;
    for (const std::string &d : index_definitions("Observation", "subject")) {
        indexed_asc = indexed_asc || d.find("((target_type || '/' || target_id), rid) WHERE param = " +
                                            id_of("Observation", "subject")) != std::string::npos;
        indexed_desc = indexed_desc || d.find("((target_type || '/' || target_id) DESC, rid)") != std::string::npos;
    }
    EXPECT_TRUE(indexed_asc);
    EXPECT_TRUE(indexed_desc);
}

// _id, _lastUpdated and tokens are not side-table keys: pages compute them per row.
TEST(SortSqlTest, ColumnAndTokenKeysHaveNoSide) {
    EXPECT_EQ(key("Patient", "_id").expr, "r.id");
    EXPECT_FALSE(key("Patient", "_id").side.has_value());
    SortKeySql lu = key("Observation", "_lastUpdated", true); // a date parameter, but a column
    EXPECT_EQ(lu.expr, "r.last_updated");
    EXPECT_FALSE(lu.side.has_value());
    SortKeySql code = key("Observation", "code");
    EXPECT_FALSE(code.side.has_value());
    EXPECT_NE(code.expr.find("fhir.token_sort_key(r.content, " + id_of("Observation", "code") + ", false)"),
              std::string::npos);
}

// Composite parameters cannot be sorted by.
TEST(SortSqlTest, CompositeIsUnsupported) {
    const fhir::SearchParamDef *p = registry().find("Observation", "code-value-quantity");
    ASSERT_NE(p, nullptr);
    try {
        fhir::sort_key_sql({p, false});
        FAIL() << "expected an error";
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::UnsupportedFeature);
    }
}

// The valued zone: one side row per resource (the one before every other, ties by
// ctid), only values that sort before the missing value, joined to the matches.
TEST(SortSqlTest, ValuedZone) {
    SortKeySql desc = key("Observation", "value-quantity", true);
    const std::string p = id_of("Observation", "value-quantity");
    EXPECT_EQ(desc.side->valued_rows("SELECT sk.rid", ", x AS k1", "fhir.resource_observation", "c"),
              "SELECT sk.rid, sk.value AS k0, x AS k1 FROM fhir.search_quantity sk JOIN fhir.resource_observation r "
              "ON r.rid = sk.rid WHERE sk.param = " + p + " AND sk.value > '-Infinity'::numeric AND (c) AND NOT EXISTS "
              "(SELECT 1 FROM fhir.search_quantity sk2 WHERE sk2.rid = sk.rid AND sk2.param = " + p +
              " AND (sk2.value > sk.value OR (sk2.value = sk.value AND sk2.ctid < sk.ctid)))");
    SortKeySql asc = key("Patient", "family");
    std::string rows = asc.side->valued_rows("SELECT r.rid", "", "fhir.resource_patient", "true");
    EXPECT_NE(rows.find("sk.norm < U&'\\+10FFFF'"), std::string::npos) << rows;
    EXPECT_NE(rows.find("sk2.norm < sk.norm OR"), std::string::npos) << rows;
    // without conditions each side row looks up its resource's row (one row per side row)
    std::string probed = asc.side->valued_rows("SELECT sk.rid", "", "fhir.resource_patient", "true", true);
    EXPECT_NE(probed.find(" FROM fhir.search_string sk CROSS JOIN LATERAL (SELECT * FROM fhir.resource_patient rl "
                          "WHERE rl.rid = sk.rid LIMIT 1) r WHERE"),
              std::string::npos)
        << probed;
}

// The missing zone: matches without a value that sorts before the missing value.
TEST(SortSqlTest, MissingZone) {
    SortKeySql desc = key("Patient", "family", true);
    const std::string p = id_of("Patient", "family");
    EXPECT_EQ(desc.side->missing_rows("SELECT r.rid", "", "fhir.resource_patient", "c"),
              "SELECT r.rid, '' AS k0 FROM fhir.resource_patient r WHERE (c) AND NOT EXISTS (SELECT 1 FROM "
              "fhir.search_string sk2 WHERE sk2.rid = r.rid AND sk2.param = " + p + " AND sk2.norm > '')");
}

// A cursor is in the missing zone when its first key is the missing value's text.
TEST(SortSqlTest, CursorZone) {
    SortKeySql asc = key("Observation", "value-quantity");
    EXPECT_TRUE(fhir::cursor_in_missing_zone(asc, {"Infinity"}));
    EXPECT_TRUE(fhir::cursor_in_missing_zone(asc, {"Infinity", "2020"}));
    EXPECT_FALSE(fhir::cursor_in_missing_zone(asc, {"12.5"}));
    EXPECT_FALSE(fhir::cursor_in_missing_zone(asc, {"-Infinity"}));
    EXPECT_FALSE(fhir::cursor_in_missing_zone(asc, {}));
    SortKeySql desc_string = key("Patient", "family", true);
    EXPECT_TRUE(fhir::cursor_in_missing_zone(desc_string, {""}));
    EXPECT_FALSE(fhir::cursor_in_missing_zone(desc_string, {"adams"}));
    EXPECT_FALSE(fhir::cursor_in_missing_zone(key("Patient", "_id"), {""})); // no zones for column keys
}

// The index forms the zones walk: (key, rid) and (key DESC, rid) per parameter.
TEST(SortSqlTest, IndexFormsForSorting) {
    const std::string family = id_of("Patient", "family");
    EXPECT_EQ(index_definitions("Patient", "family"),
              (std::vector<std::string>{"search_string_p" + family + "_asc_idx (norm, rid) WHERE param = " + family,
                                        "search_string_p" + family + "_desc_idx (norm DESC, rid) WHERE param = " + family}));
    const std::string vq = id_of("Observation", "value-quantity");
    EXPECT_EQ(index_definitions("Observation", "value-quantity"),
              (std::vector<std::string>{"search_quantity_p" + vq + "_asc_idx (value, rid) WHERE param = " + vq,
                                        "search_quantity_p" + vq + "_desc_idx (value DESC, rid) WHERE param = " + vq}));
    const std::string date = id_of("Observation", "date");
    EXPECT_EQ(index_definitions("Observation", "date"),
              (std::vector<std::string>{"search_date_p" + date + "_lo_idx (lo, rid, hi) WHERE param = " + date,
                                        "search_date_p" + date + "_hi_idx (hi DESC, rid) WHERE param = " + date,
                                        "search_date_p" + date + "_rid_idx (rid, lo, hi) WHERE param = " + date}));
    // a uri keeps the GIN index for exact matches
    std::vector<std::string> uri = index_definitions("ValueSet", "url");
    ASSERT_EQ(uri.size(), 3u);
    EXPECT_EQ(uri[0], "resource_valueset_tokens_idx USING gin (tokens)");
}
