// terminology_test.cpp: unit tests of value set expansion and code system
// subsumption (terminology.h) and of filling search values from stored
// resources (search_resolve.h), over an in-memory ResourceStore.
//
// The fixture code system is a small hierarchy:
//   animal
//     mammal            (nested)
//       dog             (nested)
//       cat             (nested; also property parent=pet)
//     bird              (top level, property parent=animal)
//       parrot          (top level, made bird's child by bird's property child=parrot)
//   pet                 (top level)
//   fossil              (top level, inactive)
#include "terminology.h"

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "error.h"
#include "search_resolve.h"
#include "search_sql.h"
#include "values.h"

namespace fhir {
// Readable failure output.
void PrintTo(const Coding &coding, std::ostream *out) {
    *out << coding.system << "|" << coding.code;
}
} // namespace fhir

using fhir::Coding;
using fhir::ErrorKind;
using fhir::Json;
using fhir::Terminology;

namespace {

const char *const kSys = "http://example.org/cs/animals";

// Resources in insertion order; later ones count as more recently updated.
class MemoryStore : public fhir::ResourceStore {
  public:
    void add(const std::string &text) { resources_.push_back(std::make_unique<Json>(Json::parse(text))); }

    const Json *find_canonical(std::string_view type, const std::string &url, const std::string &version) override {
        lookups++;
        for (auto it = resources_.rbegin(); it != resources_.rend(); ++it) {
            const Json &r = **it;
            if (r.value("resourceType", "") == type && r.value("url", "") == url &&
                (version.empty() || r.value("version", "") == version))
                return it->get();
        }
        return nullptr;
    }

    const Json *read(std::string_view type, const std::string &id) override {
        lookups++;
        for (auto it = resources_.rbegin(); it != resources_.rend(); ++it)
            if ((*it)->value("resourceType", "") == type && (*it)->value("id", "") == id)
                return it->get();
        return nullptr;
    }

    int lookups = 0;

  private:
    std::vector<std::unique_ptr<Json>> resources_;
};

// The animal hierarchy described in the file comment.
void add_animals(MemoryStore &store) {
    store.add(R"({"resourceType":"CodeSystem","id":"animals","url":"http://example.org/cs/animals","content":"complete",
      "property":[{"code":"inactive","type":"boolean"}],
      "concept":[
        {"code":"animal","concept":[
           {"code":"mammal","concept":[{"code":"dog"},{"code":"cat","property":[{"code":"parent","valueCode":"pet"}]}]}]},
        {"code":"bird","property":[{"code":"parent","valueCode":"animal"},{"code":"child","valueCode":"parrot"},
                                   {"code":"parent","valueCode":"not-defined"}]},
        {"code":"parrot"},
        {"code":"pet"},
        {"code":"fossil","property":[{"code":"inactive","valueBoolean":true}]}]})");
}

// The codes of a list, each in kSys.
std::vector<Coding> animals(std::vector<std::string> codes) {
    std::vector<Coding> out;
    for (const std::string &c : codes)
        out.push_back({kSys, c});
    std::sort(out.begin(), out.end());
    return out;
}

// A ValueSet with url `url` and the given compose (JSON text).
std::string value_set(const std::string &url, const std::string &compose, const std::string &extra = "") {
    return R"({"resourceType":"ValueSet","url":")" + url + R"(","status":"active")" + extra + R"(,"compose":)" +
           compose + "}";
}

// The error kind (and message) an expansion throws.
ErrorKind expand_error(MemoryStore &store, const std::string &reference, std::string *message = nullptr) {
    Terminology terminology(store);
    try {
        terminology.expand(reference);
    } catch (const fhir::Error &e) {
        if (message)
            *message = e.what();
        return e.kind();
    }
    ADD_FAILURE() << "no error expanding " << reference;
    return ErrorKind::Internal;
}

} // namespace

// Listed concepts need no stored CodeSystem; codes come back sorted and unique.
TEST(TerminologyTest, ConceptList) {
    MemoryStore store;
    store.add(value_set("http://x/vs", R"({"include":[{"system":"http://loinc.org","concept":[{"code":"8867-4"},
        {"code":"1234-5"},{"code":"8867-4"}]},{"system":"http://snomed.info/sct","concept":[{"code":"1"}]}]})"));
    Terminology t(store);
    std::vector<Coding> expected{{"http://loinc.org", "1234-5"}, {"http://loinc.org", "8867-4"},
                                 {"http://snomed.info/sct", "1"}};
    EXPECT_EQ(t.expand("http://x/vs"), expected);
}

// A whole system: every concept, nested ones included.
TEST(TerminologyTest, WholeSystem) {
    MemoryStore store;
    add_animals(store);
    store.add(value_set("http://x/all", std::string(R"({"include":[{"system":")") + kSys + R"("}]})"));
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/all"), animals({"animal", "mammal", "dog", "cat", "bird", "parrot", "pet", "fossil"}));
}

// compose.inactive = false drops inactive concepts (absent or true keeps them).
TEST(TerminologyTest, InactiveExcludedOnRequest) {
    MemoryStore store;
    add_animals(store);
    store.add(value_set("http://x/active", std::string(R"({"inactive":false,"include":[{"system":")") + kSys +
                                              R"("}]})"));
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/active"), animals({"animal", "mammal", "dog", "cat", "bird", "parrot", "pet"}));
}

// Hierarchy filters follow nesting and parent/child properties (several parents allowed).
TEST(TerminologyTest, HierarchyFilters) {
    MemoryStore store;
    add_animals(store);
    auto filter = [&](const std::string &url, const std::string &op, const std::string &value) {
        store.add(value_set(url, std::string(R"({"include":[{"system":")") + kSys +
                                     R"(","filter":[{"property":"concept","op":")" + op + R"(","value":")" + value +
                                     R"("}]}]})"));
    };
    filter("http://x/is-a-animal", "is-a", "animal");
    filter("http://x/desc-animal", "descendent-of", "animal");
    filter("http://x/is-a-pet", "is-a", "pet");
    filter("http://x/gen-cat", "generalizes", "cat");
    filter("http://x/not-mammal", "is-not-a", "mammal");
    filter("http://x/eq-dog", "=", "dog");
    filter("http://x/in", "in", "dog,bird");
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/is-a-animal"), animals({"animal", "mammal", "dog", "cat", "bird", "parrot"}));
    EXPECT_EQ(t.expand("http://x/desc-animal"), animals({"mammal", "dog", "cat", "bird", "parrot"}));
    EXPECT_EQ(t.expand("http://x/is-a-pet"), animals({"pet", "cat"}));
    EXPECT_EQ(t.expand("http://x/gen-cat"), animals({"cat", "mammal", "animal", "pet"}));
    EXPECT_EQ(t.expand("http://x/not-mammal"), animals({"animal", "bird", "parrot", "pet", "fossil"}));
    EXPECT_EQ(t.expand("http://x/eq-dog"), animals({"dog"}));
    EXPECT_EQ(t.expand("http://x/in"), animals({"dog", "bird"}));
}

// Several filters in one include intersect.
TEST(TerminologyTest, FiltersIntersect) {
    MemoryStore store;
    add_animals(store);
    store.add(value_set("http://x/mammal-pets", std::string(R"({"include":[{"system":")") + kSys +
                                                    R"(","filter":[{"property":"concept","op":"is-a","value":"mammal"},
          {"property":"concept","op":"is-a","value":"pet"}]}]})"));
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/mammal-pets"), animals({"cat"}));
}

// include.valueSet pulls in other value sets (intersected with each other and
// with the include's system part); excludes remove codes in every form.
TEST(TerminologyTest, NestedValueSetsAndExclude) {
    MemoryStore store;
    add_animals(store);
    store.add(value_set("http://x/mammals", std::string(R"({"include":[{"system":")") + kSys +
                                                R"(","filter":[{"property":"concept","op":"is-a","value":"mammal"}]}]})"));
    store.add(value_set("http://x/pets", std::string(R"({"include":[{"system":")") + kSys +
                                             R"(","concept":[{"code":"cat"},{"code":"dog"},{"code":"parrot"}]}]})"));
    store.add(value_set("http://x/union", R"({"include":[{"valueSet":["http://x/mammals"]},
        {"system":"http://loinc.org","concept":[{"code":"1"}]}],
        "exclude":[{"system":"http://example.org/cs/animals","concept":[{"code":"mammal"}]}]})"));
    store.add(value_set("http://x/both", R"({"include":[{"valueSet":["http://x/mammals","http://x/pets"]}]})"));
    store.add(value_set("http://x/nested", R"({"include":[{"valueSet":["http://x/union"]}],
        "exclude":[{"valueSet":["http://x/pets"]}]})"));
    Terminology t(store);
    std::vector<Coding> expected = animals({"cat", "dog"});
    expected.push_back({"http://loinc.org", "1"}); // sorts after http://example.org
    EXPECT_EQ(t.expand("http://x/union"), expected);
    EXPECT_EQ(t.expand("http://x/both"), animals({"cat", "dog"}));
    EXPECT_EQ(t.expand("http://x/nested"), (std::vector<Coding>{{"http://loinc.org", "1"}}));
}

// url|version picks that version; a bare url the most recently updated one; ValueSet/id by id.
TEST(TerminologyTest, Versions) {
    MemoryStore store;
    store.add(R"({"resourceType":"ValueSet","id":"v1","url":"http://x/v","version":"1","compose":{"include":[
        {"system":"s","concept":[{"code":"old"}]}]}})");
    store.add(R"({"resourceType":"ValueSet","id":"v2","url":"http://x/v","version":"2","compose":{"include":[
        {"system":"s","concept":[{"code":"new"}]}]}})");
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/v|1"), (std::vector<Coding>{{"s", "old"}}));
    EXPECT_EQ(t.expand("http://x/v|2"), (std::vector<Coding>{{"s", "new"}}));
    EXPECT_EQ(t.expand("http://x/v"), (std::vector<Coding>{{"s", "new"}}));
    EXPECT_EQ(t.expand("ValueSet/v1"), (std::vector<Coding>{{"s", "old"}}));
    EXPECT_EQ(expand_error(store, "http://x/v|3"), ErrorKind::InvalidSearch);
}

// A complete stored expansion is used as is (nested contains, abstract entries
// left out); a partial one falls back to compose, or is an error without it.
TEST(TerminologyTest, StoredExpansion) {
    MemoryStore store;
    store.add(R"({"resourceType":"ValueSet","url":"http://x/expanded","expansion":{"total":4,"contains":[
        {"system":"s","code":"group","abstract":true,"contains":[{"system":"s","code":"a"},
           {"system":"s","code":"b","contains":[{"system":"t","code":"c"}]}]},{"display":"no code"}]},
        "compose":{"include":[{"system":"s","concept":[{"code":"never-used"}]}]}})");
    store.add(R"({"resourceType":"ValueSet","url":"http://x/partial","expansion":{"total":10,"offset":0,"contains":[
        {"system":"s","code":"a"}]},"compose":{"include":[{"system":"s","concept":[{"code":"z"}]}]}})");
    store.add(R"({"resourceType":"ValueSet","url":"http://x/paged","expansion":{"offset":20,"contains":[
        {"system":"s","code":"a"}]}})");
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/expanded"), (std::vector<Coding>{{"s", "a"}, {"s", "b"}, {"t", "c"}}));
    EXPECT_EQ(t.expand("http://x/partial"), (std::vector<Coding>{{"s", "z"}}));
    std::string message;
    EXPECT_EQ(expand_error(store, "http://x/paged", &message), ErrorKind::UnsupportedFeature);
    EXPECT_NE(message.find("partial expansion"), std::string::npos) << message;
}

// What cannot be expanded exactly is an error naming the url or filter.
TEST(TerminologyTest, Errors) {
    MemoryStore store;
    add_animals(store);
    store.add(R"({"resourceType":"CodeSystem","url":"http://x/fragment","content":"fragment","concept":[{"code":"a"}]})");
    store.add(value_set("http://x/needs-missing-cs", R"({"include":[{"system":"http://x/nowhere"}]})"));
    store.add(value_set("http://x/regex", std::string(R"({"include":[{"system":")") + kSys +
                                              R"(","filter":[{"property":"concept","op":"regex","value":"d.*"}]}]})"));
    store.add(value_set("http://x/other-property", std::string(R"({"include":[{"system":")") + kSys +
                                                       R"(","filter":[{"property":"status","op":"is-a","value":"x"}]}]})"));
    store.add(value_set("http://x/undefined", std::string(R"({"include":[{"system":")") + kSys +
                                                  R"(","filter":[{"property":"concept","op":"is-a","value":"unicorn"}]}]})"));
    store.add(value_set("http://x/fragment-vs", R"({"include":[{"system":"http://x/fragment"}]})"));
    store.add(value_set("http://x/includes-missing", R"({"include":[{"valueSet":["http://x/gone"]}]})"));
    store.add(value_set("http://x/empty-include", R"({"include":[{}]})"));
    store.add(R"({"resourceType":"ValueSet","url":"http://x/bare"})");
    store.add(value_set("http://x/a", R"({"include":[{"valueSet":["http://x/b"]}]})"));
    store.add(value_set("http://x/b", R"({"include":[{"valueSet":["http://x/a|"]}]})"));
    std::string m;
    EXPECT_EQ(expand_error(store, "http://x/unknown", &m), ErrorKind::InvalidSearch);
    EXPECT_EQ(m, "value set 'http://x/unknown' is not stored");
    EXPECT_EQ(expand_error(store, "http://x/needs-missing-cs", &m), ErrorKind::InvalidSearch);
    EXPECT_EQ(m, "code system 'http://x/nowhere' is not stored (needed by value set 'http://x/needs-missing-cs')");
    EXPECT_EQ(expand_error(store, "http://x/regex", &m), ErrorKind::UnsupportedFeature);
    EXPECT_NE(m.find("filter 'concept regex d.*' is not supported"), std::string::npos) << m;
    EXPECT_EQ(expand_error(store, "http://x/other-property", &m), ErrorKind::UnsupportedFeature);
    EXPECT_EQ(expand_error(store, "http://x/undefined", &m), ErrorKind::InvalidSearch);
    EXPECT_NE(m.find("code 'unicorn' is not defined"), std::string::npos) << m;
    EXPECT_EQ(expand_error(store, "http://x/fragment-vs", &m), ErrorKind::UnsupportedFeature);
    EXPECT_NE(m.find("content 'fragment'"), std::string::npos) << m;
    EXPECT_EQ(expand_error(store, "http://x/includes-missing", &m), ErrorKind::InvalidSearch);
    EXPECT_EQ(m, "value set 'http://x/gone' is not stored (included by value set 'http://x/includes-missing')");
    EXPECT_EQ(expand_error(store, "http://x/empty-include"), ErrorKind::InvalidSearch);
    EXPECT_EQ(expand_error(store, "http://x/bare"), ErrorKind::UnsupportedFeature);
    // a -> b -> a: a cycle through another spelling of the same canonical is still caught.
    EXPECT_EQ(expand_error(store, "http://x/a", &m), ErrorKind::InvalidSearch);
    EXPECT_NE(m.find("includes itself"), std::string::npos) << m;
}

// A value set used twice, directly and through includes, is read and expanded once.
TEST(TerminologyTest, ExpansionsAreRemembered) {
    MemoryStore store;
    store.add(value_set("http://x/base", R"({"include":[{"system":"s","concept":[{"code":"a"}]}]})"));
    store.add(value_set("http://x/left", R"({"include":[{"valueSet":["http://x/base"]}]})"));
    store.add(value_set("http://x/right", R"({"include":[{"valueSet":["http://x/base"]}]})"));
    store.add(value_set("http://x/top", R"({"include":[{"valueSet":["http://x/left"]},{"valueSet":["http://x/right"]}]})"));
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/top"), (std::vector<Coding>{{"s", "a"}}));
    EXPECT_EQ(store.lookups, 4);
    t.expand("http://x/top");
    t.expand("http://x/base");
    EXPECT_EQ(store.lookups, 4);
}

// :below is the code and its descendants, :above the code and its ancestors.
TEST(TerminologyTest, Subsumption) {
    MemoryStore store;
    add_animals(store);
    Terminology t(store);
    EXPECT_EQ(t.subsumed_by(kSys, "mammal"), animals({"mammal", "dog", "cat"}));
    EXPECT_EQ(t.subsumed_by(kSys, "pet"), animals({"pet", "cat"}));
    EXPECT_EQ(t.subsumers_of(kSys, "parrot"), animals({"parrot", "bird", "animal"}));
    EXPECT_EQ(t.subsumers_of(kSys, "fossil"), animals({"fossil"}));
    EXPECT_THROW(t.subsumed_by(kSys, "unicorn"), fhir::Error);
    try {
        t.subsumed_by("http://x/none", "a");
        ADD_FAILURE();
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidSearch);
        EXPECT_EQ(std::string(e.what()), "code system 'http://x/none' is not stored (needed by the :below modifier)");
    }
}

// A cyclic hierarchy (bad data) ends the walk instead of looping.
TEST(TerminologyTest, CyclicHierarchy) {
    MemoryStore store;
    store.add(R"({"resourceType":"CodeSystem","url":"http://x/cyc","concept":[
        {"code":"a","property":[{"code":"parent","valueCode":"b"}]},
        {"code":"b","property":[{"code":"parent","valueCode":"a"}]},{"code":"c"}]})");
    Terminology t(store);
    EXPECT_EQ(t.subsumed_by("http://x/cyc", "a"), (std::vector<Coding>{{"http://x/cyc", "a"}, {"http://x/cyc", "b"}}));
}

// Parent properties may be declared under another code via the concept-properties uri.
TEST(TerminologyTest, DeclaredParentProperty) {
    MemoryStore store;
    store.add(R"({"resourceType":"CodeSystem","url":"http://x/decl","content":"complete",
        "property":[{"code":"subsumedBy","uri":"http://hl7.org/fhir/concept-properties#parent","type":"code"}],
        "concept":[{"code":"top"},{"code":"leaf","property":[{"code":"subsumedBy","valueCode":"top"}]}]})");
    Terminology t(store);
    EXPECT_EQ(t.subsumed_by("http://x/decl", "top"),
              (std::vector<Coding>{{"http://x/decl", "leaf"}, {"http://x/decl", "top"}}));
}

// ---- search_resolve ----------------------------------------------------------

namespace {

const fhir::Registry &registry() {
    static const fhir::Registry r = fhir::Registry::builtin();
    return r;
}

} // namespace

// :in/:not-in, :below/:above and _list values are filled; other clauses are left alone.
TEST(SearchResolveTest, FillsValues) {
    MemoryStore store;
    add_animals(store);
    store.add(value_set("http://x/vs", R"({"include":[{"system":"s","concept":[{"code":"a"}]}]})"));
    store.add(R"({"resourceType":"List","id":"l1","entry":[
        {"item":{"reference":"Patient/p1"}},{"item":{"reference":"Patient/p2/_history/3"}},
        {"item":{"reference":"http://other.org/fhir/Patient/p3"}},{"item":{"reference":"Observation/o1"}},
        {"item":{"reference":"Patient/gone"},"deleted":true},{"item":{"reference":"#contained"}},
        {"item":{"display":"no reference"}}]})");
    fhir::SearchQuery q = fhir::parse_search_query(
        registry(), "Observation", "code:in=http://x/vs&category:below=" + std::string(kSys) + "|mammal&status=final", true);
    EXPECT_TRUE(fhir::needs_stored_values(q.clauses[0]));
    EXPECT_FALSE(fhir::needs_stored_values(q.clauses[2]));
    EXPECT_EQ(fhir::stored_value_types(q), (std::vector<std::string>{"CodeSystem", "ValueSet"}));
    fhir::StoredValueResolver resolver(store);
    resolver.resolve(q);
    EXPECT_TRUE(q.clauses[0].values[0].resolved);
    EXPECT_EQ(q.clauses[0].values[0].codings, (std::vector<Coding>{{"s", "a"}}));
    EXPECT_EQ(q.clauses[1].values[0].codings, animals({"mammal", "dog", "cat"}));
    EXPECT_FALSE(q.clauses[2].values[0].resolved);

    q = fhir::parse_search_query(registry(), "Patient", "_list=l1,List/nope", true);
    EXPECT_EQ(fhir::stored_value_types(q), std::vector<std::string>{"List"});
    resolver.resolve(q);
    EXPECT_EQ(q.clauses[0].values[0].ids, (std::vector<std::string>{"p1", "p2", "p3"}));
    EXPECT_TRUE(q.clauses[0].values[1].resolved);
    EXPECT_TRUE(q.clauses[0].values[1].ids.empty());
    q = fhir::parse_search_query(registry(), "Observation", "_list=List/l1", true);
    resolver.resolve(q);
    EXPECT_EQ(q.clauses[0].values[0].ids, std::vector<std::string>{"o1"});
}

// Local references: relative Type/id, absolute URLs ending in Type/id, history suffixes.
TEST(SearchResolveTest, LocalReferences) {
    std::string type, id;
    EXPECT_TRUE(fhir::parse_local_reference("Patient/1", &type, &id));
    EXPECT_EQ(type + "/" + id, "Patient/1");
    EXPECT_TRUE(fhir::parse_local_reference("Patient/1/_history/2", &type, &id));
    EXPECT_EQ(id, "1");
    EXPECT_TRUE(fhir::parse_local_reference("https://h.org/fhir/Observation/o-9", &type, &id));
    EXPECT_EQ(type + "/" + id, "Observation/o-9");
    for (const char *bad : {"Patient", "x/Patient/1", "NotAType/1", "Patient/", "#c", "urn:uuid:1234", "Patient/a b"})
        EXPECT_FALSE(fhir::parse_local_reference(bad, &type, &id)) << bad;
}

// The SQL binds the resolved codings as one hash array; :not-in negates it; an
// unresolved clause is refused rather than matching nothing.
TEST(SearchResolveTest, Sql) {
    MemoryStore store;
    store.add(value_set("http://x/vs", R"({"include":[{"system":"s","concept":[{"code":"a"},{"code":"b"}]}]})"));
    store.add(value_set("http://x/vs2", R"({"include":[{"system":"t","concept":[{"code":"c"}]}]})"));
    store.add(value_set("http://x/none", R"({"include":[{"system":"s","concept":[{"code":"a"}]}],
        "exclude":[{"system":"s","concept":[{"code":"a"}]}]})"));
    fhir::StoredValueResolver resolver(store);
    const int id = registry().find("Observation", "code")->id;
    auto build = [&](const std::string &query) {
        fhir::SearchQuery q = fhir::parse_search_query(registry(), "Observation", query, true);
        resolver.resolve(q);
        return fhir::build_where(q);
    };
    fhir::SqlFragment f = build("code:in=http://x/vs,http://x/vs2");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    std::vector<int64_t> expected{fhir::token_hash(id, fhir::TokenForm::SystemCode, "s|a"),
                                  fhir::token_hash(id, fhir::TokenForm::NoSystemCode, "a"),
                                  fhir::token_hash(id, fhir::TokenForm::SystemCode, "s|b"),
                                  fhir::token_hash(id, fhir::TokenForm::NoSystemCode, "b"),
                                  fhir::token_hash(id, fhir::TokenForm::SystemCode, "t|c"),
                                  fhir::token_hash(id, fhir::TokenForm::NoSystemCode, "c")};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(f.params[0].ints, expected);
    EXPECT_EQ(build("code:not-in=http://x/vs").where, "(NOT (r.tokens && $1::bigint[]))");
    f = build("code:in=http://x/none");
    EXPECT_EQ(f.where, "(r.tokens && $1::bigint[])");
    EXPECT_TRUE(f.params[0].ints.empty());
    // Above 64 hashes (here 33 codes, 66 hashes) the test is fhir.tokens_overlap.
    std::string concepts;
    for (int i = 0; i < 33; i++)
        concepts += std::string(i ? "," : "") + R"({"code":"c)" + std::to_string(i) + R"("})";
    store.add(value_set("http://x/big", R"({"include":[{"system":"s","concept":[)" + concepts + "]}]}"));
    f = build("code:in=http://x/big");
    EXPECT_EQ(f.where, "(fhir.tokens_overlap(r.tokens, $1::bigint[]))");
    EXPECT_EQ(f.params[0].ints.size(), 66u);
    EXPECT_EQ(build("code:not-in=http://x/big").where, "(NOT (fhir.tokens_overlap(r.tokens, $1::bigint[])))");
    store.add(value_set("http://x/32", R"({"include":[{"system":"s","concept":[)" +
                                           concepts.substr(0, concepts.rfind(",{")) + "]}]}"));
    EXPECT_EQ(build("code:in=http://x/32").where, "(r.tokens && $1::bigint[])");
    f = build("_list=x&status=final");
    EXPECT_EQ(f.where, "(r.id = ANY($1::text[])) AND (r.tokens && $2::bigint[])");
    EXPECT_TRUE(f.params[0].texts.empty());

    fhir::SearchQuery unresolved = fhir::parse_search_query(registry(), "Observation", "code:in=http://x/vs", true);
    try {
        fhir::build_where(unresolved);
        ADD_FAILURE();
    } catch (const fhir::Error &e) {
        EXPECT_EQ(e.kind(), ErrorKind::Internal);
    }
    unresolved = fhir::parse_search_query(registry(), "Patient", "_list=a", true);
    EXPECT_THROW(fhir::build_where(unresolved), fhir::Error);
}

// Filters on properties other than the concept: =, in, not-in and exists compare
// the property's values as text (codes, strings, Coding codes, booleans, numbers);
// "display" is the concept's display; concept not-in is every other code.
TEST(TerminologyTest, PropertyFilters) {
    MemoryStore store;
    store.add(R"({"resourceType":"CodeSystem","url":"http://x/cs/colors","content":"complete",
      "property":[{"code":"group","type":"string"},{"code":"warm","type":"boolean"},{"code":"rank","type":"integer"},
                  {"code":"kind","type":"Coding"}],
      "concept":[
        {"code":"red","display":"Red","property":[{"code":"group","valueString":"primary"},{"code":"warm","valueBoolean":true},
                                                  {"code":"rank","valueInteger":1}]},
        {"code":"blue","display":"Blue","property":[{"code":"group","valueString":"primary"},{"code":"warm","valueBoolean":false},
                                                    {"code":"kind","valueCoding":{"system":"http://x","code":"cool"}}]},
        {"code":"orange","display":"Orange","property":[{"code":"group","valueString":"secondary"},{"code":"warm","valueBoolean":true}]},
        {"code":"grey"}]})");
    auto filter = [&](const std::string &url, const std::string &property, const std::string &op, const std::string &value) {
        store.add(value_set(url, R"({"include":[{"system":"http://x/cs/colors","filter":[{"property":")" + property +
                                     R"(","op":")" + op + R"(","value":")" + value + R"("}]}]})"));
    };
    filter("http://x/primary", "group", "=", "primary");
    filter("http://x/warm", "warm", "=", "true");
    filter("http://x/groups", "group", "in", "secondary,tertiary");
    filter("http://x/not-primary", "group", "not-in", "primary");
    filter("http://x/ranked", "rank", "exists", "true");
    filter("http://x/unranked", "rank", "exists", "false");
    filter("http://x/rank1", "rank", "=", "1");
    filter("http://x/cool", "kind", "=", "cool");
    filter("http://x/display", "display", "=", "Blue");
    filter("http://x/not-red", "concept", "not-in", "red,grey");
    filter("http://x/regex", "group", "regex", "prim.*");
    filter("http://x/exists-bad", "rank", "exists", "yes");
    filter("http://x/not-in-undefined", "concept", "not-in", "red,violet");
    auto colors = [](std::vector<std::string> codes) {
        std::vector<Coding> out;
        for (const std::string &c : codes)
            out.push_back({"http://x/cs/colors", c});
        std::sort(out.begin(), out.end());
        return out;
    };
    Terminology t(store);
    EXPECT_EQ(t.expand("http://x/primary"), colors({"red", "blue"}));
    EXPECT_EQ(t.expand("http://x/warm"), colors({"red", "orange"}));
    EXPECT_EQ(t.expand("http://x/groups"), colors({"orange"}));
    EXPECT_EQ(t.expand("http://x/not-primary"), colors({"orange", "grey"}));
    EXPECT_EQ(t.expand("http://x/ranked"), colors({"red"}));
    EXPECT_EQ(t.expand("http://x/unranked"), colors({"blue", "orange", "grey"}));
    EXPECT_EQ(t.expand("http://x/rank1"), colors({"red"}));
    EXPECT_EQ(t.expand("http://x/cool"), colors({"blue"}));
    EXPECT_EQ(t.expand("http://x/display"), colors({"blue"}));
    EXPECT_EQ(t.expand("http://x/not-red"), colors({"blue", "orange"}));
    std::string message;
    EXPECT_EQ(expand_error(store, "http://x/regex", &message), ErrorKind::UnsupportedFeature);
    EXPECT_NE(message.find("'group regex prim.*' is not supported"), std::string::npos) << message;
    EXPECT_EQ(expand_error(store, "http://x/exists-bad", &message), ErrorKind::InvalidSearch);
    EXPECT_EQ(expand_error(store, "http://x/not-in-undefined", &message), ErrorKind::InvalidSearch);
    EXPECT_NE(message.find("violet"), std::string::npos) << message;
}
