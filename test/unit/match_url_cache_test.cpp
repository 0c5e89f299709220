#include "match_url_cache.h"

#include <gtest/gtest.h>

using fhir::MatchUrlCache;

TEST(MatchUrlCache, AnswersOnlyAtTheGenerationItWasSearched) {
    MatchUrlCache cache(10);
    EXPECT_EQ(cache.find("Organization?identifier=a|1", 7), nullptr);
    cache.put("Organization?identifier=a|1", 7, {"org1"});
    const std::vector<std::string> *ids = cache.find("Organization?identifier=a|1", 7);
    ASSERT_NE(ids, nullptr);
    EXPECT_EQ(*ids, std::vector<std::string>{"org1"});
    // A write of the type moved the counter: stale, dropped.
    EXPECT_EQ(cache.find("Organization?identifier=a|1", 8), nullptr);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.find("Organization?identifier=a|1", 7), nullptr);
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_EQ(cache.misses(), 3u);
}

TEST(MatchUrlCache, RemembersEmptyAnswersAndReplaces) {
    MatchUrlCache cache(10);
    cache.put("Patient?identifier=x", 1, {});
    ASSERT_NE(cache.find("Patient?identifier=x", 1), nullptr);
    EXPECT_TRUE(cache.find("Patient?identifier=x", 1)->empty());
    cache.put("Patient?identifier=x", 2, {"p1", "p2"});
    EXPECT_EQ(cache.find("Patient?identifier=x", 1), nullptr);
    cache.put("Patient?identifier=x", 2, {"p1", "p2"});
    ASSERT_NE(cache.find("Patient?identifier=x", 2), nullptr);
    EXPECT_EQ(cache.find("Patient?identifier=x", 2)->size(), 2u);
    EXPECT_EQ(cache.size(), 1u);
}

TEST(MatchUrlCache, EvictsTheLeastRecentlyUsed) {
    MatchUrlCache cache(2);
    cache.put("a", 1, {"1"});
    cache.put("b", 1, {"2"});
    ASSERT_NE(cache.find("a", 1), nullptr); // a is now the most recent
    cache.put("c", 1, {"3"});               // b goes
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_NE(cache.find("a", 1), nullptr);
    EXPECT_EQ(cache.find("b", 1), nullptr);
    EXPECT_NE(cache.find("c", 1), nullptr);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
    MatchUrlCache none(0);
    none.put("a", 1, {"1"});
    EXPECT_EQ(none.find("a", 1), nullptr);
}
