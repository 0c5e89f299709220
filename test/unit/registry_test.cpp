// registry_test.cpp: unit tests of the search-parameter registry.
//
// The counts and sample entries pin down what tools/gen_registry.py produces from
// the R4 4.0.1 definitions, so an accidental change in the generator (or in the
// id numbering, which is stored in the search tables) fails here first.
#include "registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "error.h"

using fhir::ParamType;
using fhir::Registry;
using fhir::SearchParamDef;

namespace {

// True when `list` contains `item`; keeps the assertions below readable.
bool contains(const std::vector<std::string> &list, const std::string &item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

} // namespace

// The generator computed these from the definitions; they change only with them.
TEST(RegistryTest, Counts) {
    EXPECT_EQ(Registry::resource_types().size(), 146u);
    EXPECT_EQ(Registry::builtin().all().size(), 2862u);
}

// Resource types are sorted, concrete, and include the non-domain ones.
TEST(RegistryTest, ResourceTypes) {
    const auto &types = Registry::resource_types();
    EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
    EXPECT_TRUE(Registry::is_resource_type("Patient"));
    EXPECT_TRUE(Registry::is_resource_type("Bundle"));
    EXPECT_TRUE(Registry::is_resource_type("Binary"));
    EXPECT_TRUE(Registry::is_resource_type("Parameters"));
    EXPECT_FALSE(Registry::is_resource_type("Resource"));
    EXPECT_FALSE(Registry::is_resource_type("DomainResource"));
    EXPECT_FALSE(Registry::is_resource_type("patient"));
    EXPECT_FALSE(Registry::is_resource_type(""));
    EXPECT_TRUE(Registry::is_domain_resource("Patient"));
    EXPECT_FALSE(Registry::is_domain_resource("Bundle"));
    EXPECT_FALSE(Registry::is_domain_resource("Binary"));
    EXPECT_FALSE(Registry::is_domain_resource("Parameters"));
    EXPECT_FALSE(Registry::is_domain_resource("Nope"));
}

// Type names round-trip through their FHIR spelling.
TEST(RegistryTest, ParamTypeNames) {
    ParamType type = ParamType::Number;
    EXPECT_TRUE(fhir::parse_param_type("reference", &type));
    EXPECT_EQ(type, ParamType::Reference);
    EXPECT_STREQ(fhir::param_type_name(ParamType::Quantity), "quantity");
    EXPECT_FALSE(fhir::parse_param_type("Token", &type));
    for (auto t : {ParamType::Number, ParamType::Date, ParamType::String, ParamType::Token, ParamType::Reference,
                   ParamType::Composite, ParamType::Quantity, ParamType::Uri, ParamType::Special}) {
        ParamType parsed = ParamType::Number;
        ASSERT_TRUE(fhir::parse_param_type(fhir::param_type_name(t), &parsed));
        EXPECT_EQ(parsed, t);
    }
}

// A single-type parameter keeps its expression as given.
TEST(RegistryTest, ObservationCode) {
    Registry registry = Registry::builtin();
    const SearchParamDef *code = registry.find("Observation", "code");
    ASSERT_NE(code, nullptr);
    EXPECT_EQ(code->type, ParamType::Token);
    EXPECT_EQ(code->expression, "Observation.code");
    EXPECT_EQ(code->url, "http://hl7.org/fhir/SearchParameter/clinical-code");
    EXPECT_TRUE(code->enabled);

    const SearchParamDef *name = registry.find("Patient", "name");
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(name->type, ParamType::String);
    EXPECT_EQ(name->expression, "Patient.name");
}

// A multi-type parameter keeps only this type's alternative, and its targets.
TEST(RegistryTest, ObservationPatientReference) {
    Registry registry = Registry::builtin();
    const SearchParamDef *patient = registry.find("Observation", "patient");
    ASSERT_NE(patient, nullptr);
    EXPECT_EQ(patient->type, ParamType::Reference);
    EXPECT_TRUE(contains(patient->targets, "Patient"));
    EXPECT_EQ(patient->expression, "Observation.subject.where(resolve() is Patient)");
    EXPECT_EQ(patient->expression.find("AllergyIntolerance"), std::string::npos);
    EXPECT_EQ(patient->expression.find('|'), std::string::npos);

    const SearchParamDef *subject = registry.find("Observation", "subject");
    ASSERT_NE(subject, nullptr);
    EXPECT_GT(subject->targets.size(), 1u);
}

// Parenthesised alternatives of one type stay together and stay parenthesised.
TEST(RegistryTest, MultiAlternativeExpression) {
    Registry registry = Registry::builtin();
    const SearchParamDef *value = registry.find("Observation", "value-quantity");
    ASSERT_NE(value, nullptr);
    EXPECT_EQ(value->type, ParamType::Quantity);
    EXPECT_EQ(value->expression, "(Observation.value as Quantity) | (Observation.value as SampledData)");
    EXPECT_EQ(value->comparators.size(), 9u);
    EXPECT_TRUE(contains(value->comparators, "ap"));

    // R4 wrote this one relative to the resource; the generator anchors it.
    const SearchParamDef *name = registry.find("InsurancePlan", "name");
    ASSERT_NE(name, nullptr);
    EXPECT_EQ(name->expression, "InsurancePlan.name | InsurancePlan.alias");
}

// Composites list their components with definitions that resolve to entries.
TEST(RegistryTest, CompositeComponents) {
    Registry registry = Registry::builtin();
    const SearchParamDef *composite = registry.find("Observation", "code-value-quantity");
    ASSERT_NE(composite, nullptr);
    EXPECT_EQ(composite->type, ParamType::Composite);
    ASSERT_EQ(composite->components.size(), 2u);
    EXPECT_EQ(composite->components[0].definition, "http://hl7.org/fhir/SearchParameter/clinical-code");
    EXPECT_EQ(composite->components[0].expression, "code");
    const SearchParamDef *first = registry.find_by_url("Observation", composite->components[0].definition);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->code, "code");
    const SearchParamDef *second = registry.find_by_url("Observation", composite->components[1].definition);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->type, ParamType::Quantity);
}

// Resource and DomainResource parameters are expanded onto every concrete type.
TEST(RegistryTest, CommonParameters) {
    Registry registry = Registry::builtin();
    const SearchParamDef *id = registry.find("Patient", "_id");
    ASSERT_NE(id, nullptr);
    EXPECT_EQ(id->type, ParamType::Token);
    EXPECT_EQ(id->expression, "Patient.id");
    const SearchParamDef *updated = registry.find("Bundle", "_lastUpdated");
    ASSERT_NE(updated, nullptr);
    EXPECT_EQ(updated->type, ParamType::Date);
    EXPECT_EQ(updated->expression, "Bundle.meta.lastUpdated");

    EXPECT_NE(registry.find("Patient", "_text"), nullptr);
    EXPECT_EQ(registry.find("Bundle", "_text"), nullptr);
    EXPECT_EQ(registry.find("Patient", "_query"), nullptr);

    for (const std::string &type : Registry::resource_types()) {
        for (const char *code : {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_content"})
            EXPECT_NE(registry.find(type, code), nullptr) << type << "." << code;
        EXPECT_EQ(registry.find(type, "_text") != nullptr, Registry::is_domain_resource(type)) << type;
    }
}

// Every alternative of a built-in expression starts at its own type ("Observation"
// alone is valid: composites such as code-value-string start at the resource).
TEST(RegistryTest, ExpressionsAreRootedAtTheirType) {
    Registry registry = Registry::builtin(); // a named copy: all() of a temporary would dangle
    for (const SearchParamDef &def : registry.all()) {
        std::string_view rest = def.expression;
        while (!rest.empty()) {
            size_t bar = rest.find(" | ");
            std::string_view alternative = rest.substr(0, bar);
            rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 3);
            alternative.remove_prefix(std::min(alternative.find_first_not_of('('), alternative.size()));
            std::string_view after = alternative.substr(std::min(def.resource_type.size(), alternative.size()));
            EXPECT_TRUE(alternative.substr(0, def.resource_type.size()) == def.resource_type &&
                        (after.empty() || after[0] == '.' || after[0] == ' ' || after[0] == ')'))
                << def.resource_type << "." << def.code << ": " << def.expression;
        }
    }
}

// Built-in ids are 1..N in (type, code) order, which the stored index rows rely on.
TEST(RegistryTest, IdsAreUniqueAndOrdered) {
    Registry registry = Registry::builtin();
    const auto &all = registry.all();
    std::set<int> ids;
    for (size_t i = 0; i < all.size(); i++) {
        EXPECT_EQ(all[i].id, static_cast<int>(i) + 1);
        EXPECT_LT(all[i].id, fhir::kFirstCustomParamId);
        ids.insert(all[i].id);
        if (i > 0) {
            EXPECT_LT(std::make_pair(all[i - 1].resource_type, all[i - 1].code),
                      std::make_pair(all[i].resource_type, all[i].code));
        }
        EXPECT_EQ(registry.find_by_id(all[i].id), &all[i]);
    }
    EXPECT_EQ(ids.size(), all.size());
    EXPECT_EQ(registry.find_by_id(0), nullptr);
    EXPECT_EQ(registry.find_by_id(fhir::kFirstCustomParamId), nullptr);
}

// for_type returns exactly the type's entries, ordered by code.
TEST(RegistryTest, ForType) {
    Registry registry = Registry::builtin();
    auto patient = registry.for_type("Patient");
    ASSERT_FALSE(patient.empty());
    size_t expected = 0;
    for (const SearchParamDef &def : registry.all())
        expected += def.resource_type == "Patient";
    EXPECT_EQ(patient.size(), expected);
    for (size_t i = 1; i < patient.size(); i++)
        EXPECT_LT(patient[i - 1]->code, patient[i]->code);
    EXPECT_TRUE(registry.for_type("NotAType").empty());
}

// Custom parameters get ids from kFirstCustomParamId and become findable everywhere.
TEST(RegistryTest, AddCustom) {
    Registry registry = Registry::builtin();
    size_t before = registry.all().size();

    SearchParamDef custom;
    custom.resource_type = "Patient";
    custom.code = "mothers-maiden-name";
    custom.type = ParamType::String;
    custom.expression = "Patient.extension('http://example.org/mmn').value";
    custom.url = "http://example.org/SearchParameter/mmn";
    registry.add(custom);

    ASSERT_EQ(registry.all().size(), before + 1);
    const SearchParamDef *added = registry.find("Patient", "mothers-maiden-name");
    ASSERT_NE(added, nullptr);
    EXPECT_EQ(added->id, fhir::kFirstCustomParamId);
    EXPECT_EQ(registry.find_by_id(fhir::kFirstCustomParamId), added);
    EXPECT_EQ(registry.find_by_url("Patient", "http://example.org/SearchParameter/mmn"), added);
    EXPECT_EQ(registry.find_by_url("Observation", "http://example.org/SearchParameter/mmn"), nullptr);

    auto patient = registry.for_type("Patient");
    EXPECT_NE(std::find(patient.begin(), patient.end(), added), patient.end());
    for (size_t i = 1; i < patient.size(); i++)
        EXPECT_LT(patient[i - 1]->code, patient[i]->code);

    SearchParamDef second = custom;
    second.code = "another";
    second.url = "http://example.org/SearchParameter/another";
    registry.add(second);
    EXPECT_EQ(registry.find("Patient", "another")->id, fhir::kFirstCustomParamId + 1);

    // The cached built-ins are not affected by changes to a copy.
    EXPECT_EQ(Registry::builtin().find("Patient", "mothers-maiden-name"), nullptr);
}

// Replacing a custom parameter keeps its id and position unless a new id is given.
TEST(RegistryTest, AddReplaces) {
    Registry registry = Registry::builtin();
    SearchParamDef custom;
    custom.resource_type = "Patient";
    custom.code = "nickname";
    custom.type = ParamType::String;
    custom.expression = "Patient.name.given";
    custom.url = "http://example.org/SearchParameter/nickname";
    registry.add(custom);
    size_t before = registry.all().size();
    int old_id = registry.find("Patient", "nickname")->id;

    SearchParamDef replacement = custom;
    replacement.expression = "Patient.name.where(use = 'nickname').given";
    replacement.url = "http://example.org/SearchParameter/nickname-2";
    registry.add(replacement);

    EXPECT_EQ(registry.all().size(), before);
    const SearchParamDef *now = registry.find("Patient", "nickname");
    ASSERT_NE(now, nullptr);
    EXPECT_EQ(now->id, old_id);
    EXPECT_EQ(now->expression, replacement.expression);
    EXPECT_FALSE(now->overrides_builtin);
    EXPECT_EQ(registry.find_by_url("Patient", custom.url), nullptr);
    EXPECT_EQ(registry.find_by_url("Patient", replacement.url), now);

    replacement.id = 123456;
    registry.add(replacement);
    EXPECT_EQ(registry.find_by_id(old_id), nullptr);
    EXPECT_EQ(registry.find_by_id(123456), registry.find("Patient", "nickname"));
}

// add() never replaces a built-in: that is an override's job.
TEST(RegistryTest, AddDoesNotReplaceBuiltins) {
    Registry registry = Registry::builtin();
    SearchParamDef def;
    def.resource_type = "Patient";
    def.code = "family";
    def.type = ParamType::String;
    def.expression = "Patient.name.given";
    try {
        registry.add(def);
        FAIL() << "expected an error";
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::InvalidResource);
    }
    EXPECT_EQ(registry.find("Patient", "family")->expression, Registry::builtin().find("Patient", "family")->expression);
}

// An override takes the built-in's place under the built-in's id, on its base only;
// the built-in stays reachable by its canonical URL (what composites name) and by code.
TEST(RegistryTest, OverrideBuiltin) {
    Registry registry = Registry::builtin();
    const SearchParamDef builtin = *registry.find("Observation", "code");
    const SearchParamDef condition_code = *registry.find("Condition", "code");
    ASSERT_EQ(builtin.url, condition_code.url); // one multi-base R4 SearchParameter
    size_t before = registry.all().size();

    SearchParamDef def;
    def.resource_type = "Observation";
    def.code = "code";
    def.type = ParamType::Token;
    def.expression = "Observation.code.coding.where(system = 'http://loinc.org')";
    def.url = "http://example.org/SearchParameter/observation-loinc-code";
    registry.override_builtin(def);

    EXPECT_EQ(registry.all().size(), before);
    const SearchParamDef *now = registry.find("Observation", "code");
    ASSERT_NE(now, nullptr);
    EXPECT_EQ(now->id, builtin.id);
    EXPECT_TRUE(now->overrides_builtin);
    EXPECT_EQ(now->expression, def.expression);
    EXPECT_EQ(registry.find_by_id(builtin.id), now);
    EXPECT_EQ(registry.find_by_url("Observation", def.url), now);
    auto observation = registry.for_type("Observation");
    EXPECT_EQ(std::count(observation.begin(), observation.end(), now), 1);

    // The replaced built-in: by code, and by its URL for the composites that name it.
    const SearchParamDef *replaced = registry.replaced_builtin("Observation", "code");
    ASSERT_NE(replaced, nullptr);
    EXPECT_EQ(replaced->expression, builtin.expression);
    EXPECT_FALSE(replaced->overrides_builtin);
    EXPECT_EQ(registry.find_by_url("Observation", builtin.url), replaced);
    EXPECT_EQ(registry.replaced_builtin("Condition", "code"), nullptr);

    // Other bases of the same R4 parameter are untouched.
    EXPECT_EQ(registry.find("Condition", "code")->expression, condition_code.expression);
    EXPECT_FALSE(registry.find("Condition", "code")->overrides_builtin);
    EXPECT_EQ(registry.find_by_url("Condition", builtin.url), registry.find("Condition", "code"));

    // A second override replaces the first; the built-in kept aside is still the original.
    def.expression = "Observation.code.coding.where(system = 'http://snomed.info/sct')";
    def.id = builtin.id;
    registry.override_builtin(def);
    EXPECT_EQ(registry.find("Observation", "code")->expression, def.expression);
    EXPECT_EQ(registry.replaced_builtin("Observation", "code")->expression, builtin.expression);

    // The cached built-ins are not affected.
    EXPECT_FALSE(Registry::builtin().find("Observation", "code")->overrides_builtin);
    EXPECT_EQ(Registry::builtin().replaced_builtin("Observation", "code"), nullptr);
}

// An override with the built-in's own canonical URL is what that URL now means.
TEST(RegistryTest, OverrideWithTheBuiltinUrl) {
    Registry registry = Registry::builtin();
    const SearchParamDef builtin = *registry.find("Patient", "family");
    SearchParamDef def = builtin;
    def.id = 0;
    def.expression = "Patient.name.where(use = 'official').family";
    registry.override_builtin(def);
    EXPECT_EQ(registry.find_by_url("Patient", builtin.url), registry.find("Patient", "family"));
    EXPECT_EQ(registry.find_by_url("Patient", builtin.url)->expression, def.expression);
}

// A composite over an overridden component keeps the built-in component's type.
TEST(RegistryTest, OverrideOfACompositeComponent) {
    Registry registry = Registry::builtin();
    const SearchParamDef &composite = *registry.find("Observation", "code-value-quantity");
    ASSERT_FALSE(composite.components.empty());
    std::string component_url = composite.components[0].definition;
    ASSERT_EQ(registry.find_by_url("Observation", component_url), registry.find("Observation", "code"));

    SearchParamDef def;
    def.resource_type = "Observation";
    def.code = "code";
    def.type = ParamType::String; // a different type
    def.expression = "Observation.code.text";
    def.url = "http://example.org/SearchParameter/observation-code-text";
    registry.override_builtin(def);
    const SearchParamDef *component = registry.find_by_url("Observation", component_url);
    ASSERT_NE(component, nullptr);
    EXPECT_EQ(component->type, ParamType::Token);
    EXPECT_EQ(registry.find("Observation", "code")->type, ParamType::String);
}

// What cannot be overridden, and what is not an override.
TEST(RegistryTest, OverrideRejects) {
    Registry registry = Registry::builtin();
    auto kind_of = [&](SearchParamDef def) {
        try {
            registry.override_builtin(std::move(def));
        } catch (const fhir::Error &e) {
            return e.kind();
        }
        return fhir::ErrorKind::Internal; // no error
    };
    SearchParamDef def;
    def.resource_type = "Patient";
    def.type = ParamType::Token;
    def.expression = "Patient.id";
    for (const char *code : {"_id", "_lastUpdated", "_text", "_content", "no-such-code"}) {
        def.code = code;
        EXPECT_EQ(kind_of(def), fhir::ErrorKind::InvalidResource) << code;
    }
    def.code = "gender";
    def.id = registry.find("Patient", "birthdate")->id; // not this built-in's id
    EXPECT_EQ(kind_of(def), fhir::ErrorKind::InvalidResource);
    EXPECT_FALSE(registry.find("Patient", "gender")->overrides_builtin);

    SearchParamDef custom;
    custom.resource_type = "Patient";
    custom.code = "nickname";
    custom.type = ParamType::String;
    custom.expression = "Patient.name.given";
    registry.add(custom);
    custom.id = 0;
    EXPECT_EQ(kind_of(custom), fhir::ErrorKind::InvalidResource); // a custom one is replaced by add()
}

// Bad definitions are rejected with the error kinds the glue maps to SQLSTATEs.
TEST(RegistryTest, AddRejects) {
    Registry registry = Registry::builtin();
    SearchParamDef bad;
    bad.resource_type = "Resource";
    bad.code = "x";
    try {
        registry.add(bad);
        FAIL() << "expected an error";
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), fhir::ErrorKind::UnknownResourceType);
    }

    bad.resource_type = "Patient";
    bad.id = registry.find("Observation", "code")->id; // taken by another entry
    EXPECT_THROW(registry.add(bad), fhir::Error);
    bad.id = 0;
    bad.code = "";
    EXPECT_THROW(registry.add(bad), fhir::Error);
}

// Disabling is per entry and reversible; unknown ids are an error.
TEST(RegistryTest, SetEnabled) {
    Registry registry = Registry::builtin();
    int id = registry.find("Observation", "code")->id;
    registry.set_enabled(id, false);
    EXPECT_FALSE(registry.find("Observation", "code")->enabled);
    EXPECT_TRUE(registry.find("Condition", "code")->enabled);
    EXPECT_TRUE(Registry::builtin().find("Observation", "code")->enabled);
    registry.set_enabled(id, true);
    EXPECT_TRUE(registry.find_by_id(id)->enabled);
    EXPECT_THROW(registry.set_enabled(-1, false), fhir::Error);
}

TEST(RegistryTest, RangeCapableParametersAreMarked) {
    Registry reg = Registry::builtin();
    auto ranges = [&](const char *type, const char *code) {
        const SearchParamDef *def = reg.find(type, code);
        EXPECT_NE(def, nullptr) << type << "." << code;
        return def && def->may_hold_ranges;
    };
    EXPECT_TRUE(ranges("Condition", "onset-age"));          // onset.as(Range)
    EXPECT_TRUE(ranges("RiskAssessment", "probability"));   // probability[x]: decimal | Range
    EXPECT_TRUE(ranges("Library", "context-quantity"));     // (useContext.value as Range)
    EXPECT_FALSE(ranges("Observation", "value-quantity"));  // Quantity | SampledData
    EXPECT_FALSE(ranges("Observation", "component-code-value-quantity"));
    EXPECT_FALSE(ranges("Encounter", "length"));
}
