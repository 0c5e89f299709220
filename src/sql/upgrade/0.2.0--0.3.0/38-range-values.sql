-- A Range value (Condition.onsetRange, useContext.valueRange, a custom parameter's
-- Range) is one row spanning [lo, hi] with no point value (search_sql.h): the value
-- columns accept NULL. Rows stored by 0.2.0 are point values and stay as they are;
-- resources holding Range values get their span rows from fhir.reindex(type).
ALTER TABLE fhir.search_number ALTER COLUMN value DROP NOT NULL;
ALTER TABLE fhir.search_quantity ALTER COLUMN value DROP NOT NULL;
ALTER TABLE fhir.search_composite_number ALTER COLUMN value DROP NOT NULL;
COMMENT ON TABLE fhir.search_number IS 'number search values: a point value with its implicit precision range [lo, hi), or (value NULL) a Range spanning [lo, hi] inclusive, -Infinity/Infinity for an absent bound';
COMMENT ON TABLE fhir.search_quantity IS 'quantity search values: a point value with precision range [lo, hi), or (value NULL) a Range spanning [lo, hi] inclusive (-Infinity/Infinity for an absent bound), with system/code/unit';
COMMENT ON TABLE fhir.search_composite_number IS 'composite search values whose range component is a number or quantity: key = hash of the token components of one composite node (grp), a point value with precision range [lo, hi) or (value NULL) a Range spanning [lo, hi] inclusive, and, for quantities, system/code/unit of the component at position component';
