// spi.h: running the extension's own SQL through SPI, from C++.
//
// Statements are prepared once per backend and kept (SPI_keepplan), keyed by their
// text; the plan cache revalidates them after DDL. SQL text here is always built
// from our own constants and registry identifiers; user values travel only as
// parameters. Every call goes through pg_call, so a PostgreSQL error becomes a
// PgError exception.
#pragma once

#include "pg_includes.h"

#include "search_sql.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir_pg {

void spi_connect();
void spi_finish();

// Planner settings for the statements of one search, in a GUC nest level of their
// own (as a function's SET clause would be): Memoize off, because the page
// statements' joins by rid rarely repeat a key and a Memoize node sized for the
// planner's estimate cost about 2 ms to set up (bench/results/search.md, run E).
// An error rolls the settings back with the (sub)transaction.
int search_settings_push();
// Plans in a GUC nest level of their own without sequential scans (a bounded
// count that must read an index, not the table: search_pages.cpp); undone by
// search_settings_pop (or the transaction's end, on error).
int index_scans_push();
void search_settings_pop(int nest_level);

// A prepared statement with its parameter types, kept for the backend's life.
// `cursor_options` are SPI_prepare_cursor's (e.g. CURSOR_OPT_CUSTOM_PLAN: planned
// anew for each execution's values); plans are kept per SQL text and options.
SPIPlanPtr prepare_cached(const std::string &sql, const std::vector<Oid> &arg_types, int cursor_options = 0);

// The plan of a search statement: planned anew for each execution's values (a
// custom plan of prepare_cached's statement), except when the same statement with
// the same values ran before in this backend: then the values become constants of
// a plan made for them once and kept (like a prepared statement without
// parameters), so a repeated search skips parsing and planning. The plan cache
// revalidates such plans after DDL or ANALYZE as it does any other. At most
// fhir_search.plan_cache_size statements are remembered (least recently used
// go first; 0 turns this off). Execute the result with the same values (a plan
// with constants ignores them).
SPIPlanPtr prepare_search_statement(const std::string &sql, const std::vector<Oid> &arg_types,
                                    const std::vector<Datum> &values);
// How many times prepare_search_statement returned a kept plan (backend total).
uint64_t kept_plan_uses();

// Executes a plan (read_only=true only in STABLE functions: a read-only execution
// does not see the writes made earlier by the same call), freeing the previous statement's result first (read results
// before running the next statement); `nulls` uses SPI's convention (' ' not null, 'n' null), may be
// null for "no nulls". Returns the number of rows processed.
uint64_t spi_execute(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long max_rows = 0);

// A prepared statement opened as a cursor: planned (for these values) when
// opened, so its plan (spi_cursor_plan) can be looked at before any row is read.
// Close it with spi_cursor_close on the normal path; an error closes it with the
// (sub)transaction (no destructor does: they must not call into PostgreSQL).
Portal spi_cursor_open(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only);
const PlannedStmt &spi_cursor_plan(Portal portal);
// Reads every row into SPI_tuptable (freeing the previous result); returns their number.
uint64_t spi_cursor_fetch_all(Portal portal);
// Reads up to `count` more rows into SPI_tuptable (freeing the previous result).
uint64_t spi_cursor_fetch(Portal portal, long count);
void spi_cursor_close(Portal portal);

// Runs one-off SQL without parameters (DDL built from registry identifiers).
uint64_t spi_exec_sql(const std::string &sql, bool read_only = false);

// Accessors for SPI_tuptable rows (row and 1-based column).
bool spi_isnull(uint64_t row, int col);
int64_t spi_get_int64(uint64_t row, int col);
int32_t spi_get_int32(uint64_t row, int col);
bool spi_get_bool(uint64_t row, int col);
std::string spi_get_text(uint64_t row, int col);
// A Datum copied into the memory context that was current at spi_connect() time,
// so it survives spi_finish (for return values).
Datum spi_get_datum_outer(uint64_t row, int col);
Datum spi_get_datum(uint64_t row, int col);

// Parameter builders (palloc'd in the current context).
Datum text_datum(std::string_view text);
Datum int8_array(const std::vector<int64_t> &values);
Datum int4_array(const std::vector<int32_t> &values);
Datum text_array(const std::vector<std::string> &values);
Datum timestamptz_array(const std::vector<int64_t> &unix_micros);
Datum bool_array(const std::vector<uint8_t> &values); // elements 0/1
// Microseconds since 1970 (core convention) <-> PostgreSQL TimestampTz.
TimestampTz unix_micros_to_timestamptz(int64_t micros);
int64_t timestamptz_to_unix_micros(TimestampTz ts);
// Microseconds since 1970 now, at microsecond precision.
int64_t now_unix_micros();

// Converts core parameter values (search_sql.h) into SPI argument types and Datums.
void bind_sql_params(const std::vector<fhir::SqlParam> &params, std::vector<Oid> *types, std::vector<Datum> *values);

// A text argument of a SQL function; "" when NULL.
std::string optional_text_arg(FunctionCallInfo fcinfo, int n);

} // namespace fhir_pg
