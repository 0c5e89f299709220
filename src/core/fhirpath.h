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
    std::string text_;
    std::shared_ptr<const Ast> ast_;
};

} // namespace fhir::fhirpath
