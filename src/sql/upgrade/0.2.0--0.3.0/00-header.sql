-- fhir_search 0.2.0 -> 0.3.0 (ALTER EXTENSION fhir_search UPDATE TO '0.3.0').
-- Built from src/sql/upgrade/0.2.0--0.3.0/*.sql (in name order) while 0.3.0 is in
-- development (with src/sql/api/*.sql, all new in 0.3.0, right after this header);
-- frozen into src/sql/versions once 0.3.0 is released. Each piece brings
-- a 0.2.0 install to what src/sql builds for 0.3.0 (test/scripts/upgrade.sh compares
-- the two catalogs); new functions need their REVOKE from PUBLIC here, since
-- privileges.sql's blanket REVOKE ran at 0.2.0.
\echo Use "ALTER EXTENSION fhir_search UPDATE TO '0.3.0'" to load this file. \quit
