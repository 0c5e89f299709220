// cache_arena_test.cpp: unit tests for the result cache's storage engine
// (src/core/cache_arena.h): lookups, paging by id, generations, eviction,
// sizing limits, and a multi-threaded reader/writer stress run.
#include "cache_arena.h"

#include <gtest/gtest.h>

#include <bitset>
#include <cstdint>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

using fhir::cache::CacheArena;
using fhir::cache::EntryInput;
using fhir::cache::Freshness;
using fhir::cache::GenerationStamp;
using fhir::cache::InsertResult;
using fhir::cache::kAllTypesSlot;
using fhir::cache::kGenerationSlots;

namespace {

constexpr int64_t kMinute = 60LL * 1000 * 1000;

// An arena in a heap buffer, aligned as shared memory would be.
struct TestArena {
    explicit TestArena(size_t bytes, fhir::cache::ArenaConfig config = {})
        : buffer(bytes + 64), arena(CacheArena::create(aligned(), bytes, 0x0123456789abcdefULL, config)) {}
    void *aligned() { return reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63)); }
    std::vector<char> buffer;
    CacheArena arena;
};

// What a search depends on: its types' slots ("*" for all types).
std::vector<uint32_t> slots_for(std::initializer_list<const char *> types) {
    std::vector<uint32_t> slots;
    for (const char *t : types)
        slots.push_back(fhir::cache::generation_slot(t));
    return slots;
}

// What a writer bumps: its types' slots and the all-types slot.
std::bitset<kGenerationSlots> bits_for(std::initializer_list<const char *> types) {
    std::bitset<kGenerationSlots> bits;
    bits.set(kAllTypesSlot);
    for (uint32_t s : slots_for(types))
        bits.set(s);
    return bits;
}

// Stores `payload` under `key`, depending on `types`, created at `now`.
InsertResult put(CacheArena &arena, const std::string &key, const std::string &payload,
                 std::initializer_list<const char *> types, int64_t now = 0, std::string *id = nullptr,
                 bool reusable = true) {
    GenerationStamp stamp = fhir::cache::read_generations(arena.generations(), slots_for(types));
    EntryInput in;
    in.key = key;
    in.payload = payload;
    in.stamp = &stamp;
    in.created_unix_micros = now;
    in.row_count = static_cast<int64_t>(payload.size());
    in.reusable = reusable;
    return arena.insert(in, id);
}

void expect_consistent(const CacheArena &arena) {
    std::string problem;
    EXPECT_TRUE(arena.check_consistency(&problem)) << problem;
}

} // namespace

TEST(CacheArena, StoresAndFindsAnEntry) {
    TestArena t(1 << 20);
    std::string id;
    ASSERT_EQ(put(t.arena, "Patient?name=smith", "payload-1", {"Patient"}, 100, &id), InsertResult::Stored);
    auto hit = t.arena.lookup("Patient?name=smith", 200, kMinute, Freshness::Invalidate);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->payload, "payload-1");
    EXPECT_EQ(hit->id, id);
    EXPECT_EQ(hit->created_unix_micros, 100);
    EXPECT_EQ(hit->row_count, 9);
    EXPECT_TRUE(hit->fresh);
    EXPECT_FALSE(t.arena.lookup("Patient?name=jones", 200, kMinute, Freshness::Invalidate));
    auto s = t.arena.stats();
    EXPECT_EQ(s.entries, 1u);
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 1u);
    EXPECT_EQ(s.stores, 1u);
    expect_consistent(t.arena);
}

TEST(CacheArena, EntryIdsLookLikeUuidsAndRoundTrip) {
    std::string id = fhir::cache::format_entry_id(0x0123456789abcdefULL, 0x1234567890abcULL);
    EXPECT_EQ(id, "01234567-89ab-cdef-0001-234567890abc");
    EXPECT_EQ(fhir::cache::parse_entry_id(id, 0x0123456789abcdefULL), 0x1234567890abcULL);
    EXPECT_FALSE(fhir::cache::parse_entry_id(id, 0x0123456789abcde0ULL)); // another server start
    EXPECT_FALSE(fhir::cache::parse_entry_id("not-an-id", 0x0123456789abcdefULL));
    EXPECT_FALSE(fhir::cache::parse_entry_id("01234567-89ab-cdef-0001-23456789zabc", 0x0123456789abcdefULL));
}

TEST(CacheArena, ReuseWindowBoundsLookups) {
    TestArena t(1 << 20);
    put(t.arena, "k", "v", {"Patient"}, 0);
    EXPECT_TRUE(t.arena.lookup("k", kMinute, kMinute, Freshness::Time));
    EXPECT_FALSE(t.arena.lookup("k", kMinute + 1, kMinute, Freshness::Time));
    EXPECT_FALSE(t.arena.lookup("k", 0, 0, Freshness::Time)) << "window 0 means never reuse";
}

TEST(CacheArena, PagingFindsEntryByIdOnlyWithTheSameKey) {
    TestArena t(1 << 20);
    std::string id;
    put(t.arena, "role=10|Patient?name=smith", "rows", {"Patient"}, 0, &id, /*reusable=*/false);
    EXPECT_FALSE(t.arena.lookup("role=10|Patient?name=smith", 1, kMinute, Freshness::Invalidate))
        << "paging-only entries are never reused";
    auto page = t.arena.find_by_id(id, "role=10|Patient?name=smith");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->payload, "rows");
    EXPECT_FALSE(t.arena.find_by_id(id, "role=11|Patient?name=smith")) << "another role must not page it";
    EXPECT_FALSE(t.arena.find_by_id("01234567-89ab-cdef-0000-000000000999", "role=10|Patient?name=smith"));
}

TEST(CacheArena, WriteToADependencyInvalidates) {
    TestArena t(1 << 20);
    std::string id;
    put(t.arena, "Observation?subject:Patient.name=x", "v", {"Observation", "Patient"}, 0, &id);
    put(t.arena, "Encounter?status=finished", "e", {"Encounter"}, 0);
    auto &gens = t.arena.generations();
    gens.begin_commit(bits_for({"Patient"}));
    EXPECT_FALSE(t.arena.lookup("Observation?subject:Patient.name=x", 1, kMinute, Freshness::Invalidate))
        << "stale as soon as the commit starts";
    gens.end_commit(bits_for({"Patient"}));
    EXPECT_FALSE(t.arena.lookup("Observation?subject:Patient.name=x", 1, kMinute, Freshness::Invalidate));
    EXPECT_TRUE(t.arena.lookup("Observation?subject:Patient.name=x", 1, kMinute, Freshness::Time))
        << "time mode ignores generations";
    EXPECT_TRUE(t.arena.lookup("Encounter?status=finished", 1, kMinute, Freshness::Invalidate))
        << "other types are untouched (unless their slots collide)";
    auto page = t.arena.find_by_id(id, "Observation?subject:Patient.name=x");
    ASSERT_TRUE(page);
    EXPECT_FALSE(page->fresh);
    EXPECT_EQ(t.arena.stats().invalidations, 1u) << "counted once per entry";
}

TEST(CacheArena, AllTypesDependencySeesEveryWrite) {
    TestArena t(1 << 20);
    put(t.arena, "_type=Patient,Group", "v", {"*"}, 0);
    t.arena.generations().begin_commit(bits_for({"Medication"}));
    t.arena.generations().end_commit(bits_for({"Medication"}));
    EXPECT_FALSE(t.arena.lookup("_type=Patient,Group", 1, kMinute, Freshness::Invalidate));
}

TEST(CacheArena, NothingIsStoredWhileACommitIsInFlight) {
    TestArena t(1 << 20);
    auto &gens = t.arena.generations();
    gens.begin_commit(bits_for({"Patient"}));
    EXPECT_EQ(put(t.arena, "Patient?", "v", {"Patient"}), InsertResult::NotStorable);
    EXPECT_EQ(put(t.arena, "_type=Encounter,Patient", "v", {"*"}), InsertResult::NotStorable)
        << "the all-types slot is in flight too";
    EXPECT_EQ(put(t.arena, "Encounter?", "v", {"Encounter"}), InsertResult::Stored);
    gens.end_commit(bits_for({"Patient"}));
    EXPECT_EQ(put(t.arena, "Patient?", "v", {"Patient"}), InsertResult::Stored);
}

TEST(CacheArena, StampReadBeforeACommitMakesTheEntryStale) {
    // The searcher reads the counters, the writer commits, the searcher stores
    // what it computed from its (older) snapshot: the entry is born stale.
    TestArena t(1 << 20);
    GenerationStamp stamp = fhir::cache::read_generations(t.arena.generations(), slots_for({"Patient"}));
    t.arena.generations().begin_commit(bits_for({"Patient"}));
    t.arena.generations().end_commit(bits_for({"Patient"}));
    EntryInput in;
    in.key = "Patient?";
    in.payload = "old";
    in.stamp = &stamp;
    ASSERT_EQ(t.arena.insert(in, nullptr), InsertResult::Stored);
    EXPECT_FALSE(t.arena.lookup("Patient?", 1, kMinute, Freshness::Invalidate));
}

TEST(CacheArena, PreparedTransactionHoldsBlockStores) {
    TestArena t(1 << 20);
    put(t.arena, "Patient?", "v", {"Patient"});
    t.arena.generations().hold_for_prepared(bits_for({"Patient"}));
    EXPECT_FALSE(t.arena.lookup("Patient?", 1, kMinute, Freshness::Invalidate));
    EXPECT_EQ(put(t.arena, "Patient?", "v", {"Patient"}), InsertResult::NotStorable);
}

TEST(CacheArena, NewestFreshEntryWins) {
    TestArena t(1 << 20);
    put(t.arena, "k", "first", {"Patient"}, 0);
    put(t.arena, "k", "second", {"Patient"}, 10);
    auto hit = t.arena.lookup("k", 20, kMinute, Freshness::Invalidate);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->payload, "second");
}

// A newer entry replaces the older ones of its key that lookup would never pick
// again, so a search stored over and over keeps one entry (and a short hash chain).
TEST(CacheArena, NewerEntrySupersedesOlderOnesOfTheSameKey) {
    TestArena t(1 << 20);
    std::string first_id;
    put(t.arena, "k", "v0", {"Patient"}, 0, &first_id);
    for (int i = 1; i <= 100; i++)
        put(t.arena, "k", "v" + std::to_string(i), {"Patient"}, i);
    put(t.arena, "other", "x", {"Patient"}, 0);
    EXPECT_EQ(t.arena.stats().entries, 2u);
    EXPECT_EQ(t.arena.lookup("k", 101, kMinute, Freshness::Invalidate)->payload, "v100");
    EXPECT_FALSE(t.arena.find_by_id(first_id, "k")) << "superseded like an evicted entry";
    // A paging-only entry does not replace a reusable one, which lookups still find...
    std::string paging_id;
    put(t.arena, "k", "paging", {"Patient"}, 200, &paging_id, /*reusable=*/false);
    EXPECT_EQ(t.arena.stats().entries, 3u);
    EXPECT_EQ(t.arena.lookup("k", 201, kMinute, Freshness::Invalidate)->payload, "v100");
    // ...and a reusable one replaces both.
    put(t.arena, "k", "v101", {"Patient"}, 300);
    EXPECT_EQ(t.arena.stats().entries, 2u);
    EXPECT_FALSE(t.arena.find_by_id(paging_id, "k"));
    expect_consistent(t.arena);
}

TEST(CacheArena, LargePayloadsSpanChunksIntact) {
    TestArena t(1 << 20);
    std::string payload;
    for (int i = 0; i < 100000; ++i)
        payload.push_back(static_cast<char>('a' + i % 26));
    payload[777] = '\0';
    std::string key(1500, 'k'); // crosses chunk boundaries too
    ASSERT_EQ(put(t.arena, key, payload, {"Patient", "Observation", "Encounter"}), InsertResult::Stored);
    auto hit = t.arena.lookup(key, 1, kMinute, Freshness::Invalidate);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->payload, payload);
    EXPECT_FALSE(t.arena.lookup(std::string(1499, 'k') + "x", 1, kMinute, Freshness::Invalidate));
    expect_consistent(t.arena);
}

TEST(CacheArena, RejectsEntriesLargerThanHalfTheCache) {
    TestArena t(1 << 20);
    auto max = t.arena.max_payload_bytes(3, 2);
    EXPECT_GT(max, 300000u);
    EXPECT_EQ(put(t.arena, "big", std::string(t.arena.stats().capacity, 'x'), {"Patient"}), InsertResult::TooLarge);
    EXPECT_EQ(put(t.arena, "big", std::string(max, 'x'), {"Patient"}), InsertResult::Stored);
    expect_consistent(t.arena);
}

TEST(CacheArena, EvictionKeepsBytesBoundedAndPrefersUsedEntries) {
    TestArena t(1 << 20);
    const std::string payload(10000, 'p');
    put(t.arena, "hot", payload, {"Patient"});
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(put(t.arena, "cold-" + std::to_string(i), payload, {"Patient"}), InsertResult::Stored);
        // Keep "hot" in use, as a popular search would be.
        ASSERT_TRUE(t.arena.lookup("hot", 1, kMinute, Freshness::Invalidate)) << "evicted at " << i;
        auto s = t.arena.stats();
        ASSERT_LE(s.bytes, s.capacity);
    }
    auto s = t.arena.stats();
    EXPECT_GT(s.evictions, 900u);
    EXPECT_LT(s.entries, 110u);
    expect_consistent(t.arena);
}

TEST(CacheArena, StaleEntriesAreEvictedFirst) {
    TestArena t(1 << 20);
    const std::string payload(100000, 'p');
    put(t.arena, "stale", payload, {"Patient"});
    put(t.arena, "fresh", payload, {"Encounter"});
    for (int i = 0; i < 5; ++i) {
        t.arena.lookup("stale", 1, kMinute, Freshness::Time); // raise its usage count
        t.arena.lookup("fresh", 1, kMinute, Freshness::Time);
    }
    t.arena.generations().begin_commit(bits_for({"Patient"}));
    t.arena.generations().end_commit(bits_for({"Patient"}));
    // Fill until one eviction happened.
    for (int i = 0; t.arena.stats().evictions == 0; ++i)
        put(t.arena, "filler-" + std::to_string(i), payload, {"Observation"});
    EXPECT_FALSE(t.arena.lookup("stale", 1, kMinute, Freshness::Time));
    EXPECT_TRUE(t.arena.lookup("fresh", 1, kMinute, Freshness::Time));
}

TEST(CacheArena, EntryTableLimitEvictsToo) {
    fhir::cache::ArenaConfig config;
    config.bytes_per_entry = 64 * 1024; // few entry headers, many chunks
    TestArena t(1 << 20, config);
    uint64_t max_entries = t.arena.stats().max_entries;
    for (uint64_t i = 0; i < max_entries * 3; ++i)
        ASSERT_EQ(put(t.arena, "k" + std::to_string(i), "v", {"Patient"}), InsertResult::Stored);
    EXPECT_EQ(t.arena.stats().entries, max_entries);
    expect_consistent(t.arena);
}

TEST(CacheArena, ClearDropsEntriesAndCountersButNotGenerations) {
    TestArena t(1 << 20);
    put(t.arena, "k", "v", {"Patient"});
    t.arena.lookup("k", 1, kMinute, Freshness::Invalidate);
    GenerationStamp before = fhir::cache::read_generations(t.arena.generations(), slots_for({"Patient"}));
    t.arena.generations().begin_commit(bits_for({"Patient"}));
    t.arena.generations().end_commit(bits_for({"Patient"}));
    t.arena.clear();
    auto s = t.arena.stats();
    EXPECT_EQ(s.entries, 0u);
    EXPECT_EQ(s.bytes, 0u);
    EXPECT_EQ(s.hits + s.misses + s.stores + s.evictions, 0u);
    GenerationStamp after = fhir::cache::read_generations(t.arena.generations(), slots_for({"Patient"}));
    EXPECT_NE(before.slots, after.slots) << "a search started before a reset must still see the bump";
    EXPECT_FALSE(t.arena.lookup("k", 1, kMinute, Freshness::Invalidate));
    EXPECT_EQ(put(t.arena, "k", "v", {"Patient"}), InsertResult::Stored);
    expect_consistent(t.arena);
}

TEST(CacheArena, AttachSeesTheSameArena) {
    TestArena t(1 << 20);
    put(t.arena, "k", "v", {"Patient"});
    CacheArena again = CacheArena::attach(t.aligned());
    EXPECT_TRUE(again.lookup("k", 1, kMinute, Freshness::Invalidate));
    EXPECT_THROW(CacheArena::create(t.aligned(), 1000, 1), std::invalid_argument);
}

TEST(CacheArena, ConcurrentReadersAndWritersStayConsistent) {
    // The glue's protocol with a std::shared_mutex standing in for the LWLock:
    // lookups under the shared lock, inserts under the exclusive one, commits
    // with no lock at all. Every payload encodes its key, so a torn or misfiled
    // entry would show.
    TestArena t(2 << 20);
    std::shared_mutex lock;
    std::atomic<bool> failed{false};
    auto worker = [&](int seed) {
        std::mt19937 rng(seed);
        for (int i = 0; i < 20000 && !failed; ++i) {
            std::string key = "k" + std::to_string(rng() % 200);
            std::string payload = key + ":" + std::string(rng() % 3000, 'x') + key;
            int op = static_cast<int>(rng() % 10);
            if (op < 6) {
                std::shared_lock<std::shared_mutex> guard(lock);
                auto hit = t.arena.lookup(key, 1, kMinute, Freshness::Invalidate);
                if (hit && (hit->payload.rfind(key + ":", 0) != 0 ||
                            hit->payload.compare(hit->payload.size() - key.size(), key.size(), key) != 0))
                    failed = true;
            } else if (op < 9) {
                GenerationStamp stamp = fhir::cache::read_generations(t.arena.generations(), slots_for({"Patient"}));
                EntryInput in;
                in.key = key;
                in.payload = payload;
                in.stamp = &stamp;
                std::unique_lock<std::shared_mutex> guard(lock);
                t.arena.insert(in, nullptr);
            } else {
                t.arena.generations().begin_commit(bits_for({"Patient"}));
                t.arena.generations().end_commit(bits_for({"Patient"}));
            }
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back(worker, i + 1);
    for (auto &th : threads)
        th.join();
    EXPECT_FALSE(failed);
    expect_consistent(t.arena);
}
