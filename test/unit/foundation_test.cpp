// foundation_test.cpp: unit tests of resource validation, Bundle planning and
// query-string splitting (the pure C++ parts of the write path).
#include "bundle_plan.h"
#include "error.h"
#include "query_string.h"
#include "resource.h"

#include <gtest/gtest.h>

using fhir::Json;

TEST(ResourceValidation, AcceptsAndReportsIdentity) {
    auto id = fhir::validate_resource(Json::parse(R"({"resourceType":"Patient","id":"a-1.B"})"));
    EXPECT_EQ(id.type, "Patient");
    EXPECT_EQ(id.id, "a-1.B");
    EXPECT_TRUE(fhir::validate_resource(Json::parse(R"({"resourceType":"Observation"})")).id.empty());
}

TEST(ResourceValidation, RejectsBadInputWithKind) {
    auto kind_of = [](const char *text) {
        try {
            fhir::validate_resource(Json::parse(text));
        } catch (const fhir::Error &e) {
            return e.kind();
        }
        return fhir::ErrorKind::Internal;
    };
    EXPECT_EQ(kind_of("[1]"), fhir::ErrorKind::InvalidResource);
    EXPECT_EQ(kind_of(R"({"id":"x"})"), fhir::ErrorKind::InvalidResource);
    EXPECT_EQ(kind_of(R"({"resourceType":"Patiant"})"), fhir::ErrorKind::UnknownResourceType);
    EXPECT_EQ(kind_of(R"({"resourceType":"Patient","id":"a b"})"), fhir::ErrorKind::InvalidResource);
    EXPECT_EQ(kind_of(R"({"resourceType":"Patient","id":1})"), fhir::ErrorKind::InvalidResource);
    EXPECT_EQ(kind_of(R"({"resourceType":"Patient","meta":"x"})"), fhir::ErrorKind::InvalidResource);
    EXPECT_THROW(fhir::validate_resource(Json::parse(R"({"resourceType":"Patient"})"), "Observation"), fhir::Error);
}

TEST(ResourceValidation, IdSyntax) {
    EXPECT_TRUE(fhir::is_valid_id(std::string(64, 'a')));
    EXPECT_FALSE(fhir::is_valid_id(std::string(65, 'a')));
    EXPECT_FALSE(fhir::is_valid_id(""));
    EXPECT_FALSE(fhir::is_valid_id("a/b"));
    EXPECT_FALSE(fhir::is_valid_id("ä"));
}

TEST(ResourceValidation, UuidAndPartitionNames) {
    unsigned char bytes[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(fhir::uuid_v4_from_bytes(bytes), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    EXPECT_EQ(fhir::partition_table("MedicationRequest"), "fhir.resource_medicationrequest");
    EXPECT_THROW(fhir::partition_table("x; drop table y"), fhir::Error);
}

TEST(BundlePlan, OrdersEntriesAndParsesRequests) {
    Json bundle = Json::parse(R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"request":{"method":"GET","url":"Patient/1"}},
      {"resource":{"resourceType":"Patient","id":"2"},"request":{"method":"PUT","url":"Patient/2","ifMatch":"W/\"3\""}},
      {"fullUrl":"urn:uuid:x","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=a|b"}},
      {"request":{"method":"DELETE","url":"http://h/fhir/Observation?code=c"}}]})");
    fhir::BundlePlan plan = fhir::plan_bundle(bundle);
    ASSERT_EQ(plan.entries.size(), 4u);
    EXPECT_EQ(plan.entries[0].method, "DELETE");
    EXPECT_EQ(plan.entries[0].type, "Observation");
    EXPECT_EQ(plan.entries[0].conditional, "code=c");
    EXPECT_EQ(plan.entries[1].method, "POST");
    EXPECT_EQ(plan.entries[1].if_none_exist, "identifier=a|b");
    EXPECT_EQ(plan.entries[1].full_url, "urn:uuid:x");
    EXPECT_EQ(plan.entries[2].method, "PUT");
    EXPECT_EQ(plan.entries[2].if_match, 3);
    EXPECT_EQ(plan.entries[3].method, "GET");
    EXPECT_EQ(plan.entries[3].index, 0u);
    for (const auto &e : plan.entries)
        EXPECT_TRUE(e.error.empty()) << e.error;
}

TEST(BundlePlan, ReportsEntryErrors) {
    Json bundle = Json::parse(R"({"resourceType":"Bundle","type":"batch","entry":[
      {"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/b"}},
      {"request":{"method":"PATCH","url":"Patient/1"}},
      {"resource":{"resourceType":"Observation"},"request":{"method":"POST","url":"Patient"}},
      {"request":{"method":"DELETE","url":"Nothing/1"}}]})");
    fhir::BundlePlan plan = fhir::plan_bundle(bundle);
    EXPECT_EQ(plan.kind, fhir::BundleKind::Batch);
    for (const auto &e : plan.entries)
        EXPECT_FALSE(e.error.empty()) << "entry " << e.index;
    EXPECT_THROW(fhir::plan_bundle(Json::parse(R"({"resourceType":"Bundle","type":"searchset"})")), fhir::Error);
    EXPECT_THROW(fhir::plan_bundle(Json::parse(R"({"resourceType":"Patient"})")), fhir::Error);
}

TEST(BundlePlan, FindsAndRewritesReferences) {
    Json resource = Json::parse(R"({"resourceType":"Observation","subject":{"reference":"urn:uuid:1"},
      "performer":[{"reference":"Practitioner?identifier=a|b"},{"reference":"Practitioner/p"}],
      "note":[{"text":"urn:uuid:1"}]})");
    auto refs = fhir::references_to_resolve(resource);
    ASSERT_EQ(refs.size(), 2u);
    EXPECT_EQ(refs[0], "Practitioner?identifier=a|b");
    EXPECT_EQ(refs[1], "urn:uuid:1");
    std::string out = fhir::rewrite_reference_strings(R"({"a":"urn:uuid:1","b":"urn:uuid:10","c":"x\"urn:uuid:1"})",
                                                      {{"urn:uuid:1", "Patient/9"}});
    EXPECT_EQ(out, R"({"a":"Patient/9","b":"urn:uuid:10","c":"x\"urn:uuid:1"})");
    std::string type, query;
    EXPECT_TRUE(fhir::split_conditional_reference("Patient?identifier=a|b", &type, &query));
    EXPECT_EQ(type, "Patient");
    EXPECT_EQ(query, "identifier=a|b");
    EXPECT_FALSE(fhir::split_conditional_reference("Patient/1", &type, &query));
    EXPECT_FALSE(fhir::split_conditional_reference("Nope?x=1", &type, &query));
}

TEST(BundlePlan, RewritesReferencesInTextAndTreeAlike) {
    const std::string text =
        R"({"subject":{"reference":"urn:uuid:1"},"a":["urn:uuid:2","urn:uuid:1x"],"esc":"q\"urn:uuid:1","n":1.50})";
    fhir::ReferenceMap mapping = {{"urn:uuid:1", "Patient/9"}, {"urn:uuid:2", "Encounter/e"}};
    std::string out = fhir::rewrite_reference_strings(text, mapping);
    EXPECT_EQ(out, R"({"subject":{"reference":"Patient/9"},"a":["Encounter/e","urn:uuid:1x"],"esc":"q\"urn:uuid:1","n":1.50})");
    Json tree = Json::parse(text);
    EXPECT_EQ(fhir::rewrite_reference_values(tree, mapping), 2u);
    EXPECT_EQ(tree, Json::parse(out));
    EXPECT_EQ(fhir::rewrite_reference_strings(text, {}), text);
    EXPECT_EQ(fhir::rewrite_reference_strings(R"("urn:uuid:1")", mapping), R"("Patient/9")");
}

TEST(BundlePlan, TellsWhichConditionalsReadOnlyTheirType) {
    EXPECT_TRUE(fhir::conditional_reads_only_its_type("identifier=http://x|1"));
    EXPECT_TRUE(fhir::conditional_reads_only_its_type("identifier=a|b&active=true&_id=3"));
    EXPECT_FALSE(fhir::conditional_reads_only_its_type("organization.name=Acme"));
    EXPECT_FALSE(fhir::conditional_reads_only_its_type("code:in=http://vs"));
    EXPECT_FALSE(fhir::conditional_reads_only_its_type("identifier=a&_has:Observation:subject:code=1"));
    EXPECT_FALSE(fhir::conditional_reads_only_its_type("_list=l1"));
}

TEST(QueryString, SplitsAndDecodes) {
    auto pairs = fhir::split_query_string("?code=http%3A%2F%2Floinc.org%7C8867-4&&date=ge2020-01-01T00:00:00+05:00&flag");
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[0].name, "code");
    EXPECT_EQ(pairs[0].value, "http://loinc.org|8867-4");
    EXPECT_EQ(pairs[1].value, "ge2020-01-01T00:00:00 05:00"); // '+' is a space; date values read it back
    EXPECT_EQ(pairs[2].name, "flag");
    EXPECT_EQ(pairs[2].value, "");
    EXPECT_THROW(fhir::split_query_string("a=%zz"), fhir::Error);
    EXPECT_THROW(fhir::split_query_string("a=%4"), fhir::Error);
}

// Decoded names and values must be UTF-8 (issue 16): invalid sequences are refused,
// whatever escapes spell them.
TEST(QueryString, RefusesInvalidUtf8) {
    EXPECT_EQ(fhir::split_query_string("name=%C3%A9l%C3%A8ne")[0].value, "\xC3\xA9l\xC3\xA8ne");
    EXPECT_EQ(fhir::split_query_string("name=%F0%9F%98%80")[0].value, "\xF0\x9F\x98\x80"); // U+1F600
    EXPECT_EQ(fhir::split_query_string("name=%ED%9F%BF")[0].value, "\xED\x9F\xBF");          // U+D7FF
    for (const char *bad : {"name=%C3%28", "name=%C3", "name=%80", "name=%C0%AF" /* overlong '/' */,
                            "name=%E0%80%AF" /* overlong */, "name=%ED%A0%80" /* surrogate */,
                            "name=%F4%90%80%80" /* past U+10FFFF */, "name=%FF", "na%FEme=x", "name=\xC3\x28"}) {
        EXPECT_THROW(fhir::split_query_string(bad), fhir::Error) << bad;
    }
    EXPECT_THROW(fhir::percent_decode("%C3%28"), fhir::Error);
}

// Form encoding as Python's urlencode and JavaScript's URLSearchParams write it.
TEST(QueryString, PlusIsASpace) {
    auto pairs = fhir::split_query_string("family=van+der+Berg&given=a%2Bb&x+y=1");
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[0].value, "van der Berg");
    EXPECT_EQ(pairs[1].value, "a+b");
    EXPECT_EQ(pairs[2].name, "x y");
    EXPECT_EQ(fhir::normalize_query("family=van+der"), fhir::normalize_query("family=van%20der"));
    EXPECT_NE(fhir::normalize_query("family=van+der"), fhir::normalize_query("family=van%2Bder"));
    EXPECT_EQ(fhir::percent_decode("a+b"), "a+b"); // plain percent-decoding keeps it
}

// What clients pass where a query string belongs: the query, "?query", or a whole URL.
TEST(QueryString, QueryOfUrl) {
    EXPECT_EQ(fhir::query_of_url("code=x&date=2020"), "code=x&date=2020");
    EXPECT_EQ(fhir::query_of_url("?code=x"), "code=x");
    EXPECT_EQ(fhir::query_of_url("http://localhost/fhir/Observation?code=x&_count=2"), "code=x&_count=2");
    EXPECT_EQ(fhir::query_of_url("https://h.example/base/Observation?code=x#frag"), "code=x");
    EXPECT_EQ(fhir::query_of_url("/fhir/Observation?code=x"), "code=x");
    EXPECT_EQ(fhir::query_of_url("Observation?code=x"), "code=x");
    EXPECT_EQ(fhir::query_of_url("http://localhost/fhir/Observation"), "");
    EXPECT_EQ(fhir::query_of_url(""), "");
    EXPECT_EQ(fhir::query_of_url("url=http://x.org/vs?version=2"), "url=http://x.org/vs?version=2");
    EXPECT_EQ(fhir::query_of_url("a=1&b=c?d"), "a=1&b=c?d");
    auto pairs = fhir::split_query_string("http://localhost/fhir/Patient?family=smith");
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0].name, "family");
    EXPECT_EQ(fhir::normalize_query("?family=smith"), fhir::normalize_query("family=smith"));
    EXPECT_EQ(fhir::normalize_query("Patient?family=smith"), fhir::normalize_query("family=smith"));
}

TEST(QueryString, OrValuesAndEncoding) {
    auto values = fhir::split_or_values("a,b\\,c,,d");
    ASSERT_EQ(values.size(), 4u);
    EXPECT_EQ(values[1], "b,c");
    EXPECT_EQ(values[2], "");
    EXPECT_EQ(fhir::percent_encode("a b|c&d"), "a%20b%7Cc%26d");
    EXPECT_EQ(fhir::percent_decode(fhir::percent_encode("Müller & Søn|x")), "Müller & Søn|x");
}

TEST(QueryString, NormalizesForCacheKeys) {
    EXPECT_EQ(fhir::normalize_query("b=2&a=x%2Cy"), fhir::normalize_query("a=x,y&b=2"));
    EXPECT_EQ(fhir::normalize_query("gender=male,female"), fhir::normalize_query("gender=female,male,male"));
    EXPECT_EQ(fhir::normalize_query("name=a&name=a"), fhir::normalize_query("name=a"));
    EXPECT_NE(fhir::normalize_query("name=a&name=b"), fhir::normalize_query("name=a,b"));
    EXPECT_NE(fhir::normalize_query("name=a\\,b"), fhir::normalize_query("name=a,b"));
    EXPECT_NE(fhir::normalize_query("a=1"), fhir::normalize_query("a=2"));
    // _sort keys order the result: never reordered or merged
    EXPECT_NE(fhir::normalize_query("_sort=family,birthdate"), fhir::normalize_query("_sort=birthdate,family"));
    EXPECT_NE(fhir::normalize_query("_sort=family&_sort=birthdate"), fhir::normalize_query("_sort=birthdate&_sort=family"));
    EXPECT_EQ(fhir::normalize_query("_sort=family,-date&name=a"), fhir::normalize_query("name=a&_sort=family,-date"));
}

#include "cache_control.h"

TEST(CacheControl, ParsesSmileCdrDirectives) {
    auto cc = fhir::parse_cache_control("no-cache, No-Store , max-results=50, private");
    EXPECT_TRUE(cc.no_cache);
    EXPECT_TRUE(cc.no_store);
    EXPECT_EQ(cc.max_results, 50);
    auto none = fhir::parse_cache_control("");
    EXPECT_FALSE(none.no_cache || none.no_store || none.max_results);
    EXPECT_THROW(fhir::parse_cache_control("max-results=abc"), fhir::Error);
    EXPECT_THROW(fhir::parse_cache_control("max-results=0"), fhir::Error);
}
