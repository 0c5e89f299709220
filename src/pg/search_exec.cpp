// search_exec.cpp: fhir.search() and fhir.last_search(): a search from the
// result cache, or planned (search_plan.h), its page read (search_pages.h), its
// includes added (search_includes.h), and the searchset Bundle assembled in SQL
// so stored jsonb is copied, not re-parsed; then stored in the cache.
#include "bundle_jsonb.h"
#include "cache_control.h"
#include "cpp_wrapper.h"
#include "guc.h"
#include "pg_json.h"
#include "projection.h"
#include "query_string.h"
#include "resource.h"
#include "result_cache.h"
#include "result_set.h"
#include "search_includes.h"
#include "search_exec.h"
#include "search_pages.h"
#include "search_plan.h"
#include "search_resolve.h"
#include "spi.h"
#include "values.h"

#include <random>

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

// An OperationOutcome entry resource listing ignored parameters, or null.
fhir::Json ignored_outcome(const fhir::SearchQuery &query) {
    static const char *const kHandled[] = {"_count", "_sort", "_total", "_cursor", "_summary", "_elements",
                                           "_contained", "_containedType",
                                           "_include", "_revinclude",
                                           "_include:iterate", "_revinclude:iterate", "_include:recurse",
                                           "_revinclude:recurse"};
    fhir::Json issues = fhir::Json::array();
    for (const auto &ignored : query.ignored)
        issues.push_back({{"severity", "warning"},
                          {"code", "not-supported"},
                          {"diagnostics", "parameter \"" + ignored.name + "\" ignored: " + ignored.reason}});
    for (const auto &result : query.result_params) {
        bool handled = false;
        for (const char *h : kHandled)
            handled = handled || result.name == h;
        if (!handled)
            issues.push_back({{"severity", "warning"},
                              {"code", "not-supported"},
                              {"diagnostics", "result parameter \"" + result.name + "\" is not supported yet; ignored"}});
    }
    if (issues.empty())
        return nullptr;
    return {{"resourceType", "OperationOutcome"}, {"issue", issues}};
}

// A link URL for this search with an optional cursor.
std::string link_url(const SearchStatement &st, const std::string &cursor) {
    std::string query = st.base_query;
    if (!cursor.empty())
        query += (query.empty() ? "" : "&") + std::string("_cursor=") + cursor;
    // A compartment search's links are R4's compartment URLs: [base]Patient/123/Observation?...
    // ("*" for every type); fhir.search reads the query part of any of them.
    std::string path = st.type;
    if (st.compartment)
        path = st.compartment->type + "/" + st.compartment->id + "/" + (st.type.empty() ? "*" : st.type);
    return base_url_prefix() + path + (query.empty() ? "" : "?" + query);
}

// What the last fhir.search() of this backend did, for fhir.last_search()
// (a thin server's X-Cache and timing headers).
struct LastSearch {
    std::string cache = "NONE";  // HIT, MISS, BYPASS (no-store), UNAVAILABLE
    std::string store;           // what storing the result did
    std::string entry_id;
    std::string page_source;     // "result set" when a page came from a cached result set
    int64_t prefetched = -1;     // rows the result set holds after this search (-1: none)
    uint64_t kept_plans_before = 0; // kept_plan_uses() when the search began
    uint64_t kept_plans = 0;     // statements that ran with a plan kept for their values
    double parse_ms = 0, sql_ms = 0, assembly_ms = 0, cache_ms = 0;
};
LastSearch &last_search() {
    static LastSearch last;
    return last;
}

// Milliseconds between two unix-microsecond readings.
double ms_between(int64_t from, int64_t to) { return static_cast<double>(to - from) / 1000.0; }

// Resource types whose writes can change this search's result: the searched
// type (and the ValueSets, CodeSystems or Lists its values name), or every
// type ("*") once chains, _has or includes are involved.
std::vector<std::string> dependency_types(const SearchStatement &st) {
    bool wide = st.type.empty() && st.system_types.size() == fhir::Registry::resource_types().size();
    for (const auto &clause : st.query.clauses)
        wide = wide || !clause.chain.empty();
    for (const auto &r : st.query.result_params)
        wide = wide || r.name.rfind("_include", 0) == 0 || r.name.rfind("_revinclude", 0) == 0;
    wide = wide || st.query.contained != fhir::ContainedMode::False; // containers are of any type
    if (wide)
        return {"*"};
    std::vector<std::string> types = st.type.empty() ? st.system_types : std::vector<std::string>{st.type};
    for (const std::string &t : fhir::stored_value_types(st.query))
        if (std::find(types.begin(), types.end(), t) == types.end())
            types.push_back(t);
    return types;
}

// The cache key: security context, type, canonical query, and every setting
// that changes the Bundle.
std::string cache_key(const std::string &type, const std::string &compartment, const std::string &raw_query) {
    return cache::security_context() + "\x1f" + (type.empty() ? "*" : type) + "\x1f" + compartment + "\x1f" +
           fhir::normalize_query(raw_query) +
           "\x1f" + base_url_prefix() + "\x1f" + std::to_string(guc_default_count) + "/" +
           std::to_string(guc_max_count) + "/" + (guc_strict_handling ? "strict" : "lenient") + "/" +
           std::to_string(guc_max_include_rounds) + "/" + std::to_string(guc_max_included);
}

// The public id of a cache entry: the id of the Bundle it stores.
constexpr size_t kBundleIdLength = 36;

// A cached Bundle, as stored: it already carries the entry's id and the time of
// the original search. Copied back as is: no parsing, no SPI.
Datum bundle_from_hit(const cache::Hit &hit) {
    const char *data = hit.payload.data() + kBundleIdLength;
    size_t len = hit.payload.size() >= kBundleIdLength ? hit.payload.size() - kBundleIdLength : 0;
    return pg_call([data, len] {
        if (len < VARHDRSZ || VARSIZE(data) != len)
            elog(ERROR, "fhir_search: corrupt cache entry");
        void *copy = palloc(len);
        memcpy(copy, data, len);
        return PointerGetDatum(copy);
    });
}

// A Bundle id (UUID v4). Bundle ids need to be unique, not unpredictable: no
// function looks a Bundle or cache entry up by its id (resource ids keep
// pg_strong_random). A generator per backend, seeded once from
// pg_strong_random, instead of OpenSSL's RAND_bytes per search (5 % of a
// 0.08 ms search).
std::string new_bundle_id() {
    static std::mt19937_64 generator = [] {
        uint64_t seed[2] = {0, 0};
        uint64_t *seed_data = seed;
        pg_call([seed_data] {
            if (!pg_strong_random(seed_data, 2 * sizeof(uint64_t)))
                elog(ERROR, "could not seed the Bundle id generator");
        });
        std::seed_seq sequence{static_cast<uint32_t>(seed[0]), static_cast<uint32_t>(seed[0] >> 32),
                               static_cast<uint32_t>(seed[1]), static_cast<uint32_t>(seed[1] >> 32)};
        return std::mt19937_64(sequence);
    }();
    const uint64_t halves[2] = {generator(), generator()};
    unsigned char bytes[16];
    memcpy(bytes, halves, sizeof bytes);
    return fhir::uuid_v4_from_bytes(bytes);
}

} // namespace

Datum run_search(const std::string &type, const std::string &raw_query, const std::string &cache_control,
                 const std::string &compartment) {
    LastSearch &last = last_search();
    last = LastSearch();
    last.kept_plans_before = kept_plan_uses();
    int64_t t_start = now_unix_micros();
    fhir::CacheControl cc = fhir::parse_cache_control(cache_control);

    // The cache first: an identical search (only valid searches are ever stored)
    // is answered without parsing, planning or SPI, unless no-cache/no-store.
    std::string key;
    if (!cache::available()) {
        last.cache = "UNAVAILABLE";
        static bool told = false; // once per backend, so logs and clients are not flooded
        if (!told) {
            told = true;
            const char *reason = cache::unavailable_reason();
            pg_call([reason] {
                ereport(NOTICE, (errmsg("fhir_search: the result cache is not available (%s); searches run uncached",
                                        reason),
                                 errhint("Add fhir_search to shared_preload_libraries and restart to enable it.")));
            });
        }
    } else if (cc.no_store) {
        last.cache = "BYPASS";
    } else {
        key = cache_key(type, compartment, raw_query + (cc.max_results ? "&_max_results=" + std::to_string(*cc.max_results) : ""));
    }
    if (!key.empty() && !cc.no_cache) {
        std::optional<cache::Hit> hit = cache::lookup(key);
        if (hit && hit->fresh) {
            Datum result = bundle_from_hit(*hit);
            last.cache = "HIT";
            last.entry_id = hit->payload.substr(0, kBundleIdLength);
            last.cache_ms = ms_between(t_start, now_unix_micros());
            return result;
        }
    }
    if (!key.empty())
        last.cache = "MISS";

    spi_connect();
    const int settings = search_settings_push();
    SearchStatement st = plan_search(type, raw_query, compartment);
    if (cc.max_results) {
        // max-results=N: the matches at once, no paging, up to N, _count and
        // fhir_search.max_count; a truncation is reported (total and a warning).
        int cap = std::min(*cc.max_results, guc_max_count);
        st.count = st.query.count ? std::min(*st.query.count, cap) : cap;
        st.no_paging = true;
    }
    // no-store alone only keeps the result out of the cache: pages and links as
    // usual (keyset cursors need no stored state).
    int64_t t_parsed = now_unix_micros();
    last.parse_ms = ms_between(t_start, t_parsed);
    std::optional<cache::SearchStamp> stamp;
    if (!key.empty())
        stamp = cache::begin_search(dependency_types(st));
    build_search_where(st);
    // Result sets (docs/cache.md, "Result sets and prefetching"): a first page
    // stores its rows as the start of the search's result set; a later page whose
    // cursor row is in the newest set of the same search is served from it (even
    // with cache_reuse_ms = 0), first extending it to the next prefetch threshold
    // when the page reaches past the rows it holds.
    // Links stay plain keyset cursors, so they work with or without the cache.
    const bool use_sets = stamp && !st.summary_count && !st.no_paging;
    const std::string set_key = use_sets ? cache_key(type, compartment, st.base_query) + "\x1fresult-set" : std::string();
    int64_t t_sql = now_unix_micros();
    std::optional<int64_t> total;
    Page page;
    bool have_page = false;
    if (st.summary_count) {
        total = count_matches(st, TotalMode::Accurate);
        have_page = true;
    } else if (use_sets && !st.cursor) {
        // The first page is computed as usual (count+1 rows, so it returns as soon
        // as it is ready) and becomes the start of the search's result set; the
        // first request past it prefetches up to the first threshold.
        page = fetch_page(st);
        if (st.total != TotalMode::None)
            total = count_matches(st, st.total);
        else if (!page.more)
            total = static_cast<int64_t>(page.rids.size()); // known for free
        fhir::ResultSet set;
        for (size_t i = 0; i < page.rids.size(); i++)
            set.rows.push_back({page.rids[i], page.types[i], page.ids[i], page.keys[i]});
        set.complete = !page.more;
        set.total = total;
        std::string set_id;
        cache::store(set_key, *stamp, fhir::encode_result_set(set), static_cast<int64_t>(set.rows.size()), &set_id);
        last.prefetched = static_cast<int64_t>(set.rows.size());
        have_page = true;
    } else if (use_sets && !cc.no_cache) {
        // A page request: the newest set of this search, if it holds the cursor's row.
        if (std::optional<cache::Hit> hit = cache::find_result_set(set_key)) {
            fhir::ResultSet set = fhir::decode_result_set(hit->payload);
            size_t needs = 0;
            std::optional<fhir::PageSlice> slice =
                fhir::locate_page(set, *st.cursor, static_cast<size_t>(st.count), &needs);
            last.page_source = "result set";
            if (!slice && needs > 0 && !set.rows.empty()) {
                // Past the prefetched rows: extend the set to the next threshold,
                // continuing from the keyset of its last row.
                int64_t target = fhir::prefetch_target(cache::prefetch_thresholds(), static_cast<int64_t>(needs));
                const fhir::ResultRow &tail_row = set.rows.back();
                fhir::SearchCursor after{false, tail_row.rid, tail_row.keys};
                fhir::ResultSet tail = fetch_result_set(
                    st, after, target < 0 ? -1 : std::max<int64_t>(1, target - static_cast<int64_t>(set.rows.size())));
                for (fhir::ResultRow &row : tail.rows)
                    set.rows.push_back(std::move(row));
                set.complete = tail.complete;
                last.prefetched = static_cast<int64_t>(set.rows.size());
                last.page_source = "result set, extended";
                std::string extended_id;
                cache::store(set_key, *stamp, fhir::encode_result_set(set), static_cast<int64_t>(set.rows.size()),
                             &extended_id);
                slice = fhir::locate_page(set, *st.cursor, static_cast<size_t>(st.count));
            }
            if (slice) {
                page = page_from_set(st, set, *slice);
                if (st.total != TotalMode::None)
                    total = set.total;
                last.cache = "HIT";
                have_page = true;
            } else {
                last.page_source.clear();
            }
        }
    }
    if (!have_page) {
        page = fetch_page(st);
        bool first_page = !st.cursor;
        if (st.total != TotalMode::None)
            total = count_matches(st, st.total);
        else if (first_page && !page.more)
            total = static_cast<int64_t>(page.rids.size()); // known for free
    }
    std::string truncated; // max-results cut the matches: said in total and the outcome
    if (st.no_paging && page.more) {
        if (!total || st.total != TotalMode::Accurate)
            total = count_matches(st, TotalMode::Accurate);
        truncated = "the result holds the first " + std::to_string(page.rids.size()) + " of " +
                    std::to_string(total.value_or(0)) + " matches (Cache-Control max-results=" +
                    std::to_string(*cc.max_results) + ", _count and fhir_search.max_count=" +
                    std::to_string(guc_max_count) + " cap it; without max-results the search pages)";
    }

    // Links: self, and next/previous from the boundary rows of this page.
    std::vector<BundleLink> links;
    std::string self_cursor;
    if (st.cursor)
        self_cursor = fhir::encode_cursor(*st.cursor);
    links.push_back({"self", link_url(st, self_cursor)});
    bool backward = st.cursor && st.cursor->backward;
    bool nonempty = !page.rids.empty() || page.first_row;
    bool has_next = !st.no_paging && nonempty && (backward ? true : page.more);
    bool has_prev = !st.no_paging && nonempty && (backward ? page.more : st.cursor.has_value());
    if (has_next) {
        fhir::SearchCursor c = page.last_row ? fhir::SearchCursor{false, page.last_row->rid, page.last_row->keys}
                                             : fhir::SearchCursor{false, page.rids.back(), page.keys.back()};
        links.push_back({"next", link_url(st, fhir::encode_cursor(c))});
    }
    if (has_prev) {
        fhir::SearchCursor c = page.first_row ? fhir::SearchCursor{true, page.first_row->rid, page.first_row->keys}
                                              : fhir::SearchCursor{true, page.rids.front(), page.keys.front()};
        links.push_back({"previous", link_url(st, fhir::encode_cursor(c))});
    }

    std::vector<Datum> contents = page.contents;
    std::string include_note;
    std::vector<Included> included = collect_includes(st, page, &include_note);
    if (st.summary != fhir::SummaryMode::False || !st.elements.empty()) {
        // _summary / _elements: project in C++; untouched resources keep their stored jsonb.
        auto project = [&st](Datum content) {
            fhir::Json resource = jsonb_to_json(DatumGetJsonbP(content), /*exact_decimals=*/true);
            if (!fhir::project_resource(resource, st.summary, st.elements))
                return content;
            fhir::mark_subsetted(resource);
            return json_to_jsonb_exact(resource);
        };
        for (Datum &c : contents)
            c = project(c);
        for (Included &inc : included)
            inc.content = project(inc.content);
    }
    BundleParts bundle_parts;
    const std::string bundle_id = new_bundle_id(); // also the cache entry's public id
    const std::string base = base_url_prefix();
    bundle_parts.id = bundle_id;
    bundle_parts.last_updated = fhir::format_instant(now_unix_micros());
    bundle_parts.total = total;
    bundle_parts.links = std::move(links);
    for (size_t i = 0; i < page.ids.size(); i++)
        bundle_parts.entries.push_back({base + page.types[i] + "/" + page.ids[i], contents[i], "match"});
    for (const Included &inc : included)
        bundle_parts.entries.push_back({base + inc.path(), inc.content, "include"});
    fhir::Json outcome = ignored_outcome(st.query);
    if (!st.compartment_note.empty()) {
        if (outcome.is_null())
            outcome = {{"resourceType", "OperationOutcome"}, {"issue", fhir::Json::array()}};
        outcome["issue"].push_back(
            {{"severity", "information"}, {"code", "informational"}, {"diagnostics", st.compartment_note}});
    }
    for (const std::string *note : {&truncated, &include_note}) {
        if (note->empty())
            continue;
        if (outcome.is_null())
            outcome = {{"resourceType", "OperationOutcome"}, {"issue", fhir::Json::array()}};
        outcome["issue"].push_back({{"severity", "warning"}, {"code", "too-costly"}, {"diagnostics", *note}});
    }
    if (!outcome.is_null())
        bundle_parts.entries.push_back({"", json_to_jsonb(outcome), "outcome"});
    bundle_parts.omit_entry = st.summary_count && outcome.is_null();
    Datum bundle = build_bundle_jsonb(bundle_parts);
    Datum result = pg_call([bundle] { return SPI_datumTransfer(bundle, false, -1); }); // out of SPI's context
    int64_t t_assembled = now_unix_micros();
    last.assembly_ms = ms_between(t_sql, t_assembled); // includes the SQL of the page, includes and count
    if (stamp) {
        cache::end_search(&*stamp);
        Jsonb *bundle_jsonb = DatumGetJsonbP(result);
        // Payload: the Bundle id, then the binary jsonb itself. The Bundle already
        // carries that id and the time of this search, which is what a hit must
        // show, so a hit copies it back unchanged.
        std::string payload = bundle_id;
        payload.append(reinterpret_cast<const char *>(bundle_jsonb), VARSIZE(bundle_jsonb));
        std::string entry_id;
        cache::StoreOutcome stored = cache::store(key, *stamp, payload, static_cast<int64_t>(page.rids.size()), &entry_id);
        last.store = cache::store_outcome_name(stored);
        last.entry_id = bundle_id;
        last.cache_ms = ms_between(t_assembled, now_unix_micros());
    }
    last.kept_plans = kept_plan_uses() - last.kept_plans_before;
    search_settings_pop(settings);
    spi_finish();
    return result;
}

SearchReport last_search_report() {
    const LastSearch &last = last_search();
    SearchReport report;
    report.cache = last.cache;
    report.entry_id = last.entry_id;
    report.parse_ms = last.parse_ms;
    report.db_ms = last.assembly_ms;
    report.cache_ms = last.cache_ms;
    return report;
}

namespace {

// fhir.last_search(): the cache status and timings of this backend's last search.
Datum last_search_info() {
    const LastSearch &last = last_search();
    fhir::Json info = {{"cache", last.cache},
                       {"store", last.store},
                       {"entry_id", last.entry_id},
                       {"page_source", last.page_source.empty() ? fhir::Json(nullptr) : fhir::Json(last.page_source)},
                       {"prefetched", last.prefetched < 0 ? fhir::Json(nullptr) : fhir::Json(last.prefetched)},
                       {"kept_plans", last.kept_plans},
                       {"parse_ms", last.parse_ms},
                       {"db_ms", last.assembly_ms},
                       {"cache_ms", last.cache_ms},
                       {"total_ms", last.parse_ms + last.assembly_ms + last.cache_ms}};
    return json_to_jsonb(info);
}

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_search) {
    if (!PG_ARGISNULL(0) && fhir_pg::optional_text_arg(fcinfo, 0).empty())
        throw fhir::Error(fhir::ErrorKind::UnknownResourceType, "resource type must not be empty (use NULL for a system-level search)");
    // The query as clients send it ("?code=x", a whole next link): links and the cache
    // key are then built from the query string alone.
    const std::string query(fhir::query_of_url(fhir_pg::optional_text_arg(fcinfo, 1)));
    // compartment (4th argument, named in SQL): "Patient/123", NULL for none.
    const std::string compartment = PG_NARGS() > 3 ? fhir_pg::optional_text_arg(fcinfo, 3) : std::string();
    if (PG_NARGS() > 3 && !PG_ARGISNULL(3) && compartment.empty())
        fhir::parse_compartment(compartment); // says what a compartment looks like
    return fhir_pg::run_search(fhir_pg::optional_text_arg(fcinfo, 0), query, fhir_pg::optional_text_arg(fcinfo, 2),
                               compartment);
}

FHIR_FUNCTION(fhir_last_search) { return fhir_pg::last_search_info(); }