// Routing FHIR REST requests (rest_request.h).
#include "rest_request.h"

#include <gtest/gtest.h>

using fhir::Interaction;
using fhir::route_request;

TEST(RestRequestTest, RoutesEveryInteraction) {
    EXPECT_EQ(route_request("GET", "metadata", "").interaction, Interaction::Capabilities);
    auto read = route_request("GET", "Patient/p-1", "");
    EXPECT_EQ(read.interaction, Interaction::Read);
    EXPECT_EQ(read.type, "Patient");
    EXPECT_EQ(read.id, "p-1");
    auto head = route_request("head", "/Patient/p-1", "");
    EXPECT_EQ(head.interaction, Interaction::Read);
    EXPECT_TRUE(head.head);
    auto vread = route_request("GET", "Patient/p-1/_history/3", "");
    EXPECT_EQ(vread.interaction, Interaction::VRead);
    EXPECT_EQ(*vread.version, 3);
    auto search = route_request("GET", "Observation?code=x&_count=2", "");
    EXPECT_EQ(search.interaction, Interaction::Search);
    EXPECT_EQ(search.type, "Observation");
    EXPECT_EQ(search.query, "code=x&_count=2");
    EXPECT_EQ(route_request("POST", "Observation/_search", "").interaction, Interaction::Search);
    auto system = route_request("GET", "?_type=Patient", "");
    EXPECT_EQ(system.interaction, Interaction::Search);
    EXPECT_EQ(system.type, "");
    EXPECT_EQ(route_request("POST", "_search", "").interaction, Interaction::Search);
    auto compartment = route_request("GET", "Patient/p1/Observation?code=x", "");
    EXPECT_EQ(compartment.interaction, Interaction::CompartmentSearch);
    EXPECT_EQ(compartment.compartment_type, "Patient");
    EXPECT_EQ(compartment.compartment_id, "p1");
    EXPECT_EQ(compartment.type, "Observation");
    EXPECT_EQ(route_request("GET", "Patient/p1/*", "").type, "");
    EXPECT_EQ(route_request("GET", "Patient/p1/_history", "").interaction, Interaction::HistoryInstance);
    EXPECT_EQ(route_request("GET", "Patient/_history?_since=2020", "").interaction, Interaction::HistoryType);
    EXPECT_EQ(route_request("GET", "_history", "").interaction, Interaction::HistorySystem);
    EXPECT_EQ(route_request("POST", "Patient", "").interaction, Interaction::Create);
    EXPECT_EQ(route_request("PUT", "Patient/p1", "").interaction, Interaction::Update);
    EXPECT_EQ(route_request("PUT", "Patient?identifier=a|b", "").interaction, Interaction::ConditionalUpdate);
    EXPECT_EQ(route_request("PATCH", "Patient/p1", "").interaction, Interaction::Patch);
    EXPECT_EQ(route_request("PATCH", "Patient?identifier=a|b", "").interaction, Interaction::ConditionalPatch);
    EXPECT_EQ(route_request("DELETE", "Patient/p1", "").interaction, Interaction::Delete);
    EXPECT_EQ(route_request("DELETE", "Patient?identifier=a|b", "").interaction, Interaction::ConditionalDelete);
    EXPECT_EQ(route_request("POST", "", "").interaction, Interaction::Transaction);
    EXPECT_EQ(route_request("POST", "/", "").interaction, Interaction::Transaction);
    auto everything = route_request("GET", "Patient/p1/$everything?_count=5", "");
    EXPECT_EQ(everything.interaction, Interaction::Operation);
    EXPECT_EQ(everything.operation, "everything");
    EXPECT_EQ(everything.id, "p1");
    EXPECT_EQ(everything.query, "_count=5");
}

TEST(RestRequestTest, StripsTheBase) {
    const char *base = "http://fhir.example.org/r4/";
    auto full = route_request("GET", "http://fhir.example.org/r4/Patient/1?x=1", base);
    EXPECT_EQ(full.interaction, Interaction::Read);
    EXPECT_EQ(full.id, "1");
    EXPECT_EQ(full.query, "x=1");
    EXPECT_EQ(route_request("GET", "/r4/Patient/1", base).interaction, Interaction::Read);
    // Another host: scheme and host go, the base's path too.
    EXPECT_EQ(route_request("GET", "https://proxy:8443/r4/Patient/1", base).id, "1");
    EXPECT_EQ(route_request("GET", "http://h/Patient/1", "").id, "1");
    // A fragment is not part of the query.
    EXPECT_EQ(route_request("GET", "Patient?name=a#frag", "").query, "name=a");
}

TEST(RestRequestTest, RefusesWhatIsNotFhir) {
    auto unknown = route_request("GET", "Patientt/1", "");
    EXPECT_EQ(unknown.interaction, Interaction::None);
    EXPECT_EQ(unknown.error_status, 404);
    EXPECT_EQ(route_request("OPTIONS", "Patient", "").error_status, 405);
    EXPECT_EQ(route_request("POST", "Patient/1", "").error_status, 405);
    EXPECT_EQ(route_request("DELETE", "metadata", "").error_status, 405);
    EXPECT_EQ(route_request("PUT", "Patient", "").error_status, 400);
    EXPECT_EQ(route_request("GET", "Patient/bad id!", "").error_status, 400);
    EXPECT_EQ(route_request("GET", "Patient/1/_history/x", "").error_status, 404);
    EXPECT_EQ(route_request("GET", "Patient/1/_history/0", "").error_status, 404);
    EXPECT_EQ(route_request("GET", "Patient/1/foo/bar/baz", "").error_status, 404);
    EXPECT_EQ(route_request("GET", "$export", "").error_status, 501);
    // malformed escapes and invalid UTF-8 in the path are 400 routes, not exceptions
    auto escape = route_request("GET", "Patient/%zz", "");
    EXPECT_EQ(escape.interaction, Interaction::None);
    EXPECT_EQ(escape.error_status, 400);
    EXPECT_NE(escape.error.find("malformed URL path"), std::string::npos);
    EXPECT_EQ(route_request("GET", "Patient/%C3%28", "").error_status, 400);
    EXPECT_EQ(route_request("GET", "Patient/a%2", "").error_status, 400);
}

TEST(RestRequestTest, ReadsHeaders) {
    EXPECT_EQ(*fhir::etag_version("W/\"3\""), 3);
    EXPECT_EQ(*fhir::etag_version("\"12\""), 12);
    EXPECT_EQ(*fhir::etag_version(" 7 "), 7);
    EXPECT_FALSE(fhir::etag_version("W/\"x\""));
    EXPECT_FALSE(fhir::etag_version(""));
    auto prefer = fhir::parse_prefer("return=minimal, handling=lenient");
    EXPECT_EQ(prefer.return_, fhir::PreferReturn::Minimal);
    EXPECT_EQ(prefer.strict, false);
    EXPECT_EQ(fhir::parse_prefer("handling=strict;return=OperationOutcome").return_,
              fhir::PreferReturn::OperationOutcome);
    EXPECT_FALSE(fhir::parse_prefer("respond-async").strict.has_value());
    EXPECT_EQ(*fhir::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), INT64_C(784111777) * 1000000);
    EXPECT_FALSE(fhir::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    EXPECT_FALSE(fhir::parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT"));
}

TEST(RestRequestTest, MapsSqlstatesToHttpStatuses) {
    using fhir::http_status_for_sqlstate;
    EXPECT_EQ(http_status_for_sqlstate("22023", false, true), 400);
    EXPECT_EQ(http_status_for_sqlstate("22P02", false, false), 400);
    EXPECT_EQ(http_status_for_sqlstate("0A000", false, true), 400);
    EXPECT_EQ(http_status_for_sqlstate("0A000", false, false), 501);
    EXPECT_EQ(http_status_for_sqlstate("FH404", false, false), 404);
    EXPECT_EQ(http_status_for_sqlstate("FH409", true, false), 412);
    EXPECT_EQ(http_status_for_sqlstate("FH409", false, false), 409);
    EXPECT_EQ(http_status_for_sqlstate("FH412", false, false), 412);
    EXPECT_EQ(http_status_for_sqlstate("42501", false, false), 403);
    EXPECT_EQ(http_status_for_sqlstate("57014", false, true), 503);
    EXPECT_EQ(http_status_for_sqlstate("40001", false, false), 409);
    EXPECT_EQ(http_status_for_sqlstate("XX000", false, false), 500);
}
