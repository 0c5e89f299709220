// patch_error.cpp: building the errors of patch documents (see patch_error.h).
#include "patch_error.h"

#include <nlohmann/json.hpp>

namespace fhir {

Error patch_error(std::string_view form, std::optional<size_t> index, std::string_view op, std::string_view message,
                  PatchIssue issue, std::string_view expression) {
    std::string text(form);
    if (index) {
        text += " operation " + std::to_string(*index);
        if (!op.empty())
            text += " (" + std::string(op) + ")";
    }
    text += ": ";
    text += message;
    // ordered_json: FHIR clients expect resourceType first.
    nlohmann::ordered_json entry = {{"severity", "error"},
                                    {"code", issue == PatchIssue::Invalid ? "invalid" : "processing"},
                                    {"diagnostics", text}};
    if (!expression.empty())
        entry["expression"] = nlohmann::ordered_json::array({std::string(expression)});
    nlohmann::ordered_json outcome = {{"resourceType", "OperationOutcome"},
                                      {"issue", nlohmann::ordered_json::array({entry})}};
    return Error(ErrorKind::InvalidResource, text,
                 outcome.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

} // namespace fhir
