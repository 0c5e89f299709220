// result_cache.cpp: the search result cache in PostgreSQL shared memory.
//
// Shared state: one block ("fhir_search result cache") made at server start:
// a small header holding the LWLock array's pointer, then a fhir::cache::CacheArena
// (src/core/cache_arena.h) filling the rest of fhir_search.cache_size.
//
// Locking protocol (16 LWLocks, tranche "fhir_search_cache"):
//   * LW_SHARED    lookup, find_result_set, stats: one of the locks, chosen by the
//                  backend's pid, so readers of different backends do not contend
//                  on one lock word. Readers copy the entry out while holding it;
//                  their only writes are atomics (hit counters, clock usage), so
//                  any number of them run at once.
//   * LW_EXCLUSIVE every lock, in order: store (evict + copy in + publish), reset.
//                  An entry is built completely in backend memory first, then
//                  copied and linked in one critical section: a failed or cancelled
//                  search stores nothing, and no reader ever sees half an entry.
//   * no lock      the per-type generation counters: atomics, bumped by committing
//                  writers from a transaction callback (so writers never wait for
//                  the cache) and read by searches before their snapshot.
// No PostgreSQL call that can raise an error happens while the lock is held; a
// C++ exception inside the critical section is caught, the lock released, and
// the exception rethrown.
//
// Backend-local state: the resource-type slots this transaction wrote
// (note_write) and whether its commit is in flight; cleared at transaction end.
#include "result_cache.h"
#include "local_time_zone.h"

#include "cpp_wrapper.h"
#include "result_set.h"

#include <bitset>
#include <cstring>
#include <exception>

extern "C" {
#include "access/transam.h"
#include "access/xlog.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/snapmgr.h"
}

namespace fhir_pg::cache {

using fhir::cache::CacheArena;
using fhir::cache::kGenerationSlots;

int guc_cache_size_mb = 64;
int guc_reuse_ms = 60000;
int guc_mode = kModeInvalidate;
int guc_max_entry_kb = 4096;
char *guc_key_settings = nullptr;
char *guc_prefetch_thresholds = nullptr;

namespace {

constexpr const char *kTrancheName = "fhir_search_cache";
constexpr const char *kShmemName = "fhir_search result cache";
constexpr size_t kStateSize = 128; // SharedState, padded so the arena starts cache-line aligned

// Readers spread over several locks, so hits of different backends do not all
// hit the same lock word: a reader takes one partition shared (by its pid); a
// writer takes every partition exclusive, in order, which excludes all readers.
constexpr int kLockPartitions = 16;

struct SharedState {
    LWLockPadded *locks; // kLockPartitions locks of tranche kTrancheName
    bool ready;          // the arena was formatted successfully
};

const struct config_enum_entry kModeOptions[] = {
    {"invalidate", kModeInvalidate, false},
    {"time", kModeTime, false},
    {nullptr, 0, false},
};

bool defined_while_preloading = false; // _PG_init ran from shared_preload_libraries
bool shmem_requested = false;
SharedState *shared = nullptr;
char *arena_base = nullptr;
fhir::cache::GenerationTable *generation_table = nullptr; // inside the arena

// This transaction's writes (see note_write and the transaction callback).
std::bitset<kGenerationSlots> pending_slots;
bool transaction_noted_write = false;
bool commit_in_flight = false;
bool xact_callback_registered = false;

size_t shmem_size() { return static_cast<size_t>(guc_cache_size_mb) * 1024 * 1024; }

CacheArena arena() { return CacheArena::attach(arena_base); }

fhir::cache::Freshness freshness() {
    return guc_mode == kModeTime ? fhir::cache::Freshness::Time : fhir::cache::Freshness::Invalidate;
}

int64_t now_unix_micros() {
    TimestampTz now = GetCurrentTimestamp();
    return now + int64_t(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

// Anything this transaction wrote, through us or through plain SQL (any write
// assigns a transaction id): its results may include uncommitted rows, and its
// searches must see its own writes.
bool transaction_wrote() { return transaction_noted_write || TransactionIdIsValid(GetTopTransactionIdIfAny()); }

// Invalidate mode cannot see commits replayed from a primary: a hot standby
// neither reuses entries nor stores reusable ones (paging still works).
bool reuse_unsafe_here() { return guc_mode == kModeInvalidate && RecoveryInProgress(); }

// Runs `body` holding the cache lock in `mode`; see the file comment.
template <typename Body>
auto with_lock(LWLockMode mode, Body &&body) -> decltype(body()) {
    LWLockPadded *locks = shared->locks;
    const int first = mode == LW_SHARED ? MyProcPid % kLockPartitions : 0;
    const int last = mode == LW_SHARED ? first : kLockPartitions - 1;
    pg_call([locks, mode, first, last] {
        for (int i = first; i <= last; i++)
            LWLockAcquire(&locks[i].lock, mode);
    });
    std::exception_ptr failure;
    std::optional<decltype(body())> result;
    try {
        result.emplace(body());
    } catch (...) {
        failure = std::current_exception();
    }
    pg_call([locks, first, last] {
        for (int i = last; i >= first; i--)
            LWLockRelease(&locks[i].lock);
    });
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*result);
}

// At commit, move the generation counters of the types this transaction wrote:
// once before the commit becomes visible (marking it in flight) and once after.
// Runs inside PostgreSQL's transaction machinery: atomics and plain fields only.
void xact_callback(XactEvent event, void *) noexcept {
    if (!generation_table)
        return;
    fhir::cache::GenerationTable &gens = *generation_table;
    switch (event) {
    case XACT_EVENT_PRE_COMMIT:
        if (pending_slots.any()) {
            gens.begin_commit(pending_slots);
            commit_in_flight = true;
        }
        break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
        if (commit_in_flight)
            gens.end_commit(pending_slots);
        pending_slots.reset();
        transaction_noted_write = false;
        commit_in_flight = false;
        break;
    case XACT_EVENT_PREPARE:
        // Visible only at COMMIT PREPARED, which we never see: hold the cache
        // (no stores) until reset() finds no prepared transaction left.
        if (pending_slots.any())
            gens.hold_for_prepared(pending_slots);
        pending_slots.reset();
        transaction_noted_write = false;
        commit_in_flight = false;
        break;
    default:
        break;
    }
}

extern "C" void xact_callback_c(XactEvent event, void *arg) { xact_callback(event, arg); }

void note_slots(const std::bitset<kGenerationSlots> &slots) {
    if (!available())
        return;
    if (!xact_callback_registered) {
        pg_call([] { RegisterXactCallback(xact_callback_c, nullptr); });
        xact_callback_registered = true;
    }
    pending_slots |= slots;
    pending_slots.set(fhir::cache::kAllTypesSlot);
    transaction_noted_write = true;
}

// Appends `text` length-prefixed, so no value can forge a separator.
void append_field(std::string *out, const char *name, const char *value) {
    out->append(name);
    if (!value) {
        out->append("=null;");
        return;
    }
    out->append("=");
    out->append(std::to_string(std::strlen(value)));
    out->append(":");
    out->append(value);
    out->append(";");
}

} // namespace

// ---------------------------------------------------------------------------
// Lifecycle (PostgreSQL context: no C++ exception may escape)
// ---------------------------------------------------------------------------

// check_hook of fhir_search.cache_prefetch_thresholds (PostgreSQL context: the
// parser never throws).
bool check_prefetch_thresholds(char **newval, void **, GucSource) {
    std::vector<int64_t> values;
    std::string message;
    if (fhir::parse_prefetch_thresholds(*newval ? *newval : "", &values, &message))
        return true;
    GUC_check_errdetail("%s", message.c_str());
    return false;
}

void define_gucs() {
    defined_while_preloading = process_shared_preload_libraries_in_progress;
    if (process_shared_preload_libraries_in_progress)
        DefineCustomIntVariable("fhir_search.cache_size", "Shared memory for the search result cache.",
                                "0 disables the cache. Takes effect at server start.", &guc_cache_size_mb, 64, 0,
                                1024 * 1024, PGC_POSTMASTER, GUC_UNIT_MB, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.cache_reuse_ms",
                            "How long an identical search may reuse a cached result.",
                            "0 never reuses (paging still reads the cache).", &guc_reuse_ms, 60000, 0, INT_MAX,
                            PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("fhir_search.cache_mode", "When a cached search result stops being reusable.",
                             "invalidate: as soon as a commit writes a resource type it depends on (and after "
                             "cache_reuse_ms); time: only after cache_reuse_ms.",
                             &guc_mode, kModeInvalidate, kModeOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("fhir_search.cache_max_entry_kb", "Largest search result the cache stores.",
                            "Larger results are returned uncached; an entry never exceeds half the cache.",
                            &guc_max_entry_kb, 4096, 1, INT_MAX / 1024, PGC_SUSET, GUC_UNIT_KB, nullptr, nullptr,
                            nullptr);
    DefineCustomStringVariable("fhir_search.cache_key_settings",
                               "Settings whose values are part of every cache key (comma-separated).",
                               "List the settings row-level security policies read (e.g. app.tenant_id), so "
                               "sessions with different values never share cached results.",
                               &guc_key_settings, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("fhir_search.cache_prefetch_thresholds",
                               "How many matches a search prefetches into the cache for later pages.",
                               "Comma-separated increasing row counts, -1 = every match. A first page stores its "
                               "rows; the first page past the stored rows prefetches the ids of the matches up to "
                               "the next threshold.",
                               &guc_prefetch_thresholds, "100,1000,10000", PGC_USERSET, 0, check_prefetch_thresholds,
                               nullptr, nullptr);
}

void request_shmem() {
    // On 15+ this runs from shmem_request_hook, after preloading has finished (so
    // process_shared_preload_libraries_in_progress is already false again).
    if (!defined_while_preloading || guc_cache_size_mb <= 0)
        return;
    RequestAddinShmemSpace(shmem_size());
    RequestNamedLWLockTranche(kTrancheName, kLockPartitions);
    shmem_requested = true;
}

// Formats the arena; false if the size does not fit.
static bool format_arena(char *base, size_t bytes) noexcept {
    uint64 nonce = 0;
    if (!pg_strong_random(&nonce, sizeof nonce))
        nonce = static_cast<uint64>(GetCurrentTimestamp()) ^ static_cast<uint64>(MyProcPid);
    try {
        CacheArena::create(base, bytes, nonce);
        return true;
    } catch (...) {
        return false;
    }
}

// The arena's generation table, or null if `base` holds no arena.
static fhir::cache::GenerationTable *attach_generations(char *base) noexcept {
    try {
        return &CacheArena::attach(base).generations();
    } catch (...) {
        return nullptr;
    }
}

void startup_shmem() {
    shared = nullptr;
    arena_base = nullptr;
    generation_table = nullptr;
    if (!shmem_requested)
        return;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    char *block = static_cast<char *>(ShmemInitStruct(kShmemName, shmem_size(), &found));
    auto *state = reinterpret_cast<SharedState *>(block);
    char *base = reinterpret_cast<char *>(TYPEALIGN(64, block + kStateSize));
    if (!found) {
        state->locks = GetNamedLWLockTranche(kTrancheName);
        state->ready = format_arena(base, shmem_size() - (base - block));
    }
    LWLockRelease(AddinShmemInitLock);
    if (!state->ready) {
        ereport(LOG, (errmsg("fhir_search: fhir_search.cache_size is too small for the result cache; running uncached")));
        return;
    }
    generation_table = attach_generations(base);
    if (!generation_table)
        return;
    shared = state;
    arena_base = base;
}

bool available() { return arena_base != nullptr; }

const char *unavailable_reason() {
    if (available())
        return "";
    if (!defined_while_preloading)
        return "fhir_search is not in shared_preload_libraries: searches run uncached";
    if (guc_cache_size_mb <= 0)
        return "fhir_search.cache_size is 0: searches run uncached";
    return "the result cache could not be set up (see the server log): searches run uncached";
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

std::string security_context() {
    std::string out;
    Oid database = MyDatabaseId;
    Oid user = GetUserId();
    Oid session_user = GetSessionUserId();
    out.append("db=" + std::to_string(database) + ";user=" + std::to_string(user) +
               ";session_user=" + std::to_string(session_user) + ";");
    append_field(&out, "row_security", pg_call([] { return GetConfigOption("row_security", false, false); }));
    append_field(&out, "default_timezone", local_time_zone_key().c_str());
    std::string names = guc_key_settings ? guc_key_settings : "";
    size_t start = 0;
    while (start <= names.size()) {
        size_t end = names.find(',', start);
        if (end == std::string::npos)
            end = names.size();
        std::string name = names.substr(start, end - start);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (!name.empty()) {
            const char *cname = name.c_str();
            append_field(&out, ("setting:" + name).c_str(),
                         pg_call([cname] { return GetConfigOption(cname, true, false); }));
        }
        start = end + 1;
    }
    return out;
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

std::optional<Hit> lookup(const std::string &key) {
    if (!available() || guc_reuse_ms <= 0 || transaction_wrote() || IsolationUsesXactSnapshot() ||
        reuse_unsafe_here())
        return std::nullopt;
    const int64_t now = now_unix_micros();
    const int64_t window = int64_t(guc_reuse_ms) * 1000;
    const fhir::cache::Freshness mode = freshness();
    return with_lock(LW_SHARED, [&] { return arena().lookup(key, now, window, mode); });
}

std::optional<Hit> find_result_set(const std::string &key) {
    // Not for a transaction that wrote (it must see its own rows, which no stored
    // set holds), nor at REPEATABLE READ / SERIALIZABLE (a set may hold commits
    // newer than the transaction's snapshot), nor on a hot standby in invalidate
    // mode. The reuse window does not apply: this is paging, not reuse.
    if (!available() || transaction_wrote() || IsolationUsesXactSnapshot() || reuse_unsafe_here())
        return std::nullopt;
    const int64_t now = now_unix_micros();
    const fhir::cache::Freshness mode = freshness();
    return with_lock(LW_SHARED, [&] { return arena().lookup(key, now, INT64_MAX / 2, mode); });
}

std::vector<int64_t> prefetch_thresholds() {
    std::vector<int64_t> values;
    std::string message;
    if (!fhir::parse_prefetch_thresholds(guc_prefetch_thresholds ? guc_prefetch_thresholds : "", &values, &message))
        values = {100, 1000, 10000}; // unreachable: the check hook refuses bad values
    return values;
}

// ---------------------------------------------------------------------------
// Computing and storing
// ---------------------------------------------------------------------------

SearchStamp begin_search(const std::vector<std::string> &resource_types) {
    SearchStamp stamp;
    stamp.started_unix_micros = now_unix_micros();
    if (!available())
        return stamp;
    std::vector<uint32_t> slots;
    if (resource_types.size() > fhir::cache::kMaxDependencies)
        slots.push_back(fhir::cache::kAllTypesSlot);
    else
        for (const std::string &type : resource_types)
            slots.push_back(fhir::cache::generation_slot(type));
    // Counters first, snapshot second: docs/cache.md, "Why a stored entry is never stale".
    stamp.generations = fhir::cache::read_generations(arena().generations(), slots);
    if (!IsolationUsesXactSnapshot()) {
        stamp.snapshot = pg_call([] {
            PushActiveSnapshot(GetTransactionSnapshot());
            return GetActiveSnapshot();
        });
        stamp.pushed_snapshot = true;
        stamp.fresh_snapshot = true;
    }
    return stamp;
}

void end_search(SearchStamp *stamp) {
    if (!stamp->pushed_snapshot)
        return;
    Snapshot expected = stamp->snapshot;
    pg_call([expected] {
        if (GetActiveSnapshot() != expected)
            elog(ERROR, "fhir_search: the result cache's snapshot is not the active snapshot");
        PopActiveSnapshot();
    });
    stamp->pushed_snapshot = false;
    stamp->snapshot = nullptr;
}

StoreOutcome store(const std::string &key, const SearchStamp &stamp, const std::string &payload, int64_t row_count,
                   std::string *entry_id) {
    if (!available())
        return StoreOutcome::NotAvailable;
    if (transaction_wrote())
        return StoreOutcome::OwnWrites;
    if (payload.size() > size_t(guc_max_entry_kb) * 1024)
        return StoreOutcome::TooLarge;
    // Reusable only when the result's snapshot is the fresh one begin_search took
    // after reading the counters (READ COMMITTED); older snapshots page only.
    const bool reusable = stamp.fresh_snapshot && !IsolationUsesXactSnapshot() && !reuse_unsafe_here();
    fhir::cache::EntryInput input;
    input.key = key;
    input.payload = payload;
    input.stamp = &stamp.generations;
    input.created_unix_micros = stamp.started_unix_micros;
    input.row_count = row_count;
    input.reusable = reusable;
    std::string id;
    fhir::cache::InsertResult result = with_lock(LW_EXCLUSIVE, [&] { return arena().insert(input, &id); });
    switch (result) {
    case fhir::cache::InsertResult::Stored:
        if (entry_id)
            *entry_id = std::move(id);
        return reusable ? StoreOutcome::Stored : StoreOutcome::StoredForPaging;
    case fhir::cache::InsertResult::TooLarge:
        return StoreOutcome::TooLarge;
    case fhir::cache::InsertResult::NotStorable:
        break;
    }
    return StoreOutcome::NotStorable;
}

const char *store_outcome_name(StoreOutcome outcome) {
    switch (outcome) {
    case StoreOutcome::Stored:
        return "stored";
    case StoreOutcome::StoredForPaging:
        return "stored for paging";
    case StoreOutcome::NotAvailable:
        return "cache not available";
    case StoreOutcome::OwnWrites:
        return "not stored: this transaction wrote";
    case StoreOutcome::NotStorable:
        return "not stored: a concurrent commit was in flight";
    case StoreOutcome::TooLarge:
        return "not stored: too large";
    }
    return "unknown";
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

void note_write(const std::string &resource_type) {
    std::bitset<kGenerationSlots> slots;
    slots.set(fhir::cache::generation_slot(resource_type));
    note_slots(slots);
}

void note_write_all() {
    std::bitset<kGenerationSlots> slots;
    slots.set();
    note_slots(slots);
}

std::optional<uint64_t> type_generation(const std::string &resource_type) {
    if (!available() || reuse_unsafe_here() || RecoveryInProgress() || IsolationUsesXactSnapshot())
        return std::nullopt;
    const uint32_t slot = fhir::cache::generation_slot(resource_type);
    if (pending_slots.test(slot))
        return std::nullopt;
    fhir::cache::GenerationStamp stamp = fhir::cache::read_generations(arena().generations(), {slot});
    if (!stamp.storable || stamp.slots.empty())
        return std::nullopt;
    return stamp.slots[0].second;
}

// ---------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------

Stats stats() {
    Stats s;
    if (!available())
        return s;
    s.available = true;
    s.arena = with_lock(LW_SHARED, [] { return arena().stats(); });
    uint64_t lookups = s.arena.hits + s.arena.misses;
    s.hit_rate = lookups ? double(s.arena.hits) / double(lookups) : 0.0;
    return s;
}

void reset() {
    if (!available())
        return;
    with_lock(LW_EXCLUSIVE, [] {
        arena().clear();
        return true;
    });
    // Release prepared-transaction holds once no prepared transaction is left:
    // every hold was taken after its transaction was prepared, so "none left"
    // means all of them are committed (visible) or rolled back.
    std::atomic<uint32_t> &holds = arena().generations().prepared_holds;
    uint32_t seen = holds.load();
    if (seen == 0)
        return;
    int64_t prepared = pg_call([] {
        if (SPI_execute("SELECT count(*) FROM pg_catalog.pg_prepared_xacts", true, 1) != SPI_OK_SELECT)
            elog(ERROR, "fhir_search: could not count prepared transactions");
        bool isnull = false;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        return isnull ? int64(0) : DatumGetInt64(d);
    });
    if (prepared == 0)
        holds.compare_exchange_strong(seen, 0);
}

} // namespace fhir_pg::cache
