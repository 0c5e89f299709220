// http_mapping_test.cpp: fhir-server's HTTP mapping (content negotiation, the
// headers passed to fhir.request, OperationOutcome bodies, dates) and gzip.
#include "gzip.h"
#include "http_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

using namespace fhir_server;

TEST(ServerNegotiation, FormatWinsOverAccept) {
    EXPECT_EQ(negotiate_response_type("/fhir/Patient?_format=json", "application/fhir+xml").error_status, 0);
    EXPECT_EQ(negotiate_response_type("/fhir/Patient?_format=xml", "application/fhir+json").error_status, 406);
    EXPECT_EQ(negotiate_response_type("/Patient?a=b&_format=application/fhir%2Bxml", "").error_status, 406);
    // an unescaped '+' arrives as a space
    EXPECT_EQ(negotiate_response_type("/Patient?_format=application/fhir+json", "").error_status, 0);
    EXPECT_EQ(negotiate_response_type("/Patient?_format=application/json", "").content_type,
              "application/json; charset=utf-8");
    EXPECT_EQ(negotiate_response_type("/Patient?_format=application/fhir%2Bjson;fhirVersion=4.0", "").error_status, 0);
}

TEST(ServerNegotiation, Accept) {
    EXPECT_EQ(negotiate_response_type("/Patient", "").content_type, "application/fhir+json; charset=utf-8");
    EXPECT_EQ(negotiate_response_type("/Patient", "*/*").error_status, 0);
    EXPECT_EQ(negotiate_response_type("/Patient", "text/html, application/*;q=0.2").error_status, 0);
    EXPECT_EQ(negotiate_response_type("/Patient", "application/json").content_type, "application/json; charset=utf-8");
    EXPECT_EQ(negotiate_response_type("/Patient", "application/json, application/fhir+json").content_type,
              "application/fhir+json; charset=utf-8");
    EXPECT_EQ(negotiate_response_type("/Patient", "application/fhir+xml").error_status, 406);
    EXPECT_EQ(negotiate_response_type("/Patient", "application/fhir+json;q=0").error_status, 406);
    EXPECT_EQ(negotiate_response_type("/Patient", "text/html").error_status, 406);
}

TEST(ServerNegotiation, RequestContentType) {
    for (const char *ok : {"", "application/fhir+json", "application/fhir+json; charset=utf-8", "Application/JSON",
                           "application/json-patch+json", "application/x-www-form-urlencoded"})
        EXPECT_EQ(check_request_type(ok, "").error_status, 0) << ok;
    EXPECT_EQ(check_request_type("application/fhir+xml", "").error_status, 415);
    EXPECT_EQ(check_request_type("text/plain", "").error_status, 415);
    EXPECT_EQ(check_request_type("application/fhir+json", "gzip").error_status, 415);
    EXPECT_EQ(check_request_type("application/fhir+json", "identity").error_status, 0);
}

TEST(ServerMapping, HeadersJsonEscapes) {
    auto text = headers_json({{"if-match", "W/\"3\""}, {"prefer", "return=minimal"}, {"x", "a\\b\n\x01"}});
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["if-match"], "W/\"3\"");
    EXPECT_EQ(j["prefer"], "return=minimal");
    EXPECT_EQ(j["x"], "a\\b\n\x01");
    EXPECT_EQ(headers_json({}), "{}");
    EXPECT_TRUE(is_api_header("if-none-exist"));
    EXPECT_TRUE(is_api_header("cache-control"));
    EXPECT_FALSE(is_api_header("authorization"));
    EXPECT_FALSE(is_api_header("cookie"));
}

TEST(ServerMapping, OperationOutcome) {
    auto j = nlohmann::json::parse(operation_outcome("error", "too-costly", "body \"too\" big"));
    EXPECT_EQ(j["resourceType"], "OperationOutcome");
    EXPECT_EQ(j["issue"][0]["code"], "too-costly");
    EXPECT_EQ(j["issue"][0]["diagnostics"], "body \"too\" big");
    EXPECT_STREQ(issue_code(431), "too-costly");
    EXPECT_STREQ(issue_code(503), "transient");
    EXPECT_STREQ(issue_code(415), "not-supported");
}

TEST(ServerMapping, AcceptEncodingAndDates) {
    EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
    EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8"));
    EXPECT_TRUE(accepts_gzip("*"));
    EXPECT_FALSE(accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(accepts_gzip("br"));
    EXPECT_FALSE(accepts_gzip(""));
    EXPECT_EQ(http_date(784111777.9), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(ServerGzip, RoundTrip) {
    std::string data;
    for (int i = 0; i < 5000; i++)
        data += "{\"resourceType\":\"Patient\",\"id\":\"p" + std::to_string(i) + "\"}\n";
    std::string gz = gzip_compress(data);
    ASSERT_GT(gz.size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f); // gzip magic
    EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
    EXPECT_LT(gz.size(), data.size() / 5);
    z_stream zs{};
    ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    std::string out(data.size() + 16, '\0');
    zs.next_in = reinterpret_cast<Bytef *>(gz.data());
    zs.avail_in = static_cast<uInt>(gz.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(out.size() - zs.avail_out);
    inflateEnd(&zs);
    EXPECT_EQ(out, data);
    EXPECT_EQ(gzip_compress(std::string()).size() > 0, true);
}
