// extract.h: from a resource to the rows its search parameters index.
//
// Run once per write. For every enabled search parameter of the resource's type,
// the parameter's compiled FHIRPath expression selects nodes, and each node becomes
// index values by parameter type:
//   token, reference, uri -> hashes in `tokens` (GIN array on the resource row)
//   string                -> `strings` rows (normalized + exact text)
//   date                  -> `dates` rows ([lo, hi) in microseconds, UTC)
//   number                -> `numbers` rows
//   quantity              -> `quantities` rows (value range + system/code/unit)
//   reference             -> also `references` rows (target type/id, for chaining
//                            and _include/_revinclude joins)
//   token                 -> also `token_texts` (display/text, for :text)
//   composite             -> see "Composite parameters" below
// Every parameter with at least one value also adds TokenForm::Present.
//
// Composite parameters. When every component is a token (or reference/uri), each
// combination of component values is one hash in `tokens`:
// token_hash(id, TokenForm::SystemCode, "<v1>$<v2>"), where a token component's
// values are "code", "system|code" and "system|" (so `a$b`, `s|a$b`, `a$s|b`,
// `s|a$s|b` and `s|$b` all match). When a component is a quantity, date, number or string, a hash cannot
// express the range match. Then the composite's token component becomes
// `composite_keys` rows (hashes of forms Code, SystemCode and System under the
// composite's id) and its other components become ordinary quantities/dates/numbers/strings
// rows under the composite's id; `group` numbers the composite node (from 1, per
// parameter and resource) and `component` is the component's position in the
// definition, so a search joins key and value rows on (param_id, group) and picks
// the value component by `component`. Non-composite rows have group 0. A
// composite node lacking a value for any component indexes nothing.
// Those grouped rows are the raw material; what is stored and searched are the
// pairs made of them at the end of extract(): for every group, each key (the
// token components' hashes, combined by composite_key_hash when there are
// several) with each number/quantity value (`composite_numbers`) and each date
// value (`composite_dates`) and string value (`composite_strings`, normalized) of
// the group's other components. A search then matches key and value in one row,
// so both come from the same repetition (one Observation.component), never from
// two different ones. The writer stores grouped rows only as these pairs.
//
// Full text (_text, _content; fulltext.h): one `texts` row per parameter, the
// folded document the glue turns into a tsvector.
#pragma once

#include "fhirpath.h"
#include "json.h"
#include "registry.h"
#include "values.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fhir {

struct StringRow {
    int param_id;
    std::string normalized; // normalize_string(exact)
    std::string exact;
    int group = 0;     // composite node number, 0 outside composites
    int component = 0; // composite component position
};

struct DateRow {
    int param_id;
    int64_t lo; // inclusive, microseconds since epoch UTC (kMinTime = open)
    int64_t hi; // exclusive (kMaxTime = open)
    int group = 0;     // composite node number, 0 outside composites
    int component = 0; // composite component position
};

struct NumberRow {
    int param_id;
    DecimalRange range;
    int group = 0;     // composite node number, 0 outside composites
    int component = 0; // composite component position
};

struct QuantityRow {
    int param_id;
    DecimalRange range;
    std::string system;
    std::string code;
    std::string unit;
    int group = 0;     // composite node number, 0 outside composites
    int component = 0; // composite component position
};

struct ReferenceRow {
    int param_id;
    std::string target_type; // "" when unknown (e.g. absolute URL to another server)
    std::string target_id;   // id, or the full reference text when not local
};

struct TokenTextRow {
    int param_id;
    std::string normalized; // normalized CodeableConcept.text / Coding.display / Identifier.type.text
};

// The sort range of one token parameter of a resource (for _sort). A code's sort
// key is its system, then kTokenSortSeparator, then the code (a code without a
// system has the empty system), so byte-wise (C collation) order is order by
// system, then by code: the separator sorts below every character FHIR strings
// may hold. `lo`/`hi` are the lowest/highest key among all the parameter's codes
// (codings, identifiers, plain codes); ascending sorts use lo, descending hi.
constexpr char kTokenSortSeparator = '\x01';
struct TokenSortRange {
    std::string lo;
    std::string hi;
};

// The top-level members of a resource a FHIRPath expression may read, found from
// its text: a member named like one of the expression's identifiers, or like one
// followed by an uppercase letter (the choice element `value` also covers
// `valueCodeableConcept`), plus resourceType and id. An expression that may read
// anything (resolve(), which reads `contained`; descendants(), children(),
// repeat(); environment variables such as %resource) keeps every member. A caller
// can then convert only those members of a stored resource: evaluating the
// expression on that part gives the same nodes.
struct MemberFilter {
    bool all = true;
    std::vector<std::string> names;

    bool keeps(std::string_view member) const;
};
MemberFilter members_read_by(std::string_view expression);

// The token side of a composite whose other side is a range (see above).
struct CompositeKeyRow {
    int param_id;  // the composite parameter
    int group;     // composite node number, as in the value rows
    int component; // position of the token component in the definition
    int64_t hash;  // token_hash(param_id, Code, code) or (param_id, SystemCode, system|code)
};

// A composite's key with one number or quantity component value of the same
// composite node (see "Composite parameters" above).
struct CompositeNumberRow {
    int param_id;  // the composite parameter
    int group;     // composite node number: the value components of one node share it
    int component; // position of the value component in the definition
    int64_t key;   // the token components' hash (composite_key_hash)
    DecimalRange range;
    std::string system; // quantity components only ("" for numbers)
    std::string code;
    std::string unit;
};

// A composite's key with one date component value of the same composite node.
struct CompositeDateRow {
    int param_id;
    int group;
    int component;
    int64_t key;
    int64_t lo; // as DateRow
    int64_t hi;
};

// A composite's key with one string component value of the same composite node.
struct CompositeStringRow {
    int param_id;
    int group;
    int component;
    int64_t key;
    std::string normalized; // normalize_string of the value, as StringRow
};

// The document of a full-text parameter (_text, _content), folded by normalize_string.
struct TextRow {
    int param_id;
    std::string document;
};

struct IndexRows {
    std::vector<int64_t> tokens; // sorted, unique
    std::vector<StringRow> strings;
    std::vector<DateRow> dates;
    std::vector<NumberRow> numbers;
    std::vector<QuantityRow> quantities;
    std::vector<ReferenceRow> references;
    std::vector<TokenTextRow> token_texts;
    std::vector<CompositeKeyRow> composite_keys;
    std::vector<CompositeNumberRow> composite_numbers; // pairs made from the grouped rows
    std::vector<CompositeDateRow> composite_dates;
    std::vector<CompositeStringRow> composite_strings;
    std::vector<TextRow> texts;
};

// Compiles and caches the expressions of one Registry, plans each resource type
// once (which parameters to run, which share an expression), and keeps buffers
// that later calls reuse. Not thread-safe; a backend keeps one per registry version.
class Extractor {
  public:
    explicit Extractor(const Registry &registry);
    ~Extractor();

    // `resource` must have a valid resourceType and id (the writer checks first).
    IndexRows extract(const Json &resource) const;

    // The sort range of token parameter `param_id` on `resource`, or nullopt when
    // the resource has no code for it (or it is not an enabled token parameter
    // of the resource's type). Computed for the rows a _sort orders, not stored
    // at write time (docs/architecture.md, "Sorting by a token").
    std::optional<TokenSortRange> token_sort_range(const Json &resource, int param_id) const;

    // The members token_sort_range(resource, param_id) may read (see
    // MemberFilter), or nullptr for an unknown parameter id. Valid until the
    // registry changes.
    const MemberFilter *token_sort_members(int param_id) const;

  private:
    const Registry &registry_;
    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
};

} // namespace fhir
