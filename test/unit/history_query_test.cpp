// Unit tests for the history interaction's query, cursors and page SQL (history_query.h).
#include "history_query.h"

#include <gtest/gtest.h>

#include "error.h"

using namespace fhir;

namespace {

constexpr int64_t kSecond = 1000000;
// 2022-06-01T00:00:00Z in microseconds since the epoch.
constexpr int64_t k20220601 = 1654041600LL * kSecond;

void expect_invalid(const std::string &query) {
    try {
        parse_history_query(query);
        ADD_FAILURE() << "no error for " << query;
    } catch (const Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidSearch) << query;
    }
}

} // namespace

TEST(HistoryQuery, Empty) {
    HistoryQuery q = parse_history_query("");
    EXPECT_FALSE(q.count);
    EXPECT_EQ(q.since, kMinTime);
    EXPECT_FALSE(q.at);
    EXPECT_FALSE(q.cursor);
    EXPECT_EQ(q.link_query, "");
    EXPECT_EQ(parse_history_query("?").link_query, "");
}

TEST(HistoryQuery, CountSinceAt) {
    HistoryQuery q = parse_history_query("?_count=5&_since=2022-06-01T00:00:00Z&_at=2021");
    EXPECT_EQ(q.count, 5);
    EXPECT_EQ(q.since, k20220601);
    ASSERT_TRUE(q.at);
    EXPECT_EQ(q.at->lo, 1609459200LL * kSecond); // 2021-01-01
    EXPECT_EQ(q.at->hi, 1640995200LL * kSecond); // 2022-01-01
    EXPECT_EQ(q.link_query, "_count=5&_since=2022-06-01T00:00:00Z&_at=2021");
}

TEST(HistoryQuery, TimeZones) {
    // '+' unescaped arrives as a space; escaped as %2B; both are the offset.
    EXPECT_EQ(parse_history_query("_since=2022-06-01T02:00:00+02:00").since, k20220601);
    EXPECT_EQ(parse_history_query("_since=2022-06-01T02:00:00%2B02:00").since, k20220601);
    EXPECT_EQ(parse_history_query("_since=2022-05-31T22:00:00-02:00").since, k20220601);
    // the link keeps the offset, re-encoded
    EXPECT_EQ(parse_history_query("_since=2022-06-01T02:00:00%2B02:00").link_query,
              "_since=2022-06-01T02:00:00%2B02:00");
}

TEST(HistoryQuery, PartialDates) {
    EXPECT_EQ(parse_history_query("_since=2022-06").since, k20220601);
    HistoryQuery q = parse_history_query("_at=2022-06-01");
    ASSERT_TRUE(q.at);
    EXPECT_EQ(q.at->lo, k20220601);
    EXPECT_EQ(q.at->hi, k20220601 + 86400LL * kSecond);
    HistoryQuery instant = parse_history_query("_at=2022-06-01T00:00:00Z");
    EXPECT_EQ(instant.at->lo, k20220601);
    EXPECT_EQ(instant.at->hi, k20220601 + kSecond);
}

TEST(HistoryQuery, WholeUrl) {
    HistoryQuery q = parse_history_query("http://example.org/fhir/Patient/_history?_count=2");
    EXPECT_EQ(q.count, 2);
}

TEST(HistoryQuery, Errors) {
    expect_invalid("_sort=-_lastUpdated");
    expect_invalid("gender=male");
    expect_invalid("_list=x");
    expect_invalid("_count=0");
    expect_invalid("_count=-1");
    expect_invalid("_count=x");
    expect_invalid("_count=1&_count=2");
    expect_invalid("_since=yesterday");
    expect_invalid("_since=2022-06-01&_since=2022-07-01");
    expect_invalid("_at=2021-13");
    expect_invalid("_cursor=bm90IG91cnM");
    expect_invalid("_cursor=!!");
    expect_invalid("_count=%zz");
}

TEST(HistoryCursor, RoundTrip) {
    HistoryCursor c;
    c.backward = true;
    c.snapshot = k20220601 + 123;
    c.last_updated = k20220601 - 5;
    c.type = "Patient";
    c.id = "a.b-c";
    c.version = 7;
    std::string token = encode_history_cursor(c);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    HistoryCursor d = decode_history_cursor(token);
    EXPECT_TRUE(d.backward);
    EXPECT_EQ(d.snapshot, c.snapshot);
    EXPECT_EQ(d.last_updated, c.last_updated);
    EXPECT_EQ(d.type, "Patient");
    EXPECT_EQ(d.id, "a.b-c");
    EXPECT_EQ(d.version, 7);

    // as a parameter: parsed, and left out of the link query
    HistoryQuery q = parse_history_query("_count=2&_cursor=" + token);
    ASSERT_TRUE(q.cursor);
    EXPECT_EQ(q.cursor->version, 7);
    EXPECT_EQ(q.link_query, "_count=2");
}

TEST(HistoryCursor, FirstPagePosition) {
    // The first page's position (snapshot + 1us, "", "", 0) encodes as well.
    HistoryCursor c;
    c.snapshot = k20220601;
    c.last_updated = k20220601 + 1;
    HistoryCursor d = decode_history_cursor(encode_history_cursor(c));
    EXPECT_FALSE(d.backward);
    EXPECT_EQ(d.type, "");
    EXPECT_EQ(d.version, 0);
}

TEST(HistoryPath, Levels) {
    EXPECT_EQ(history_path("", ""), "_history");
    EXPECT_EQ(history_path("Patient", ""), "Patient/_history");
    EXPECT_EQ(history_path("Patient", "p1"), "Patient/p1/_history");
}

TEST(HistorySql, Levels) {
    std::string system = history_page_sql(HistoryLevel::System, "fhir.resource", false, false);
    EXPECT_NE(system.find("FROM fhir.resource_history h"), std::string::npos);
    EXPECT_NE(system.find("FROM fhir.resource r"), std::string::npos);
    EXPECT_EQ(system.find("$10"), std::string::npos); // no type condition
    EXPECT_EQ(system.find("$7"), std::string::npos);  // no _at condition
    EXPECT_NE(system.find("1 DESC, 2 DESC, 3 DESC, 4 DESC LIMIT $9"), std::string::npos);
    EXPECT_NE(system.find(") < ($2, $3, $4, $5)"), std::string::npos);

    std::string type = history_page_sql(HistoryLevel::Type, "fhir.resource_patient", true, true);
    EXPECT_NE(type.find("h.rtype = $10"), std::string::npos);
    EXPECT_EQ(type.find("$11"), std::string::npos);
    EXPECT_NE(type.find(") > ($2, $4, $5)"), std::string::npos);
    EXPECT_NE(type.find("ORDER BY 1, 3, 4 LIMIT $9"), std::string::npos);
    EXPECT_NE(type.find("FROM fhir.resource_patient c"), std::string::npos); // _at's next version
    EXPECT_NE(type.find("> $7"), std::string::npos);

    std::string instance = history_count_sql(HistoryLevel::Instance, "fhir.resource_patient", false);
    EXPECT_NE(instance.find("h.id = $11"), std::string::npos);
    EXPECT_NE(instance.find("r.id = $11"), std::string::npos);
    EXPECT_EQ(instance.find("$2"), std::string::npos); // no cursor
}
