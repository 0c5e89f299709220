// match_url_cache.cpp: see match_url_cache.h.
#include "match_url_cache.h"

namespace fhir {

const std::vector<std::string> *MatchUrlCache::find(const std::string &key, uint64_t generation) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        misses_++;
        return nullptr;
    }
    if (it->second->generation != generation) {
        lru_.erase(it->second);
        entries_.erase(it);
        misses_++;
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    hits_++;
    return &it->second->ids;
}

void MatchUrlCache::put(const std::string &key, uint64_t generation, std::vector<std::string> ids) {
    if (capacity_ == 0)
        return;
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        it->second->generation = generation;
        it->second->ids = std::move(ids);
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    while (entries_.size() >= capacity_) {
        entries_.erase(lru_.back().key);
        lru_.pop_back();
    }
    lru_.push_front(Entry{key, generation, std::move(ids)});
    entries_.emplace(key, lru_.begin());
}

void MatchUrlCache::clear() {
    lru_.clear();
    entries_.clear();
}

} // namespace fhir
