// cache_arena.h: the result cache's storage engine over one plain byte buffer.
//
// The PostgreSQL glue (src/pg/result_cache.cpp) places this arena in shared
// memory; the unit tests place it in a std::vector. Nothing here knows about
// PostgreSQL: no locks are taken inside, and every method states which lock its
// caller must hold on the arena's single reader/writer lock:
//
//   * lookup(), find_by_id(), stats()  -> shared (many readers at once). They only
//     read published entries and touch atomics (hit counters, clock usage, the
//     "found stale" flag), so readers never block each other.
//   * insert(), clear()                -> exclusive.
//   * generations()                    -> no lock: atomic counters (see below).
//
// Layout (all offsets, no pointers, so the buffer may live at any address):
//
//   Header | generation table | entry headers | hash buckets | chunk links | chunks
//
// An entry is a fixed header (hash chain link, clock usage, metadata) plus its
// bytes in a chain of fixed-size chunks: dependency list, key, payload. Chunks
// never fragment: freeing an entry returns its chunks to a free list, and an
// insert that lacks room evicts with a clock sweep (PostgreSQL's buffer
// replacement idea: a hit raises an entry's usage count up to a cap, the sweeping
// hand lowers it and evicts an entry found at zero; entries whose generation
// moved are evicted first). An entry is written completely before it is linked
// into its hash bucket, and never modified afterwards except for its atomics:
// readers under the shared lock see either no entry or a whole one.
//
// Generations: one 64-bit counter per resource-type slot (a hash of the type
// name; a collision only invalidates more than needed) plus slot 0 for "every
// type". A committing writer runs begin_commit() before its changes become
// visible and end_commit() after; both bump the counters, and while a commit is
// in flight (inflight > 0) no new entry may be stored against that slot. See
// docs/cache.md for why this makes a stored entry never older than its counters.
#pragma once

#include <atomic>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fhir::cache {

constexpr uint32_t kGenerationSlots = 1024;
constexpr uint32_t kAllTypesSlot = 0; // bumped by every write; "*" depends on it
constexpr uint32_t kMaxUsage = 5;     // clock-sweep cap, as in PostgreSQL's buffer manager
constexpr uint32_t kMaxDependencies = 64;

// The generation slot of a resource type name ("*" -> kAllTypesSlot).
uint32_t generation_slot(std::string_view resource_type);

// 64-bit FNV-1a of a key: the hash-table hash.
uint64_t key_hash(std::string_view key);

// Entry ids look like UUIDs: 64 bits of per-server-start nonce, 64 bits of sequence.
std::string format_entry_id(uint64_t nonce, uint64_t seq);
// Returns the sequence of an id made by format_entry_id with this nonce.
std::optional<uint64_t> parse_entry_id(std::string_view id, uint64_t nonce);

enum class Freshness { Invalidate, Time };

// The per-type counters. Lives inside the arena; usable without any lock.
struct GenerationTable {
    std::atomic<uint64_t> generation[kGenerationSlots];
    std::atomic<uint32_t> inflight[kGenerationSlots];
    std::atomic<uint32_t> prepared_holds; // > 0: stores are refused (see docs/cache.md, 2PC)

    void init();
    // Writer side. `slots` should include kAllTypesSlot.
    void begin_commit(const std::bitset<kGenerationSlots> &slots);
    void end_commit(const std::bitset<kGenerationSlots> &slots);
    void hold_for_prepared(const std::bitset<kGenerationSlots> &slots);
};

// The counters one search depends on, read before the search's snapshot.
struct GenerationStamp {
    std::vector<std::pair<uint32_t, uint64_t>> slots; // (slot, generation)
    bool storable = false; // no commit was in flight on any slot when read
};

// Reads the counters of `slots` (generation first, then in-flight: the order
// the correctness argument in docs/cache.md relies on).
GenerationStamp read_generations(const GenerationTable &table, const std::vector<uint32_t> &slots);

struct ArenaConfig {
    uint32_t chunk_size = 512;        // bytes of entry data per chunk
    uint32_t bytes_per_entry = 2048;  // sizing guess: max entries = total / this
};

struct EntryInput {
    std::string_view key;
    std::string_view payload;
    const GenerationStamp *stamp = nullptr; // required
    int64_t created_unix_micros = 0;
    int64_t row_count = 0;
    bool reusable = true; // false: only paging (find_by_id) may use it
};

struct EntryCopy {
    std::string id;
    int64_t created_unix_micros = 0;
    int64_t row_count = 0;
    bool fresh = true; // generations unchanged (always true in Time mode lookups)
    std::string payload;
};

enum class InsertResult { Stored, TooLarge, NotStorable };

struct ArenaStats {
    uint64_t entries = 0;
    uint64_t bytes = 0;    // chunk bytes in use
    uint64_t capacity = 0; // chunk bytes in total
    uint64_t max_entries = 0;
    uint64_t hits = 0, misses = 0, evictions = 0, invalidations = 0, stores = 0;
};

struct ArenaHeader;
struct EntryHeader;

// A view over an initialized arena buffer. Cheap to construct; holds no state.
class CacheArena {
  public:
    // The smallest buffer create() accepts; an arena sizes itself to its buffer.
    static size_t min_size();
    // Formats `memory` (aligned to 64) as an empty arena. Not thread-safe.
    static CacheArena create(void *memory, size_t total_bytes, uint64_t id_nonce, ArenaConfig config = {});
    // Attaches to an arena made by create().
    static CacheArena attach(void *memory);

    GenerationTable &generations() const;
    uint64_t id_nonce() const;
    uint64_t max_payload_bytes(size_t key_len, size_t ndeps) const;

    // Shared lock. The newest reusable entry for `key` that is fresh (Invalidate
    // mode: no dependency moved; both modes: created within `reuse_window_micros`
    // of `now`). Counts a hit or a miss.
    std::optional<EntryCopy> lookup(std::string_view key, int64_t now_unix_micros, int64_t reuse_window_micros,
                                    Freshness mode) const;
    // Shared lock. The entry with this id, if it still exists and was stored for
    // exactly this key (paging; the key check keeps roles apart). `fresh` tells
    // whether its dependencies moved since; the caller decides. Counts a hit or a miss.
    std::optional<EntryCopy> find_by_id(std::string_view id, std::string_view key) const;

    // Exclusive lock. Copies the entry in, evicting as needed; returns its id in *id.
    InsertResult insert(const EntryInput &input, std::string *id);

    // Exclusive lock. Drops every entry and zeroes hits/misses/... (not generations).
    void clear();

    // Shared lock.
    ArenaStats stats() const;

    // Exclusive lock. Checks internal invariants (tests and assertions only).
    bool check_consistency(std::string *problem) const;

  private:
    explicit CacheArena(char *base) : base_(base) {}
    ArenaHeader &header() const;
    EntryHeader &entry(uint32_t index) const;
    uint32_t *buckets() const;
    uint32_t *chunk_next() const;
    char *chunk(uint32_t index) const;

    void copy_out(const EntryHeader &e, uint64_t offset, char *dst, uint64_t len) const;
    bool bytes_equal(const EntryHeader &e, uint64_t offset, std::string_view expected) const;
    bool dependencies_unchanged(const EntryHeader &e) const;
    bool matches_key(const EntryHeader &e, uint64_t hash, std::string_view key) const;
    EntryCopy copy_entry(const EntryHeader &e, bool fresh) const;
    void note_stale(const EntryHeader &e) const;
    void remove(uint32_t index);
    bool evict_one();

    char *base_;
};

} // namespace fhir::cache
