// fhirpath.h: the subset of FHIRPath that search parameter expressions use.
//
// A search parameter's expression (e.g. "Observation.subject.where(resolve() is
// Patient)") is compiled once into an Expression and evaluated per resource.
// Evaluation yields the matching nodes of the resource, each with the FHIR type the
// evaluator could infer (from a choice suffix such as valueQuantity, from `as`/
// `ofType`, or from the element's shape); the extractor turns nodes into index
// values. See docs/fhirpath.md for what is supported and what is not.
#pragma once

#include "json.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fhir {
class Extractor;
} // namespace fhir

namespace fhir::fhirpath {

struct Node {
    const Json *value = nullptr; // points into the evaluated resource, or at *owned
    std::shared_ptr<const Json> owned; // set when the node is computed, not part of the resource
    std::string type;            // FHIR type if known: "Quantity", "Period", "dateTime", "Reference", ... else ""
};

class Expression {
  public:
    // Throws fhir::Error(ErrorKind::InvalidSearch) on syntax it does not support.
    static Expression compile(std::string_view text);

    // Nodes of `resource` the expression selects, in document order. Never throws
    // for data reasons: unexpected shapes simply yield no node.
    std::vector<Node> evaluate(const Json &resource) const;

    // Evaluate relative to a node (composite components are relative expressions).
    // Without `resource`, %resource means the context node itself.
    std::vector<Node> evaluate_on(const Node &context) const;
    std::vector<Node> evaluate_on(const Node &context, const Json &resource) const;

    const std::string &text() const { return text_; }

    struct Ast; // defined in fhirpath.cpp
  private:
    // Extraction evaluates dozens of expressions over one resource. A Memo lets
    // them share the resource's root node and the paths they have in common
    // ("Observation.value" in ten parameters): each such path is evaluated once
    // per resource. Only the Extractor uses it (defined in fhirpath.cpp).
    friend class fhir::Extractor;
    struct Memo;
    static std::shared_ptr<Memo> new_memo();
    // Starts a new resource: forgets every path of the previous one.
    static void begin(Memo &memo, const Json &resource);
    // As evaluate(resource), for the resource of the last begin(), into `out`
    // (its elements are reused, so a caller's vectors stop allocating).
    void evaluate_memo(Memo &memo, std::vector<Node> &out) const;
    // As evaluate_on(context, resource), into `out`.
    void evaluate_on_into(const Node &context, const Json &resource, std::vector<Node> &out) const;

    std::string text_;
    std::shared_ptr<const Ast> ast_;
};

} // namespace fhir::fhirpath
