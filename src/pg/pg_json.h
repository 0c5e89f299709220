// pg_json.h: moving JSON between PostgreSQL's jsonb and the core's fhir::Json.
//
// Stored resources stay jsonb end to end; the core gets a fhir::Json view only to
// validate and extract. Numbers become int64 when integral, double otherwise (the
// stored jsonb keeps the exact decimal text; only extraction sees the double).
#pragma once

#include "pg_includes.h"

#include "json.h"

#include <functional>
#include <string>
#include <string_view>

namespace fhir_pg {

// Converts a jsonb value into the core's document type. With `exact_decimals`,
// numbers with a fraction or exponent become binary values holding their text,
// for a round trip through json_to_jsonb_exact that keeps 1.50 as 1.50.
fhir::Json jsonb_to_json(Jsonb *jsonb, bool exact_decimals = false);

// The same for a jsonb Datum as SPI returns it (detoasted inside the error boundary:
// a TOASTed resource is read and decompressed first).
fhir::Json jsonb_datum_to_json(Datum datum);

// The same for the top-level members `keep` accepts of a jsonb object (other
// members are skipped without being converted); a non-object converts whole.
fhir::Json jsonb_members_to_json(Jsonb *jsonb, const std::function<bool(std::string_view)> &keep);

// Converts a core document into a jsonb Datum (palloc'd in the current context).
Datum json_to_jsonb(const fhir::Json &json);

// The same encoded directly as binary jsonb (src/core/jsonb_encoder.h), turning
// the binary values of jsonb_to_json(..., true) back into the numbers they were.
Datum json_to_jsonb_exact(const fhir::Json &json);

// A jsonb Datum (palloc'd in the current context) holding the root container
// bytes made by fhir::jsonb::encode.
Datum encoded_jsonb(const std::string &bytes);

// Parses JSON text with PostgreSQL's own parser into a jsonb Datum.
Datum text_to_jsonb(const std::string &text);

// Renders a jsonb value as compact text.
std::string jsonb_to_text(Jsonb *jsonb);

} // namespace fhir_pg
