// Unit tests for the jsonb encoder. The expected bytes were read from a
// PostgreSQL 15 heap page (pageinspect's heap_page_items on a jsonb column with
// plain storage): what PostgreSQL itself stores for the same JSON.
#include "error.h"
#include "jsonb_encoder.h"

#include <gtest/gtest.h>

using namespace fhir;
using jsonb::Value;

namespace {

std::string unhex(std::string_view hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return out;
}

std::string hex(std::string_view bytes) {
    static const char *digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

// Numeric varlenas as PostgreSQL stores them inside jsonb.
const std::string kNumeric1 = unhex("2000000000800100");
const std::string kNumeric3 = unhex("2000000000800300");
const std::string kNumeric150 = unhex("28000000008101008813");
// '{"id":"1"}'
const std::string kIdObject = unhex("010000200200008001000000696431");

TEST(JsonbEncoder, ObjectKeysSortedByLengthThenBytes) {
    // '{"a":1,"bb":"x","c":[true,false,null]}'
    Value v = Value::object({{"bb", Value::string("x")},
                             {"c", Value::array({Value::boolean(true), Value::boolean(false), Value::null()})},
                             {"a", Value::numeric(kNumeric1)}});
    EXPECT_EQ(hex(jsonb::encode(v)), "03000020010000800100000002000000080000101000005001000000616362622000000000800100"
                                     "03000040000000b0000000200000004078");
}

TEST(JsonbEncoder, EmbeddedContainerIsCopiedAligned) {
    // '{"resource":{"id":"1"},"x":"y"}': "x" + "y" + "resource" = 10 bytes of data
    // before the container, so it gets two bytes of padding.
    Value v = Value::object({{"resource", Value::container(kIdObject)}, {"x", Value::string("y")}});
    EXPECT_EQ(hex(jsonb::encode(v)),
              "0200002001000080080000000100000011000050787265736f75726365790000010000200200008001000000696431");
}

TEST(JsonbEncoder, EveryThirtySecondEntryHoldsAnOffset) {
    std::vector<std::string> strings;
    for (int i = 0; i < 40; i++)
        strings.push_back("s" + std::to_string(i));
    std::vector<Value> elements;
    for (const std::string &s : strings)
        elements.push_back(Value::string(s));
    EXPECT_EQ(hex(jsonb::encode(Value::array(std::move(elements)))),
              "2800004002000080020000000200000002000000020000000200000002000000020000000200000002000000030000000300"
              "0000030000000300000003000000030000000300000003000000030000000300000003000000030000000300000003000000"
              "0300000003000000030000000300000003000000030000000300000003000000590000800300000003000000030000000300"
              "0000030000000300000003000000733073317332733373347335733673377338733973313073313173313273313373313473"
              "3135733136733137733138733139733230733231733232733233733234733235733236733237733238733239733330733331"
              "733332733333733334733335733336733337733338733339");
}

TEST(JsonbEncoder, ScalarRootIsARawScalarArray) {
    EXPECT_EQ(hex(jsonb::encode(Value::string("abc"))), "0100005003000080616263");
    EXPECT_EQ(hex(jsonb::encode(Value::numeric(kNumeric150))), "010000500a00009028000000008101008813");
}

TEST(JsonbEncoder, ArrayPadsBeforeContainersAndNumerics) {
    // '["a", {"k":"v"}, 2]'
    const std::string two = unhex("2000000000800200");
    Value v = Value::array({Value::string("a"), Value::object({{"k", Value::string("v")}}), Value::numeric(two)});
    EXPECT_EQ(hex(jsonb::encode(v)),
              "0300004001000080110000500a000010610000000100002001000080010000006b7600002000000000800200");
}

TEST(JsonbEncoder, BundleFrameAroundAStoredResource) {
    // '{"resourceType":"Bundle","entry":[{"resource":{"id":"1"},"search":{"mode":"match"}}],"total":3}'
    Value entry = Value::object(
        {{"resource", Value::container(kIdObject)}, {"search", Value::object({{"mode", Value::string("match")}})}});
    Value bundle = Value::object({{"resourceType", Value::string("Bundle")},
                                  {"entry", Value::array({std::move(entry)})},
                                  {"total", Value::numeric(kNumeric3)}});
    EXPECT_EQ(hex(jsonb::encode(bundle, 256)),
              "0300002005000080050000000c000000550000500900001006000000656e747279746f74616c7265736f7572636554797065"
              "0000010000404b0000d002000020060000800800000017000050120000507365617263687265736f75726365000001000020"
              "04000080050000006d6f64656d6174636800000001000020020000800100000069643100200000000080030042756e646c65");
}

TEST(JsonbEncoder, EmbeddedContainerAtTheRootIsCopied) {
    EXPECT_EQ(jsonb::encode(Value::container(kIdObject)), kIdObject);
}

TEST(JsonbEncoder, RejectsDuplicateKeysAndScalarContainers) {
    EXPECT_THROW(jsonb::encode(Value::object({{"a", Value::null()}, {"a", Value::null()}})), Error);
    // '"abc"' as a container: a raw scalar cannot be embedded as is.
    EXPECT_THROW(jsonb::encode(Value::array({Value::container(unhex("0100005003000080616263"))})), Error);
    EXPECT_THROW(jsonb::encode(Value::array({Value::container("ab")})), Error);
}

TEST(JsonbEncoder, KeyOrder) {
    EXPECT_TRUE(jsonb::key_less("z", "aa"));
    EXPECT_TRUE(jsonb::key_less("ab", "ac"));
    EXPECT_FALSE(jsonb::key_less("ac", "ab"));
    EXPECT_FALSE(jsonb::key_less("id", "id"));
}

} // namespace
