// result_cache.h: the shared-memory search result cache, as the rest of the glue sees it.
//
// The storage engine is src/core/cache_arena.h (pure C++); this layer puts it in
// PostgreSQL shared memory, guards it with sixteen LWLocks (a reader takes one, a
// writer all), tracks which resource types the current transaction wrote, and
// applies the transaction rules that keep a cached result correct. docs/cache.md has the design and the argument.
//
// A search uses it in this order (fhir.search does this):
//
//   key   = cache::security_context() + <type, normalized params, result shaping>
//   hit   = cache::lookup(key)                      // reuse (skipped for no-cache/no-store)
//   set   = cache::find_result_set(key + "result-set")  // a page request: the search's result set
//   stamp = cache::begin_search({"Observation", "Patient"})   // BEFORE the first result query
//   ... run the SPI queries with read_only = true (they use the snapshot begin_search pushed) ...
//   cache::end_search(&stamp)                       // after the last result query
//   cache::store(key, stamp, payload, rows, &id)    // skipped for no-store
//
// Every function here is C++ glue: call it only inside a guarded_call (it
// throws PgError / C++ exceptions), never from a PostgreSQL callback.
#pragma once

#include "pg_includes.h"

#include "cache_arena.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fhir_pg::cache {

// Settings (registered by define_gucs).
extern int guc_cache_size_mb;      // fhir_search.cache_size (MB, at server start)
extern int guc_reuse_ms;           // fhir_search.cache_reuse_ms (0 = never reuse)
extern int guc_mode;               // fhir_search.cache_mode (CacheMode)
extern int guc_max_entry_kb;       // fhir_search.cache_max_entry_kb
extern char *guc_key_settings;     // fhir_search.cache_key_settings (settings added to the key)
extern char *guc_prefetch_thresholds; // fhir_search.cache_prefetch_thresholds

enum CacheMode { kModeInvalidate = 0, kModeTime = 1 };

// --- Module lifecycle (module.cpp) ---------------------------------------------
// These three run in PostgreSQL context (no C++ exceptions escape them).
void define_gucs();   // from _PG_init, before the GUC prefix is reserved
void request_shmem(); // from shmem_request_hook (15+) or _PG_init (< 15), when preloading
void startup_shmem(); // from shmem_startup_hook

// True when the cache lives in shared memory (loaded through shared_preload_libraries
// with fhir_search.cache_size > 0). When false, everything runs uncached.
bool available();
// Why the cache is not available ("" when it is).
const char *unavailable_reason();

// --- Keys ---------------------------------------------------------------------
// The part of every key that keeps security contexts apart: database, current
// and session role, row_security, and the values of fhir_search.cache_key_settings
// (e.g. the setting an RLS policy reads). Unambiguous (length-prefixed).
std::string security_context();

// --- Reading ------------------------------------------------------------------
using Hit = fhir::cache::EntryCopy; // id, created_unix_micros, row_count, fresh, payload

// Reuse: the newest entry for `key` within fhir_search.cache_reuse_ms, fresh
// under fhir_search.cache_mode. Empty when not available, when this transaction
// wrote anything, when it runs at REPEATABLE READ or SERIALIZABLE, or on a miss.
std::optional<Hit> lookup(const std::string &key);


// Paging from a result set (src/core/result_set.h): the newest reusable set
// entry stored under `key` (the search's key without its cursor), fresh under
// fhir_search.cache_mode, whatever its age: fhir_search.cache_reuse_ms governs
// reuse of whole searches, not paging, so pages come from the cache even with 0.
// Empty when this transaction wrote, at REPEATABLE READ or SERIALIZABLE, or on a
// miss. The caller checks that the page's cursor row is in the set.
std::optional<Hit> find_result_set(const std::string &key);

// fhir_search.cache_prefetch_thresholds, parsed (e.g. {100, 1000, 10000}; -1 = all).
std::vector<int64_t> prefetch_thresholds();

// --- Computing and storing ----------------------------------------------------
struct SearchStamp {
    fhir::cache::GenerationStamp generations;
    int64_t started_unix_micros = 0; // becomes the entry's created time (Bundle.meta.lastUpdated)
    bool fresh_snapshot = false;  // the queries ran on a snapshot taken after the counters were read
    bool pushed_snapshot = false; // begin_search pushed it and end_search has not popped it yet
    Snapshot snapshot = nullptr;
};

// Reads the generation counters of `resource_types` ("*" = every type: system
// searches without _type), then, in READ COMMITTED, pushes a fresh snapshot so
// the queries that follow see no commit older than the counters. Call before the
// first query whose rows go into the entry; run those queries read_only.
SearchStamp begin_search(const std::vector<std::string> &resource_types);
// Pops the snapshot begin_search pushed. Call after the last result query (on
// error, transaction abort pops it).
void end_search(SearchStamp *stamp);

enum class StoreOutcome {
    Stored,          // reusable by identical searches and pageable
    StoredForPaging, // pageable by id only (REPEATABLE READ / SERIALIZABLE, hot standby)
    NotAvailable,    // no shared memory
    OwnWrites,       // this transaction wrote: its results must not be shared
    NotStorable,     // a commit on a dependency was in flight, or a prepared transaction holds the cache
    TooLarge,        // above fhir_search.cache_max_entry_kb or half the cache
};

// Copies the entry into shared memory under the exclusive lock, evicting the least
// useful entries to make room. `payload` is opaque to the cache. Sets *entry_id.
StoreOutcome store(const std::string &key, const SearchStamp &stamp, const std::string &payload, int64_t row_count,
                   std::string *entry_id);
const char *store_outcome_name(StoreOutcome outcome);

// --- Writes -------------------------------------------------------------------
// The write path calls this for every resource it creates, updates or deletes.
// At commit the type's generation counter moves (cached searches over it become
// stale); until then this transaction neither reuses nor stores results.
void note_write(const std::string &resource_type);
// Same for every type (registry changes, direct SQL on the storage tables).
void note_write_all();

// --- Other caches on the same counters ------------------------------------------
// The current generation of `resource_type`'s counter, for a backend-local cache
// whose answers depend only on resources of that type (the match-URL cache): an
// answer computed by a query whose snapshot is taken after this call stays valid
// while the counter reads the same value. nullopt when nothing can be vouched
// for: no shared memory, a hot standby, a transaction snapshot older than now
// (REPEATABLE READ / SERIALIZABLE), a commit on the type in flight, or this
// transaction wrote the type (its uncommitted rows may be in the answer).
std::optional<uint64_t> type_generation(const std::string &resource_type);

// --- Administration -------------------------------------------------------------
struct Stats {
    bool available = false;
    fhir::cache::ArenaStats arena;
    double hit_rate = 0; // hits / (hits + misses), 0 when none
};
Stats stats();
// Drops every entry and zeroes the counters (generations are kept). Requires
// SPI (checks pg_prepared_xacts to release prepared-transaction holds).
void reset();

} // namespace fhir_pg::cache
