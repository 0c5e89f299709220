// cache_arena.cpp: the result cache's storage engine (see cache_arena.h for the
// layout and the locking contract of each method).
#include "cache_arena.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <stdexcept>

namespace fhir::cache {

static_assert(std::atomic<uint64_t>::is_always_lock_free, "shared-memory atomics must be lock-free");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared-memory atomics must be lock-free");

namespace {

constexpr uint64_t kMagic = 0x4648495243414348ULL; // "FHIRCACH"
constexpr size_t kAlign = 64;
constexpr uint32_t kNone = 0;         // list links are index + 1; 0 ends a list
constexpr size_t kDependencySize = 12; // u32 slot + u64 generation, packed

size_t align_up(size_t n) { return (n + kAlign - 1) & ~(kAlign - 1); }

} // namespace

// Everything that is not an entry or a chunk. Plain fields change only under the
// exclusive lock; the atomics may change under the shared lock.
struct ArenaHeader {
    uint64_t magic;
    uint64_t total_size;
    uint64_t id_nonce;
    uint32_t chunk_size;
    uint32_t nchunks;
    uint32_t max_entries;
    uint32_t nbuckets; // a power of two
    uint64_t off_generations, off_entries, off_buckets, off_chunk_next, off_chunks;

    uint32_t free_entry_head;
    uint32_t free_chunk_head;
    uint32_t free_chunks;
    uint32_t live_entries;
    uint32_t clock_hand;
    uint64_t next_seq;

    std::atomic<uint64_t> hits, misses, evictions, invalidations, stores;
};

// One cache entry's fixed part; its bytes (dependencies, key, payload) live in
// a chain of chunks. Immutable while live, apart from the atomics.
struct EntryHeader {
    uint32_t live;
    uint32_t next; // hash chain while live, free list while not
    uint64_t hash;
    uint64_t seq;
    int64_t created_unix_micros;
    int64_t row_count;
    uint32_t ndeps;
    uint32_t key_len;
    uint64_t payload_len;
    uint32_t first_chunk;
    uint32_t nchunks;
    bool reusable;
    std::atomic<uint32_t> usage;
    std::atomic<uint32_t> stale_counted; // an invalidation was counted for it
};

uint32_t generation_slot(std::string_view resource_type) {
    if (resource_type == "*")
        return kAllTypesSlot;
    return 1 + static_cast<uint32_t>(key_hash(resource_type) % (kGenerationSlots - 1));
}

uint64_t key_hash(std::string_view key) {
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string format_entry_id(uint64_t nonce, uint64_t seq) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(nonce >> 32),
                  static_cast<unsigned>((nonce >> 16) & 0xffff), static_cast<unsigned>(nonce & 0xffff),
                  static_cast<unsigned>((seq >> 48) & 0xffff),
                  static_cast<unsigned long long>(seq & 0xffffffffffffULL));
    return buf;
}

std::optional<uint64_t> parse_entry_id(std::string_view id, uint64_t nonce) {
    if (id.size() != 36)
        return std::nullopt;
    std::string prefix = format_entry_id(nonce, 0).substr(0, 19);
    if (id.substr(0, 19) != prefix || id[23] != '-')
        return std::nullopt;
    uint64_t seq = 0;
    for (size_t i = 19; i < 36; ++i) {
        if (i == 23)
            continue;
        char c = id[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return std::nullopt;
        seq = seq << 4 | static_cast<uint64_t>(digit);
    }
    return seq;
}

void GenerationTable::init() {
    for (uint32_t i = 0; i < kGenerationSlots; ++i) {
        new (&generation[i]) std::atomic<uint64_t>(1);
        new (&inflight[i]) std::atomic<uint32_t>(0);
    }
    new (&prepared_holds) std::atomic<uint32_t>(0);
}

// Before the commit becomes visible: mark in flight, then move the counter, so a
// reader that sees the old counter value either sees the in-flight mark or read
// before it (and its entry goes stale at the bump).
void GenerationTable::begin_commit(const std::bitset<kGenerationSlots> &slots) {
    for (uint32_t i = 0; i < kGenerationSlots; ++i)
        if (slots.test(i)) {
            inflight[i].fetch_add(1);
            generation[i].fetch_add(1);
        }
}

// After the commit is visible: move the counter again (entries computed while in
// flight were refused anyway), then clear the in-flight mark.
void GenerationTable::end_commit(const std::bitset<kGenerationSlots> &slots) {
    for (uint32_t i = 0; i < kGenerationSlots; ++i)
        if (slots.test(i)) {
            generation[i].fetch_add(1);
            inflight[i].fetch_sub(1);
        }
}

// A prepared transaction becomes visible at COMMIT PREPARED, which we do not
// see: refuse all stores until the glue finds no prepared transaction left.
void GenerationTable::hold_for_prepared(const std::bitset<kGenerationSlots> &slots) {
    prepared_holds.fetch_add(1);
    for (uint32_t i = 0; i < kGenerationSlots; ++i)
        if (slots.test(i))
            generation[i].fetch_add(1);
}

GenerationStamp read_generations(const GenerationTable &table, const std::vector<uint32_t> &slots) {
    GenerationStamp stamp;
    stamp.slots.reserve(slots.size());
    for (uint32_t slot : slots) {
        bool seen = false;
        for (const auto &s : stamp.slots)
            seen = seen || s.first == slot;
        if (!seen)
            stamp.slots.emplace_back(slot, table.generation[slot % kGenerationSlots].load());
    }
    bool quiet = table.prepared_holds.load() == 0;
    for (const auto &s : stamp.slots)
        quiet = quiet && table.inflight[s.first % kGenerationSlots].load() == 0;
    stamp.storable = quiet;
    return stamp;
}

// ---------------------------------------------------------------------------
// Arena layout
// ---------------------------------------------------------------------------

size_t CacheArena::min_size() { return 256 * 1024; }

CacheArena CacheArena::create(void *memory, size_t total_bytes, uint64_t id_nonce, ArenaConfig config) {
    if (total_bytes < min_size())
        throw std::invalid_argument("cache arena too small");
    if (config.chunk_size < 64 || config.bytes_per_entry < 64)
        throw std::invalid_argument("cache arena chunk or entry size too small");
    char *base = static_cast<char *>(memory);
    auto *h = new (base) ArenaHeader();
    h->magic = kMagic;
    h->total_size = total_bytes;
    h->id_nonce = id_nonce;
    h->chunk_size = config.chunk_size;

    size_t offset = align_up(sizeof(ArenaHeader));
    h->off_generations = offset;
    offset = align_up(offset + sizeof(GenerationTable));
    size_t rest = total_bytes - offset;
    uint64_t max_entries = std::max<uint64_t>(8, rest / config.bytes_per_entry);
    max_entries = std::min<uint64_t>(max_entries, 1u << 30);
    uint32_t nbuckets = 1;
    while (nbuckets < max_entries)
        nbuckets <<= 1;
    h->max_entries = static_cast<uint32_t>(max_entries);
    h->nbuckets = nbuckets;
    h->off_entries = offset;
    offset = align_up(offset + max_entries * sizeof(EntryHeader));
    h->off_buckets = offset;
    offset = align_up(offset + size_t(nbuckets) * sizeof(uint32_t));
    h->off_chunk_next = offset;
    if (offset >= total_bytes)
        throw std::invalid_argument("cache arena too small");
    uint64_t nchunks = (total_bytes - offset - kAlign) / (config.chunk_size + sizeof(uint32_t));
    nchunks = std::min<uint64_t>(nchunks, 0xfffffff0u);
    if (nchunks < 8)
        throw std::invalid_argument("cache arena too small");
    h->nchunks = static_cast<uint32_t>(nchunks);
    h->off_chunks = align_up(offset + nchunks * sizeof(uint32_t));

    auto *gens = new (base + h->off_generations) GenerationTable;
    gens->init();
    for (uint32_t i = 0; i < h->max_entries; ++i)
        new (base + h->off_entries + size_t(i) * sizeof(EntryHeader)) EntryHeader();
    h->next_seq = 1;
    CacheArena arena(base);
    arena.clear();
    return arena;
}

CacheArena CacheArena::attach(void *memory) {
    auto *h = static_cast<ArenaHeader *>(memory);
    if (h->magic != kMagic)
        throw std::logic_error("cache arena not initialized");
    return CacheArena(static_cast<char *>(memory));
}

ArenaHeader &CacheArena::header() const { return *reinterpret_cast<ArenaHeader *>(base_); }
EntryHeader &CacheArena::entry(uint32_t index) const {
    return reinterpret_cast<EntryHeader *>(base_ + header().off_entries)[index];
}
uint32_t *CacheArena::buckets() const { return reinterpret_cast<uint32_t *>(base_ + header().off_buckets); }
uint32_t *CacheArena::chunk_next() const { return reinterpret_cast<uint32_t *>(base_ + header().off_chunk_next); }
char *CacheArena::chunk(uint32_t index) const {
    return base_ + header().off_chunks + size_t(index) * header().chunk_size;
}
GenerationTable &CacheArena::generations() const {
    return *reinterpret_cast<GenerationTable *>(base_ + header().off_generations);
}
uint64_t CacheArena::id_nonce() const { return header().id_nonce; }

uint64_t CacheArena::max_payload_bytes(size_t key_len, size_t ndeps) const {
    // An entry may use at most half of the chunks, so one entry never flushes all.
    uint64_t limit = uint64_t(header().nchunks / 2) * header().chunk_size;
    uint64_t overhead = key_len + ndeps * kDependencySize;
    return limit > overhead ? limit - overhead : 0;
}

void CacheArena::clear() {
    ArenaHeader &h = header();
    for (uint32_t i = 0; i < h.max_entries; ++i) {
        EntryHeader &e = entry(i);
        e.live = 0;
        e.next = i + 2 <= h.max_entries ? i + 2 : kNone;
    }
    h.free_entry_head = h.max_entries ? 1 : kNone;
    uint32_t *links = chunk_next();
    for (uint32_t i = 0; i < h.nchunks; ++i)
        links[i] = i + 2 <= h.nchunks ? i + 2 : kNone;
    h.free_chunk_head = 1;
    h.free_chunks = h.nchunks;
    std::memset(buckets(), 0, size_t(h.nbuckets) * sizeof(uint32_t));
    h.live_entries = 0;
    h.clock_hand = 0;
    h.hits = 0;
    h.misses = 0;
    h.evictions = 0;
    h.invalidations = 0;
    h.stores = 0;
}

// ---------------------------------------------------------------------------
// Reading entries (shared lock)
// ---------------------------------------------------------------------------

void CacheArena::copy_out(const EntryHeader &e, uint64_t offset, char *dst, uint64_t len) const {
    const uint32_t size = header().chunk_size;
    uint32_t link = e.first_chunk;
    while (offset >= size) {
        link = chunk_next()[link - 1];
        offset -= size;
    }
    while (len > 0) {
        uint64_t n = std::min<uint64_t>(len, size - offset);
        std::memcpy(dst, chunk(link - 1) + offset, n);
        dst += n;
        len -= n;
        offset = 0;
        link = chunk_next()[link - 1];
    }
}

bool CacheArena::bytes_equal(const EntryHeader &e, uint64_t offset, std::string_view expected) const {
    const uint32_t size = header().chunk_size;
    uint32_t link = e.first_chunk;
    while (offset >= size) {
        link = chunk_next()[link - 1];
        offset -= size;
    }
    const char *want = expected.data();
    uint64_t len = expected.size();
    while (len > 0) {
        uint64_t n = std::min<uint64_t>(len, size - offset);
        if (std::memcmp(want, chunk(link - 1) + offset, n) != 0)
            return false;
        want += n;
        len -= n;
        offset = 0;
        link = chunk_next()[link - 1];
    }
    return true;
}

bool CacheArena::dependencies_unchanged(const EntryHeader &e) const {
    char buf[kMaxDependencies * kDependencySize];
    copy_out(e, 0, buf, e.ndeps * kDependencySize);
    const GenerationTable &gens = generations();
    for (uint32_t i = 0; i < e.ndeps; ++i) {
        uint32_t slot;
        uint64_t generation;
        std::memcpy(&slot, buf + i * kDependencySize, sizeof slot);
        std::memcpy(&generation, buf + i * kDependencySize + sizeof slot, sizeof generation);
        if (gens.generation[slot].load() != generation)
            return false;
    }
    return true;
}

bool CacheArena::matches_key(const EntryHeader &e, uint64_t hash, std::string_view key) const {
    return e.live && e.hash == hash && e.key_len == key.size() && bytes_equal(e, e.ndeps * kDependencySize, key);
}

void CacheArena::note_stale(const EntryHeader &e) const {
    uint32_t expected = 0;
    if (const_cast<EntryHeader &>(e).stale_counted.compare_exchange_strong(expected, 1))
        header().invalidations.fetch_add(1);
}

EntryCopy CacheArena::copy_entry(const EntryHeader &e, bool fresh) const {
    EntryCopy copy;
    copy.id = format_entry_id(header().id_nonce, e.seq);
    copy.created_unix_micros = e.created_unix_micros;
    copy.row_count = e.row_count;
    copy.fresh = fresh;
    copy.payload.resize(e.payload_len);
    copy_out(e, e.ndeps * kDependencySize + e.key_len, copy.payload.data(), e.payload_len);
    auto &usage = const_cast<EntryHeader &>(e).usage;
    uint32_t u = usage.load(std::memory_order_relaxed);
    while (u < kMaxUsage && !usage.compare_exchange_weak(u, u + 1, std::memory_order_relaxed)) {
    }
    return copy;
}

std::optional<EntryCopy> CacheArena::lookup(std::string_view key, int64_t now_unix_micros,
                                            int64_t reuse_window_micros, Freshness mode) const {
    ArenaHeader &h = header();
    const uint64_t hash = key_hash(key);
    const EntryHeader *best = nullptr;
    if (reuse_window_micros > 0) {
        for (uint32_t link = buckets()[hash & (h.nbuckets - 1)]; link != kNone; link = entry(link - 1).next) {
            const EntryHeader &e = entry(link - 1);
            if (!e.reusable || !matches_key(e, hash, key))
                continue;
            if (now_unix_micros - e.created_unix_micros > reuse_window_micros)
                continue;
            if (mode == Freshness::Invalidate && !dependencies_unchanged(e)) {
                note_stale(e);
                continue;
            }
            if (!best || e.seq > best->seq)
                best = &e;
        }
    }
    if (!best) {
        h.misses.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }
    EntryCopy copy = copy_entry(*best, true);
    h.hits.fetch_add(1, std::memory_order_relaxed);
    return copy;
}

std::optional<EntryCopy> CacheArena::find_by_id(std::string_view id, std::string_view key) const {
    ArenaHeader &h = header();
    std::optional<uint64_t> seq = parse_entry_id(id, h.id_nonce);
    const uint64_t hash = key_hash(key);
    if (seq)
        for (uint32_t link = buckets()[hash & (h.nbuckets - 1)]; link != kNone; link = entry(link - 1).next) {
            const EntryHeader &e = entry(link - 1);
            if (e.seq != *seq || !matches_key(e, hash, key))
                continue;
            bool fresh = dependencies_unchanged(e);
            EntryCopy copy = copy_entry(e, fresh);
            h.hits.fetch_add(1, std::memory_order_relaxed);
            return copy;
        }
    h.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

ArenaStats CacheArena::stats() const {
    const ArenaHeader &h = header();
    ArenaStats s;
    s.entries = h.live_entries;
    s.bytes = uint64_t(h.nchunks - h.free_chunks) * h.chunk_size;
    s.capacity = uint64_t(h.nchunks) * h.chunk_size;
    s.max_entries = h.max_entries;
    s.hits = h.hits.load();
    s.misses = h.misses.load();
    s.evictions = h.evictions.load();
    s.invalidations = h.invalidations.load();
    s.stores = h.stores.load();
    return s;
}

// ---------------------------------------------------------------------------
// Changing entries (exclusive lock)
// ---------------------------------------------------------------------------

void CacheArena::remove(uint32_t index) {
    ArenaHeader &h = header();
    EntryHeader &e = entry(index);
    uint32_t *link = &buckets()[e.hash & (h.nbuckets - 1)];
    while (*link != index + 1)
        link = &entry(*link - 1).next;
    *link = e.next;

    if (e.nchunks > 0) {
        uint32_t last = e.first_chunk;
        while (chunk_next()[last - 1] != kNone)
            last = chunk_next()[last - 1];
        chunk_next()[last - 1] = h.free_chunk_head;
        h.free_chunk_head = e.first_chunk;
        h.free_chunks += e.nchunks;
    }
    e.live = 0;
    e.next = h.free_entry_head;
    h.free_entry_head = index + 1;
    h.live_entries--;
}

// One clock-sweep eviction: stale entries go first, others when their usage
// count has been swept down to zero. False if the arena holds no entry.
bool CacheArena::evict_one() {
    ArenaHeader &h = header();
    if (h.live_entries == 0)
        return false;
    const uint64_t max_steps = uint64_t(h.max_entries) * (kMaxUsage + 2);
    for (uint64_t step = 0; step < max_steps; ++step) {
        uint32_t index = h.clock_hand;
        h.clock_hand = (h.clock_hand + 1) % h.max_entries;
        EntryHeader &e = entry(index);
        if (!e.live)
            continue;
        bool stale = !dependencies_unchanged(e);
        uint32_t usage = e.usage.load(std::memory_order_relaxed);
        if (stale || usage == 0) {
            if (stale)
                note_stale(e);
            remove(index);
            h.evictions.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        e.usage.store(usage - 1, std::memory_order_relaxed);
    }
    return false; // unreachable: usage counts reach zero within kMaxUsage sweeps
}

InsertResult CacheArena::insert(const EntryInput &input, std::string *id) {
    ArenaHeader &h = header();
    if (!input.stamp || !input.stamp->storable || generations().prepared_holds.load() != 0)
        return InsertResult::NotStorable;
    if (input.stamp->slots.size() > kMaxDependencies || input.key.size() > 0xffffffffu)
        return InsertResult::TooLarge;
    const uint32_t ndeps = static_cast<uint32_t>(input.stamp->slots.size());
    if (input.payload.size() > max_payload_bytes(input.key.size(), ndeps))
        return InsertResult::TooLarge;
    const uint64_t data_len = ndeps * kDependencySize + input.key.size() + input.payload.size();
    const uint32_t needed = static_cast<uint32_t>((data_len + h.chunk_size - 1) / h.chunk_size);

    while (h.free_chunks < needed || h.free_entry_head == kNone)
        if (!evict_one())
            return InsertResult::TooLarge;

    // Take the chunks, then fill them front to back.
    uint32_t first = kNone;
    if (needed > 0) {
        first = h.free_chunk_head;
        uint32_t last = first;
        for (uint32_t i = 1; i < needed; ++i)
            last = chunk_next()[last - 1];
        h.free_chunk_head = chunk_next()[last - 1];
        chunk_next()[last - 1] = kNone;
        h.free_chunks -= needed;
    }
    uint32_t link = first;
    uint32_t used = 0;
    auto write = [&](const char *src, uint64_t len) {
        while (len > 0) {
            if (used == h.chunk_size) {
                link = chunk_next()[link - 1];
                used = 0;
            }
            uint64_t n = std::min<uint64_t>(len, h.chunk_size - used);
            std::memcpy(chunk(link - 1) + used, src, n);
            used += static_cast<uint32_t>(n);
            src += n;
            len -= n;
        }
    };
    for (const auto &[slot, generation] : input.stamp->slots) {
        char dep[kDependencySize];
        uint32_t s = slot % kGenerationSlots;
        std::memcpy(dep, &s, sizeof s);
        std::memcpy(dep + sizeof s, &generation, sizeof generation);
        write(dep, kDependencySize);
    }
    write(input.key.data(), input.key.size());
    write(input.payload.data(), input.payload.size());

    uint32_t index = h.free_entry_head - 1;
    EntryHeader &e = entry(index);
    h.free_entry_head = e.next;
    e.hash = key_hash(input.key);
    e.seq = h.next_seq++;
    e.created_unix_micros = input.created_unix_micros;
    e.row_count = input.row_count;
    e.ndeps = ndeps;
    e.key_len = static_cast<uint32_t>(input.key.size());
    e.payload_len = input.payload.size();
    e.first_chunk = first;
    e.nchunks = needed;
    e.reusable = input.reusable;
    e.usage.store(1, std::memory_order_relaxed);
    e.stale_counted.store(0, std::memory_order_relaxed);
    // Publish: link into the bucket only now that the entry is complete.
    uint32_t &bucket = buckets()[e.hash & (h.nbuckets - 1)];
    e.next = bucket;
    e.live = 1;
    bucket = index + 1;
    h.live_entries++;
    h.stores.fetch_add(1, std::memory_order_relaxed);
    // Older entries of the same key that lookup() would never pick again go now:
    // lookup takes the newest reusable entry (an older one is never fresher), so a
    // reusable entry supersedes every older one, a paging-only one the older
    // paging-only ones. Without this a search repeated with no-cache piled up
    // versions in one hash chain, and every lookup and removal walked them all
    // (31% of a repeated search's CPU in remove() and entry(), perf).
    for (uint32_t older_link = e.next; older_link != kNone;) {
        EntryHeader &older = entry(older_link - 1);
        const uint32_t next = older.next;
        if ((e.reusable || !older.reusable) && matches_key(older, e.hash, input.key))
            remove(older_link - 1);
        older_link = next;
    }
    if (id)
        *id = format_entry_id(h.id_nonce, e.seq);
    return InsertResult::Stored;
}

bool CacheArena::check_consistency(std::string *problem) const {
    const ArenaHeader &h = header();
    auto fail = [&](const std::string &what) {
        if (problem)
            *problem = what;
        return false;
    };
    uint64_t live = 0, chunks_in_entries = 0;
    for (uint32_t i = 0; i < h.max_entries; ++i) {
        const EntryHeader &e = entry(i);
        if (!e.live)
            continue;
        live++;
        uint32_t n = 0;
        for (uint32_t link = e.first_chunk; link != kNone; link = chunk_next()[link - 1])
            if (++n > h.nchunks)
                return fail("chunk chain loops");
        if (n != e.nchunks)
            return fail("entry chunk count mismatch");
        chunks_in_entries += n;
        bool found = false;
        for (uint32_t link = buckets()[e.hash & (h.nbuckets - 1)]; link != kNone && !found; link = entry(link - 1).next)
            found = link == i + 1;
        if (!found)
            return fail("live entry missing from its bucket");
    }
    if (live != h.live_entries)
        return fail("live entry count mismatch");
    uint32_t free_chunks = 0;
    for (uint32_t link = h.free_chunk_head; link != kNone; link = chunk_next()[link - 1])
        if (++free_chunks > h.nchunks)
            return fail("free chunk list loops");
    if (free_chunks != h.free_chunks || free_chunks + chunks_in_entries != h.nchunks)
        return fail("chunk accounting mismatch");
    uint32_t free_entries = 0;
    for (uint32_t link = h.free_entry_head; link != kNone; link = entry(link - 1).next)
        if (++free_entries > h.max_entries || entry(link - 1).live)
            return fail("free entry list corrupt");
    if (free_entries + live != h.max_entries)
        return fail("entry accounting mismatch");
    return true;
}

} // namespace fhir::cache
