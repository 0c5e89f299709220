// json_patch_test.cpp: unit tests of JSON Pointer (RFC 6901, json_pointer.h) and
// JSON Patch (RFC 6902, json_patch.h).
//
// The RFC 6902 appendix A examples one by one (A.13, a document with a duplicate
// member, is a JSON parsing matter and not representable here), RFC 6901's
// pointer examples, then what the RFCs say an implementation must refuse and the
// numbers of documents read with exact decimals (binary decimal texts).
#include "json_patch.h"

#include "error.h"
#include "json_pointer.h"

#include <gtest/gtest.h>

#include <string>

using fhir::ErrorKind;
using fhir::Json;
using fhir::JsonPointer;

namespace {

Json apply(const char *document, const char *patch) {
    return fhir::apply_json_patch(Json::parse(document), Json::parse(patch));
}

// The error of a patch that must fail.
fhir::Error failure(const char *document, const char *patch) {
    try {
        apply(document, patch);
    } catch (const fhir::Error &e) {
        return e;
    }
    ADD_FAILURE() << "patch " << patch << " did not fail";
    return fhir::Error(ErrorKind::Internal, "no error");
}

// The OperationOutcome issue code an error carries in its detail.
std::string issue_code(const fhir::Error &e) {
    return Json::parse(e.detail())["issue"][0]["code"].get<std::string>();
}

// A number as the glue reads a decimal from jsonb with exact decimals.
Json decimal(const std::string &text) { return Json::binary(std::vector<std::uint8_t>(text.begin(), text.end())); }

} // namespace

TEST(JsonPointerTest, Rfc6901Examples) {
    const Json doc = Json::parse(R"({"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
                                     "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8})");
    auto at = [&](const char *text) {
        std::optional<JsonPointer> p = JsonPointer::parse(text);
        EXPECT_TRUE(p.has_value()) << text;
        const Json *found = p ? p->find(doc) : nullptr;
        return found ? *found : Json("<missing>");
    };
    EXPECT_EQ(at(""), doc);
    EXPECT_EQ(at("/foo"), Json::parse(R"(["bar", "baz"])"));
    EXPECT_EQ(at("/foo/0"), "bar");
    EXPECT_EQ(at("/"), 0);
    EXPECT_EQ(at("/a~1b"), 1);
    EXPECT_EQ(at("/c%d"), 2);
    EXPECT_EQ(at("/e^f"), 3);
    EXPECT_EQ(at("/g|h"), 4);
    EXPECT_EQ(at("/i\\j"), 5);
    EXPECT_EQ(at("/k\"l"), 6);
    EXPECT_EQ(at("/ "), 7);
    EXPECT_EQ(at("/m~0n"), 8);
    EXPECT_EQ(at("/foo/2"), "<missing>");
    EXPECT_EQ(at("/foo/-"), "<missing>");
    EXPECT_EQ(at("/foo/01"), "<missing>"); // no leading zeros
    EXPECT_EQ(at("/foo/0/x"), "<missing>");
}

TEST(JsonPointerTest, ParsesAndPrintsEscapes) {
    std::string why;
    EXPECT_FALSE(JsonPointer::parse("foo", &why));
    EXPECT_NE(why.find("starts with '/'"), std::string::npos);
    EXPECT_FALSE(JsonPointer::parse("/a~2b", &why));
    EXPECT_FALSE(JsonPointer::parse("/a~", &why));
    std::optional<JsonPointer> p = JsonPointer::parse("/~01/a~1b//c");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->tokens(), (std::vector<std::string>{"~1", "a/b", "", "c"})); // ~01 is "~1", not "/"
    EXPECT_EQ(p->to_string(), "/~01/a~1b//c");
    EXPECT_EQ(p->parent().to_string(), "/~01/a~1b/");
    EXPECT_TRUE(JsonPointer::parse("/a/b")->is_inside(*JsonPointer::parse("/a")));
    EXPECT_FALSE(JsonPointer::parse("/a")->is_inside(*JsonPointer::parse("/a")));
    EXPECT_FALSE(JsonPointer::parse("/ab")->is_inside(*JsonPointer::parse("/a")));
    EXPECT_EQ(fhir::json_array_index("0"), 0u);
    EXPECT_EQ(fhir::json_array_index("12"), 12u);
    EXPECT_FALSE(fhir::json_array_index("012"));
    EXPECT_FALSE(fhir::json_array_index("-"));
    EXPECT_FALSE(fhir::json_array_index("1a"));
    EXPECT_FALSE(fhir::json_array_index("99999999999999999999999"));
}

TEST(JsonPatchTest, Rfc6902AppendixA) {
    // A.1 adding an object member
    EXPECT_EQ(apply(R"({"foo": "bar"})", R"([{"op": "add", "path": "/baz", "value": "qux"}])"),
              Json::parse(R"({"baz": "qux", "foo": "bar"})"));
    // A.2 adding an array element
    EXPECT_EQ(apply(R"({"foo": ["bar", "baz"]})", R"([{"op": "add", "path": "/foo/1", "value": "qux"}])"),
              Json::parse(R"({"foo": ["bar", "qux", "baz"]})"));
    // A.3 removing an object member
    EXPECT_EQ(apply(R"({"baz": "qux", "foo": "bar"})", R"([{"op": "remove", "path": "/baz"}])"),
              Json::parse(R"({"foo": "bar"})"));
    // A.4 removing an array element
    EXPECT_EQ(apply(R"({"foo": ["bar", "qux", "baz"]})", R"([{"op": "remove", "path": "/foo/1"}])"),
              Json::parse(R"({"foo": ["bar", "baz"]})"));
    // A.5 replacing a value
    EXPECT_EQ(apply(R"({"baz": "qux", "foo": "bar"})", R"([{"op": "replace", "path": "/baz", "value": "boo"}])"),
              Json::parse(R"({"baz": "boo", "foo": "bar"})"));
    // A.6 moving a value
    EXPECT_EQ(apply(R"({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}})",
                    R"([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}])"),
              Json::parse(R"({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}})"));
    // A.7 moving an array element
    EXPECT_EQ(apply(R"({"foo": ["all", "grass", "cows", "eat"]})",
                    R"([{"op": "move", "from": "/foo/1", "path": "/foo/3"}])"),
              Json::parse(R"({"foo": ["all", "cows", "eat", "grass"]})"));
    // A.8 testing a value: success
    EXPECT_EQ(apply(R"({"baz": "qux", "foo": ["a", 2, "c"]})",
                    R"([{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}])"),
              Json::parse(R"({"baz": "qux", "foo": ["a", 2, "c"]})"));
    // A.9 testing a value: error
    fhir::Error a9 = failure(R"({"baz": "qux"})", R"([{"op": "test", "path": "/baz", "value": "bar"}])");
    EXPECT_EQ(a9.kind(), ErrorKind::InvalidResource);
    EXPECT_STREQ(a9.what(), "JSON Patch operation 0 (test): the value at \"/baz\" is not the one tested for");
    EXPECT_EQ(issue_code(a9), "processing");
    // A.10 adding a nested member object
    EXPECT_EQ(apply(R"({"foo": "bar"})", R"([{"op": "add", "path": "/child", "value": {"grandchild": {}}}])"),
              Json::parse(R"({"foo": "bar", "child": {"grandchild": {}}})"));
    // A.11 ignoring unrecognized elements
    EXPECT_EQ(apply(R"({"foo": "bar"})", R"([{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}])"),
              Json::parse(R"({"foo": "bar", "baz": "qux"})"));
    // A.12 adding to a nonexistent target
    fhir::Error a12 = failure(R"({"foo": "bar"})", R"([{"op": "add", "path": "/baz/bat", "value": "qux"}])");
    EXPECT_NE(std::string(a12.what()).find("the parent of path \"/baz/bat\" does not exist"), std::string::npos);
    // A.14 ~ escape ordering
    EXPECT_EQ(apply(R"({"/": 9, "~1": 10})", R"([{"op": "test", "path": "/~01", "value": 10}])"),
              Json::parse(R"({"/": 9, "~1": 10})"));
    // A.15 comparing strings and numbers
    failure(R"({"/": 9, "~1": 10})", R"([{"op": "test", "path": "/~01", "value": "10"}])");
    // A.16 adding an array value
    EXPECT_EQ(apply(R"({"foo": ["bar"]})", R"([{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}])"),
              Json::parse(R"({"foo": ["bar", ["abc", "def"]]})"));
}

TEST(JsonPatchTest, AddReplaceAndRemoveAtTheEdges) {
    // add replaces an existing member; "-" appends to an array but is a plain key of an object
    EXPECT_EQ(apply(R"({"a": 1})", R"([{"op": "add", "path": "/a", "value": 2}])"), Json::parse(R"({"a": 2})"));
    EXPECT_EQ(apply(R"({"a": {}})", R"([{"op": "add", "path": "/a/-", "value": 1}])"),
              Json::parse(R"({"a": {"-": 1}})"));
    EXPECT_EQ(apply(R"({"a": [1]})", R"([{"op": "add", "path": "/a/1", "value": 2}])"),
              Json::parse(R"({"a": [1, 2]})"));
    // the whole document: add and replace with path "" replace it; null is a value
    EXPECT_EQ(apply(R"({"a": 1})", R"([{"op": "replace", "path": "", "value": {"b": 2}}])"),
              Json::parse(R"({"b": 2})"));
    EXPECT_EQ(apply(R"({"a": 1})", R"([{"op": "add", "path": "", "value": [1]}])"), Json::parse("[1]"));
    EXPECT_EQ(apply(R"({"a": 1})", R"([{"op": "add", "path": "/b", "value": null}])"),
              Json::parse(R"({"a": 1, "b": null})"));
    // copy duplicates, a move to the same place changes nothing
    EXPECT_EQ(apply(R"({"a": {"x": [1]}})", R"([{"op": "copy", "from": "/a/x", "path": "/b"}])"),
              Json::parse(R"({"a": {"x": [1]}, "b": [1]})"));
    EXPECT_EQ(apply(R"({"a": 1})", R"([{"op": "move", "from": "/a", "path": "/a"}])"), Json::parse(R"({"a": 1})"));
    // an empty patch is no change
    EXPECT_EQ(apply(R"({"a": 1})", "[]"), Json::parse(R"({"a": 1})"));

    auto message = [](const char *doc, const char *patch) { return std::string(failure(doc, patch).what()); };
    EXPECT_EQ(message(R"({"a": [1]})", R"([{"op": "add", "path": "/a/2", "value": 3}])"),
              "JSON Patch operation 0 (add): index 2 in path \"/a/2\" is past the end of the array (1 elements)");
    EXPECT_EQ(message(R"({"a": [1]})", R"([{"op": "add", "path": "/a/x", "value": 3}])"),
              "JSON Patch operation 0 (add): \"x\" in path \"/a/x\" is not an array index");
    EXPECT_EQ(message(R"({"a": [1]})", R"([{"op": "add", "path": "/a/01", "value": 3}])"),
              "JSON Patch operation 0 (add): \"01\" in path \"/a/01\" is not an array index");
    EXPECT_EQ(message(R"({"a": "s"})", R"([{"op": "add", "path": "/a/b", "value": 3}])"),
              "JSON Patch operation 0 (add): the parent of path \"/a/b\" is a string, not an object or array");
    EXPECT_EQ(message(R"({"a": [1]})", R"([{"op": "remove", "path": "/a/1"}])"),
              "JSON Patch operation 0 (remove): path \"/a/1\" does not exist in the resource");
    EXPECT_EQ(message(R"({"a": [1]})", R"([{"op": "remove", "path": "/a/-"}])"),
              "JSON Patch operation 0 (remove): path \"/a/-\" does not exist in the resource");
    EXPECT_EQ(message(R"({"a": 1})", R"([{"op": "remove", "path": ""}])"),
              "JSON Patch operation 0 (remove): cannot remove the whole resource");
    EXPECT_EQ(message(R"({"a": 1})", R"([{"op": "replace", "path": "/b", "value": 2}])"),
              "JSON Patch operation 0 (replace): path \"/b\" does not exist in the resource");
    EXPECT_EQ(message(R"({"a": {"b": 1}})", R"([{"op": "move", "from": "/a", "path": "/a/c"}])"),
              "JSON Patch operation 0 (move): cannot move \"/a\" into its own child \"/a/c\"");
    EXPECT_EQ(message(R"({"a": 1})", R"([{"op": "copy", "from": "/x", "path": "/b"}])"),
              "JSON Patch operation 0 (copy): from \"/x\" does not exist in the resource");
    EXPECT_EQ(message(R"({"a": 1})", R"([{"op": "test", "path": "/b", "value": 1}])"),
              "JSON Patch operation 0 (test): path \"/b\" does not exist in the resource");
}

TEST(JsonPatchTest, RefusesMalformedDocuments) {
    auto invalid = [](const char *patch, const char *expected) {
        fhir::Error e = failure(R"({"a": 1})", patch);
        EXPECT_EQ(e.kind(), ErrorKind::InvalidResource);
        EXPECT_EQ(std::string(e.what()), expected);
        EXPECT_EQ(issue_code(e), "invalid") << patch;
    };
    invalid(R"({"op": "add"})", "JSON Patch: a JSON Patch must be an array of operations, not object");
    invalid(R"(["add"])", "JSON Patch operation 0: an operation must be an object, not string");
    invalid(R"([{"path": "/a"}])",
            "JSON Patch operation 0: needs an \"op\" string (add, remove, replace, move, copy or test)");
    invalid(R"([{"op": "merge", "path": "/a"}])",
            "JSON Patch operation 0 (merge): unknown operation \"merge\" (add, remove, replace, move, copy or test)");
    invalid(R"([{"op": "add", "value": 1}])", "JSON Patch operation 0 (add): needs a \"path\" member");
    invalid(R"([{"op": "add", "path": "/b"}])", "JSON Patch operation 0 (add): needs a \"value\" member");
    invalid(R"([{"op": "test", "path": "/b"}])", "JSON Patch operation 0 (test): needs a \"value\" member");
    invalid(R"([{"op": "move", "path": "/b"}])", "JSON Patch operation 0 (move): needs a \"from\" member");
    invalid(R"([{"op": "remove", "path": 3}])",
            "JSON Patch operation 0 (remove): \"path\" must be a string (a JSON Pointer)");
    invalid(R"([{"op": "remove", "path": "a"}])",
            "JSON Patch operation 0 (remove): \"path\" \"a\" is not a JSON Pointer: a JSON Pointer is empty or "
            "starts with '/'");
    invalid(R"([{"op": "remove", "path": "/a~2"}])",
            "JSON Patch operation 0 (remove): \"path\" \"/a~2\" is not a JSON Pointer: '~' must be followed by '0' "
            "or '1' in a JSON Pointer");
}

TEST(JsonPatchTest, IsAtomicAndCountsOperations) {
    const Json doc = Json::parse(R"({"a": 1, "b": [1, 2]})");
    const Json before = doc;
    try {
        fhir::apply_json_patch(doc, Json::parse(R"([{"op": "remove", "path": "/a"},
                                                    {"op": "add", "path": "/b/0", "value": 0},
                                                    {"op": "test", "path": "/b/0", "value": 1}])"));
        FAIL() << "the failing test did not stop the patch";
    } catch (const fhir::Error &e) {
        EXPECT_STREQ(e.what(), "JSON Patch operation 2 (test): the value at \"/b/0\" is not the one tested for");
        Json outcome = Json::parse(e.detail());
        EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
        EXPECT_EQ(outcome["issue"][0]["severity"], "error");
        EXPECT_EQ(outcome["issue"][0]["diagnostics"], e.what());
    }
    EXPECT_EQ(doc, before);
    // a test sees the earlier operations' changes
    EXPECT_EQ(fhir::apply_json_patch(doc, Json::parse(R"([{"op": "add", "path": "/b/0", "value": 0},
                                                          {"op": "test", "path": "/b", "value": [0, 1, 2]}])")),
              Json::parse(R"({"a": 1, "b": [0, 1, 2]})"));
}

TEST(JsonPatchTest, ComparesNumbersByValueIncludingExactDecimals) {
    using fhir::json_patch_equal;
    EXPECT_TRUE(json_patch_equal(Json(2), Json(2.0)));
    EXPECT_TRUE(json_patch_equal(decimal("1.50"), Json(1.5)));
    EXPECT_TRUE(json_patch_equal(decimal("1.50"), decimal("15e-1")));
    EXPECT_TRUE(json_patch_equal(decimal("-0.0"), Json(0)));
    EXPECT_TRUE(json_patch_equal(decimal("1E+2"), Json(100)));
    EXPECT_TRUE(json_patch_equal(Json(static_cast<unsigned>(7)), Json(7)));
    EXPECT_FALSE(json_patch_equal(decimal("1.51"), Json(1.5)));
    EXPECT_FALSE(json_patch_equal(decimal("-1.5"), Json(1.5)));
    EXPECT_FALSE(json_patch_equal(Json("2"), Json(2)));
    EXPECT_FALSE(json_patch_equal(Json(true), Json(1)));
    EXPECT_FALSE(json_patch_equal(Json(nullptr), Json(0)));
    // objects ignore member order, arrays do not
    EXPECT_TRUE(json_patch_equal(Json::parse(R"({"a": [1, {"b": 2.0}], "c": null})"),
                                 Json::parse(R"({"c": null, "a": [1, {"b": 2}]})")));
    EXPECT_FALSE(json_patch_equal(Json::parse("[1, 2]"), Json::parse("[2, 1]")));
    EXPECT_FALSE(json_patch_equal(Json::parse(R"({"a": 1})"), Json::parse(R"({"a": 1, "b": 1})")));
    // a stored decimal is tested and copied with its digits
    Json doc = {{"valueQuantity", {{"value", decimal("1.50")}}}};
    Json patched = fhir::apply_json_patch(doc, Json::parse(R"([{"op": "test", "path": "/valueQuantity/value", "value": 1.5},
                                                               {"op": "copy", "from": "/valueQuantity", "path": "/x"}])"));
    EXPECT_EQ(patched["x"]["value"], decimal("1.50"));
}
