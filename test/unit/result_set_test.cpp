// Unit tests for cached result sets: encoding, page slicing, prefetch thresholds.
#include "error.h"
#include "result_set.h"
#include "search_cursor.h"

#include <gtest/gtest.h>

using namespace fhir;

namespace {

ResultSet make_set(int n, bool complete) {
    ResultSet set;
    for (int i = 0; i < n; i++)
        set.rows.push_back({100 + i, "Patient", "p" + std::to_string(i), {"k" + std::to_string(i / 2)}});
    set.complete = complete;
    return set;
}

SearchCursor at(const ResultSet &set, size_t i, bool backward) {
    return SearchCursor{backward, set.rows[i].rid, set.rows[i].keys};
}

} // namespace

TEST(ResultSet, RoundTrip) {
    ResultSet set = make_set(5, false);
    set.total = 42;
    set.rows[3].keys = {"", "a\x1f" "b", std::string("\0x", 2)};
    ResultSet back = decode_result_set(encode_result_set(set));
    ASSERT_EQ(back.rows.size(), 5u);
    EXPECT_FALSE(back.complete);
    EXPECT_EQ(back.total, 42);
    EXPECT_EQ(back.rows[3].keys, set.rows[3].keys);
    EXPECT_EQ(back.rows[4].id, "p4");
    EXPECT_EQ(back.rows[4].rid, 104);

    ResultSet empty;
    empty.complete = true;
    ResultSet e = decode_result_set(encode_result_set(empty));
    EXPECT_TRUE(e.complete);
    EXPECT_TRUE(e.rows.empty());
    EXPECT_FALSE(e.total.has_value());
}

TEST(ResultSet, CorruptBytesThrow) {
    std::string bytes = encode_result_set(make_set(3, true));
    EXPECT_THROW(decode_result_set(bytes.substr(0, bytes.size() - 1)), Error);
    EXPECT_THROW(decode_result_set(bytes + "x"), Error);
    EXPECT_THROW(decode_result_set("nope"), Error);
    std::string huge = bytes;
    huge[4 + 8 + 8 + 7] = '\x7f'; // row count's top byte
    EXPECT_THROW(decode_result_set(huge), Error);
}

TEST(ResultSet, ForwardAndBackwardPages) {
    ResultSet set = make_set(7, true);
    PageSlice first = first_page(set, 3);
    EXPECT_EQ(first.begin, 0u);
    EXPECT_EQ(first.end, 3u);
    EXPECT_TRUE(first.more);

    auto next = locate_page(set, at(set, 2, false), 3);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->begin, 3u);
    EXPECT_EQ(next->end, 6u);
    EXPECT_TRUE(next->more);

    auto last = locate_page(set, at(set, 5, false), 3);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->begin, 6u);
    EXPECT_EQ(last->end, 7u);
    EXPECT_FALSE(last->more);

    auto prev = locate_page(set, at(set, 3, true), 3);
    ASSERT_TRUE(prev);
    EXPECT_EQ(prev->begin, 0u);
    EXPECT_EQ(prev->end, 3u);
    EXPECT_FALSE(prev->more);

    auto prev2 = locate_page(set, at(set, 6, true), 3);
    ASSERT_TRUE(prev2);
    EXPECT_EQ(prev2->begin, 3u);
    EXPECT_TRUE(prev2->more);
}

TEST(ResultSet, IncompleteSetAsksForMoreRows) {
    ResultSet set = make_set(6, false);
    EXPECT_TRUE(first_page(set, 6).more); // unknown beyond: assume more
    size_t needs = 0;
    auto inside = locate_page(set, at(set, 0, false), 3, &needs);
    ASSERT_TRUE(inside); // rows 1..3, row 4 proves `more`
    EXPECT_TRUE(inside->more);
    EXPECT_EQ(needs, 0u);
    auto beyond = locate_page(set, at(set, 2, false), 3, &needs);
    EXPECT_FALSE(beyond); // rows 3..5 and row 6 (not prefetched) decides `more`
    EXPECT_EQ(needs, 7u);
    // backward pages never need more rows
    EXPECT_TRUE(locate_page(set, at(set, 5, true), 3));
}

TEST(ResultSet, UnknownCursorRowIsNotAnswered) {
    ResultSet set = make_set(4, true);
    SearchCursor other{false, 999, {"k0"}};
    EXPECT_FALSE(locate_page(set, other, 2));
    SearchCursor wrong_keys{false, set.rows[1].rid, {"zz"}};
    EXPECT_FALSE(locate_page(set, wrong_keys, 2));
}

TEST(ResultSet, Thresholds) {
    std::vector<int64_t> t;
    std::string msg;
    ASSERT_TRUE(parse_prefetch_thresholds("100, 1000,10000", &t, &msg));
    EXPECT_EQ(t, (std::vector<int64_t>{100, 1000, 10000}));
    ASSERT_TRUE(parse_prefetch_thresholds("50,-1", &t, &msg));
    EXPECT_EQ(t, (std::vector<int64_t>{50, -1}));
    EXPECT_FALSE(parse_prefetch_thresholds("", &t, &msg));
    EXPECT_FALSE(parse_prefetch_thresholds("100,50", &t, &msg));
    EXPECT_FALSE(parse_prefetch_thresholds("-1,50", &t, &msg));
    EXPECT_FALSE(parse_prefetch_thresholds("0", &t, &msg));
    EXPECT_FALSE(parse_prefetch_thresholds("12x", &t, &msg));
    EXPECT_FALSE(parse_prefetch_thresholds("99999999999999999999", &t, &msg));

    std::vector<int64_t> th{100, 1000};
    EXPECT_EQ(prefetch_target(th, 21), 100);
    EXPECT_EQ(prefetch_target(th, 101), 1000);
    EXPECT_EQ(prefetch_target(th, 1001), 2000);
    EXPECT_EQ(prefetch_target(th, 2500), 3000);
    EXPECT_EQ(prefetch_target({10, -1}, 11), -1);
}
