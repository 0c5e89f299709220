// transaction.cpp: fhir.transaction() for transaction and batch Bundles.
//
// Transaction: every entry or none. All ids are settled before the first write
// (POST entries get new ids, conditional references and ifNoneExist are
// searched), references to urn:uuid: fullUrls and conditional references are
// rewritten in the resources' JSON text (and in PATCH entries' patches: a
// Parameters, or a Binary's base64 JSON Patch), and the writes run in FHIR order. Any
// failure raises an error and the caller's transaction rolls back everything.
// Runs of consecutive POST and PUT entries are written set-based, like a bulk load
// batch (resource_writer.cpp write_batch): a few statements per resource type
// instead of a round of statements per entry. POSTs get fresh UUIDs, so they skip
// the read-before-write. The run is flushed before anything that could observe it:
// a DELETE, PATCH, GET or If-Match entry, a second write of the same resource, and
// a conditional reference whose search could match a pending write (same type, or a
// query reading other types). Each distinct conditional reference is searched once
// per Bundle.
// Batch: each entry runs in its own subtransaction and reports its own outcome.
#include "pg_includes.h"

#include "bundle_plan.h"
#include "conditional.h"
#include "conditional_cache.h"
#include "cpp_wrapper.h"
#include "patch_writer.h"
#include "pg_json.h"
#include "resource.h"
#include "resource_writer.h"
#include "spi.h"
#include "values.h"

#include <map>
#include <unordered_set>

namespace fhir_pg {
namespace {

using fhir::Error;
using fhir::ErrorKind;

struct EntryOutcome {
    std::string status;   // "201 Created", ...
    std::string location; // Type/id/_history/v
    int version = 0;
    int64_t last_modified = 0;
    std::string outcome;  // OperationOutcome JSON text for failures
};

// Resolves a conditional query to exactly one id, or explains why it cannot.
std::string resolve_single(const std::string &type, const std::string &query, const std::string &what) {
    std::vector<std::string> ids = match_conditional_cached(type, query, 2);
    if (ids.size() == 1)
        return ids[0];
    throw Error(ErrorKind::PreconditionFailed,
                what + " \"" + type + "?" + query + "\" matched " + (ids.empty() ? "no" : "more than one") +
                    " resource",
                fhir::operation_outcome("error", ids.empty() ? "not-found" : "multiple-matches", what + " unresolved"));
}

// The JSON text of each Bundle.entry[i].resource, straight from the jsonb (exact decimals).
std::vector<std::string> entry_resource_texts(Datum bundle) {
    SPIPlanPtr plan = prepare_cached(
        "SELECT (e.value->'resource')::text FROM jsonb_array_elements(CASE WHEN jsonb_typeof($1->'entry') = 'array' "
        "THEN $1->'entry' ELSE '[]'::jsonb END) WITH ORDINALITY AS e(value, n) ORDER BY n",
        {JSONBOID});
    Datum v[1] = {bundle};
    uint64_t n = spi_execute(plan, v, nullptr, false);
    std::vector<std::string> texts(n);
    for (uint64_t r = 0; r < n; r++)
        texts[r] = spi_isnull(r, 1) ? std::string() : spi_get_text(r, 1);
    return texts;
}

// Settles the target id of every entry and builds the reference rewrite map.
void settle_ids(fhir::BundlePlan &plan, fhir::ReferenceMap &rewrites,
                std::vector<EntryOutcome> &outcomes, std::vector<bool> &skip) {
    // Nothing is written before every id is settled, so a match URL repeated in the
    // Bundle (ifNoneExist, conditional update/patch) has one answer: search it once.
    std::map<std::string, std::vector<std::string>> matches;
    auto match_conditional = [&matches](const std::string &type, const std::string &query, long limit) {
        auto it = matches.find(type + "?" + query);
        if (it == matches.end())
            it = matches.emplace(type + "?" + query, match_conditional_cached(type, query, limit)).first;
        return it->second;
    };
    for (fhir::PlannedEntry &e : plan.entries) {
        if (!e.error.empty())
            continue;
        if (e.method == "POST") {
            if (!e.if_none_exist.empty()) {
                std::vector<std::string> ids = match_conditional(e.type, e.if_none_exist, 2);
                if (ids.size() > 1)
                    throw Error(ErrorKind::PreconditionFailed,
                                "ifNoneExist \"" + e.if_none_exist + "\" matched more than one " + e.type);
                if (ids.size() == 1) {
                    e.id = ids[0];
                    skip[e.index] = true;
                    outcomes[e.index].status = "200 OK";
                    outcomes[e.index].location = e.type + "/" + e.id;
                }
            }
            if (e.id.empty())
                e.id = new_resource_id();
        } else if (e.method == "PATCH" && !e.conditional.empty()) {
            std::vector<std::string> ids = match_conditional(e.type, e.conditional, 2);
            if (ids.empty())
                throw Error(ErrorKind::NotFound, "conditional patch \"" + e.conditional + "\" matched no " + e.type,
                            fhir::operation_outcome("error", "not-found", "conditional patch matched nothing"));
            if (ids.size() > 1)
                throw Error(ErrorKind::PreconditionFailed,
                            "conditional patch \"" + e.conditional + "\" matched more than one " + e.type);
            e.id = ids[0];
        } else if (e.method == "PUT" && !e.conditional.empty()) {
            std::vector<std::string> ids = match_conditional(e.type, e.conditional, 2);
            if (ids.size() > 1)
                throw Error(ErrorKind::PreconditionFailed,
                            "conditional update \"" + e.conditional + "\" matched more than one " + e.type);
            if (ids.size() == 1)
                e.id = ids[0];
            else {
                const fhir::Json &res = *e.resource;
                e.id = res.contains("id") && res["id"].is_string() ? res["id"].get<std::string>() : new_resource_id();
            }
        }
        if (!e.full_url.empty() && !e.id.empty())
            rewrites[e.full_url] = e.type + "/" + e.id;
    }
}

// Adds to `mapping` the conditional references of `resource` ("Patient?identifier=...")
// it does not hold yet, each searched once; `before_search(type, query)` runs
// before each search (the set-based writer flushes what the search could see).
// References to fullUrls not in the Bundle are errors.
template <typename BeforeSearch>
void resolve_references(const fhir::Json &resource, fhir::ReferenceMap &mapping, BeforeSearch &&before_search) {
    for (const std::string &ref : fhir::references_to_resolve(resource)) {
        if (mapping.count(ref))
            continue;
        std::string type, query;
        if (!fhir::split_conditional_reference(ref, &type, &query))
            throw Error(ErrorKind::InvalidResource, "reference \"" + ref + "\" points to no entry of this Bundle");
        before_search(type, query);
        mapping.emplace(ref, type + "/" + resolve_single(type, query, "conditional reference"));
    }
}

// `text` (of `parsed`) with its references to this Bundle's entries (urn:uuid:
// fullUrls) and its conditional references rewritten to Type/id.
std::string with_resolved_references(const std::string &text, const fhir::Json &parsed, fhir::ReferenceMap &mapping) {
    resolve_references(parsed, mapping, [](const std::string &, const std::string &) {});
    return fhir::rewrite_reference_strings(text, mapping);
}

// The patch of a PATCH entry, its references resolved: the Binary's decoded data
// or the Parameters' own text.
fhir::Json entry_patch(const fhir::PlannedEntry &e, const std::vector<std::string> &texts,
                       fhir::ReferenceMap &mapping) {
    if (!e.is_binary_patch)
        return patch_document(with_resolved_references(texts.at(e.index), *e.resource, mapping));
    fhir::Json parsed = fhir::Json::parse(e.binary_patch, nullptr, false);
    if (parsed.is_discarded())
        throw Error(ErrorKind::InvalidJson, "the PATCH Binary's data is not valid JSON",
                    fhir::operation_outcome("error", "structure", "the patch is not valid JSON"));
    return patch_document(with_resolved_references(e.binary_patch, parsed, mapping));
}

// Executes one settled entry.
EntryOutcome execute_entry(const fhir::PlannedEntry &e, const std::vector<std::string> &texts,
                           fhir::ReferenceMap &mapping) {
    EntryOutcome out;
    if (e.method == "PATCH") {
        fhir::Json patch = entry_patch(e, texts, mapping);
        StoredResource stored = patch_resource(e.type, e.id, patch, e.if_match, e.patch_media_type);
        out.status = "200 OK";
        out.version = stored.version;
        out.location = e.type + "/" + e.id + "/_history/" + std::to_string(stored.version);
        out.last_modified = stored.last_updated;
    } else if (e.method == "POST" || e.method == "PUT") {
        std::string text = with_resolved_references(texts.at(e.index), *e.resource, mapping);
        fhir::Json parsed = *e.resource;
        fhir::rewrite_reference_values(parsed, mapping);
        Datum content = text_to_jsonb(text);
        std::optional<int> if_match = e.if_match;
        StoredResource stored = write_resource(content, std::move(parsed), e.type, e.id, if_match);
        out.status = stored.created ? "201 Created" : "200 OK";
        out.version = stored.version;
        out.location = e.type + "/" + e.id + "/_history/" + std::to_string(stored.version);
        out.last_modified = stored.last_updated;
    } else if (e.method == "DELETE") {
        std::vector<std::string> ids = e.conditional.empty() ? std::vector<std::string>{e.id}
                                                             : match_conditional(e.type, e.conditional, 1000);
        for (const std::string &id : ids)
            delete_resource(e.type, id);
        out.status = "204 No Content";
    } else { // GET by id
        SPIPlanPtr plan = prepare_cached("SELECT version_id FROM " + fhir::partition_table(e.type) +
                                             " WHERE rtype = $1 AND id = $2",
                                         {TEXTOID, TEXTOID});
        Datum v[2] = {text_datum(e.type), text_datum(e.id)};
        if (!e.conditional.empty())
            throw Error(ErrorKind::UnsupportedFeature, "search entries (GET Type?query) in Bundles are not supported yet");
        if (spi_execute(plan, v, nullptr, false, 1) == 0)
            throw Error(ErrorKind::NotFound, e.type + "/" + e.id + " not found");
        out.status = "200 OK";
        out.location = e.type + "/" + e.id + "/_history/" + std::to_string(spi_get_int32(0, 1));
    }
    return out;
}

// A run of consecutive POST and PUT entries, written together by write_batch.
class EntryRun {
  public:
    bool empty() const { return writes_.empty(); }
    bool holds_resource(const std::string &type, const std::string &id) const { return keys_.count(type + "/" + id); }
    bool holds_type(const std::string &type) const { return types_.count(type) > 0; }

    // Queues entry `e`, its references resolved in `text` and `parsed`.
    void add(const fhir::PlannedEntry &e, fhir::Json parsed, std::string text) {
        keys_.insert(e.type + "/" + e.id);
        types_.insert(e.type);
        PendingWrite w;
        w.type = e.type;
        w.id = e.id;
        w.parsed = std::move(parsed);
        w.text = std::move(text);
        w.known_new = e.method == "POST"; // a fresh UUID: no read-before-write
        writes_.push_back(std::move(w));
        entries_.push_back(e.index);
    }

    // Writes the run and records each entry's outcome.
    void flush(std::vector<EntryOutcome> &outcomes) {
        if (writes_.empty())
            return;
        std::vector<StoredResource> stored;
        write_batch(writes_, &stored);
        for (size_t k = 0; k < entries_.size(); k++) {
            EntryOutcome &out = outcomes[entries_[k]];
            const StoredResource &s = stored[k];
            out.status = s.created ? "201 Created" : "200 OK";
            out.version = s.version;
            out.location = s.type + "/" + s.id + "/_history/" + std::to_string(s.version);
            out.last_modified = s.last_updated;
        }
        writes_.clear();
        entries_.clear();
        keys_.clear();
        types_.clear();
    }

  private:
    std::vector<PendingWrite> writes_;
    std::vector<size_t> entries_; // Bundle.entry index of each write
    std::unordered_set<std::string> keys_, types_;
};

// Runs a transaction's settled entries in processing order (see the file comment).
void run_transaction(const fhir::BundlePlan &plan, const std::vector<std::string> &texts,
                     fhir::ReferenceMap &mapping, const std::vector<bool> &skip, std::vector<EntryOutcome> &outcomes) {
    EntryRun run;
    for (const fhir::PlannedEntry &e : plan.entries) {
        if (skip[e.index])
            continue;
        try {
            bool batched = (e.method == "POST" || e.method == "PUT") && !e.if_match;
            if (!batched) {
                run.flush(outcomes);
                outcomes[e.index] = execute_entry(e, texts, mapping);
                continue;
            }
            if (run.holds_resource(e.type, e.id))
                run.flush(outcomes); // a second write of the same resource sees the first
            resolve_references(*e.resource, mapping, [&](const std::string &type, const std::string &query) {
                if (run.holds_type(type) || !fhir::conditional_reads_only_its_type(query))
                    run.flush(outcomes); // the search must see the writes before it
            });
            // The Bundle's own tree, moved out (nothing reads it after this entry).
            fhir::Json parsed = std::move(*const_cast<fhir::Json *>(e.resource));
            fhir::rewrite_reference_values(parsed, mapping);
            run.add(e, std::move(parsed), fhir::rewrite_reference_strings(texts.at(e.index), mapping));
        } catch (const fhir::Error &err) {
            throw fhir::Error(err.kind(), "transaction entry " + std::to_string(e.index) + ": " + err.what(),
                              err.detail());
        }
    }
    run.flush(outcomes);
}

// HTTP status line for a failed batch entry, from its SQLSTATE.
std::string status_for_sqlstate(int sqlstate) {
    char *code = unpack_sql_state(sqlstate);
    if (code[0] == 'F' && code[1] == 'H') {
        const std::string status(code + 2, 3);
        return status + (status == "404"   ? " Not Found"
                         : status == "409" ? " Conflict"
                         : status == "410" ? " Gone"
                                           : " Precondition Failed");
    }
    if (code[0] == '4' && code[1] == '2')
        return "404 Not Found";
    return "400 Bad Request";
}

// Builds the response Bundle in request order.
fhir::Json response_bundle(fhir::BundleKind kind, const std::vector<EntryOutcome> &outcomes) {
    fhir::Json entries = fhir::Json::array();
    for (const EntryOutcome &o : outcomes) {
        fhir::Json response = {{"status", o.status}};
        if (!o.location.empty())
            response["location"] = o.location;
        if (o.version > 0) {
            response["etag"] = "W/\"" + std::to_string(o.version) + "\"";
            response["lastModified"] = fhir::format_instant(o.last_modified);
        }
        if (!o.outcome.empty())
            response["outcome"] = fhir::Json::parse(o.outcome);
        entries.push_back({{"response", response}});
    }
    return {{"resourceType", "Bundle"},
            {"type", kind == fhir::BundleKind::Transaction ? "transaction-response" : "batch-response"},
            {"entry", entries}};
}

} // namespace
} // namespace fhir_pg

FHIR_FUNCTION(fhir_transaction) {
    using namespace fhir_pg;
    Jsonb *bundle_jsonb = fhir_pg::pg_call([fcinfo] { return PG_GETARG_JSONB_P(0); });
    fhir::Json bundle = jsonb_to_json(bundle_jsonb);
    fhir::BundlePlan plan = fhir::plan_bundle(bundle);
    std::vector<EntryOutcome> outcomes(plan.entry_count);
    std::vector<bool> skip(plan.entry_count, false);
    fhir::ReferenceMap mapping; // fullUrls and conditional references -> Type/id

    spi_connect();
    std::vector<std::string> texts = entry_resource_texts(PointerGetDatum(bundle_jsonb));
    if (plan.kind == fhir::BundleKind::Transaction) {
        for (const fhir::PlannedEntry &e : plan.entries)
            if (!e.error.empty())
                throw fhir::Error(fhir::ErrorKind::InvalidResource,
                                  "transaction entry " + std::to_string(e.index) + ": " + e.error,
                                  fhir::operation_outcome("error", "invalid", e.error));
        settle_ids(plan, mapping, outcomes, skip);
        run_transaction(plan, texts, mapping, skip, outcomes);
    } else {
        // Batch: ids first (failures there are per entry too), then each entry alone.
        fhir::ReferenceMap &conditional_refs = mapping; // conditional references, searched once per Bundle
        for (fhir::PlannedEntry &e : plan.entries) {
            if (!e.error.empty())
                continue;
            SubtransactionFailure failure = run_in_subtransaction([&] {
                fhir::BundlePlan single;
                single.entries.push_back(e);
                std::vector<EntryOutcome> one(plan.entry_count);
                std::vector<bool> one_skip(plan.entry_count, false);
                fhir::ReferenceMap no_rewrites; // batch entries do not see each other's fullUrls
                settle_ids(single, no_rewrites, one, one_skip);
                e = single.entries[0];
                if (one_skip[e.index])
                    outcomes[e.index] = one[e.index];
                else
                    outcomes[e.index] = execute_entry(e, texts, conditional_refs);
            });
            if (failure.failed) {
                outcomes[e.index] = EntryOutcome();
                outcomes[e.index].status = status_for_sqlstate(failure.sqlstate);
                outcomes[e.index].outcome = fhir::operation_outcome("error", "processing", failure.message);
            }
        }
        for (const fhir::PlannedEntry &e : plan.entries)
            if (!e.error.empty()) {
                outcomes[e.index].status = "400 Bad Request";
                outcomes[e.index].outcome = fhir::operation_outcome("error", "invalid", e.error);
            }
    }
    spi_finish();
    return json_to_jsonb(response_bundle(plan.kind, outcomes));
}
