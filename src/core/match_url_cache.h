// match_url_cache.h: remembered answers of conditional URLs across transactions
// (Smile CDR's "Match URL Cache"): the ids that "Organization?identifier=a|b"
// matched, each tagged with the generation its resource type's change counter had
// when the search ran. An answer is used only while the counter still reads that
// generation, so any committed write of the type makes it stale. Bounded: the
// least recently used answers go first.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace fhir {

class MatchUrlCache {
  public:
    explicit MatchUrlCache(size_t capacity) : capacity_(capacity) {}

    // The remembered ids of `key` if they were searched at `generation`, else
    // nullptr (a stale answer is dropped). Valid until the next put or clear.
    const std::vector<std::string> *find(const std::string &key, uint64_t generation);

    // Remembers the ids `key` matched at `generation`.
    void put(const std::string &key, uint64_t generation, std::vector<std::string> ids);

    void clear();
    size_t size() const { return entries_.size(); }
    uint64_t hits() const { return hits_; }
    uint64_t misses() const { return misses_; }

  private:
    struct Entry {
        std::string key;
        uint64_t generation;
        std::vector<std::string> ids;
    };
    size_t capacity_;
    std::list<Entry> lru_; // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> entries_;
    uint64_t hits_ = 0, misses_ = 0;
};

} // namespace fhir
