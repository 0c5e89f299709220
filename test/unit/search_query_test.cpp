// search_query_test.cpp: unit tests of FHIR search query parsing (search_query.h).
//
// Covers name resolution (plain, modifiers, forward chains, _has), value parsing
// per type (prefixes, escapes, OR lists), result parameters and the strict and
// lenient error policy, using the built-in R4 registry.
#include "search_query.h"

#include <gtest/gtest.h>

#include <string>

#include "error.h"

using fhir::ErrorKind;
using fhir::ParamType;
using fhir::Registry;
using fhir::SearchModifier;
using fhir::SearchPrefix;
using fhir::SearchQuery;

namespace {

// The built-in registry, built once for all tests.
const Registry &registry() {
    static const Registry r = Registry::builtin();
    return r;
}

// Parses strictly (unknown parameters are errors).
SearchQuery strict(const std::string &type, const std::string &query) {
    return fhir::parse_search_query(registry(), type, query, true);
}

// Parses leniently (unknown parameters are ignored).
SearchQuery lenient(const std::string &type, const std::string &query) {
    return fhir::parse_search_query(registry(), type, query, false);
}

// The kind of fhir::Error a parse throws, and its message through `message`.
ErrorKind error_of(const std::string &type, const std::string &query, bool strict_mode = true,
                   std::string *message = nullptr) {
    try {
        fhir::parse_search_query(registry(), type, query, strict_mode);
    } catch (const fhir::Error &e) {
        if (message)
            *message = e.what();
        return e.kind();
    }
    ADD_FAILURE() << "no error for " << type << "?" << query;
    return ErrorKind::Internal;
}

} // namespace

// A plain string parameter resolves to its registry entry with one value.
TEST(SearchQueryTest, PlainString) {
    SearchQuery q = strict("Patient", "name=Eve");
    ASSERT_EQ(q.clauses.size(), 1u);
    const auto &c = q.clauses[0];
    EXPECT_EQ(c.param, registry().find("Patient", "name"));
    EXPECT_EQ(c.target_type, "Patient");
    EXPECT_EQ(c.modifier, SearchModifier::None);
    ASSERT_EQ(c.values.size(), 1u);
    EXPECT_EQ(c.values[0].text, "Eve");
    EXPECT_TRUE(c.chain.empty());
    EXPECT_TRUE(q.ignored.empty());
}

// Commas split OR values; "\," is a literal comma; repeated names AND.
TEST(SearchQueryTest, OrAndEscapes) {
    SearchQuery q = strict("Patient", "name=a,b\\,c&name=d");
    ASSERT_EQ(q.clauses.size(), 2u);
    ASSERT_EQ(q.clauses[0].values.size(), 2u);
    EXPECT_EQ(q.clauses[0].values[0].text, "a");
    EXPECT_EQ(q.clauses[0].values[1].text, "b,c");
    EXPECT_EQ(q.clauses[1].values[0].text, "d");
    // Escaped '$', '|' and '\' in strings are unescaped.
    q = strict("Patient", "name=a\\$b\\|c\\\\d");
    EXPECT_EQ(q.clauses[0].values[0].text, "a$b|c\\d");
    // Percent-encoded values are decoded first.
    q = strict("Patient", "name=O%27Brien%2C%20Jr");
    ASSERT_EQ(q.clauses[0].values.size(), 2u); // %2C is a real comma once decoded
}

// A backslash that escapes nothing FHIR defines: an error when strict (for every
// parameter type), the parameter ignored with its reason when lenient.
TEST(SearchQueryTest, InvalidEscapes) {
    std::string message;
    EXPECT_EQ(error_of("Patient", "name=van\\", true, &message), ErrorKind::InvalidSearch);
    EXPECT_NE(message.find("invalid escape at character 4"), std::string::npos) << message;
    EXPECT_EQ(error_of("Patient", "name=a\\b"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code=http://loinc.org|8867\\-4"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "subject=Patient/\\x"), ErrorKind::InvalidSearch);
    SearchQuery q = lenient("Patient", "name=a\\b&gender=male");
    ASSERT_EQ(q.ignored.size(), 1u);
    EXPECT_EQ(q.ignored[0].name, "name");
    ASSERT_EQ(q.clauses.size(), 1u);
    EXPECT_EQ(q.clauses[0].param->code, "gender");
    // Every defined escape stays valid, also at the end of a value.
    EXPECT_EQ(strict("Patient", "name=a\\\\").clauses[0].values[0].text, "a\\");
    EXPECT_EQ(strict("Patient", "name=a\\,b\\$\\|").clauses[0].values.size(), 1u);
}

// String modifiers exact and contains; others are rejected naming the modifier.
TEST(SearchQueryTest, StringModifiers) {
    EXPECT_EQ(strict("Patient", "name:exact=Eve").clauses[0].modifier, SearchModifier::Exact);
    EXPECT_EQ(strict("Patient", "name:contains=ev").clauses[0].modifier, SearchModifier::Contains);
    std::string message;
    EXPECT_EQ(error_of("Patient", "name:text=x", true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "modifier ':text' is not allowed on string parameter 'name'");
    EXPECT_EQ(error_of("Patient", "name:bogus=x"), ErrorKind::InvalidSearch);
    // Modifier errors are raised even when lenient.
    EXPECT_EQ(error_of("Patient", "name:bogus=x", false), ErrorKind::InvalidSearch);
}

// Token values: code, system|code, |code, system|, escaped bars.
TEST(SearchQueryTest, TokenValues) {
    SearchQuery q = strict("Observation", "code=1234-5,http://loinc.org|1234-5,|abc,http://loinc.org|,a\\|b");
    const auto &v = q.clauses[0].values;
    ASSERT_EQ(v.size(), 5u);
    EXPECT_FALSE(v[0].token.has_bar);
    EXPECT_EQ(v[0].token.code, "1234-5");
    EXPECT_TRUE(v[1].token.has_bar);
    EXPECT_EQ(v[1].token.system, "http://loinc.org");
    EXPECT_EQ(v[1].token.code, "1234-5");
    EXPECT_TRUE(v[2].token.has_bar);
    EXPECT_EQ(v[2].token.system, "");
    EXPECT_EQ(v[2].token.code, "abc");
    EXPECT_EQ(v[3].token.system, "http://loinc.org");
    EXPECT_EQ(v[3].token.code, "");
    EXPECT_FALSE(v[4].token.has_bar);
    EXPECT_EQ(v[4].token.code, "a|b");
    // A code containing a bar after the system separator stays whole.
    q = strict("Observation", "code=s|a|b");
    EXPECT_EQ(q.clauses[0].values[0].token.system, "s");
    EXPECT_EQ(q.clauses[0].values[0].token.code, "a|b");
    EXPECT_EQ(error_of("Observation", "code=|"), ErrorKind::InvalidSearch);
}

// Token modifiers: text, not, of-type, in, not-in, above, below.
TEST(SearchQueryTest, TokenModifiers) {
    EXPECT_EQ(strict("Observation", "code:text=glucose").clauses[0].modifier, SearchModifier::Text);
    EXPECT_EQ(strict("Observation", "code:text=glucose").clauses[0].values[0].text, "glucose");
    EXPECT_EQ(strict("Observation", "code:not=a").clauses[0].modifier, SearchModifier::Not);
    SearchQuery q = strict("Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::OfType);
    ASSERT_EQ(q.clauses[0].values[0].of_type.size(), 3u);
    EXPECT_EQ(q.clauses[0].values[0].of_type[1], "MR");
    EXPECT_EQ(q.clauses[0].values[0].of_type[2], "123");
    EXPECT_EQ(error_of("Patient", "identifier:of-type=a|b"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "identifier:of-type=a|b|"), ErrorKind::InvalidSearch);
    // :in/:not-in keep the value set reference (version and escapes included) for resolution.
    q = strict("Observation", "code:in=http://x.org/vs|2.0,ValueSet/v1&code:not-in=http://x.org/a\\,b");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::In);
    ASSERT_EQ(q.clauses[0].values.size(), 2u);
    EXPECT_EQ(q.clauses[0].values[0].text, "http://x.org/vs|2.0");
    EXPECT_EQ(q.clauses[0].values[1].text, "ValueSet/v1");
    EXPECT_FALSE(q.clauses[0].values[0].resolved);
    EXPECT_EQ(q.clauses[1].modifier, SearchModifier::NotIn);
    EXPECT_EQ(q.clauses[1].values[0].text, "http://x.org/a,b");
    // :above/:below need system|code.
    q = strict("Condition", "code:below=http://snomed.info/sct|123&code:above=http://snomed.info/sct|456");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Below);
    EXPECT_EQ(q.clauses[0].values[0].token.system, "http://snomed.info/sct");
    EXPECT_EQ(q.clauses[0].values[0].token.code, "123");
    EXPECT_EQ(q.clauses[1].modifier, SearchModifier::Above);
    for (const char *bad : {"code:below=123", "code:below=|123", "code:above=http://snomed.info/sct|"}) {
        std::string message;
        EXPECT_EQ(error_of("Condition", bad, false, &message), ErrorKind::InvalidSearch) << bad;
        EXPECT_NE(message.find("must be system|code"), std::string::npos) << message;
    }
    EXPECT_EQ(error_of("Patient", "_id:in=http://x"), ErrorKind::UnsupportedFeature);
    std::string message;
    EXPECT_EQ(error_of("Observation", "code:exact=x", true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "modifier ':exact' is not allowed on token parameter 'code'");
}

// :missing is valid on every type and takes only true or false.
TEST(SearchQueryTest, Missing) {
    for (const char *name : {"name", "birthdate", "identifier", "general-practitioner", "_id", "_lastUpdated"}) {
        SearchQuery q = strict("Patient", std::string(name) + ":missing=true");
        EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Missing) << name;
        EXPECT_TRUE(q.clauses[0].values[0].missing) << name;
        EXPECT_FALSE(strict("Patient", std::string(name) + ":missing=false").clauses[0].values[0].missing);
    }
    EXPECT_TRUE(strict("RiskAssessment", "probability:missing=true").clauses[0].values[0].missing);
    EXPECT_TRUE(strict("Observation", "code-value-quantity:missing=true").clauses[0].values[0].missing);
    std::string message;
    EXPECT_EQ(error_of("Patient", "name:missing=yes", true, &message), ErrorKind::InvalidSearch);
    EXPECT_NE(message.find("yes"), std::string::npos);
    EXPECT_EQ(error_of("Patient", "name:missing=true,false"), ErrorKind::InvalidSearch);
}

// Date values with prefixes parse into ranges; bad dates name parameter and value.
TEST(SearchQueryTest, Dates) {
    SearchQuery q = strict("Patient", "birthdate=ge1970-01-01,lt1960,2000-02");
    const auto &v = q.clauses[0].values;
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].prefix, SearchPrefix::Ge);
    EXPECT_EQ(v[0].date.lo, 0);
    EXPECT_EQ(v[0].date.hi, 86400LL * 1000000);
    EXPECT_EQ(v[1].prefix, SearchPrefix::Lt);
    EXPECT_EQ(v[2].prefix, SearchPrefix::Eq);
    for (const char *p : {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})
        EXPECT_EQ(fhir::search_prefix_name(strict("Patient", std::string("birthdate=") + p + "2000").clauses[0].values[0].prefix),
                  std::string(p));
    // Time zone offsets survive: escaped, or unescaped ('+' decodes to a space).
    q = strict("Patient", "birthdate=2020-01-01T00:00:00+01:00");
    EXPECT_EQ(q.clauses[0].values[0].date.lo, (1577836800LL - 3600) * 1000000);
    q = strict("Patient", "birthdate=ge2020-01-01T00:00:00%2B01:00");
    EXPECT_EQ(q.clauses[0].values[0].date.lo, (1577836800LL - 3600) * 1000000);
    q = strict("Patient", "birthdate=2020-01-01T00:00-02:00");
    EXPECT_EQ(q.clauses[0].values[0].date.lo, (1577836800LL + 7200) * 1000000);
    EXPECT_EQ(error_of("Patient", "birthdate=2020-01-01+01:00"), ErrorKind::InvalidSearch);
    std::string message;
    EXPECT_EQ(error_of("Patient", "birthdate=2020-13-01", true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "invalid date '2020-13-01' for parameter 'birthdate'");
    EXPECT_EQ(error_of("Patient", "birthdate=xx2020"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "birthdate=ge"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "birthdate:exact=2020"), ErrorKind::InvalidSearch);
}

// Numbers keep their precision range; quantities split number|system|code.
TEST(SearchQueryTest, NumbersAndQuantities) {
    SearchQuery q = strict("RiskAssessment", "probability=gt0.8,100");
    const auto &v = q.clauses[0].values;
    EXPECT_EQ(v[0].prefix, SearchPrefix::Gt);
    EXPECT_EQ(v[0].number.value, "0.8");
    EXPECT_EQ(v[1].number.lo, "99.5");
    EXPECT_EQ(v[1].number.hi, "100.5");
    EXPECT_EQ(error_of("RiskAssessment", "probability=abc"), ErrorKind::InvalidSearch);

    q = strict("Observation", "value-quantity=le5.4|http://unitsofmeasure.org|mg,5||mg,7");
    const auto &w = q.clauses[0].values;
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].prefix, SearchPrefix::Le);
    EXPECT_EQ(w[0].quantity.number.value, "5.4");
    EXPECT_EQ(w[0].quantity.system, "http://unitsofmeasure.org");
    EXPECT_EQ(w[0].quantity.code, "mg");
    EXPECT_EQ(w[1].quantity.system, "");
    EXPECT_EQ(w[1].quantity.code, "mg");
    EXPECT_EQ(w[2].quantity.code, "");
    std::string message;
    EXPECT_EQ(error_of("Observation", "value-quantity=5|mg", true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "invalid quantity '5|mg' for parameter 'value-quantity'");
    EXPECT_EQ(error_of("Observation", "value-quantity=x||mg"), ErrorKind::InvalidSearch);
}

// References: Type/id, bare id, absolute URL, :Type, :identifier.
TEST(SearchQueryTest, References) {
    SearchQuery q = strict("Observation", "subject=Patient/123,123,http://x.org/fhir/Patient/9,urn:uuid:abc");
    const auto &v = q.clauses[0].values;
    EXPECT_EQ(v[0].reference.literal, "Patient/123");
    EXPECT_EQ(v[0].reference.type, "Patient");
    EXPECT_EQ(v[0].reference.id, "123");
    EXPECT_EQ(v[1].reference.literal, "");
    EXPECT_EQ(v[1].reference.id, "123");
    EXPECT_EQ(v[2].reference.literal, "http://x.org/fhir/Patient/9");
    EXPECT_EQ(v[3].reference.literal, "urn:uuid:abc");

    q = strict("Observation", "subject:Patient=123");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Type);
    EXPECT_EQ(q.clauses[0].modifier_type, "Patient");
    EXPECT_EQ(q.clauses[0].values[0].reference.literal, "Patient/123");
    EXPECT_EQ(error_of("Observation", "subject:Medication=1"), ErrorKind::InvalidSearch);

    q = strict("Observation", "subject:identifier=http://hospital|MRN1");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Identifier);
    EXPECT_EQ(q.clauses[0].values[0].token.system, "http://hospital");
    EXPECT_EQ(q.clauses[0].values[0].token.code, "MRN1");
    EXPECT_EQ(error_of("Observation", "subject:above=Patient/1"), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(error_of("Observation", "subject:exact=Patient/1"), ErrorKind::InvalidSearch);
}

// Uri modifiers above and below.
TEST(SearchQueryTest, Uris) {
    EXPECT_EQ(strict("ValueSet", "url:below=http://acme.org/fhir").clauses[0].modifier, SearchModifier::Below);
    EXPECT_EQ(strict("ValueSet", "url:above=http://acme.org/fhir/ValueSet/1").clauses[0].modifier,
              SearchModifier::Above);
    EXPECT_EQ(strict("ValueSet", "url=http://a.org/x").clauses[0].values[0].text, "http://a.org/x");
    EXPECT_EQ(error_of("ValueSet", "url:contains=x"), ErrorKind::InvalidSearch);
}

// Forward chains: explicit type, inferred single target, inferred by next parameter, ambiguous.
TEST(SearchQueryTest, ForwardChains) {
    SearchQuery q = strict("Observation", "subject:Patient.name=Eve");
    const auto &c = q.clauses[0];
    ASSERT_EQ(c.chain.size(), 1u);
    EXPECT_FALSE(c.chain[0].reverse);
    EXPECT_EQ(c.chain[0].param, registry().find("Observation", "subject"));
    EXPECT_EQ(c.chain[0].type, "Patient");
    EXPECT_EQ(c.target_type, "Patient");
    EXPECT_EQ(c.param, registry().find("Patient", "name"));

    // patient -> {Group, Patient}; only Patient has `name`.
    q = strict("Observation", "patient.name:exact=Eve");
    EXPECT_EQ(q.clauses[0].chain[0].type, "Patient");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Exact);

    // Two levels: Observation -> Patient -> Organization (single target).
    q = strict("Observation", "subject:Patient.organization.name=Acme");
    ASSERT_EQ(q.clauses[0].chain.size(), 2u);
    EXPECT_EQ(q.clauses[0].chain[1].type, "Organization");
    EXPECT_EQ(q.clauses[0].target_type, "Organization");

    std::string message;
    EXPECT_EQ(error_of("Observation", "subject.name=Eve", true, &message), ErrorKind::InvalidSearch);
    EXPECT_NE(message.find("subject:"), std::string::npos);
    EXPECT_EQ(error_of("Observation", "code.name=x"), ErrorKind::InvalidSearch);        // not a reference
    EXPECT_EQ(error_of("Observation", "subject:Nope.name=x"), ErrorKind::InvalidSearch); // bad type
    EXPECT_EQ(error_of("Observation", "subject:Medication.code=x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "subject:Patient.=x"), ErrorKind::InvalidSearch);
    // Unknown parameter at the end of a chain follows the unknown-parameter policy.
    EXPECT_EQ(error_of("Observation", "subject:Patient.nope=x"), ErrorKind::UnknownParameter);
    EXPECT_EQ(lenient("Observation", "subject:Patient.nope=x").ignored.size(), 1u);
    // Too deep.
    EXPECT_EQ(error_of("Patient",
                       "organization.partof.partof.partof.partof.partof.name=x"),
              ErrorKind::InvalidSearch);
}

// Reverse chains (_has), nested and combined with modifiers.
TEST(SearchQueryTest, ReverseChains) {
    SearchQuery q = strict("Patient", "_has:Observation:patient:code=1234-5");
    const auto &c = q.clauses[0];
    ASSERT_EQ(c.chain.size(), 1u);
    EXPECT_TRUE(c.chain[0].reverse);
    EXPECT_EQ(c.chain[0].type, "Observation");
    EXPECT_EQ(c.chain[0].param, registry().find("Observation", "patient"));
    EXPECT_EQ(c.param, registry().find("Observation", "code"));

    q = strict("Patient", "_has:Observation:patient:_has:AuditEvent:entity:agent=Practitioner/1");
    ASSERT_EQ(q.clauses[0].chain.size(), 2u);
    EXPECT_EQ(q.clauses[0].chain[1].type, "AuditEvent");
    EXPECT_EQ(q.clauses[0].target_type, "AuditEvent");

    q = strict("Patient", "_has:Observation:subject:code:text=glucose");
    EXPECT_EQ(q.clauses[0].modifier, SearchModifier::Text);

    EXPECT_EQ(error_of("Patient", "_has:Observation:code:code=x"), ErrorKind::InvalidSearch); // not a reference
    EXPECT_EQ(error_of("Patient", "_has:Nope:patient:code=x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "_has:Observation:patient"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "_has:Observation=x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Organization", "_has:Observation:patient:code=x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "_has:Observation:nope:code=x"), ErrorKind::UnknownParameter);
}

// Composites parse into component values: token-like ones as tokens, range ones
// by their own type (prefix, units, date precision); string components are unsupported.
TEST(SearchQueryTest, Composites) {
    SearchQuery q = strict("Observation", "code-value-concept=http://loinc.org|1234$http://snomed.info/sct|99,a$b");
    const auto &c = q.clauses[0];
    ASSERT_EQ(c.components.size(), 2u);
    ASSERT_EQ(c.values.size(), 2u);
    ASSERT_EQ(c.values[0].components.size(), 2u);
    EXPECT_EQ(c.values[0].components[0].token.system, "http://loinc.org");
    EXPECT_EQ(c.values[0].components[1].token.code, "99");
    EXPECT_EQ(c.values[1].components[0].token.code, "a");
    EXPECT_EQ(error_of("Observation", "code-value-concept=a"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-concept=a$b$c"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-concept=a$"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-concept:exact=a$b"), ErrorKind::InvalidSearch);

    q = strict("Observation", "code-value-quantity=http://loinc.org|8480-6$gt100|http://unitsofmeasure.org|mm[Hg],"
                              "a$5.0");
    const auto &range = q.clauses[0];
    ASSERT_EQ(range.components.size(), 2u);
    EXPECT_EQ(range.components[1]->type, ParamType::Quantity);
    const auto &gt = range.values[0].components[1];
    EXPECT_EQ(gt.prefix, SearchPrefix::Gt);
    EXPECT_EQ(gt.quantity.number.value, "100");
    EXPECT_EQ(gt.quantity.system, "http://unitsofmeasure.org");
    EXPECT_EQ(gt.quantity.code, "mm[Hg]");
    EXPECT_EQ(range.values[0].components[0].token.code, "8480-6");
    EXPECT_EQ(range.values[1].components[1].prefix, SearchPrefix::Eq);
    EXPECT_EQ(range.values[1].components[1].quantity.number.lo, "4.95");

    q = strict("Observation", "code-value-date=x$ge2020-01");
    EXPECT_EQ(q.clauses[0].values[0].components[1].prefix, SearchPrefix::Ge);
    EXPECT_EQ(q.clauses[0].values[0].components[1].date.lo, fhir::parse_date_range("2020-01")->lo);
    q = strict("MolecularSequence", "chromosome-variant-coordinate=1$gt100$lt200");
    ASSERT_EQ(q.clauses[0].values[0].components.size(), 3u);
    EXPECT_EQ(q.clauses[0].values[0].components[2].prefix, SearchPrefix::Lt);
    EXPECT_EQ(q.clauses[0].values[0].components[2].number.value, "200");

    EXPECT_EQ(error_of("Observation", "code-value-quantity=a$zz"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-date=a$2020-13"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-quantity=a$5|x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Observation", "code-value-quantity=a"), ErrorKind::InvalidSearch);
    // A string component keeps its text (escapes undone) for a starts-with match.
    fhir::SearchQuery text = strict("Observation", "code-value-string=a$Cl\\,ear");
    ASSERT_EQ(text.clauses[0].values[0].components.size(), 2u);
    EXPECT_EQ(text.clauses[0].values[0].components[1].text, "Cl,ear");
    EXPECT_EQ(strict("Observation", "code-value-quantity:missing=true").clauses[0].values[0].missing, true);
}

// _id and _lastUpdated are registry parameters with their own value forms.
TEST(SearchQueryTest, IdAndLastUpdated) {
    SearchQuery q = strict("Patient", "_id=a,b&_lastUpdated=gt2020-01-01T00:00:00Z");
    ASSERT_EQ(q.clauses.size(), 2u);
    EXPECT_EQ(q.clauses[0].values[1].text, "b");
    EXPECT_EQ(q.clauses[1].param->type, ParamType::Date);
    EXPECT_EQ(q.clauses[1].values[0].prefix, SearchPrefix::Gt);
    EXPECT_EQ(strict("Patient", "_id:not=a").clauses[0].modifier, SearchModifier::Not);
    EXPECT_EQ(error_of("Patient", "_id:text=a"), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(error_of("Patient", "_id:exact=a"), ErrorKind::InvalidSearch);
}

// Unknown and disabled parameters: strict throws, lenient records the reason.
TEST(SearchQueryTest, UnknownParameters) {
    std::string message;
    EXPECT_EQ(error_of("Patient", "nope=1", true, &message), ErrorKind::UnknownParameter);
    EXPECT_EQ(message, "unknown search parameter 'nope' for resource type Patient");
    SearchQuery q = lenient("Patient", "nope=1&name=Eve");
    ASSERT_EQ(q.clauses.size(), 1u);
    ASSERT_EQ(q.ignored.size(), 1u);
    EXPECT_EQ(q.ignored[0].name, "nope");
    EXPECT_EQ(q.ignored[0].value, "1");
    EXPECT_NE(q.ignored[0].reason.find("nope"), std::string::npos);

    Registry r = Registry::builtin();
    r.set_enabled(r.find("Patient", "name")->id, false);
    EXPECT_THROW(fhir::parse_search_query(r, "Patient", "name=x", true), fhir::Error);
    EXPECT_EQ(fhir::parse_search_query(r, "Patient", "name=x", false).ignored.size(), 1u);
    EXPECT_EQ(error_of("Nope", "name=x"), ErrorKind::UnknownResourceType);
}

// Whole-query features and special parameters we do not implement.
TEST(SearchQueryTest, UnsupportedFeatures) {
    for (const char *query : {"_filter=name eq x", "_query=x"}) {
        EXPECT_EQ(error_of("Patient", query), ErrorKind::UnsupportedFeature) << query;
        SearchQuery q = lenient("Patient", query);
        EXPECT_TRUE(q.clauses.empty());
        EXPECT_EQ(q.ignored.size(), 1u) << query;
    }
    EXPECT_EQ(error_of("Location", "near=1|2|3|km"), ErrorKind::UnsupportedFeature);
}

// _text/_content: disabled by default (the reason says how to enable them); once
// enabled, text values with :missing as the only modifier.
TEST(SearchQueryTest, FullText) {
    std::string message;
    EXPECT_EQ(error_of("Patient", "_text=cough", true, &message), ErrorKind::UnknownParameter);
    EXPECT_EQ(message, "search parameter '_text' of Patient is disabled; enable it with "
                       "fhir.set_search_param_enabled('Patient', '_text', true), then run fhir.reindex('Patient')");
    SearchQuery q = lenient("Observation", "_content=x&status=final");
    EXPECT_EQ(q.clauses.size(), 1u);
    ASSERT_EQ(q.ignored.size(), 1u);
    EXPECT_NE(q.ignored[0].reason.find("fhir.set_search_param_enabled('Observation', '_content', true)"),
              std::string::npos);
    EXPECT_EQ(error_of("Patient", "_sort=_content", true, &message), ErrorKind::UnknownParameter);
    EXPECT_NE(message.find("is disabled"), std::string::npos);

    Registry r = Registry::builtin();
    for (const char *type : {"Patient", "Observation"}) {
        r.set_enabled(r.find(type, "_text")->id, true);
        r.set_enabled(r.find(type, "_content")->id, true);
    }
    auto parse = [&](const char *type, const char *query) { return fhir::parse_search_query(r, type, query, true); };
    auto error = [&](const char *type, const char *query) {
        try {
            parse(type, query);
        } catch (const fhir::Error &e) {
            return e.kind();
        }
        return ErrorKind::Internal;
    };
    q = parse("Patient", "_text=Zo%C3%AB%20M%C3%BCller,%22blood%20pressure%22%20or%20x&_text=-y");
    ASSERT_EQ(q.clauses.size(), 2u);
    ASSERT_EQ(q.clauses[0].values.size(), 2u);
    EXPECT_EQ(q.clauses[0].values[0].text, "Zoë Müller");
    EXPECT_EQ(q.clauses[0].values[1].text, "\"blood pressure\" or x");
    EXPECT_EQ(q.clauses[1].values[0].text, "-y");
    EXPECT_EQ(parse("Patient", "_content:missing=true").clauses[0].modifier, SearchModifier::Missing);
    EXPECT_EQ(parse("Observation", "subject:Patient._content=smith").clauses[0].chain.size(), 1u);
    EXPECT_EQ(error("Patient", "_text:exact=x"), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(error("Patient", "_content:contains=x"), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(error("Patient", "_text:nonsense=x"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error("Patient", "_text=!!!"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error("Patient", "_text=ok,%22%22"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error("Patient", "_sort=_text"), ErrorKind::InvalidSearch);
}

// _list: List ids (or List/id) on the type's _id, also at the end of a chain;
// functional lists are unsupported, anything else that is not an id is invalid.
TEST(SearchQueryTest, List) {
    SearchQuery q = strict("Patient", "_list=42,List/abc");
    ASSERT_EQ(q.clauses.size(), 1u);
    EXPECT_TRUE(q.clauses[0].list);
    EXPECT_EQ(q.clauses[0].param, registry().find("Patient", "_id"));
    EXPECT_EQ(q.clauses[0].target_type, "Patient");
    ASSERT_EQ(q.clauses[0].values.size(), 2u);
    EXPECT_EQ(q.clauses[0].values[0].text, "42");
    EXPECT_EQ(q.clauses[0].values[1].text, "abc");
    q = strict("Observation", "subject:Patient._list=42");
    EXPECT_TRUE(q.clauses[0].list);
    EXPECT_EQ(q.clauses[0].target_type, "Patient");
    ASSERT_EQ(q.clauses[0].chain.size(), 1u);
    std::string message;
    EXPECT_EQ(error_of("Patient", "_list=$current-allergies", false, &message), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(message, "functional list '$current-allergies' in _list is not supported; name a stored List by id");
    EXPECT_EQ(error_of("Patient", "_list=Group/1", false), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "_list:missing=true", false), ErrorKind::InvalidSearch);
    EXPECT_EQ(strict("Patient", "_list=").ignored.size(), 1u);
}

// Empty values are ignored rather than matching nothing or everything.
TEST(SearchQueryTest, EmptyValues) {
    SearchQuery q = strict("Patient", "name=&birthdate=,&gender=male");
    ASSERT_EQ(q.clauses.size(), 1u);
    EXPECT_EQ(q.ignored.size(), 2u);
    q = strict("Patient", "name=a,,b");
    EXPECT_EQ(q.clauses[0].values.size(), 2u);
}

// Result parameters are collected; _count and _sort are validated.
TEST(SearchQueryTest, ResultParameters) {
    SearchQuery q = strict("Patient",
                           "_count=10&_sort=-birthdate,name&_include=Patient:organization&_include:iterate=x"
                           "&_summary=count&_elements=id&_total=accurate&_format=json&_pretty=true&name=Eve");
    EXPECT_EQ(q.clauses.size(), 1u);
    EXPECT_EQ(q.result_params.size(), 9u);
    ASSERT_TRUE(q.count);
    EXPECT_EQ(*q.count, 10);
    ASSERT_EQ(q.sort.size(), 2u);
    EXPECT_EQ(q.sort[0].param, registry().find("Patient", "birthdate"));
    EXPECT_TRUE(q.sort[0].descending);
    EXPECT_FALSE(q.sort[1].descending);
    EXPECT_EQ(q.result_params[3].name, "_include:iterate");

    for (const char *bad : {"_count=0", "_count=-1", "_count=abc", "_count=", "_count=99999999999", "_count=1.5"})
        EXPECT_EQ(error_of("Patient", bad), ErrorKind::InvalidSearch) << bad;
    EXPECT_EQ(error_of("Patient", "_count=1&_count=2"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "_sort=nope"), ErrorKind::UnknownParameter);
    EXPECT_EQ(error_of("Patient", "_sort=-"), ErrorKind::InvalidSearch);
    EXPECT_EQ(lenient("Patient", "_sort=nope,name").sort.size(), 1u);
    EXPECT_EQ(lenient("Patient", "_sort=nope,name").ignored.size(), 1u);
    EXPECT_TRUE(fhir::is_result_parameter("_revinclude:iterate"));
    EXPECT_FALSE(fhir::is_result_parameter("name"));
}

// _contained and _containedType: parsed, defaults, bad or repeated values.
TEST(SearchQueryTest, ContainedParameters) {
    SearchQuery defaults = strict("Medication", "code=123");
    EXPECT_EQ(defaults.contained, fhir::ContainedMode::False);
    EXPECT_EQ(defaults.contained_type, fhir::ContainedType::Container);
    SearchQuery q = strict("Medication", "code=123&_contained=both&_containedType=contained");
    EXPECT_EQ(q.contained, fhir::ContainedMode::Both);
    EXPECT_EQ(q.contained_type, fhir::ContainedType::Contained);
    EXPECT_EQ(q.clauses.size(), 1u);
    EXPECT_EQ(strict("Medication", "_contained=true").contained, fhir::ContainedMode::True);
    EXPECT_EQ(strict("Medication", "_contained=false&_containedType=container").contained, fhir::ContainedMode::False);
    std::string message;
    EXPECT_EQ(error_of("Medication", "_contained=yes", false, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "_contained must be false, true or both, not 'yes'");
    EXPECT_EQ(error_of("Medication", "_containedType=resource", false, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "_containedType must be container or contained, not 'resource'");
    EXPECT_EQ(error_of("Medication", "_contained=TRUE"), ErrorKind::InvalidSearch); // codes are case-sensitive
    EXPECT_EQ(error_of("Medication", "_contained=true&_contained=both"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Medication", "_containedType=contained&_containedType=contained"), ErrorKind::InvalidSearch);
}

// Malformed input: bad escapes, nul bytes.
TEST(SearchQueryTest, MalformedInput) {
    EXPECT_EQ(error_of("Patient", "name=%zz"), ErrorKind::InvalidSearch);
    EXPECT_EQ(error_of("Patient", "name=a%00b"), ErrorKind::InvalidSearch);
    // Injection text is just a value.
    SearchQuery q = strict("Patient", "name=';drop table x;--");
    EXPECT_EQ(q.clauses[0].values[0].text, "';drop table x;--");
    // A leading '?' is accepted.
    EXPECT_EQ(strict("Patient", "?name=x").clauses.size(), 1u);
}

// The limits of fhir::search_limits (GUCs fhir_search.max_query_length,
// max_query_parameters, max_chain_depth): over one is InvalidSearch, at one is fine.
TEST(SearchQueryTest, Limits) {
    const fhir::SearchLimits saved = fhir::search_limits;
    std::string message;
    fhir::search_limits.max_query_length = 20;
    EXPECT_NO_THROW(strict("Patient", "name=" + std::string(15, 'a')));
    EXPECT_EQ(error_of("Patient", "name=" + std::string(16, 'a'), true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "the query string is longer than fhir_search.max_query_length (21 bytes, limit 20)");
    fhir::search_limits = saved;
    fhir::search_limits.max_parameters = 2;
    EXPECT_NO_THROW(strict("Patient", "name=a&gender=male"));
    EXPECT_EQ(error_of("Patient", "name=a&gender=male&_count=1", true, &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(message, "the search has more parameters than fhir_search.max_query_parameters (3, limit 2)");
    fhir::search_limits = saved;
    fhir::search_limits.max_chain_depth = 2;
    EXPECT_NO_THROW(strict("Observation", "subject:Patient.organization.name=x"));
    EXPECT_EQ(error_of("Observation", "subject:Patient.organization.partof.name=x", true, &message),
              ErrorKind::InvalidSearch);
    EXPECT_NE(message.find("chained more than 2 levels deep"), std::string::npos);
    fhir::search_limits = saved;
    EXPECT_NO_THROW(strict("Observation", "subject:Patient.organization.partof.name=x")); // default 4
}
