// base64.h: standard base64 (RFC 4648, section 4), FHIR's base64Binary.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fhir {

// Decodes `text` (padding optional, ASCII whitespace ignored); nullopt when it
// holds another character or is cut off mid-group.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace fhir
